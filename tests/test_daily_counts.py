"""The day tables' fast path (``kbsuggest/store/daily.py`` + ``rollup.py``) gives exactly the figures recomputed
from the events, on both backends: sessions over several UTC days, events out of order and in late batches
(a session's start moving to the day before), periods with whole days and cut days (also given with an
offset), and times of asking at which some sessions are still pending."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from test_dashboard import MINUTE, MS, add, shown
from test_deflection_sql import T0, WINDOW

from kbsuggest.events.deflection import rollup
from kbsuggest.events.schema import EventBatch, rows
from kbsuggest.store.rows import event_row
from kbsuggest.store.summary import refresh_batch
from kbsuggest.text import session_queries
from kbsuggest.timestamps import parse_utc, utc_iso

DAY = 1440 * MINUTE
TABLES = ("day_cells", "day_articles", "day_queries")


def from_events(store, kb, start, end, now):
    """The rollup recomputed in Python from the period's events (the rules of kbsuggest/events/deflection.py)."""
    sessions = defaultdict(list)
    for row in store.session_events(kb, utc_iso(start), utc_iso(end)):
        sessions[row["session_id"]].append({**row, "at": parse_utc(row["at"])})
    counts, by, articles, queries = Counter(), defaultdict(lambda: defaultdict(Counter)), {}, defaultdict(Counter)
    for events in sessions.values():
        events.sort(key=lambda e: (e["at"], e["id"]))
        helpful = {e["article_id"] for e in events if e["type"] == "feedback" and e["helpful"]}
        bad = {e["article_id"] for e in events if e["type"] == "feedback" and not e["helpful"]}
        opened = {e["article_id"] for e in events if e["type"] in ("article_opened", "feedback")}
        signals = [e["at"] for e in events if e["type"] in ("article_opened", "feedback")]
        tickets = [e["at"] for e in events if e["type"] == "ticket_submitted"]
        if tickets and (not signals or min(tickets) <= min(signals) + WINDOW) or bad and not helpful:
            kind = "none"
        elif not tickets and (max(signals) if signals else events[-1]["at"]) + WINDOW > now:
            kind = "pending"
        else:
            kind = "confirmed" if helpful else "potential" if opened else "unengaged"
        lists = [e for e in events if e["type"] == "suggestions_shown"]
        first = lists[0]
        counts[kind] += 1
        for name, value in (("day", utc_iso(first["at"])[:10]), ("mode", first["mode"]), ("locale", first["locale"]),
                            ("product", first["product"])):
            by[name][value or ""][kind] += 1
        shown = {s["article_id"] for e in lists for s in json.loads(e["suggestions"] or "[]")}
        for a in shown | opened:
            row = articles.setdefault(a, [a, 0, 0, 0, 0, 0])
            row[1:] = [row[1] + (a in shown), row[2] + (a in opened), row[3] + (kind == "confirmed" and a in helpful),
                       row[4] + (kind == "potential" and a in opened), row[5] + (a in bad)]
        said = [(e["type"], e["query"] or "", e["suggestions"] in (None, "", "[]")) for e in events
                if e["type"] == "suggestions_shown" or e["type"] == "feedback" and not e["helpful"]]
        for what, query in session_queries(said):
            queries[what][query] += 1
    return (dict(counts), {name: {v: dict(c) for v, c in values.items()} for name, values in by.items()},
            sorted(tuple(r) for r in articles.values()),
            {what: sorted(queries[what].items(), key=lambda x: (-x[1], x[0])) for what in ("unanswered", "need_help")})


def seed(store, rng: random.Random, n: int) -> None:
    """``n`` sessions around T0's days, each sent in two or three batches in shuffled order."""
    for s in range(n):
        at = rng.choice([-2 * DAY, -DAY - 1, -1, 0, 5 * MINUTE, DAY - 1, DAY, 2 * DAY - 30 * MINUTE]) + rng.randint(0, 999)
        page = {"mode": rng.choice(["form", "chat"]), "locale": rng.choice(["en", "de", None]),
                "product": rng.choice(["billing", "api", None])}
        events, signal = [], None
        for _ in range(rng.randint(1, 3)):
            listed = rng.sample(["a", "b", "c"], rng.randint(0, 2))
            events.append({"type": "suggestions_shown", "at": at, "query": rng.choice(["dark", "dark mode", "refund"]),
                           "suggestions": [{"article_id": a, "position": i + 1, "score": 0.5}
                                           for i, a in enumerate(listed)], **page})
            at += rng.choice([1, 300, 20 * MINUTE])
        for _ in range(rng.randint(0, 2)):
            at += rng.choice([0, MINUTE, 30 * MINUTE])
            signal = at if signal is None else signal
            kind = rng.choice(["article_opened", "feedback"])
            event = {"type": kind, "at": at, "query": rng.choice(["q", "still broken"]), "article_id": rng.choice("abc"),
                     "position": 1}
            events.append(event | ({"helpful": rng.random() < 0.6} if kind == "feedback" else {}))
        if rng.random() < 0.4:  # a ticket, often exactly on the window's edge after the first signal
            edge = (signal if signal is not None else at) + 60 * MINUTE
            events.append({"type": "ticket_submitted", "at": rng.choice([edge - 1, edge, edge + 1, at + 5 * MINUTE]),
                           "title": "t", "suggestion_opened": False})
        if rng.random() < 0.2:  # a late batch with an earlier list: the session starts the day before
            events.append({**events[0], "at": events[0]["at"] - DAY + rng.randint(0, 999)})
        rng.shuffle(events)
        kb = rng.choice(["default", "default", "other"])
        cuts = sorted(rng.sample(range(1, len(events)), min(len(events) - 1, rng.randint(0, 2))))
        for chunk in (events[i:j] for i, j in zip([0, *cuts], [*cuts, len(events)])):
            add(store, f"session-{s:04d}", *chunk, kb=kb)


