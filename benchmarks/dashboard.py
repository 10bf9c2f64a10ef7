"""The dashboard's data for 1,000,000 widget events: p50 of ``GET /v1/dashboard`` (through the app) and of the
function behind it, over --repeats, on SQLite and (when the test server answers) PostgreSQL: for 30 whole
days, and for 30 days cut at 17:00 (``cut_days``: the two edge days are read from the session rows).

    python benchmarks/dashboard.py [--events 1000000] [--repeats 7] [--backends sqlite,postgres]

Synthetic sessions (typing, maybe opening an article, rating it, filing a ticket; form or chat; three locales,
four products; 10% of the events in a second KB) start uniformly over the --days before "now", so the
default period, the last 30 days, holds every event of the KB. Events are bulk-loaded (executemany / COPY),
then the per-session summaries are built in one pass (``rebuild_summaries``, timed); the cost that
``record_events`` adds per batch to keep them on insert is timed on 2,000 more sessions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kbsuggest.events import dashboard as board  # noqa: E402
from kbsuggest.events.schema import EventBatch, record  # noqa: E402
from kbsuggest.store.rows import EVENT_COLUMNS  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
ARTICLES = [f"article-{i:03d}" for i in range(300)]
QUERIES = ["reset", "reset pass", "reset password", "refund", "refund double charge", "sso", "sso login okta"]
LOCALES, PRODUCTS = ["en", "de", "fr"], ["billing", "account", "api", None]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sessions(n_events: int, days: int, rng: np.random.Generator):
    """Batches ``(kb, session_id, [event dicts in the API's format])`` until ``n_events`` events."""
    span, first = days * 86_400_000, int((NOW - timedelta(days=days)).timestamp() * 1000)
    made, s = 0, 0
    while made < n_events:
        s += 1
        kb = "other" if rng.random() < 0.1 else "default"
        at = first + int(rng.integers(0, span - 3 * 3_600_000))
        article = ARTICLES[int(rng.zipf(1.3)) % len(ARTICLES)]
        answered = rng.random() > 0.1
        listed = [{"article_id": article, "position": 1, "score": 0.61}] if answered else []
        page = {"mode": "chat" if rng.random() < 0.3 else "form", "locale": LOCALES[int(rng.integers(0, 3))],
                "product": PRODUCTS[int(rng.integers(0, 4))]}
        events = []
        for q in QUERIES[:int(rng.integers(1, 4))]:
            events.append({"type": "suggestions_shown", "at": at, "query": q, "suggestions": listed, **page})
            at += int(rng.integers(500, 3000))
        if answered and rng.random() < 0.4:
            at += int(rng.integers(5_000, 60_000))
            events.append({"type": "article_opened", "at": at, "query": "q", "article_id": article, "position": 1})
            if rng.random() < 0.3:
                at += int(rng.integers(5_000, 60_000))
                events.append({"type": "feedback", "at": at, "query": "q", "article_id": article, "position": 1,
                               "helpful": bool(rng.random() < 0.8)})
        if rng.random() < 0.2:
            at += int(rng.integers(60_000, 7_200_000))
            events.append({"type": "ticket_submitted", "at": at, "title": "help", "suggestion_opened": False})
        made += len(events)
        yield kb, f"s{s:010d}", events


def as_rows(kb: str, session: str, events: list[dict]) -> list[tuple]:
    """Rows in EVENT_COLUMNS order, as ``record`` would store them (every event dated exactly)."""
    from kbsuggest.events.schema import rows as event_rows
    from kbsuggest.store.rows import event_row

    last = max(e["at"] for e in events)
    batch = EventBatch.model_validate({"session_id": session, "sent_at": last, "events": events})
    return [event_row(kb, r) for r in event_rows(batch, datetime.fromtimestamp(last / 1000, timezone.utc))]


def load_sqlite(path: Path, n_events: int, days: int):
    from kbsuggest.store.sqlite import SQLiteStore

    store = SQLiteStore(path)
    store.check()
    sql = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
    with store._lock:
        conn = store._db.conn
        conn.execute("BEGIN")
        for kb, session, events in sessions(n_events, days, np.random.default_rng(18)):
            conn.executemany(sql, as_rows(kb, session, events))
        conn.execute("COMMIT")
    return store


def load_postgres(url: str, n_events: int, days: int):
    import psycopg

    from kbsuggest.store.postgres import PostgresStore

    store = PostgresStore(url)
    store.check()
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for kb, session, events in sessions(n_events, days, np.random.default_rng(18)):
                for row in as_rows(kb, session, events):
                    copy.write_row(row)
        conn.execute("VACUUM ANALYZE events")
    return store


def measure(name: str, store, args) -> dict:
    from fastapi.testclient import TestClient

    from kbsuggest.config import Settings
    from kbsuggest.http.app import create_app

    started = time.perf_counter()
    store.rebuild_summaries()
    rebuild = time.perf_counter() - started
    extra = list(sessions(10_000, 1, np.random.default_rng(7)))[:2000]
    started = time.perf_counter()
    for kb, session, events in extra:  # as the widget sends them: one batch per session, through record()
        last = max(e["at"] for e in events)
        record(store, kb, EventBatch.model_validate({"session_id": "x" + session, "sent_at": last, "events": events}),
               datetime.fromtimestamp(last / 1000, timezone.utc))
    per_batch = (time.perf_counter() - started) / len(extra) * 1000
    window = timedelta(minutes=60)
    start = NOW - timedelta(days=30)
    times, cpu, cut, data = [], [], [], None
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        data = board.dashboard(store, "default", start, NOW, window, NOW)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)  # SQLite runs in this process: its CPU time, whatever the machine's load
        t = time.perf_counter()  # "last 30 days" at 17:00: both edge days cut, read from the session rows
        board.dashboard(store, "default", start - timedelta(hours=7), NOW - timedelta(hours=7), window, NOW)
        cut.append(time.perf_counter() - t)
    settings = Settings(agent_api_keys=["bench"], embedder="hash", index_dir=Path(tempfile.mkdtemp()) / "none",
                        rate_limit_per_second=0)
    http = []
    with TestClient(create_app(settings, store=store)) as client:
        for _ in range(args.repeats):
            t = time.perf_counter()
            response = client.get("/v1/dashboard", headers={"Authorization": "Bearer bench"},
                                  params={"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"})
            http.append(time.perf_counter() - t)
            assert response.status_code == 200, response.text
    result = {"backend": name, "sessions": data["deflection"]["sessions"], "rebuild_s": round(rebuild, 1),
              "record_ms_per_batch": round(per_batch, 2), "dashboard_p50_s": round(statistics.median(times), 3),
              "dashboard_cpu_p50_s": round(statistics.median(cpu), 3),
              "cut_days_p50_s": round(statistics.median(cut), 3),
              "http_p50_s": round(statistics.median(http), 3), "runs": [round(t, 3) for t in times]}
    print(json.dumps(result | {"load_average": round(os.getloadavg()[0], 1), "cpus": os.cpu_count()}))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            store = load_sqlite(Path(tmp) / "bench.db", args.events, args.days)
            print(f"sqlite: loaded {args.events:,} events in {time.perf_counter() - started:.0f} s")
            measure("sqlite", store, args)
            store.close()
    if "postgres" in backends:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from stores import POSTGRES, admin_connection, postgres_unreachable, with_options

        reason = postgres_unreachable()
        if reason:
            print(f"postgres: skipped ({reason})")
            return
        schema = "bench_dashboard"
        with admin_connection() as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        try:
            url = with_options(POSTGRES, options=f"-csearch_path={schema}")
            started = time.perf_counter()
            store = load_postgres(url, args.events, args.days)
            print(f"postgres: loaded {args.events:,} events in {time.perf_counter() - started:.0f} s")
            measure("postgres", store, args)
            store.close()
        finally:
            with admin_connection() as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
