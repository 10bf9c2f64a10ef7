"""Admin operations on the served KB: reindex, put or delete one article, without downtime.

Each operation holds one lock (admin writes are serialised), changes the KB folder, builds the new
index aside (a copy of the current one, so unchanged articles keep their vectors), checks that the
change is in it, swaps it into place with renames, loads it into a new Suggester and publishes that
with one attribute assignment: a request in flight keeps the Suggester it started with, the next one
gets the new one. A failed build leaves the old index serving, on disk and in memory, and the
article file as it was.

Parsing and building are offline code (``indexing``) that the core never imports: the composition
root (the CLI) injects them as an ``Indexer``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kbsuggest.config import Settings
from kbsuggest.domain import Article
from kbsuggest.embed import Embedder, create_embedder
from kbsuggest.errors import ArticleError, KBSuggestError
from kbsuggest.db import open_db
from kbsuggest.rank.suggester import Suggester
from kbsuggest.index.format import KB_FILE, staged_index_dir


class ReindexError(KBSuggestError):
    """A build failed or did not contain the change; the previous index is still serving."""


class ArticleNotFoundError(KBSuggestError):
    """No article of the KB has this id."""


@dataclass(frozen=True)
class Indexer:
    """What admin operations need from ``indexing``: ``parse_article`` and ``build_index``."""

    parse: Callable[..., Article]  # (text, relative_path, *, default_locale, base_url) -> Article
    build: Callable[[Path, Settings, Embedder], Any]  # (source, settings, embedder) -> IndexSummary


class Serving(Protocol):
    """Where the served Suggester lives (the app's ``state``)."""

    suggester: Suggester | None
    load_error: str | None


@dataclass
class AdminResult:
    action: str  # reindex | put | delete
    article_id: str | None
    articles: int
    chunks: int
    embedded: int  # articles embedded by this build
    reused: int  # articles whose vectors were kept
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) of files not indexed
    index_created_at: str = ""
    seconds: float = 0.0


def _kb_row(index_dir: Path, article_id: str) -> dict | None:
    """The article's row in an index's metadata, or None (also when there is no index)."""
    path = Path(index_dir) / KB_FILE
    if not path.is_file():
        return None
    db = open_db(path)
    try:
        return next(iter(db.query("select path, content_hash from articles where id = ?", [article_id])), None)
    finally:
        db.conn.close()


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        out.write(text)
    os.replace(tmp, path)


@contextmanager
def restored_on_error(path: Path) -> Iterator[None]:
    """Put ``path`` back as it was (or remove it) if the block fails."""
    before = path.read_bytes() if path.exists() else None
    try:
        yield
    except BaseException:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(before)
        raise


class KBAdmin:
    def __init__(self, settings: Settings, indexer: Indexer, serving: Serving) -> None:
        self.settings = settings
        self.indexer = indexer
        self.serving = serving
        self.lock = threading.Lock()
        self._embedder: Embedder | None = None

    def reindex(self) -> AdminResult:
        """Rebuild from the KB folder (e.g. after editing files by hand)."""
        with self.lock:
            return self._rebuild("reindex", None, lambda row: None)

    def put_article(self, article_id: str, text: str) -> AdminResult:
        """Create or replace one article; refused before anything is written if it does not parse."""
        with self.lock:
            path = self._path_of(article_id) or self.settings.articles_dir / f"{article_id}.md"
            relative = path.relative_to(self.settings.articles_dir).as_posix()
            article = self.indexer.parse(text, relative, default_locale=self.settings.default_locale,
                                         base_url=self.settings.article_base_url)
            if article.id != article_id:
                raise ArticleError(relative, f"its id is {article.id!r} but the request is for {article_id!r}")

            def check(row: dict | None) -> str | None:
                if row is None or row["content_hash"] != article.content_hash:
                    return f"article {article_id!r} is not in the new index as sent"
                return None

            with restored_on_error(path):
                write_atomically(path, text)
                return self._rebuild("put", article_id, check)

    def delete_article(self, article_id: str) -> AdminResult:
        with self.lock:
            path = self._path_of(article_id)
            if path is None:
                raise ArticleNotFoundError(f"no article with id {article_id!r} in the index; nothing deleted")
            with restored_on_error(path):
                path.unlink(missing_ok=True)
                return self._rebuild("delete", article_id,
                                     lambda row: None if row is None else f"{article_id!r} is still indexed")

    def _path_of(self, article_id: str) -> Path | None:
        """The file that holds ``article_id`` per the current index (kept inside the KB folder)."""
        row = _kb_row(self.settings.index_dir, article_id)
        if row is None:
            return None
        root = self.settings.articles_dir.resolve()
        path = (root / row["path"]).resolve()
        return self.settings.articles_dir / path.relative_to(root) if path.is_relative_to(root) else None

    def _embedder_for_build(self) -> Embedder:
        current = self.serving.suggester
        if current is not None:
            return current.embedder  # the model already in memory
        if self._embedder is None:
            s = self.settings
            self._embedder = create_embedder(s.embedder, s.model_path, s.embed_batch_size)
        return self._embedder

    def _rebuild(self, action: str, article_id: str | None,
                 check: Callable[[dict | None], str | None]) -> AdminResult:
        started = time.perf_counter()
        embedder = self._embedder_for_build()
        index_dir = Path(self.settings.index_dir)
        try:
            with staged_index_dir(index_dir) as staging:
                if index_dir.is_dir():  # start from a copy so unchanged articles keep their vectors
                    shutil.copytree(index_dir, staging, dirs_exist_ok=True)
                summary = self.indexer.build(self.settings.articles_dir,
                                             self.settings.model_copy(update={"index_dir": staging}), embedder)
                problem = check(_kb_row(staging, article_id)) if article_id else None
                if problem:
                    skipped = "; ".join(f"{p}: {r}" for p, r in summary.skipped)
                    raise ReindexError(problem + (f" (skipped files: {skipped})" if skipped else ""))
            suggester = Suggester.load(self.settings, embedder)
        except KBSuggestError as exc:
            raise ReindexError(f"{action} failed, the previous index is still serving: {exc}") from None
        self.serving.suggester = suggester  # one assignment: requests see the old or the new, never a mix
        self.serving.load_error = None
        return AdminResult(
            action, article_id, summary.articles, summary.chunks, summary.embedded, summary.reused,
            list(summary.skipped), suggester.manifest.created_at, round(time.perf_counter() - started, 3),
        )
