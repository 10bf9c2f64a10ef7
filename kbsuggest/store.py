"""SQLite through sqlite-utils, with named schema migrations.

Two databases use it: the article/chunk metadata inside each index directory (``KB_MIGRATIONS``)
and the service database (``settings.db_path``) where each component (events, tickets, evaluation
runs…) keeps its own list of migrations. A migration is ``(name, function)``; the names applied so
far are recorded in the ``_migrations`` table, so components evolve their tables independently and
a database is brought up to date by ``open_db(path, component_migrations)``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import sqlite_utils

from kbsuggest.documents import Article, Chunk

Migration = tuple[str, Callable[[sqlite_utils.Database], None]]  # (unique name, schema change)


def open_db(path: Path | str, migrations: Sequence[Migration] = (), *, wal: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) and apply, in order, the migrations not applied yet.

    Each migration runs in its own transaction with its bookkeeping row, so a failure leaves the
    database at the last migration that completed.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    if wal:  # the service database: readers never block the one writer
        conn.execute("PRAGMA journal_mode = WAL")
    db = sqlite_utils.Database(conn)
    if migrations:
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
        for name, migrate in migrations:
            if name in done:
                continue
            conn.execute("BEGIN")
            try:
                migrate(db)
                conn.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", (name,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    return db


def _kb_v1(db: sqlite_utils.Database) -> None:
    db["articles"].create(
        {
            "id": str, "title": str, "url": str, "locale": str, "audience": str, "product": str,
            "tags": str, "updated": str, "path": str, "content_hash": str, "sections": int,
        },
        pk="id",
    )
    # rowid of a chunk == its row in the FAISS index
    db["chunks"].create(
        {"id": int, "article_id": str, "anchor": str, "heading": str, "text": str, "body": str},
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["chunks"].create_index(["article_id"])


KB_MIGRATIONS: list[Migration] = [("kb-001-articles-chunks", _kb_v1)]


def write_kb(db: sqlite_utils.Database, articles: Iterable[Article], chunks: Sequence[Chunk]) -> None:
    db["articles"].insert_all(
        (
            {
                "id": a.id, "title": a.title, "url": a.url, "locale": a.locale, "audience": a.audience,
                "product": a.product, "tags": json.dumps(list(a.tags)), "updated": a.updated,
                "path": a.path, "content_hash": a.content_hash, "sections": len(a.sections),
            }
            for a in articles
        ),
        batch_size=500,
    )
    db["chunks"].insert_all(
        (
            {"id": i, "article_id": c.article_id, "anchor": c.anchor, "heading": c.heading, "text": c.text, "body": c.body}
            for i, c in enumerate(chunks)
        ),
        batch_size=500,
    )
