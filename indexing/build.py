"""Build an index directory from a folder of Markdown articles.

Unchanged articles (same content hash, same model and chunking as the current index) keep their
vectors; only new or edited ones are embedded. Files that cannot be parsed are skipped and reported,
and so is a file whose id looks like another's (``id_skeleton``): the first in path order keeps it.
Articles indexed despite a problem (an unknown front-matter key, too many chunks) are listed as warnings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kbsuggest.config import Settings
from kbsuggest.domain import Article, Chunk, id_skeleton
from kbsuggest.embed import Embedder, model_file_of
from kbsuggest.errors import ArticleError, ConfigError, KBSuggestError
from kbsuggest.db import open_db
from kbsuggest.index.kbdb import KB_MIGRATIONS, write_kb
from kbsuggest.index.format import (KB_FILE, Manifest, choose_index_type, load_index, staged_index_dir, stored_vectors,
                               write_index)
from indexing.chunking import bounded_chunks
from indexing.markdown import read_article

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")


@dataclass
class IndexSummary:
    source: str
    index_dir: str
    model: str
    articles: int = 0
    internal: int = 0
    chunks: int = 0
    reused: int = 0  # articles whose vectors were taken from the previous index
    embedded: int = 0  # articles embedded in this run
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, warning) of articles indexed anyway
    seconds: float = 0.0


def find_markdown(source: Path) -> list[Path]:
    return sorted(
        p for p in source.rglob("*")
        if p.suffix.lower() in MARKDOWN_SUFFIXES and p.is_file()
        and not any(part.startswith(".") or part == "node_modules" for part in p.relative_to(source).parts)
    )


def load_articles(source: Path, settings: Settings) -> tuple[list[Article], list[tuple[str, str]]]:
    """Parse every Markdown file under ``source``; return the articles and the (path, reason) skipped."""
    source = Path(source)
    if not source.is_dir():
        raise ConfigError(f"{str(source)!r} is not a directory of Markdown articles")
    articles: dict[str, Article] = {}  # by skeleton: ids that look alike name one article
    skipped: list[tuple[str, str]] = []
    for path in find_markdown(source):
        try:
            article = read_article(path, source, default_locale=settings.default_locale,
                                   base_url=settings.article_base_url, require_audience=settings.require_audience)
        except ArticleError as exc:
            skipped.append((exc.path, exc.reason))
            continue
        first = articles.get(skeleton := id_skeleton(article.id))
        if first is None:
            articles[skeleton] = article
        elif first.id == article.id:
            skipped.append((article.path, f"duplicate id {article.id!r}, already used by {first.path}"))
        else:  # escapes show the difference: 'p\u0430ssword-reset' looks like 'password-reset'
            spelled = repr(article.id) + ("" if article.id.isascii() else f" ({ascii(article.id)})")
            skipped.append((article.path, f"id {spelled} looks like {first.id!r}, already used by {first.path}"))
    return list(articles.values()), skipped


def _previous_vectors(settings: Settings, embedder: Embedder, chunking: dict) -> dict[tuple[str, str], np.ndarray]:
    """(article id, content hash) -> that article's chunk vectors in the current index, if compatible."""
    try:
        index, manifest = load_index(settings.index_dir, embedder.name, embedder.dim, model_file_of(embedder))
    except KBSuggestError:
        return {}  # no usable previous index: embed everything
    if manifest.chunking != chunking:
        return {}
    vectors = stored_vectors(index)
    db = open_db(settings.index_dir / KB_FILE)
    hashes = {row["id"]: row["content_hash"] for row in db["articles"].rows}
    rows: dict[str, list[int]] = defaultdict(list)
    for row in db.query("select id, article_id from chunks order by id"):
        rows[row["article_id"]].append(row["id"])
    db.conn.close()
    return {(aid, hashes[aid]): vectors[ids] for aid, ids in rows.items() if aid in hashes}


def articles_hash(articles: list[Article]) -> str:
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.id):
        digest.update(f"{article.id}\0{article.content_hash}\n".encode())
    return digest.hexdigest()


def build_index(source: Path, settings: Settings, embedder: Embedder) -> IndexSummary:
    started = time.perf_counter()
    articles, skipped = load_articles(source, settings)
    if not articles:
        reasons = f" ({len(skipped)} files skipped)" if skipped else ""
        raise KBSuggestError(f"no Markdown articles to index in {str(source)!r}{reasons}")
    chunking = {"max_words": settings.chunk_max_words, "overlap_words": settings.chunk_overlap_words}
    previous = _previous_vectors(settings, embedder, chunking)

    chunks: list[Chunk] = []
    parts: list[np.ndarray | list[str]] = []  # per article: reused vectors, or texts still to embed
    warnings = [(article.path, warning) for article in articles for warning in article.warnings]
    reused = 0
    for article in articles:
        article_chunks, warning = bounded_chunks(article, settings.chunk_max_words, settings.chunk_overlap_words,
                                                 settings.max_chunks_per_article)
        if warning:
            warnings.append((article.path, warning))
        chunks.extend(article_chunks)
        old = previous.get((article.id, article.content_hash))
        if old is not None and len(old) == len(article_chunks):
            parts.append(old)
            reused += 1
        else:
            parts.append([c.text for c in article_chunks])

    to_embed = [text for part in parts if isinstance(part, list) for text in part]
    fresh = iter(embedder.encode(to_embed) if to_embed else np.zeros((0, embedder.dim), np.float32))
    vectors = np.vstack(
        [part if isinstance(part, np.ndarray) else np.array([next(fresh) for _ in part]).reshape(-1, embedder.dim)
         for part in parts]
    ).astype(np.float32)

    manifest = Manifest(
        model=embedder.name, dim=embedder.dim, chunk_count=len(chunks), article_count=len(articles),
        articles_hash=articles_hash(articles), chunking=chunking,
        index_type=choose_index_type(len(chunks)), model_file=model_file_of(embedder),
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    with staged_index_dir(settings.index_dir) as staging:
        db = open_db(staging / KB_FILE, KB_MIGRATIONS)
        write_kb(db, articles, chunks)
        db.conn.close()
        write_index(staging, vectors, manifest)

    return IndexSummary(
        source=str(source), index_dir=str(settings.index_dir), model=embedder.name,
        articles=len(articles), internal=sum(a.audience == "internal" for a in articles), chunks=len(chunks),
        reused=reused, embedded=len(articles) - reused, skipped=skipped, warnings=sorted(warnings, key=lambda w: w[0]),
        seconds=time.perf_counter() - started,
    )
