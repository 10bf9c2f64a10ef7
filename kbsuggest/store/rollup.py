"""The deflection statistics as one SQL statement over the per-session summary tables (``summary.py``), on
both backends: a month of a million events is a few hundred thousand session rows aggregated where they lie,
never events shipped row by row to Python (``benchmarks/dashboard.py``, ``benchmarks/store_scale.py``).

The statement classifies each session of the KB that started in ``[start, end)`` with the caller's
``classify`` SQL (``kbsuggest/events/deflection.py`` owns the rules) and returns rows of one shape
``(what, key, kind, a, b, c, d, e)``:

- ``count``: sessions per class; with ``detail``, also per ``day`` (of the session's start), ``mode``,
  ``locale`` and ``product`` and class;
- ``article``: per article, sessions in which it was shown, opened, rated helpful in a *confirmed*
  session, opened in a *potential* one, answered "I still need help";
- ``unanswered`` / ``need_help``: the ``top`` queries by sessions (ties by query, in code-point order).

Only the dialect differences are spelt per backend: text timestamps to microseconds, the article ids inside a
``suggestions`` JSON array (both used by ``summary.py``), and SQLite's index hints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from kbsuggest.store.daily import DAY, UNBANKED
from kbsuggest.timestamps import parse_utc, utc_iso

DIALECTS = {
    "postgres": {
        "us": "(extract(epoch FROM ({x})::timestamptz) * 1000000)::bigint",
        "shown": "CROSS JOIN LATERAL json_array_elements(ev.suggestions::json) AS j", "shown_id": "j.value ->> 'article_id'",
        "index": ""},
    "sqlite": {  # unixepoch() is whole seconds; the milliseconds are the text's (the one stored format)
        "us": "(unixepoch({x}) * 1000000 + CAST(substr({x}, 21, 3) AS INTEGER) * 1000)",
        "shown": ", json_each(ev.suggestions) AS j", "shown_id": "j.value ->> '$.article_id'",
        "index": "INDEXED BY {index}"},
}
BREAKDOWNS = ("day", "mode", "locale", "product")


def for_dialect(sql: str, dialect: str) -> str:
    """``sql`` written with psycopg's ``%(name)s`` parameters, as ``dialect`` spells them (SQLite: ``:name``)."""
    return re.sub(r"%\((\w+)\)s", r":\1", sql) if dialect == "sqlite" else sql


# The period's sessions as rows of the facts the rules read and a weight ``n``: the banked day rows of its whole
# UTC days (``daily.py``), plus, live from the session rows, the partial days at its edges, the sessions not
# banked, and the banked sessions that may still be pending now (real facts in, their banked row out). Each
# part is a range of an index (SQLite is told which: without statistics it would take the period's range of the
# covering index for the small parts too, i.e. every session again). ``{cols}``: the columns read besides the times.
_PARTS = """SELECT started_at, {cols}, first_ticket, first_signal, last_signal, last_at, 1 AS n FROM {table}
    WHERE kb = %(kb)s AND started_at >= %(start)s AND started_at < %(head_end)s
  UNION ALL SELECT started_at, {cols}, first_ticket, first_signal, last_signal, last_at, 1 FROM {table}
    WHERE kb = %(kb)s AND started_at >= %(tail_start)s AND started_at < %(end)s
  UNION ALL SELECT started_at, {cols}, first_ticket, first_signal, last_signal, last_at, 1 FROM {table} {unbanked_index}
    WHERE kb = %(kb)s AND {unbanked} AND started_at >= %(head_end)s AND started_at < %(tail_start)s
  UNION ALL SELECT started_at, {cols}, first_ticket, first_signal, last_signal, last_at, 1 FROM {table} {recent_index}
    WHERE kb = %(kb)s AND first_ticket IS NULL AND coalesce(last_signal, last_at) > %(now)s - %(window)s
    AND started_at >= %(head_end)s AND started_at < %(tail_start)s
  UNION ALL SELECT started_at, {cols}, {null}, {null}, {null}, {null}, -1 FROM {table} {recent_index}
    WHERE kb = %(kb)s AND first_ticket IS NULL AND coalesce(last_signal, last_at) > %(now)s - %(window)s
    AND started_at >= %(head_end)s AND started_at < %(tail_start)s
  UNION ALL SELECT day, {cols}, CASE WHEN ticket = 1 THEN CAST(0 AS bigint) END, {null}, {null}, {null}, {count}
    FROM {days} WHERE kb = %(kb)s AND day >= %(first_day)s AND day < %(last_day)s"""
_NULL = "CAST(NULL AS bigint)"
_CELLS = """SELECT 'cell' AS what, {day} AS key, {classify} AS kind, {mode} AS mode, {locale} AS locale,
    {product} AS product, sum(n) AS a, 0 AS b, 0 AS c, 0 AS d, 0 AS e
  FROM ({parts}) AS sessions GROUP BY {group} HAVING sum(n) <> 0"""
