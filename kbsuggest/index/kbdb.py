"""``kb.db``: the article and chunk metadata of one snapshot. The only module that reads or writes it.

Row i of ``chunks`` is FAISS vector i; articles sorted by id, chunks grouped by article in that order,
each article's title chunk first (the chunk order rule of ``format.py``, checked on read).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from kbsuggest.db import Migration, open_db
from kbsuggest.domain import Article, ArticleInfo, Chunk
from kbsuggest.errors import IndexCorruptError
from kbsuggest.index.format import KB_FILE


def _kb_v1(db: sqlite_utils.Database) -> None:
    db["articles"].create(
        {
            "id": str, "title": str, "url": str, "locale": str, "audience": str, "product": str,
            "tags": str, "updated": str, "path": str, "content_hash": str, "sections": int,
        },
        pk="id",
    )
    db["chunks"].create(
        {"id": int, "article_id": str, "anchor": str, "heading": str, "text": str, "body": str},
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["chunks"].create_index(["article_id"])


KB_MIGRATIONS: list[Migration] = [("kb-001-articles-chunks", _kb_v1)]


@dataclass(frozen=True)
class KBRows:
    """The metadata of a snapshot, in the chunk order rule's order."""

    articles: list[ArticleInfo]
    chunk_article: np.ndarray  # (n_chunks,) int32: position of each chunk's article, non-decreasing
    anchors: list[str]
    headings: list[str]
    bodies: list[str]


def in_chunk_order(articles: Sequence[Article], chunks: Sequence[Chunk]) -> tuple[list[Article], list[Chunk]]:
    """Articles sorted by id and chunks grouped in that order (stable within an article)."""
    ordered = sorted(articles, key=lambda a: a.id)
    rank = {a.id: i for i, a in enumerate(ordered)}
    return ordered, sorted(chunks, key=lambda c: rank[c.article_id])


def write_kb(directory: Path, articles: Sequence[Article], chunks: Sequence[Chunk]) -> None:
    """Write kb.db; ``articles`` and ``chunks`` must already be in chunk order (``in_chunk_order``)."""
    db = open_db(Path(directory) / KB_FILE, KB_MIGRATIONS)
    try:
        with db.conn:
            db["articles"].insert_all(
                ({"id": a.id, "title": a.title, "url": a.url, "locale": a.locale, "audience": a.audience,
                  "product": a.product, "tags": json.dumps(list(a.tags)), "updated": a.updated,
                  "path": a.path, "content_hash": a.content_hash, "sections": len(a.sections)} for a in articles),
                batch_size=500)
            db["chunks"].insert_all(
                ({"id": i, "article_id": c.article_id, "anchor": c.anchor, "heading": c.heading, "text": c.text,
                  "body": c.body} for i, c in enumerate(chunks)),
                batch_size=500)
    finally:
        db.conn.close()


def _open(directory: Path) -> sqlite_utils.Database:
    path = Path(directory) / KB_FILE
    if not path.is_file():
        raise IndexCorruptError("the index's kb.db is missing; rebuild the index")
    return open_db(path)


def article_dates(directory: Path) -> dict[str, str]:
    """``{article id: its front matter's updated date}`` (offline readers: drift alarms); "" when it has none."""
    db = _open(directory)
    try:
        return {r["id"]: r["updated"] or "" for r in db.query("select id, updated from articles")}
    except sqlite3.DatabaseError as exc:
        raise IndexCorruptError(f"cannot read the index's kb.db ({exc}); rebuild the index") from None
    finally:
        db.conn.close()


def read(directory: Path, n_vectors: int) -> KBRows:
    """The snapshot's metadata, checked against its vector count and the chunk order rule."""
    db = _open(directory)
    try:
        articles = [ArticleInfo(r["id"], r["title"], r["url"], r["locale"], r["audience"], r["product"])
                    for r in db.query("select * from articles order by id")]
        position = {a.id: i for i, a in enumerate(articles)}
        chunks = list(db.query("select article_id, anchor, heading, body from chunks order by id"))
        if len(chunks) != n_vectors or any(c["article_id"] not in position for c in chunks):
            raise sqlite3.DatabaseError(f"{len(chunks)} chunks for {n_vectors} vectors, or chunks without article")
    except sqlite3.DatabaseError as exc:  # a degraded start must name the problem, not crash
        raise IndexCorruptError(f"cannot read the index's kb.db ({exc}); rebuild the index") from None
    finally:
        db.conn.close()
    owner = np.array([position[c["article_id"]] for c in chunks], dtype=np.int32)
    starts = np.flatnonzero(np.diff(owner, prepend=-1)) if len(owner) else owner
    if np.any(np.diff(owner) < 0) or len(starts) != len(set(owner.tolist())) or any(
            chunks[s]["anchor"] or chunks[s]["heading"] for s in starts.tolist()):
        raise IndexCorruptError("the index's chunks break the chunk order rule; rebuild the index")
    return KBRows(articles, owner, [c["anchor"] for c in chunks], [c["heading"] for c in chunks],
                  [c["body"] for c in chunks])


def article_row(directory: Path, article_id: str) -> dict | None:
    """``path`` and ``content_hash`` of one article of a snapshot, or None."""
    db = _open(directory)
    try:
        return next(iter(db.query("select path, content_hash from articles where id = ?", [article_id])), None)
    finally:
        db.conn.close()


def article_ids(directory: Path) -> list[str]:
    db = _open(directory)
    try:
        return [row[0] for row in db.execute("select id from articles order by id")]
    finally:
        db.conn.close()


def chunk_rows_by_article(directory: Path) -> dict[tuple[str, str], list[int]]:
    """(article id, content hash) -> that article's rows in the FAISS index, to reuse their vectors."""
    db = _open(directory)
    try:
        hashes = {row["id"]: row["content_hash"] for row in db["articles"].rows}
        rows: dict[tuple[str, str], list[int]] = {}
        for row in db.query("select id, article_id from chunks order by id"):
            rows.setdefault((row["article_id"], hashes[row["article_id"]]), []).append(row["id"])
        return rows
    finally:
        db.conn.close()


def counts_by(directory: Path, column: str) -> list[tuple[str, int]]:
    """Articles per value of ``column`` (audience, locale or product), most first."""
    if column not in ("audience", "locale", "product"):
        raise ValueError(f"cannot count articles by {column!r}")
    db = _open(directory)
    try:
        return [(v, n) for v, n in db.execute(f"select {column}, count(*) from articles group by 1 order by 2 desc, 1")]
    finally:
        db.conn.close()


def whole_articles(directory: Path, include_internal: bool = False) -> list[tuple[str, str]]:
    """(article id, title + every section's heading and text) per article: the baselines' documents."""
    db = _open(directory)
    try:
        articles = list(db.query("select id, title, audience from articles order by id"))
        parts: dict[str, list[str]] = {a["id"]: [a["title"]] for a in articles}
        for chunk in db.query("select article_id, heading, body from chunks order by id"):
            for text in (chunk["heading"], chunk["body"]):
                if text and text not in parts[chunk["article_id"]]:  # the title chunk repeats the introduction
                    parts[chunk["article_id"]].append(text)
    finally:
        db.conn.close()
    return [(a["id"], "\n".join(parts[a["id"]])) for a in articles if include_internal or a["audience"] == "public"]


def article_hashes(directory: Path) -> dict[str, str]:
    """Article id -> content hash (and path) fingerprint, to check that a write changed only what it names."""
    db = _open(directory)
    try:
        return {row[0]: f"{row[1]} {row[2]}" for row in db.execute("select id, content_hash, path from articles")}
    finally:
        db.conn.close()
