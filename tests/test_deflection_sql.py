"""The SQL rollup of the deflection figures gives what the per-session definitions give, on both backends.

The oracle is the former Python classification (one session at a time, over ``session_events``): random
sessions, with events placed exactly on the window's edges, must come out identical."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from kbsuggest.events.deflection import CLASSES, deflection_stats
from kbsuggest.text import query_key as _norm
from kbsuggest.timestamps import parse_utc, utc_iso

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
WINDOW = timedelta(minutes=60)
QUERIES = ["dark", "dark mo", "Dark  Mode", "dark mode", "refund", "reset pass", "ÉTÉ", "été x"]


def oracle(store, kb, start, end, now):
    """The definitions of kbsuggest/events/deflection.py, session by session, in Python."""
    sessions = defaultdict(list)
    for row in store.session_events(kb, utc_iso(start), utc_iso(end)):
        sessions[row["session_id"]].append({**row, "at": parse_utc(row["at"])})
    counts, articles, unanswered = Counter({c: 0 for c in CLASSES}), {}, Counter()
    for events in sessions.values():
        helpful = {e["article_id"] for e in events if e["type"] == "feedback" and e["helpful"]}
        unhelpful = any(e["type"] == "feedback" and not e["helpful"] for e in events)
        opened = {e["article_id"] for e in events if e["type"] in ("article_opened", "feedback")}
        signals = [e["at"] for e in events if e["type"] in ("article_opened", "feedback")]
        tickets = [e["at"] for e in events if e["type"] == "ticket_submitted"]
        if tickets and (not signals or tickets[0] <= min(signals) + WINDOW) or unhelpful and not helpful:
            kind = "none"
        elif (max(signals) if signals else events[-1]["at"]) + WINDOW > now and not tickets:
            kind = "pending"
        else:
            kind = "confirmed" if helpful else "potential" if opened else "unengaged"
        counts[kind] += 1
        queries = [(_norm(e["query"]), json.loads(e["suggestions"])) for e in events if e["type"] == "suggestions_shown"]
        unanswered.update({q for i, (q, s) in enumerate(queries) if not s and q and not any(
            later.startswith(q) and later != q for later, _ in queries[i + 1:])})
        shown = {s["article_id"] for _, listed in queries for s in listed}
        for a in shown | opened:
            row = articles.setdefault(a, [a, 0, 0, 0, 0])
            row[1:] = [row[1] + (a in shown), row[2] + (a in opened), row[3] + (kind == "confirmed" and a in helpful),
                       row[4] + (kind == "potential" and a in opened)]
    ranked = sorted((r for r in articles.values() if r[3] or r[4]), key=lambda r: (-r[3], -r[4], r[0]))
    return dict(counts), ranked[:10], sorted(unanswered.items(), key=lambda x: (-x[1], x[0]))[:10]


def random_sessions(rng: random.Random, n: int) -> list[list[dict]]:
    minute = 60_000
    out = []
    for s in range(n):
        start = rng.choice([-2 * 1440, -1, 0, 5, 600, 1439, 1440, 2000]) * minute + rng.choice([0, 1, 999])
        events, at = [], start
        for _ in range(rng.randint(0, 3)):
            listed = rng.sample(["a", "b", "c", "é"], rng.randint(0, 2))
            events.append({"type": "suggestions_shown", "at": at, "query": rng.choice(QUERIES),
                           "suggestions": [{"article_id": a, "position": i + 1, "score": 0.5} for i, a in enumerate(listed)]})
            at += rng.choice([0, 1, 300])
        signal = None
        for _ in range(rng.randint(0, 2)):
            at += rng.choice([0, minute, 30 * minute])
            signal = at if signal is None else signal
            kind = rng.choice(["article_opened", "feedback"])
            event = {"type": kind, "at": at, "query": "q", "article_id": rng.choice("abc"), "position": 1}
            events.append(event | ({"helpful": rng.random() < 0.6} if kind == "feedback" else {}))
        if rng.random() < 0.4:  # a ticket, often exactly on the window's edge after the first signal
            edge = (signal if signal is not None else at) + 60 * minute
            events.append({"type": "ticket_submitted", "at": rng.choice([edge - 1, edge, edge + 1, at + 5 * minute]),
                           "title": "t", "suggestion_opened": False})
        rng.shuffle(events)  # arrival order is not time order
        out.append(events)
    return out


def test_sql_rollup_matches_the_per_session_definitions(store):
    from kbsuggest.events.schema import EventBatch, record

    rng = random.Random(19)
    ms = int(T0.timestamp() * 1000)
    kbs = [rng.choice(["default", "default", "other"]) for _ in range(400)]
    for s, events in enumerate(random_sessions(rng, 400)):
        for chunk in (events[:2], events[2:]):  # a session's events come in several batches
            if chunk:
                last = max(e["at"] for e in chunk)  # sent at its last event: every event dated exactly
                batch = {"session_id": f"session-{s:04d}", "sent_at": ms + last,
                         "events": [e | {"at": ms + e["at"]} for e in chunk]}
                record(store, kbs[s], EventBatch.model_validate(batch), T0 + timedelta(milliseconds=last))
    start, end = T0, T0 + timedelta(days=1)
    for now in (T0 + timedelta(days=5), T0 + timedelta(hours=10), T0 + timedelta(minutes=61, milliseconds=1)):
        for kb in ("default", "other"):
            got = deflection_stats(store, kb, start, end, WINDOW, now)
            counts, top, unanswered = oracle(store, kb, start, end, now)
            assert got.counts == counts and got.sessions == sum(counts.values())
            assert [[a.article_id, a.shown, a.opened, a.confirmed, a.potential] for a in got.top_articles] == top
            assert [(q.query, q.sessions) for q in got.unanswered_queries] == unanswered
    assert sum(deflection_stats(store, "default", start, end, WINDOW, T0 + timedelta(days=5)).counts.values()) > 100
