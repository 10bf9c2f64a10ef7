"""Build an index snapshot of one KB from its source (a folder of Markdown, HTML pages, a help-centre
export: ``kbsuggest/sources``), and publish it.

Unchanged articles (same content hash, same model and chunking as the KB's current snapshot) keep their
vectors; only new or edited ones are embedded. Files that cannot be parsed are skipped and reported,
and so is a file whose id looks like another's (``id_skeleton``): the first in path order keeps it.
Pages that are not articles (redirects, stubs with no text, drafts) are reported apart, as ``excluded``.
Articles indexed despite a problem (an unknown front-matter key, too many chunks) are listed as warnings.
``build_snapshot`` writes a complete snapshot into a directory; ``build_index`` does that in a staging
directory and publishes it (``kbsuggest/index/versions.py``), so readers see the old or the new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kbsuggest.config import KBSettings, Settings
from kbsuggest.domain import Article, Chunk, id_skeleton
from kbsuggest.embed import Embedder, lineage_of, model_file_of, model_name_of
from kbsuggest.errors import KBSuggestError
from kbsuggest.index import kbdb, versions
from kbsuggest.index.remote import Publication
from kbsuggest.index.format import (Manifest, centroids_of, choose_index_type, load_index, stored_vectors,
                                    write_calibration, write_centroids, write_manifest, write_vectors)
from kbsuggest.rank.calibration import packaged_data
from kbsuggest.sources import LABELS, Overlay, Skipped, SourceOptions, check_format
from kbsuggest.sources.detect import detect_format
from indexing.calibrate import calibrate_snapshot
from indexing.chunking import bounded_chunks
from indexing.sources import source_for

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
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) that could not be read
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, warning) of articles indexed anyway
    seconds: float = 0.0
    kb: str = "default"
    version: str = ""
    format: str = "markdown"
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): not articles (redirect, no text, draft)
    without_url: list[str] = field(default_factory=list)  # ids of articles with no url to link to


@dataclass
class Loaded:
    articles: list[Article]
    skipped: list[tuple[str, str]]
    excluded: list[tuple[str, str]]
    format: str


def source_format(source: Path, kb: KBSettings, fmt: str | None = None) -> str:
    """The format to read ``source`` in: the one asked for, else the KB's, else the one detected."""
    return check_format(fmt) if fmt else (kb.source_format or detect_format(source))


def read_source(source: Path, settings: Settings, kb: KBSettings | None = None, overlay: Overlay | None = None,
                fmt: str | None = None) -> Loaded:
    """Every article of ``source`` (with ``overlay``'s changes applied), what could not be read, and what is
    not an article. Of ids that look alike (``id_skeleton``) the first in source order is kept."""
    source = Path(source)
    kb = kb or settings.default_kb()
    name = source_format(source, kb, fmt)
    options = SourceOptions(default_locale=kb.default_locale, base_url=kb.article_base_url,
                            require_audience=kb.require_audience)
    articles: dict[str, Article] = {}  # by skeleton: ids that look alike name one article
    loaded = Loaded([], [], [], name)
    for item in source_for(name).read(source, options, overlay):
        if isinstance(item, Skipped):
            (loaded.excluded if item.expected else loaded.skipped).append((item.path, item.reason))
            continue
        first = articles.get(skeleton := id_skeleton(item.id))
        if first is None:
            articles[skeleton] = item
        elif first.id == item.id:
            loaded.skipped.append((item.path, f"duplicate id {item.id!r}, already used by {first.path}"))
        else:  # escapes show the difference: 'p\u0430ssword-reset' looks like 'password-reset'
            spelled = repr(item.id) + ("" if item.id.isascii() else f" ({ascii(item.id)})")
            loaded.skipped.append((item.path, f"id {spelled} looks like {first.id!r}, already used by {first.path}"))
    loaded.articles = list(articles.values())
    return loaded


def load_articles(source: Path, settings: Settings, kb: KBSettings | None = None,
                  overlay: Overlay | None = None) -> tuple[list[Article], list[tuple[str, str]]]:
    """The articles of ``source`` and the (path, reason) that could not be read (``read_source``)."""
    loaded = read_source(source, settings, kb, overlay)
    return loaded.articles, loaded.skipped


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
                   overlay: Overlay | None = None, fmt: str | None = None) -> IndexSummary:
    """Write a complete snapshot of ``source`` (+ ``overlay``) into ``directory``, reusing ``previous``'s vectors."""
    started = time.perf_counter()
    kb = kb or settings.default_kb()
    loaded = read_source(source, settings, kb, overlay, fmt)
    articles, skipped = loaded.articles, loaded.skipped
    if not articles:
        reasons = "; ".join(f"{len(found)} {what}" for found, what in ((skipped, "files skipped"),
                                                                       (loaded.excluded, "not articles")) if found)
        raise KBSuggestError(f"no {LABELS[loaded.format]} articles to index in {str(source)!r}"
                             + (f" ({reasons})" if reasons else ""))
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
    position = {a.id: i for i, a in enumerate(articles)}
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
        model_file=model_file_of(embedder), kb=kb.name, model_name=model_name_of(embedder), lineage=lineage_of(embedder),
        calibration={"source": "packaged default (kbsuggest/rank/calibration.json)"},
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    kbdb.write_kb(directory, articles, chunks)
    write_vectors(directory, vectors, manifest.index_type)
    if manifest.index_type != "flat":  # a large KB: its best articles by whole-article cosine come from a graph
        starts = np.flatnonzero(np.diff([-1] + [position[c.article_id] for c in chunks]))
        write_centroids(directory, centroids_of(vectors, starts))
    write_calibration(directory, packaged_data())
    write_manifest(directory, manifest)  # the snapshot is complete: it can be loaded to calibrate it
    manifest.calibration = calibrate_snapshot(directory, settings, embedder, kb)
    write_manifest(directory, manifest)
    return IndexSummary(
        source=str(source), index_dir=str(directory), model=embedder.name, articles=len(articles),
        internal=sum(a.audience == "internal" for a in articles), chunks=len(chunks), reused=reused,
        embedded=len(articles) - reused, skipped=skipped, warnings=warnings, seconds=time.perf_counter() - started,
        kb=kb.name, format=loaded.format, excluded=loaded.excluded, without_url=[a.id for a in articles if not a.url])


def current_snapshot(settings: Settings, kb: str) -> Path | None:
    try:
        return versions.resolve(versions.kb_dir(settings.index_dir, kb))
    except KBSuggestError:
        return None


def build_index(source: Path, settings: Settings, embedder: Embedder, kb: KBSettings | None = None,
                fmt: str | None = None) -> IndexSummary:
    """Build KB ``kb`` (default: the default KB) from ``source`` (read as ``fmt``, else the KB's format, else
    the one detected) and publish it as its new current version."""
    kb = kb or settings.default_kb()
    root = versions.kb_dir(settings.index_dir, kb.name)
    with versions.locked(root):
        versions.recover(root)
        publication = Publication(settings, kb.name, root)  # with KBSUGGEST_INDEX_URL: from what is published
        with versions.staged(root) as staging:
            summary = build_snapshot(source, settings, embedder, staging, kb=kb,
                                     previous=current_snapshot(settings, kb.name), fmt=fmt)
            name = publication.install(staging)
        publication.commit(name)  # with a location: uploaded and pointed there first
        versions.point(root, name)
        versions.recover(root)
    summary.index_dir, summary.version = str(root), name
    return summary
