"""Build an index snapshot of one KB from a folder of Markdown articles, and publish it.

Unchanged articles (same content hash, same model and chunking as the KB's current snapshot) keep their
vectors; only new or edited ones are embedded. Files that cannot be parsed are skipped and reported,
and so is a file whose id looks like another's (``id_skeleton``): the first in path order keeps it.
Articles indexed despite a problem (an unknown front-matter key, too many chunks) are listed as warnings.
``build_snapshot`` writes a complete snapshot into a directory; ``build_index`` does that in a staging
directory and publishes it (``kbsuggest/index/versions.py``), so readers see the old or the new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kbsuggest.config import KBSettings, Settings
from kbsuggest.domain import Article, Chunk, id_skeleton
from kbsuggest.embed import Embedder, model_file_of
from kbsuggest.errors import ArticleError, ConfigError, KBSuggestError
from kbsuggest.index import kbdb, versions
from kbsuggest.index.format import (Manifest, choose_index_type, load_index, stored_vectors, write_calibration,
                                    write_manifest, write_vectors)
from kbsuggest.rank.calibration import packaged_data
from indexing.chunking import bounded_chunks
from indexing.markdown import parse_article, read_article

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")
Overlay = Mapping[str, "str | None"]  # relative path -> new text (None: deleted), applied over the folder


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
    kb: str = "default"
    version: str = ""


def find_markdown(source: Path) -> list[Path]:
    return sorted(
        p for p in source.rglob("*")
        if p.suffix.lower() in MARKDOWN_SUFFIXES and p.is_file()
        and not any(part.startswith(".") or part == "node_modules" for part in p.relative_to(source).parts)
    )


def load_articles(source: Path, settings: Settings, kb: KBSettings | None = None,
                  overlay: Overlay | None = None) -> tuple[list[Article], list[tuple[str, str]]]:
    """Parse every Markdown file under ``source`` (with ``overlay``'s changes applied); return the articles
    and the (path, reason) skipped."""
    source = Path(source)
    kb = kb or settings.default_kb()
    overlay = dict(overlay or {})
    if not source.is_dir():
        raise ConfigError(f"{str(source)!r} is not a directory of Markdown articles")
    options = {"default_locale": kb.default_locale, "base_url": kb.article_base_url,
               "require_audience": kb.require_audience}
    files = {p.relative_to(source).as_posix(): p for p in find_markdown(source)}
    articles: dict[str, Article] = {}  # by skeleton: ids that look alike name one article
    skipped: list[tuple[str, str]] = []
    for relative in sorted(set(files) | {r for r, text in overlay.items() if text is not None}):
        try:
            if relative in overlay:
                if overlay[relative] is None:
                    continue
                article = parse_article(overlay[relative], relative, **options)
            else:
                article = read_article(files[relative], source, **options)
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


def _previous_vectors(previous: Path | None, embedder: Embedder, chunking: dict) -> dict[tuple[str, str], np.ndarray]:
    """(article id, content hash) -> that article's chunk vectors in the previous snapshot, if compatible."""
    if previous is None:
        return {}
    try:
        index, manifest = load_index(previous, embedder.name, embedder.dim, model_file_of(embedder))
        rows = kbdb.chunk_rows_by_article(previous)
    except KBSuggestError:
        return {}  # no usable previous index: embed everything
    if manifest.chunking != chunking:
        return {}
    vectors = stored_vectors(index)
    return {key: vectors[ids] for key, ids in rows.items()}


def articles_hash(articles: list[Article]) -> str:
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.id):
        digest.update(f"{article.id}\0{article.content_hash}\n".encode())
    return digest.hexdigest()


def build_snapshot(source: Path, settings: Settings, embedder: Embedder, directory: Path, *,
                   kb: KBSettings | None = None, previous: Path | None = None,
                   overlay: Overlay | None = None) -> IndexSummary:
    """Write a complete snapshot of ``source`` (+ ``overlay``) into ``directory``, reusing ``previous``'s vectors."""
    started = time.perf_counter()
    kb = kb or settings.default_kb()
    articles, skipped = load_articles(source, settings, kb, overlay)
    if not articles:
        reasons = f" ({len(skipped)} files skipped)" if skipped else ""
        raise KBSuggestError(f"no Markdown articles to index in {str(source)!r}{reasons}")
    chunking = {"max_words": settings.chunk_max_words, "overlap_words": settings.chunk_overlap_words}
    reusable = _previous_vectors(previous, embedder, chunking)

    warnings = [(article.path, warning) for article in articles for warning in article.warnings]
    all_chunks = []
    for article in articles:
        article_chunks, warning = bounded_chunks(article, settings.chunk_max_words, settings.chunk_overlap_words,
                                                 settings.max_chunks_per_article)
        if warning:
            warnings.append((article.path, warning))
        all_chunks.extend(article_chunks)
    articles, chunks = kbdb.in_chunk_order(articles, all_chunks)
    parts: list[np.ndarray | list[str]] = []  # per article: reused vectors, or texts still to embed
    by_article: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_article.setdefault(chunk.article_id, []).append(chunk)
    reused = 0
    for article in articles:
        own = by_article[article.id]
        old = reusable.get((article.id, article.content_hash))
        if old is not None and len(old) == len(own):
            parts.append(old)
            reused += 1
        else:
            parts.append([c.text for c in own])
    to_embed = [text for part in parts if isinstance(part, list) for text in part]
    fresh = iter(embedder.encode(to_embed) if to_embed else np.zeros((0, embedder.dim), np.float32))
    vectors = np.vstack(
        [part if isinstance(part, np.ndarray) else np.array([next(fresh) for _ in part]).reshape(-1, embedder.dim)
         for part in parts]).astype(np.float32)

    manifest = Manifest(
        model=embedder.name, dim=embedder.dim, chunk_count=len(chunks), article_count=len(articles),
        articles_hash=articles_hash(articles), chunking=chunking, index_type=choose_index_type(len(chunks)),
        model_file=model_file_of(embedder), kb=kb.name,
        calibration={"source": "packaged default (kbsuggest/rank/calibration.json)"},
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    kbdb.write_kb(directory, articles, chunks)
    write_vectors(directory, vectors, manifest.index_type)
    write_calibration(directory, packaged_data())
    write_manifest(directory, manifest)
    return IndexSummary(
        source=str(source), index_dir=str(directory), model=embedder.name, articles=len(articles),
        internal=sum(a.audience == "internal" for a in articles), chunks=len(chunks), reused=reused,
        embedded=len(articles) - reused, skipped=skipped, warnings=warnings, seconds=time.perf_counter() - started,
        kb=kb.name)


def current_snapshot(settings: Settings, kb: str) -> Path | None:
    try:
        return versions.resolve(versions.kb_dir(settings.index_dir, kb))
    except KBSuggestError:
        return None


def build_index(source: Path, settings: Settings, embedder: Embedder, kb: KBSettings | None = None) -> IndexSummary:
    """Build KB ``kb`` (default: the default KB) from ``source`` and publish it as its new current version."""
    kb = kb or settings.default_kb()
    root = versions.kb_dir(settings.index_dir, kb.name)
    with versions.locked(root):
        versions.recover(root)
        with versions.staged(root) as staging:
            summary = build_snapshot(source, settings, embedder, staging, kb=kb,
                                     previous=current_snapshot(settings, kb.name))
            name = versions.install(root, staging)
        versions.point(root, name)
        versions.recover(root)
    summary.index_dir, summary.version = str(root), name
    return summary
