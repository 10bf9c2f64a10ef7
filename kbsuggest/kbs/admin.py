"""Admin operations on one KB: reindex, put or delete one article, without downtime and crash-safe.

Each operation holds the KB's writer lock (admin writes of one KB are serialised; other KBs are not
affected), builds a new snapshot aside from the KB folder with the change applied in memory (unchanged
articles keep their vectors), checks that the change is in it and that **no other article changed**,
then commits in this order:

1. the snapshot gets its version name (not yet published);
2. a journal (``journal.json``) records the file change and the version it belongs to;
3. CURRENT points at the new version (the commit point);
4. the article file is written (kept mode) or removed;
5. the journal is removed, old versions are pruned; the other replicas are told (``kbs/watch.py``) and
   this one's registry loads the version and serves it.

A crash before 3 leaves the old version serving and the folder untouched (recovery discards the
journal and the unpublished version); a crash after 3 is rolled forward (recovery applies the file
change). So the KB folder and the served index never disagree, and a write that was never acknowledged
is either wholly applied or not at all. ``recover`` runs before every operation and at server start.

Parsing and building are offline code (``indexing``) that the core never imports: the composition root
(the CLI) injects them as an ``Indexer``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbsuggest.config import KBSettings
from kbsuggest.domain import Article, id_skeleton, validate_article_id
from kbsuggest.errors import (ArticleConflictError, ArticleError, ArticleNotFoundError, ConfigError,
                              InvalidArticleIdError, KBSuggestError, ReindexError)
from kbsuggest.index import kbdb, versions
from kbsuggest.index.remote import Publication
from kbsuggest.kbs.load import served_model
from kbsuggest.kbs.registry import Registry
from kbsuggest.kbs.watch import announce


@dataclass(frozen=True)
class Indexer:
    """What admin operations need from ``indexing``: ``parse_article`` and ``build_snapshot``."""

    parse: Callable[..., Article]  # (text, relative_path, *, default_locale, base_url) -> Article
    snapshot: Callable[..., Any]  # (source, settings, embedder, directory, *, kb, previous, overlay) -> IndexSummary


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
    kb: str = "default"
    version: str = ""


def _read_journal(root: Path) -> dict | None:
    try:
        return json.loads((root / versions.JOURNAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:  # torn before its rename cannot happen; anything else is not ours to apply
        return {}


def _apply(entry: dict) -> None:
    """The file change of a journal entry; idempotent (recovery may apply it twice)."""
    path = Path(entry["file"])
    if entry["action"] == "delete":
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        versions.write_atomically(path, base64.b64decode(entry["data"]), entry.get("mode"))


def recover(root: Path) -> list[str]:
    """Finish or undo an admin write a crash interrupted, then remove leftovers. The caller holds the lock."""
    done = []
    entry = _read_journal(root)
    if entry is not None:
        if entry and versions.current_name(root) == entry.get("version"):
            _apply(entry)  # committed: roll forward
            done.append(f"applied {entry['action']} of {Path(entry['file']).name}")
        else:
            done.append("discarded an uncommitted write")
        if entry.get("file"):  # a kill while the article file was written leaves its temporary file beside it
            article = Path(entry["file"])
            for leftover in article.parent.glob(f".{article.name}.tmp-*"):
                leftover.unlink(missing_ok=True)
                done.append(leftover.name)
        (root / versions.JOURNAL).unlink(missing_ok=True)
    return done + versions.recover(root)


class KBAdmin:
    def __init__(self, registry: Registry, indexer: Indexer) -> None:
        self.registry = registry
        self.settings = registry.settings
        self.indexer = indexer
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, kb: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(kb, threading.Lock())

    def _folder(self, kb: KBSettings) -> Path:
        if kb.articles_dir is None:
            raise ConfigError(f"KB {kb.name!r} has no articles_dir configured: the admin API cannot change it")
        return Path(kb.articles_dir)

    def recover_all(self) -> None:
        """At server start: finish or undo interrupted writes of every KB."""
        for name in self.registry.names():
            root = versions.kb_dir(self.settings.index_dir, name)
            with versions.locked(root):
                recover(root)

    def reindex(self, kb: str = "default") -> AdminResult:
        """Rebuild from the KB folder (e.g. after editing files by hand)."""
        return self._write(kb, "reindex", None, lambda config, current: ({}, None, None))

    def put_article(self, kb: str, article_id: str, text: str) -> AdminResult:
        """Create or replace one article; refused before anything is written if it does not parse, and
        never written over a file that holds another article."""
        requested = _valid_id(article_id)

        def plan(config: KBSettings, current: Path | None):
            folder = self._folder(config)
            _refuse_lookalike(current, requested)
            path = self._held_path(config, folder, current, requested) or self._free_name(folder, requested)
            relative = path.relative_to(folder).as_posix()
            article = self._parse(config, text, relative)
            if article.id != requested:
                natural = f"{requested}.md"
                if relative != natural and self._parse(config, text, natural).id == requested:
                    raise ArticleConflictError(
                        f"{natural} holds another article ({_holder(current, natural)}): add 'id: {requested}' "
                        f"to the front matter to store this one as {relative}")
                raise ArticleError(relative, f"its id is {article.id!r} but the request is for {requested!r}")
            if article.warnings:  # an unknown key may be a misspelt audience: refuse rather than guess
                raise ArticleError(relative, "; ".join(article.warnings))
            data = text.encode("utf-8")
            mode = path.stat().st_mode & 0o7777 if path.exists() else None
            entry = {"action": "put", "file": str(path.resolve()), "data": base64.b64encode(data).decode(), "mode": mode}
            return {relative: text}, entry, lambda row: (
                None if row is not None and row.split()[0] == article.content_hash else
                f"article {requested!r} is not in the new index as sent")
        return self._write(kb, "put", requested, plan)

    def delete_article(self, kb: str, article_id: str) -> AdminResult:
        article_id = _valid_id(article_id)

        def plan(config: KBSettings, current: Path | None):
            folder = self._folder(config)
            path = self._held_path(config, folder, current, article_id)
            if path is None:
                raise ArticleNotFoundError(f"no article with id {article_id!r} in the index; nothing deleted")
            entry = {"action": "delete", "file": str(path.resolve())}
            return {path.relative_to(folder).as_posix(): None}, entry, lambda row: (
                None if row is None else f"{article_id!r} is still indexed (from {row.split()[-1]})")
        return self._write(kb, "delete", article_id, plan)

    @staticmethod
    def _path_of(folder: Path, current: Path | None, article_id: str) -> Path | None:
        """The file that holds ``article_id`` per the current index (kept inside the KB folder)."""
        row = kbdb.article_row(current, article_id) if current is not None else None
        if row is None:
            return None
        root = folder.resolve()
        path = (root / row["path"]).resolve()
        return folder / path.relative_to(root) if path.is_relative_to(root) else None

    def _parse(self, config: KBSettings, text: str, relative: str):
        return self.indexer.parse(text, relative, default_locale=config.default_locale,
                                  base_url=config.article_base_url, require_audience=config.require_audience)

    def _held_path(self, config: KBSettings, folder: Path, current: Path | None, article_id: str) -> Path | None:
        """``_path_of``, refused (409) when that file now holds something else than ``article_id``: it was
        edited by hand since the last reindex, and writing or removing it would lose that other article."""
        path = self._path_of(folder, current, article_id)
        if path is None or not path.is_file():
            return path
        relative = path.relative_to(folder).as_posix()
        try:
            held = self._parse(config, path.read_text(encoding="utf-8"), relative).id
        except (ArticleError, UnicodeDecodeError):
            held = None
        if held != article_id:
            now = f"now holds the article {held!r}" if held else "no longer parses"
            raise ArticleConflictError(f"{relative}, the file of article {article_id!r}, {now} (edited since the "
                                       f"last reindex): reindex first, then retry")
        return path

    @staticmethod
    def _free_name(folder: Path, article_id: str) -> Path:
        """``<id>.md``, or ``<id>-2.md``… when that name is taken by a file holding something else."""
        candidate, n = folder / f"{article_id}.md", 1
        while candidate.exists():
            n += 1
            candidate = folder / f"{article_id}-{n}.md"
        return candidate

    def _write(self, kb: str, action: str, article_id: str | None, plan) -> AdminResult:
        started = time.perf_counter()
        config = self.registry.config(kb)
        folder = self._folder(config)
        embedder = self.registry.embedder(served_model(self.settings, kb), kb)  # a reindex keeps the KB's model
        root = versions.kb_dir(self.settings.index_dir, kb)
        with self._lock(kb), versions.locked(root):
            publication = Publication(self.settings, kb, root)  # first: a committed remote write rolls forward
            recover(root)
            current = _current(root)
            overlay, entry, check = plan(config, current)
            before = kbdb.article_hashes(current) if current is not None and article_id else None
            try:
                with versions.staged(root) as staging:
                    summary = self.indexer.snapshot(folder, self.settings, embedder, staging, kb=config,
                                                    previous=current, overlay=overlay)
                    if article_id:
                        self._check(kbdb.article_hashes(staging), before, article_id, check, summary)
                    name = publication.install(staging)
            except KBSuggestError as exc:  # the folder's server path is no business of the caller
                reason = str(exc).replace(repr(str(folder)), "the KB folder").replace(str(folder), "the KB folder")
                raise ReindexError(f"{action} failed, the previous index is still serving: {reason}") from None
            if entry is not None:
                versions.write_atomically(root / versions.JOURNAL, json.dumps({**entry, "version": name}).encode())
            publication.commit(name)  # with KBSUGGEST_INDEX_URL the commit point, after the journal
            versions.point(root, name)  # the commit point
            if entry is not None:
                _apply(entry)
                versions.step("applied")
                (root / versions.JOURNAL).unlink()
            versions.recover(root)
        announce(self.registry.store, kb, name)
        suggester = self.registry.load(kb)
        return AdminResult(action, article_id, summary.articles, summary.chunks, summary.embedded, summary.reused,
                           list(summary.skipped), suggester.manifest.created_at,
                           round(time.perf_counter() - started, 3), kb, name)

    @staticmethod
    def _check(after: dict[str, str], before: dict[str, str] | None, article_id: str, check, summary) -> None:
        """The change is in the new snapshot, and nothing else changed (a first build of a KB that served
        nothing, ``before`` None, changes nothing that was served)."""
        problem = check(after.get(article_id))
        others = {i for i in set(before or {}) | set(after)
                  if before is not None and i != article_id and before.get(i) != after.get(i)}
        if others:
            problem = (f"the KB folder has changes to other articles that are not indexed yet "
                       f"({', '.join(sorted(others)[:5])}): run a reindex first")
        if problem:
            skipped = "; ".join(f"{p}: {r}" for p, r in summary.skipped)
            raise ReindexError(problem + (f" (skipped files: {skipped})" if skipped else ""))


def _refuse_lookalike(current: Path | None, article_id: str) -> None:
    """409 for an id that looks like another article's (``pаssword-reset`` with a Cyrillic а)."""
    if current is None:
        return
    skeleton = id_skeleton(article_id)
    for other in kbdb.article_ids(current):
        if other != article_id and id_skeleton(other) == skeleton:
            raise ArticleConflictError(f"id {article_id!r} ({ascii(article_id)}) looks like the existing article "
                                       f"{other!r}: use that id to change it, or another id")


def _valid_id(article_id: str) -> str:
    """The normalised id (NFKC: what PUT stores and DELETE looks up), or a 422."""
    try:
        return validate_article_id(article_id)
    except ValueError as exc:
        raise InvalidArticleIdError(str(exc)) from None


def _holder(current: Path | None, relative: str) -> str:
    """Which article a file of the KB folder holds, per the current index."""
    paths = {fingerprint.split(" ", 1)[1]: i for i, fingerprint in kbdb.article_hashes(current).items()} if current else {}
    return f"id {paths[relative]!r}" if relative in paths else "a file that is not indexed"


def _current(root: Path) -> Path | None:
    try:
        return versions.resolve(root)
    except KBSuggestError:
        return None

