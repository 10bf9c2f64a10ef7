"""``kb.db``: the article and chunk metadata of one index snapshot (row i of ``chunks`` = FAISS vector i)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import sqlite_utils

from kbsuggest.domain import Article, Chunk
from kbsuggest.db import Migration


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
