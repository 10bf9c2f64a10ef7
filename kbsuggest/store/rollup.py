"""The deflection dashboard as one SQL statement, on both backends: a month of 10 million events is
aggregated where it lies instead of being shipped, row by row, to Python (``benchmarks/store_scale.py``).

The statement finds the KB's sessions whose first suggestion was shown in ``[start, end)``, aggregates
each session's facts (first and last signal, first ticket, last event — as integer microseconds —, rated
helpful, rated unhelpful, opened, shown an empty list), classifies it with the caller's ``classify`` SQL
(``kbsuggest/events/deflection.py`` owns the rules), and returns three kinds of rows: the sessions per
class, the articles that deflected (shown, opened, confirmed, potential sessions), and, in order, the
queries shown in sessions that had an empty list (the caller finds the unanswered ones, in Python, with
Python's idea of case and white space). Only the two dialect differences are spelt per backend: text
timestamps to microseconds, and the article ids inside a ``suggestions`` JSON array.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DIALECTS = {
    "postgres": {
        "us": "(extract(epoch FROM ({x})::timestamptz) * 1000000)::bigint",
        "shown": "CROSS JOIN LATERAL json_array_elements(ev.suggestions::json) AS j", "shown_id": "j.value ->> 'article_id'"},
    "sqlite": {  # unixepoch() is whole seconds; the milliseconds are the text's (the one stored format)
        "us": "(unixepoch({x}) * 1000000 + CAST(substr({x}, 21, 3) AS INTEGER) * 1000)",
        "shown": ", json_each(ev.suggestions) AS j", "shown_id": "j.value ->> '$.article_id'"},
}

_TEMPLATE = """
WITH started AS MATERIALIZED (
  SELECT DISTINCT s.session_id FROM events s
  WHERE s.kb = %(kb)s AND s.type = 'suggestions_shown' AND s.at >= %(start)s AND s.at < %(end)s
    AND NOT EXISTS (SELECT 1 FROM events p WHERE p.kb = %(kb)s AND p.session_id = s.session_id
                    AND p.type = 'suggestions_shown' AND p.at < %(start)s)
), ev AS MATERIALIZED (
  SELECT e.id, e.session_id, e.type, e.at, e.article_id, e.query, e.suggestions,
    CASE WHEN e.type = 'feedback' AND coalesce(e.helpful, 0) <> 0 THEN 1 ELSE 0 END AS good,
    CASE WHEN e.type = 'feedback' AND coalesce(e.helpful, 0) = 0 THEN 1 ELSE 0 END AS bad,
    CASE WHEN e.type IN ('article_opened', 'feedback') THEN 1 ELSE 0 END AS signal,
    CASE WHEN e.type = 'suggestions_shown' AND coalesce(e.suggestions, '[]') IN ('[]', '') THEN 1 ELSE 0 END AS empty
  FROM events e JOIN started st ON st.session_id = e.session_id WHERE e.kb = %(kb)s
), facts AS MATERIALIZED (
  SELECT session_id, {first_signal} AS first_signal, {last_signal} AS last_signal, {first_ticket} AS first_ticket,
    {last_at} AS last_at, max(good) AS helpful, max(bad) AS unhelpful, max(signal) AS opened,
    max(empty) AS unanswered
  FROM ev GROUP BY session_id
), classed AS MATERIALIZED (
  SELECT session_id, unanswered, {classify} AS kind FROM facts
), pairs AS (
  SELECT ev.session_id, {shown_id} AS article_id, 1 AS shown, 0 AS opened, 0 AS good
    FROM ev {shown} WHERE ev.type = 'suggestions_shown'
  UNION ALL
  SELECT session_id, article_id, 0, 1, good FROM ev WHERE signal = 1
), per_pair AS (
  SELECT session_id, article_id, max(shown) AS shown, max(opened) AS opened, max(good) AS good
  FROM pairs GROUP BY session_id, article_id
), articles AS (
  SELECT p.article_id, sum(p.shown) AS shown, sum(p.opened) AS opened,
    sum(CASE WHEN c.kind = 'confirmed' AND p.good = 1 THEN 1 ELSE 0 END) AS confirmed,
    sum(CASE WHEN c.kind = 'potential' AND p.opened = 1 THEN 1 ELSE 0 END) AS potential
  FROM per_pair p JOIN classed c ON c.session_id = p.session_id GROUP BY p.article_id
)
SELECT 'count' AS what, kind AS key, NULL AS query, NULL AS at, 0 AS id, count(*) AS a, 0 AS b, 0 AS c, 0 AS d
  FROM classed GROUP BY kind
UNION ALL
SELECT 'article', article_id, NULL, NULL, 0, shown, opened, confirmed, potential FROM articles
  WHERE confirmed > 0 OR potential > 0
UNION ALL
SELECT 'query', ev.session_id, ev.query, ev.at, ev.id, ev.empty, 0, 0, 0
  FROM ev JOIN classed c ON c.session_id = ev.session_id WHERE c.unanswered = 1 AND ev.type = 'suggestions_shown'
ORDER BY what, key, at, id
"""


@dataclass
class Rollup:
    counts: dict[str, int] = field(default_factory=dict)  # class -> sessions
    articles: list[tuple[str, int, int, int, int]] = field(default_factory=list)  # id, shown, opened, confirmed, potential
    queries: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)  # session -> [(query, shown nothing)]


def rollup_sql(dialect: str, classify: str) -> str:
    """The statement for ``dialect`` (psycopg's ``%(name)s`` parameters, or SQLite's ``:name``)."""
    spelt = DIALECTS[dialect]

    def us(x: str) -> str:
        return spelt["us"].format(x=x)
    sql = _TEMPLATE.format(
        first_signal=us("min(CASE WHEN signal = 1 THEN at END)"), last_signal=us("max(CASE WHEN signal = 1 THEN at END)"),
        first_ticket=us("min(CASE WHEN type = 'ticket_submitted' THEN at END)"), last_at=us("max(at)"),
        classify=classify, shown=spelt["shown"], shown_id=spelt["shown_id"])
    return re.sub(r"%\((\w+)\)s", r":\1", sql) if dialect == "sqlite" else sql


def read_rollup(rows) -> Rollup:
    out = Rollup()
    for what, key, query, _at, _id, a, b, c, d in rows:
        if what == "count":
            out.counts[key] = int(a)
        elif what == "article":
            out.articles.append((key, int(a), int(b), int(c), int(d)))
        else:
            out.queries.setdefault(key, []).append((query, bool(a)))
    return out
