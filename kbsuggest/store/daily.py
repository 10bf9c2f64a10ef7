"""Per-day counts of *banked* sessions, kept with the per-session summaries (``summary.py``), so a month's
figures read a few thousand day rows instead of every session (``rollup.py`` reads them).

A session is banked when its class can be told from its flags alone, whatever the window and the time
of asking — every session but those with both a ticket and a deflection signal, whose class turns on
how long after the first signal the ticket came (the window). A banked session is counted in its day's
cell with its timestamps reduced: ``first_ticket`` 0 when it has one, the other times NULL. Over that
reduced row the rules of ``kbsuggest/events/deflection.py`` (applied at read time, never here) give
the session's class as it stands once its pending time is over: a ticket makes it *none* at once, and
without one its pending test reads NULL times and is false. The reader therefore adds live, from the
session rows: the sessions not banked, the partial days at the period's edges, and the banked sessions
that may still be pending at the time of asking (no ticket, last signal or event within the window),
counted with their real facts and taken out of their banked cell.

- ``day_cells``: per KB, day of the session's start, mode, locale, product and flags (ticket, rated
  helpful, rated unhelpful, opened): banked sessions;
- ``day_articles``: per KB, day, article, the session's flags and the pair's (shown, opened, good, bad):
  banked sessions' article pairs;
- ``day_queries``: per KB, kind, day and query: sessions (every session: a query has no class).

``refresh_batch`` (``summary.py``) reads its sessions' contributions before and after it recomputes their
rows and writes only the difference, in key order (concurrent writers take row locks in one order);
an event arriving late or out of order moves the session from its old cell to its new one.
"""

from __future__ import annotations

from collections import Counter

DAY = "substr(started_at, 1, 10)"
TICKET = "CASE WHEN first_ticket IS NULL THEN 0 ELSE 1 END"
UNBANKED = "first_ticket IS NOT NULL AND first_signal IS NOT NULL"
BANKED = f"NOT ({UNBANKED})"
# table -> (key columns, count column, the key's expressions over the session's summary rows, source table,
# which of its rows count)
TABLES = {
    "day_cells": (("kb", "day", "mode", "locale", "product", "ticket", "helpful", "unhelpful", "opened"), "sessions",
                  f"kb, {DAY}, coalesce(mode, ''), coalesce(locale, ''), coalesce(product, ''), {TICKET}, helpful, "
                  "unhelpful, opened", "session_facts", BANKED),
    "day_articles": (("kb", "day", "article_id", "ticket", "helpful", "unhelpful", "shown", "opened", "good", "bad"),
                     "pairs", f"kb, {DAY}, article_id, {TICKET}, helpful, unhelpful, shown, opened, good, bad",
                     "session_articles", BANKED),
    "day_queries": (("kb", "kind", "day", "query"), "sessions", f"kb, kind, {DAY}, query", "session_queries", "1 = 1"),
}
_TIMES = "first_ticket, first_signal, last_signal, last_at"
_TEXT = {"kb", "day", "mode", "locale", "product", "article_id", "kind", "query"}

DAILY_DDL = tuple(
    f"CREATE TABLE {table} ({', '.join(f'{c} ' + ('{text}' if c in _TEXT else 'INTEGER') + ' NOT NULL' for c in keys)}, "
    f"{count} INTEGER NOT NULL, PRIMARY KEY ({', '.join(keys)})){{without_rowid}}"
    for table, (keys, count, *_rest) in TABLES.items()) + (
    # the live parts of a read: sessions not banked (covering: there are many), and banked ones that may still
    # be pending (the last hour's; not partial, so that PostgreSQL keeps statistics of the expression)
    f"CREATE INDEX session_facts_unbanked ON session_facts (kb, started_at, {_TIMES}, mode, locale, product, helpful, "
    f"unhelpful, opened) WHERE {UNBANKED}",
    "CREATE INDEX session_facts_recent ON session_facts (kb, (coalesce(last_signal, last_at)))",
    f"CREATE INDEX session_articles_unbanked ON session_articles (kb, started_at, {_TIMES}, article_id, shown, opened, "
    f"good, bad, helpful, unhelpful) WHERE {UNBANKED}",
    "CREATE INDEX session_articles_recent ON session_articles (kb, (coalesce(last_signal, last_at)))",
)


def placeholder(dialect: str) -> str:
    """The parameter mark of a dialect's driver (sqlite3 and psycopg)."""
    return "?" if dialect == "sqlite" else "%s"


def contributions(cur, dialect: str, kb: str, sessions: list[str]) -> dict[str, Counter]:
    """What KB ``kb``'s ``sessions`` add to each day table now: table -> Counter(key -> count)."""
    p = placeholder(dialect)
    out = {table: Counter() for table in TABLES}
    for session in sessions:
        for table, (_keys, _count, key, source, where) in TABLES.items():
            rows = cur.execute(f"SELECT {key} FROM {source} WHERE kb = {p} AND session_id = {p} AND {where}",
                               [kb, session]).fetchall()
            out[table].update(tuple(row) for row in rows)
    return out


def apply(cur, dialect: str, before: dict[str, Counter], after: dict[str, Counter]) -> None:
    """Write the difference ``after - before`` into the day tables (rows that fall to 0 are deleted)."""
    p = placeholder(dialect)
    for table, (keys, count, *_rest) in TABLES.items():
        delta = {k: after[table][k] - before[table][k] for k in before[table].keys() | after[table].keys()}
        delta = sorted((k, n) for k, n in delta.items() if n)
        if not delta:
            continue
        cur.executemany(
            f"INSERT INTO {table} ({', '.join(keys)}, {count}) VALUES ({', '.join([p] * (len(keys) + 1))}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {count} = {table}.{count} + excluded.{count}",
            [(*k, n) for k, n in delta])
        gone = [k for k, n in delta if n < 0]
        if gone:
            cur.executemany(f"DELETE FROM {table} WHERE {' AND '.join(f'{c} = {p}' for c in keys)} AND {count} = 0",
                            gone)


# Every day table recounted from the summary rows (a migration; after ``summary.refresh`` of every session).
REBUILD = tuple(stmt for table, (keys, count, key, source, where) in TABLES.items() for stmt in (
    f"DELETE FROM {table}",
    f"INSERT INTO {table} ({', '.join(keys)}, {count}) SELECT {key}, count(*) FROM {source} WHERE {where} GROUP BY {key}"))
# PostgreSQL after a recount: the planner needs the new tables' statistics to take the small live parts from
# their partial indexes (without them it ranged the period's covering index for "maybe pending": 1.7 s of 1.9).
ANALYZE = "ANALYZE session_facts, session_articles, session_queries, day_cells, day_articles, day_queries"


def rebuild(cur) -> None:
    for statement in REBUILD:
        cur.execute(statement)
