"""Index publication through a remote location (``KBSUGGEST_INDEX_URL``): an S3-compatible bucket today.

Without it the shared location is the index directory itself (every replica mounts it). With it, each
process's ``KBSUGGEST_INDEX_DIR`` is its own working copy, and the location holds, per KB::

    <prefix>/<kb>/CURRENT                        the published version's name ("v000007\\n")
    <prefix>/<kb>/versions/v000007/CLAIM         who writes that version (written first, only if absent)
    <prefix>/<kb>/versions/v000007/<file>        the snapshot's files (kbsuggest/index/format.py)
    <prefix>/<kb>/versions/v000007/files.json    size and sha256 of every file, written after them

A publication (``Publication``, under the KB's local lock) reads CURRENT (and its ETag), brings the working
copy to that version, builds, installs the new version locally under a name above every remote one, claims
that name (a conditional create of CLAIM: a name is written by one writer only), uploads the files, then
``files.json``, then replaces CURRENT only if its ETag is still the one read (the commit point), then points
the working copy at it and deletes the remote versions older than the one it replaced. A reader never sees a
pointer to a partial version; of concurrent publications of one KB, one moves the pointer and the others fail
with a message and leave nothing behind (no update is lost). A failure before the commit point leaves the
remote and local CURRENT as they were.

A replica (``fetch``, from the watcher) downloads a version CURRENT names into a staging directory, checks
every file against ``files.json``, renames it into ``versions/`` and points its working copy at it; the
watcher then loads it aside and swaps it in as for a shared directory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import socket
from pathlib import Path
from typing import Protocol

from kbsuggest.errors import IndexCorruptError, KBSuggestError, ReindexError, StoreUnavailableError
from kbsuggest.index import versions

log = logging.getLogger("kbsuggest")
FILES = "files.json"
CLAIM = "CLAIM"
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")  # a file of a snapshot: never a path


class LocationError(StoreUnavailableError):
    """The location could not be read or written (network, permissions, missing bucket, bad pointer); an
    admin write answers 503 as when the service database is down."""


class PublicationError(ReindexError):
    """A publication lost a race with another writer; nothing of it was published."""


class Location(Protocol):
    """The object operations a location offers (kbsuggest/index/s3.py); keys are relative to its prefix."""

    url: str

    def get(self, key: str) -> tuple[bytes, str] | None: ...  # (content, ETag)
    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> bool: ...
    def upload(self, key: str, path: Path) -> None: ...
    def download(self, key: str, path: Path) -> None: ...
    def children(self, prefix: str) -> list[str]: ...
    def delete_tree(self, prefix: str) -> None: ...


def location_for(settings) -> Location | None:
    """The configured location; None: the index directory is the shared location."""
    if not settings.index_url:
        return None
    from kbsuggest.index.s3 import S3Bucket

    return S3Bucket(settings.index_url, settings.s3_endpoint_url)


def current(location: Location, kb: str) -> tuple[str | None, str | None]:
    """(name, ETag) of the KB's published version at the location; (None, None) when it has none."""
    found = location.get(f"{kb}/{versions.CURRENT}")
    if found is None:
        return None, None
    name = found[0].decode("utf-8", "replace").strip()
    if not versions.is_version(name):
        raise LocationError(f"{kb}/{versions.CURRENT} at {location.url} does not name a version")
    return name, found[1]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _listing(location: Location, kb: str, name: str) -> dict[str, dict]:
    found = location.get(f"{kb}/{versions.VERSIONS}/{name}/{FILES}")
    if found is None:
        raise IndexCorruptError(f"the version at the location is incomplete (no {FILES})")
    try:
        files = json.loads(found[0])["files"]
        assert isinstance(files, dict) and files and all(
            _FILE_NAME.match(f) and isinstance(e["size"], int) and isinstance(e["sha256"], str) for f, e in files.items())
    except (ValueError, KeyError, TypeError, AssertionError):
        raise IndexCorruptError(f"the version at the location has no valid {FILES}") from None
    return files


def _mismatch(directory: Path, files: dict[str, dict]) -> str | None:
    """What differs between ``directory`` and the listing; None when every file matches."""
    for file, expected in sorted(files.items()):
        path = directory / file
        if not path.is_file():
            return f"{file} is missing"
        size, digest = path.stat().st_size, _sha256(path)
        if (size, digest) != (expected["size"], expected["sha256"]):
            return (f"{file} has {size} bytes, sha256 {digest[:12]}…; {FILES} says {expected['size']} bytes, "
                    f"sha256 {expected['sha256'][:12]}…")
    extra = sorted(p.name for p in directory.iterdir() if p.name not in files)
    return f"{extra[0]} is not in {FILES}" if extra else None


