"""Versioned snapshots of one KB on disk, published by one atomic pointer. Atomic by construction.

    <index root>/<kb>/CURRENT             the published version's name ("v000007"), replaced by rename
    <index root>/<kb>/versions/v000007/   immutable snapshot (format.py); the previous one is kept
    <index root>/<kb>/versions/.staging-* a snapshot being written; never read
    <index root>/<kb>/journal.json        an admin write in flight (kbsuggest/kbs/admin.py)
    <index root>/<kb>/.lock               held by whoever writes this KB (one writer at a time)
    <index root>/.cache/                  derived data the builds may reuse (off-topic vectors per model)

Publishing is: write the snapshot into a staging directory, rename it to its version name, then
replace CURRENT (written to a temporary file, fsynced, renamed). A crash at any point leaves CURRENT
naming a complete snapshot — the old one or the new one — and ``recover`` removes what the crash left
(staging directories, temporary pointer files, versions that were never published). Readers resolve
CURRENT once and keep their snapshot open; the previous version stays on disk (``KEEP``) so a reader in
another process that resolved the pointer just before a switch still finds its files.

With ``KBSUGGEST_INDEX_URL`` this directory is the process's working copy, and ``kbsuggest/index/remote.py``
publishes each version to the remote location between ``install`` and ``point`` (the remote pointer is then
the commit point) and fetches the versions other machines published.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kbsuggest.errors import IndexNotFoundError
from kbsuggest.index.format import MANIFEST_FILE

CURRENT = "CURRENT"
VERSIONS = "versions"
JOURNAL = "journal.json"
LOCK = ".lock"
CACHE = ".cache"  # <index root>/.cache/: derived data shared by the KBs' builds (never a KB: no CURRENT)
KEEP = 2  # published versions kept: the current one and the one before
_VERSION = re.compile(r"^v(\d{6,})$")

# Fault injection for tests: called with the name of each step of a publication; a test may make it raise
# or end the process there, then check that ``recover`` restores a consistent KB.
fault: Callable[[str], None] = lambda step: None


def step(name: str) -> None:
    fault(name)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` by rename, keeping the file's mode (new files: 0666 minus umask)."""
    path = Path(path)
    if mode is None:
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)  # the umask applied at creation
        step(f"rename {path.name}")
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _umask() -> int:
    """The process umask, read without setting it where Linux shows it: ``os.umask(0)`` opens a moment in
    which a file another thread of the server creates gets mode 0666."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii", errors="replace")
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Umask:")), 8)
    except (OSError, StopIteration, ValueError, IndexError):
        mask = os.umask(0)
        os.umask(mask)
        return mask


def kb_dir(index_root: Path, kb: str) -> Path:
    """Where KB ``kb``'s versions live (its name is checked by ``KBSettings``/the HTTP path pattern)."""
    return Path(index_root) / kb


def version_names(kb_dir: Path) -> list[str]:
    """Published-or-not version names on disk, oldest first."""
    root = Path(kb_dir) / VERSIONS
    if not root.is_dir():
        return []
    return sorted((p.name for p in root.iterdir() if _VERSION.match(p.name)), key=lambda n: int(n[1:]))


def current_name(kb_dir: Path) -> str | None:
    """The published version's name; None when there is none or CURRENT cannot be read (never an exception:
    a server with a damaged KB still starts, and says why)."""
    try:
        name = (Path(kb_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if _VERSION.match(name) else None


def resolve(path: Path) -> Path:
    """The snapshot directory to read: a KB directory's current version, or ``path`` itself when it is one."""
    path = Path(path)
    name = current_name(path)
    if name is not None:
        return path / VERSIONS / name
    if (path / MANIFEST_FILE).exists():
        return path
    raise IndexNotFoundError(f"no index at {path.name!r}: build one with `kbsuggest index DIR`")


def list_kbs(index_root: Path) -> list[str]:
    """Names of the KBs that have a published version under ``index_root``."""
    root = Path(index_root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and current_name(p) is not None)


@contextmanager
def locked(kb_dir: Path, name: str = LOCK) -> Iterator[None]:
    """Hold the KB's writer lock (across processes) for the duration (``name``: another lock file in it)."""
    kb_dir = Path(kb_dir)
    kb_dir.mkdir(parents=True, exist_ok=True)
    with open(kb_dir / name, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_version(name: str) -> bool:
    return bool(_VERSION.match(name))


def next_name(names: list[str]) -> str:
    """The version name after every one of ``names``."""
    return f"v{max((int(n[1:]) for n in names if is_version(n)), default=0) + 1:06d}"


@contextmanager
def staged(kb_dir: Path) -> Iterator[Path]:
    """An empty staging directory for a new snapshot; it is removed if the block fails. Call ``publish``
    with it afterwards. The caller holds ``locked(kb_dir)``."""
    root = Path(kb_dir) / VERSIONS
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".staging-{os.getpid()}-{os.urandom(4).hex()}"
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def install(kb_dir: Path, staging: Path, name: str | None = None) -> str:
    """Give a complete staging directory its version name (not yet published; default: the next one on disk);
    return the name."""
    for child in staging.iterdir():
        with open(child, "rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(staging)
    name = name or next_name(version_names(kb_dir))
    step("rename staging")
    os.replace(staging, Path(kb_dir) / VERSIONS / name)
    _fsync_dir(Path(kb_dir) / VERSIONS)
    return name


def point(kb_dir: Path, name: str) -> None:
    """Make ``name`` the published version (one atomic rename)."""
    write_atomically(Path(kb_dir) / CURRENT, f"{name}\n".encode())
    step("pointed")


def recover(kb_dir: Path, keep: int = KEEP) -> list[str]:
    """Remove what a crash or older publications left; return what was removed. The caller holds the lock."""
    kb_dir = Path(kb_dir)
    removed = []
    for leftover in list(kb_dir.glob(f".{CURRENT}.tmp-*")) + list(kb_dir.glob(f".{JOURNAL}.tmp-*")):
        leftover.unlink(missing_ok=True)
        removed.append(leftover.name)
    root = kb_dir / VERSIONS
    if root.is_dir():
        for staging in root.glob(".staging-*"):
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging.name)
    current = current_name(kb_dir)
    names = version_names(kb_dir)
    if current is None:  # nothing was ever published: every version is a leftover; but a CURRENT that is
        # there and unreadable (damaged by hand or by the disk) may name any of them: keep them all
        doomed = [] if os.path.lexists(kb_dir / CURRENT) else names
    else:
        number = int(current[1:])
        older = [n for n in names if int(n[1:]) < number]
        doomed = [n for n in names if int(n[1:]) > number] + older[:max(0, len(older) - (keep - 1))]
    for name in doomed:
        shutil.rmtree(root / name, ignore_errors=True)
        removed.append(name)
    return removed
