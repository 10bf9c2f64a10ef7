"""SQLite through sqlite-utils, with schema migrations keyed on ``PRAGMA user_version``.

Two databases use it: the article/chunk metadata that sits inside each index directory
(``KB_MIGRATIONS``) and the service database for events, tickets and runs (later issues add theirs).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import sqlite_utils

from kbsuggest.documents import Article, Chunk

Migration = Callable[[sqlite_utils.Database], None]


def open_db(path: Path | str, migrations: Sequence[Migration] = ()) -> sqlite_utils.Database:
    """Open (creating if needed) and bring the schema up to date by running pending migrations."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    db = sqlite_utils.Database(conn)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, migration in enumerate(migrations[version:], start=version + 1):
        with conn:
            migration(db)
            conn.execute(f"PRAGMA user_version = {number}")
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


KB_MIGRATIONS: list[Migration] = [_kb_v1]


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
    db.conn.commit()
