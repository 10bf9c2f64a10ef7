"""Article popularity as one SQL statement on both backends: sessions that opened an article (the
widget's preview or the full page) or rated it "This solved it" since a moment, most first."""

from __future__ import annotations

POPULAR_SQL = """
SELECT article_id, count(DISTINCT session_id) AS sessions FROM events
WHERE kb = %(kb)s AND at >= %(since)s AND article_id IS NOT NULL
  AND (type = 'article_opened' OR (type = 'feedback' AND coalesce(helpful, 0) <> 0))
GROUP BY article_id ORDER BY sessions DESC, article_id LIMIT %(limit)s
"""


def popular_sql(dialect: str) -> str:
    """psycopg's ``%(name)s`` parameters, or SQLite's ``:name``."""
    return POPULAR_SQL.replace("%(", ":").replace(")s", "") if dialect == "sqlite" else POPULAR_SQL
