"""The widget's two gap signals as one SQL statement on both backends (gap mining reads them, ``gaps/signals.py``).

- ``no_result``: a query shown an empty list (type-ahead or chat), unless a later query of the same
  session extends it (a half-typed prefix of what the visitor went on to type is not a question of
  its own), once per session and text (case and outer white space ignored).
- ``still_need_help``: feedback ``helpful = false`` ("I still need help") on an article; its text is the
  feedback's query or, when the widget sent none, the session's last query shown before it; once per
  session, text and article.
Only ``[start, end)`` is read. Python normalises white space further and drops blank texts.
"""

from __future__ import annotations

from kbsuggest.store.rollup import for_dialect

_SQL = """
SELECT 'no_result' AS signal, e.session_id, min(e.query) AS query, min(e.at) AS at, NULL AS article_id
FROM events e
WHERE e.kb = %(kb)s AND e.type = 'suggestions_shown' AND coalesce(e.suggestions, '[]') IN ('[]', '')
  AND e.at >= %(start)s AND e.at < %(end)s AND trim(coalesce(e.query, '')) <> ''
  AND NOT EXISTS (
    SELECT 1 FROM events l WHERE l.kb = e.kb AND l.session_id = e.session_id AND l.type = 'suggestions_shown'
      AND l.at >= e.at AND l.id <> e.id AND length(trim(l.query)) > length(trim(e.query))
      AND lower(substr(trim(l.query), 1, length(trim(e.query)))) = lower(trim(e.query)))
GROUP BY e.session_id, lower(trim(e.query))
UNION ALL
SELECT 'still_need_help', f.session_id, min(f.query), min(f.at), f.article_id
FROM (SELECT x.session_id, x.at, x.article_id, coalesce(nullif(trim(coalesce(x.query, '')), ''), (
        SELECT s.query FROM events s WHERE s.kb = x.kb AND s.session_id = x.session_id
          AND s.type = 'suggestions_shown' AND s.at <= x.at ORDER BY s.at DESC, s.id DESC LIMIT 1)) AS query
      FROM events x
      WHERE x.kb = %(kb)s AND x.type = 'feedback' AND coalesce(x.helpful, 1) = 0
        AND x.at >= %(start)s AND x.at < %(end)s) f
WHERE f.query IS NOT NULL
GROUP BY f.session_id, lower(trim(f.query)), f.article_id
ORDER BY at, session_id, signal
"""


def signals_sql(dialect: str) -> str:
    """The statement for ``dialect`` (psycopg's ``%(name)s`` parameters, or SQLite's ``:name``)."""
    return for_dialect(_SQL, dialect)
