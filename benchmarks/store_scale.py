"""The dashboard's month on 10 million events in PostgreSQL: load synthetic widget sessions with COPY, then
time `GET /stats/deflection` for one month of one KB (``deflection_stats``), median of --runs.

    python benchmarks/store_scale.py [--events 10000000] [--keep]

Sessions (a visitor typing, maybe opening an article, rating it, filing a ticket) start uniformly over
2026; 10% of the events belong to a second KB. The database ``kbsuggest_scale`` on the test server is
created, loaded (indexes built after the COPY) and kept with --keep, so a rerun only times the query.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kbsuggest.events.deflection import deflection_stats  # noqa: E402
from kbsuggest.store.postgres import PostgresStore  # noqa: E402

POSTGRES = os.environ.get("KBSUGGEST_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = "kbsuggest_scale"
YEAR = datetime(2026, 1, 1, tzinfo=timezone.utc)
ARTICLES = [f"article-{i:03d}" for i in range(300)]
QUERIES = ["reset", "reset pass", "reset password", "refund", "refund double charge", "sso", "sso login okta",
           "export", "export csv empty", "dark mode"]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sessions(n_events: int, rng: np.random.Generator):
    """Rows of EVENT_COLUMNS order (kb first; without the trailing locale and product), session by session,
    until ``n_events``."""
    year_ms = 365 * 86400 * 1000
    made, s = 0, 0
    while made < n_events:
        s += 1
        kb = "other" if rng.random() < 0.1 else "default"
        session = f"s{s:010d}"
        start = int(YEAR.timestamp() * 1000) + int(rng.integers(0, year_ms))
        article = ARTICLES[int(rng.zipf(1.3)) % len(ARTICLES)]
        answered = rng.random() > 0.1
        suggestions = json.dumps([{"article_id": article, "position": 1, "score": 0.61}]) if answered else "[]"
        at = start
        for q in QUERIES[:int(rng.integers(1, 4))]:
            yield (kb, session, "suggestions_shown", iso(at), iso(at), "form", q, None, None, None, None, suggestions, None)
            at += int(rng.integers(500, 3000))
            made += 1
        opened = answered and rng.random() < 0.4
        if opened:
            at += int(rng.integers(5_000, 60_000))
            yield (kb, session, "article_opened", iso(at), iso(at), None, "q", article, 1, None, None, None, None)
            made += 1
            if rng.random() < 0.3:
                at += int(rng.integers(5_000, 60_000))
                yield (kb, session, "feedback", iso(at), iso(at), None, "q", article, 1, None,
                       int(rng.random() < 0.8), None, None)
                made += 1
        if rng.random() < 0.2:
            at += int(rng.integers(60_000, 7_200_000))
            yield (kb, session, "ticket_submitted", iso(at), iso(at), None, "help", None, None, None, None, None,
                   int(opened))
            made += 1


def load(url: str, n_events: int) -> float:
    import psycopg

    from kbsuggest.store.rows import EVENT_COLUMNS

    store = PostgresStore(url)
    store.check()  # the tables, by the migrations
    store.close()
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        indexes = [r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'events' "
                                              "AND indexname <> 'events_pkey'")]
        for name, in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'events' AND indexname <> 'events_pkey'").fetchall():
            conn.execute(f"DROP INDEX {name}")
        with conn.cursor() as cur, cur.copy(f"COPY events ({', '.join(EVENT_COLUMNS[:13])}) FROM STDIN") as copy:
            for row in sessions(n_events, np.random.default_rng(19)):
                copy.write_row(row)
        for definition in indexes:
            conn.execute(definition)
        conn.execute("VACUUM ANALYZE events")
    store = PostgresStore(url)
    store.rebuild_summaries()  # COPY bypasses record_events, which keeps them on insert
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Keep the loaded database for the next run.")
    args = parser.parse_args()
    url = f"{POSTGRES.rsplit('/', 1)[0]}/{DATABASE}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if not exists:
            admin.execute(f"CREATE DATABASE {DATABASE}")
    try:
        with psycopg.connect(url) as conn:
            have = conn.execute("SELECT count(*) FROM events").fetchone()[0] if exists else 0
        if have != args.events:
            if have:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            print(f"loaded {args.events:,} events in {load(url, args.events):.0f} s")
        store = PostgresStore(url)
        start, end = datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc)
        now = datetime(2027, 1, 1, tzinfo=timezone.utc)
        started = time.perf_counter()  # what the former Python classification had to fetch first
        rows = len(store.session_events("default", "2026-06-01T00:00:00.000Z", "2026-07-01T00:00:00.000Z"))
        fetch = time.perf_counter() - started
        print(f"session_events of the month (the rows a Python classification reads): {rows:,} in {fetch:.3f} s")
        times, figures = [], None
        for _ in range(args.runs):
            started = time.perf_counter()
            figures = deflection_stats(store, "default", start, end, timedelta(minutes=60), now)
            times.append(time.perf_counter() - started)
        store.close()
        print(f"month of KB default (2026-06): {figures.sessions:,} sessions, {rows:,} events of 10 M; "
              f"deflection_stats median {statistics.median(times):.3f} s (runs: {', '.join(f'{t:.3f}' for t in times)})")
        print(json.dumps({"counts": figures.counts, "deflection_rate": figures.deflection_rate,
                          "top": [vars(a) for a in figures.top_articles[:3]],
                          "unanswered": [vars(q) for q in figures.unanswered_queries[:3]]}))
    finally:
        if not args.keep:
            with psycopg.connect(POSTGRES, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    main()