# The rules read the session's facts copied into each pair; ``opened`` there is the pair's, which implies
# the session's for the pairs it counts as potential.
_ARTICLES = """SELECT 'article', article_id, '', '', '', '', sum(shown * n), sum(opened * n),
    sum(CASE WHEN good = 1 AND kind = 'confirmed' THEN n ELSE 0 END),
    sum(CASE WHEN opened = 1 AND kind = 'potential' THEN n ELSE 0 END), sum(bad * n)
  FROM (SELECT article_id, shown, opened, good, bad, n, {classify} AS kind FROM ({parts}) AS p) AS pairs
  GROUP BY article_id HAVING sum(n) <> 0"""
_QUERIES = """SELECT * FROM (SELECT '{kind}' AS what, query, '', '', '', '', sum(n) AS n, 0, 0, 0, 0 FROM (
    SELECT query, 1 AS n FROM session_queries WHERE kb = %(kb)s AND kind = '{kind}'
      AND started_at >= %(start)s AND started_at < %(head_end)s
    UNION ALL SELECT query, 1 FROM session_queries WHERE kb = %(kb)s AND kind = '{kind}'
      AND started_at >= %(tail_start)s AND started_at < %(end)s
    UNION ALL SELECT query, sessions FROM day_queries WHERE kb = %(kb)s AND kind = '{kind}'
      AND day >= %(first_day)s AND day < %(last_day)s) AS q
  GROUP BY query ORDER BY n DESC, query LIMIT %(top)s) AS {kind}"""


@dataclass
class Rollup:
    counts: dict[str, int] = field(default_factory=dict)  # class -> sessions
    # breakdown ("day", "mode", "locale", "product") -> value -> class -> sessions
    by: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    articles: list[tuple[str, int, int, int, int, int]] = field(default_factory=list)  # id, shown, opened, confirmed, potential, need help
    queries: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # "unanswered" | "need_help" -> [(query, sessions)]


def rollup_sql(dialect: str, classify: str, detail: bool = False) -> str:
    """The statement for ``dialect`` (psycopg's ``%(name)s`` parameters, or SQLite's ``:name``)."""
    columns = {"day": DAY, "mode": "coalesce(mode, '')", "locale": "coalesce(locale, '')",
               "product": "coalesce(product, '')"}
    def parts(table: str, **names: str) -> str:
        indexes = {f"{part}_index": spelt["index"].format(index=f"{table}_{part}") for part in ("unbanked", "recent")}
        return _PARTS.format(table=table, unbanked=UNBANKED, null=_NULL, **indexes, **names)
    spelt = DIALECTS[dialect]
    facts = parts("session_facts", cols="mode, locale, product, helpful, unhelpful, opened", days="day_cells",
                  count="sessions")
    cells = _CELLS.format(classify=classify, group=", ".join(["kind", *(columns.values() if detail else [])]),
                          parts=facts, **(columns if detail else dict.fromkeys(columns, "''")))
    pairs = parts("session_articles", cols="article_id, shown, opened, good, bad, helpful, unhelpful",
                  days="day_articles", count="pairs")
    parts = [cells, _ARTICLES.format(classify=classify, parts=pairs),
             *(_QUERIES.format(kind=k) for k in ("unanswered", "need_help"))]
    sql = "\nUNION ALL\n".join(parts)
    return for_dialect(sql, dialect)


def rollup_params(kb: str, start: str, end: str, top: int, values: dict) -> dict:
    """The statement's parameters for the period ``[start, end)``: its whole UTC days ``[first_day,
    last_day)`` are read from the day tables, ``[start, head_end)`` and ``[tail_start, end)`` live."""
    begin, stop = parse_utc(start), parse_utc(end)
    midnight = datetime.combine(begin.date(), time(), timezone.utc)
    first = midnight if midnight == begin else midnight + timedelta(days=1)
    last = datetime.combine(stop.date(), time(), timezone.utc)
    if first >= last:  # no whole day: all of it live
        first = last = stop
    return {"kb": kb, "start": start, "end": end, "top": top, "head_end": utc_iso(first), "tail_start": utc_iso(last),
            "first_day": first.date().isoformat(), "last_day": last.date().isoformat(), **values}


def read_rollup(rows) -> Rollup:
    out = Rollup(queries={"unanswered": [], "need_help": []})
    for what, key, kind, mode, locale, product, a, b, c, d, e in rows:
        if what == "cell":
            out.counts[kind] = out.counts.get(kind, 0) + int(a)
            for name, value in zip(BREAKDOWNS, (key, mode, locale, product) if key else ()):  # key: the day
                cell = out.by.setdefault(name, {}).setdefault(value, {})
                cell[kind] = cell.get(kind, 0) + int(a)
        elif what == "article":
            out.articles.append((key, int(a), int(b), int(c), int(d), int(e)))
        else:
            out.queries[what].append((key, int(a)))
    for queries in out.queries.values():  # UNION ALL keeps no order
        queries.sort(key=lambda x: (-x[1], x[0]))
    return out