def fetch(location: Location, root: Path, kb: str, name: str) -> bool:
    """Make version ``name`` of the location the working copy's CURRENT, downloading and checking it if it
    is not here; True when CURRENT changed. The caller holds ``versions.locked(root)``. Raises
    IndexCorruptError (the version is refused, nothing changes here) or LocationError."""
    if versions.current_name(root) == name:
        return False
    files = _listing(location, kb, name)
    local = Path(root) / versions.VERSIONS / name
    if local.is_dir() and _mismatch(local, files) is not None:
        shutil.rmtree(local)  # a leftover of a writer that stopped before its commit point: not the published one
    if not local.is_dir():
        with versions.staged(root) as staging:
            for file in sorted(files):
                location.download(f"{kb}/{versions.VERSIONS}/{name}/{file}", staging / file)
            problem = _mismatch(staging, files)
            if problem:
                raise IndexCorruptError(f"the version at the location is corrupt: {problem}")
            versions.install(root, staging, name)
    versions.point(root, name)
    versions.recover(root)
    return True


def sync(settings, kb: str) -> None:
    """Bring KB ``kb``'s working copy to its published version, for a process that does not watch (an offline
    job on a machine that did not build it). Raises LocationError when the location cannot be read."""
    location = location_for(settings)
    if location is None:
        return
    name, root = current(location, kb)[0], versions.kb_dir(settings.index_dir, kb)
    if name is not None and name != versions.current_name(root):
        with versions.locked(root):
            fetch(location, root, kb, name)


class Publication:
    """One writer's publication of KB ``kb``; begin it under ``versions.locked(root)``, after recovery."""

    def __init__(self, settings, kb: str, root: Path) -> None:
        self.kb, self.root = kb, Path(root)
        self.location = location_for(settings)
        self.basis: tuple[str | None, str | None] = (None, None)  # the remote CURRENT this one replaces
        if self.location is None:
            return
        self.basis = current(self.location, kb)
        if self.basis[0] is not None:  # build on what is published (vectors to reuse, the admin checks)
            try:
                fetch(self.location, self.root, kb, self.basis[0])
            except (KBSuggestError, OSError) as exc:  # a broken published version must not block a new one
                log.warning("KB %r: building on the local %s, not the published %s: %s", kb,
                            versions.current_name(self.root), self.basis[0], exc)

    def install(self, staging: Path) -> str:
        """``versions.install``, with a location under a name above every remote one; then ``commit`` it."""
        if self.location is None:
            return versions.install(self.root, staging)
        taken = self.location.children(f"{self.kb}/{versions.VERSIONS}")
        return versions.install(self.root, staging, versions.next_name(taken + versions.version_names(self.root)))

    def commit(self, name: str) -> None:
        """With a location: upload version ``name`` and replace the remote CURRENT (the commit point); the
        caller then points the working copy at it. A failure before the commit point removes the local copy."""
        if self.location is None:
            return
        self.published = False
        try:
            self._push(name)
        except BaseException:
            if not self.published:  # past the commit point the local copy is the published version: keep it
                shutil.rmtree(self.root / versions.VERSIONS / name, ignore_errors=True)
            raise

    def _push(self, name: str) -> None:
        location, prefix = self.location, f"{self.kb}/{versions.VERSIONS}/{name}"
        claim = {"host": socket.gethostname(), "pid": os.getpid(),
                 "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        if not location.put(f"{prefix}/{CLAIM}", json.dumps(claim).encode(), if_absent=True):
            raise PublicationError(f"KB {self.kb!r}: version {name} is being published by another writer at "
                                   f"{location.url}: nothing published; retry")
        try:
            files = {}
            for path in sorted((self.root / versions.VERSIONS / name).iterdir()):
                versions.step(f"upload {path.name}")
                location.upload(f"{prefix}/{path.name}", path)
                files[path.name] = {"size": path.stat().st_size, "sha256": _sha256(path)}
            location.put(f"{prefix}/{FILES}", json.dumps({"files": files}, indent=1).encode())
            versions.step("upload listing")
            old, etag = self.basis
            if not location.put(f"{self.kb}/{versions.CURRENT}", f"{name}\n".encode(), if_match=etag,
                                if_absent=etag is None):
                raise PublicationError(f"KB {self.kb!r}: another publication replaced {old or 'nothing'} at "
                                       f"{location.url} during this one: nothing published; retry")
        except BaseException:
            try:
                location.delete_tree(prefix)
            except LocationError as exc:  # the next publication above it removes it
                log.warning("KB %r: the unpublished %s was not removed from %s: %s", self.kb, name, location.url, exc)
            raise
        self.published = True
        versions.step("pointed remote")
        self._prune(name)

    def _prune(self, name: str) -> None:
        """Delete the remote versions below ``name`` but the one it replaced (``versions.KEEP`` = 2): a replica
        that read the old pointer just before still finds its files."""
        keep = {name, self.basis[0]} if versions.KEEP > 1 else {name}
        try:
            for old in self.location.children(f"{self.kb}/{versions.VERSIONS}"):
                if versions.is_version(old) and int(old[1:]) < int(name[1:]) and old not in keep:
                    self.location.delete_tree(f"{self.kb}/{versions.VERSIONS}/{old}")
        except LocationError as exc:  # published: old versions only cost storage until the next publication
            log.warning("KB %r: older versions not removed from %s: %s", self.kb, self.location.url, exc)