def day_rows(store) -> dict:
    """The day tables' rows, sorted."""
    if hasattr(store, "_db"):
        store.check()
        return {t: sorted(tuple(r) for r in store._db.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}
    return store._run(lambda conn: {t: sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {t}")) for t in TABLES})


def test_day_counts_give_the_figures_recomputed_from_the_events(store):
    seed(store, random.Random(5), 300)
    plus2 = timezone(timedelta(hours=2))
    periods = [(datetime(2026, 10, 29, tzinfo=timezone.utc), datetime(2026, 11, 6, tzinfo=timezone.utc)),  # whole days
               (T0 - timedelta(days=1, hours=3), T0 + timedelta(days=1, minutes=7)),  # cut days at both edges
               (datetime(2026, 11, 1, 0, 0, tzinfo=plus2), datetime(2026, 11, 4, 0, 0, tzinfo=plus2)),  # 22:00Z
               (T0 + timedelta(hours=2), T0 + timedelta(hours=5))]  # inside one day
    nows = [T0 + timedelta(days=30), T0 + timedelta(days=1, hours=1), T0 + timedelta(minutes=61), T0 - timedelta(days=3)]
    pending = 0
    for start, end in periods:
        for now in nows:
            for kb in ("default", "other"):
                got = rollup(store, kb, start, end, WINDOW, now, detail=True, top=100)
                counts, by, articles, queries = from_events(store, kb, start, end, now)
                assert got.counts == counts, (start, end, now, kb)
                assert got.by == (by or {}), (start, end, now, kb)
                assert sorted(got.articles) == articles
                assert got.queries == queries
                pending += counts.get("pending", 0)
    assert pending > 50  # the unsettled sessions were exercised
    full = rollup(store, "default", *periods[0], WINDOW, nows[0], detail=True)
    assert len(full.by["day"]) >= 5 and sum(full.counts.values()) > 150


def test_day_counts_kept_on_insert_equal_a_rebuild(store):
    """Late and out-of-order batches move sessions between cells; what is kept equals a recount (no 0 rows)."""
    seed(store, random.Random(8), 200)
    kept = day_rows(store)
    store.rebuild_summaries()
    assert day_rows(store) == kept
    assert all(row[-1] > 0 for rows in kept.values() for row in rows) and len(kept["day_cells"]) > 20


def test_two_replicas_recording_one_session_at_once_count_it_once(postgres_url):
    """Replica A's batch of a session is refreshed and not yet committed when replica B records another batch
    of it: B waits for A (an advisory lock per session), then reads A's rows, so the session is counted once."""
    import threading
    import time

    import psycopg

    from kbsuggest.store.postgres import _INSERT_EVENT, PostgresStore

    def batch(*events):
        last = max(e["at"] for e in events)
        return rows(EventBatch.model_validate({"session_id": "session-0001", "sent_at": MS + last,
                                               "events": [e | {"at": MS + e["at"]} for e in events]}),
                    T0 + timedelta(milliseconds=last))

    store = PostgresStore(postgres_url)
    store.check()
    replica_a = psycopg.connect(postgres_url)
    with replica_a.cursor() as cur:
        first = batch(shown("dark", "a", at=0, locale="en"))
        cur.executemany(_INSERT_EVENT, [event_row("default", r) for r in first])
        refresh_batch(cur, "postgres", "default", first)
    failed = []

    def replica_b():
        try:
            store.record_events("default", batch(shown("dark mode", "b", at=-DAY, locale="de")))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failed.append(exc)
    thread = threading.Thread(target=replica_b, daemon=True)
    thread.start()
    try:
        with psycopg.connect(postgres_url, autocommit=True) as watch:  # until B waits for A
            for _ in range(200):
                if watch.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("replica B never waited for replica A")
        replica_a.commit()
    finally:
        replica_a.close()
    thread.join(10)
    assert failed == []
    kept = day_rows(store)
    assert [row[1:4] + row[-1:] for row in kept["day_cells"]] == [("2026-11-01", "form", "de", 1)]
    store.rebuild_summaries()
    assert day_rows(store) == kept
    store.close()
