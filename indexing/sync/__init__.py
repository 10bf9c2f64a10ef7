"""``kbsuggest sync``: pull a KB's articles from a help desk's API, then build and publish them exactly as
``kbsuggest index --format NAME`` builds an export of that product.

The pulled pages are written, as the API returned them, into a staging folder beside ``out``; the staging
folder is indexed by ``indexing.build.build_index`` (its own staged, atomic publication); only when that
succeeded does the staging folder replace ``out``. So a sync that fails anywhere (credentials, network,
rate limits, a malformed answer, nothing to index) publishes nothing and leaves ``out`` as the last good
pull, and ``out`` is always an export ``kbsuggest index out --format NAME`` (or the admin reindex, with
``articles_dir = out``) can rebuild from.

Unchanged articles are not re-embedded: a record whose fields (``updated_at`` among them) are unchanged has
the same content hash, so the build reuses its vectors. The Help Center lists bodies with the articles,
so there is nothing to save on the wire by skipping them; what the sync reports is which records are new,
updated (another ``updated_at``), unchanged or removed since the last pull.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from indexing.build import IndexSummary, build_index
from indexing.sync.http import SyncError
from kbsuggest.config import KBSettings, Settings
from kbsuggest.embed import Embedder
from kbsuggest.errors import KBSuggestError
from kbsuggest.index import versions
from kbsuggest.sources.detect import JSON_SUFFIXES, files_under

MARKER = ".kbsuggest-sync"  # in a folder the sync wrote: only such a folder is replaced (never a KB's own)
Stamps = Callable[[object], dict[str, str]]  # a page -> (record key -> updated_at)


@dataclass
class SyncSummary:
    index: IndexSummary
    out: str
    pages: int = 0
    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


def _stamps_of(folder: Path, stamps: Stamps) -> dict[str, str]:
    """The records of the last pull, by key, with their ``updated_at`` ({} when there is none)."""
    found: dict[str, str] = {}
    if (folder / MARKER).exists():
        for path in files_under(folder, JSON_SUFFIXES):
            try:
                found.update(stamps(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError):
                continue  # an unreadable old page only makes its records count as new
    return found


def _replace(staging: Path, out: Path) -> None:
    """Put the staging folder in ``out``'s place (two renames; a crash between them leaves no ``out``,
    and the next sync writes it again: the published index does not depend on it)."""
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def sync(fmt: str, pages: Iterable[tuple[str, object]], stamps: Stamps, settings: Settings, embedder: Embedder,
         kb: KBSettings, out: Path) -> SyncSummary:
    """Write ``pages`` ((relative file name, page) as the API gave them) into a staging folder, build KB ``kb``
    from it as format ``fmt`` and publish it, then keep the folder as ``out``."""
    out = Path(out).absolute()
    if out.exists() and not (out / MARKER).exists() and (not out.is_dir() or any(out.iterdir())):
        raise SyncError(f"--out {str(out)!r} exists and was not written by kbsuggest sync: choose an empty or new folder")
    with versions.locked(out.parent, f".{out.name}.lock"):  # one sync into ``out`` at a time
        for leftover in [*out.parent.glob(f".{out.name}.staging-*"), *out.parent.glob(f".{out.name}.old-*")]:
            shutil.rmtree(leftover, ignore_errors=True)  # of a sync that crashed
        staging = out.with_name(f".{out.name}.staging-{os.getpid()}-{os.urandom(4).hex()}")
        staging.mkdir()
        try:
            (staging / MARKER).write_text("written by kbsuggest sync; replaced by the next one\n")
            count, records, now = 0, 0, {}
            for name, page in pages:
                path = staging / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
                found = stamps(page)
                count, records = count + 1, records + len(found)
                now.update(found)
            try:
                index = build_index(staging, settings, embedder, kb, fmt)
            except KBSuggestError as exc:  # name what was pulled, not the staging folder
                raise SyncError(str(exc).replace(repr(str(staging)), f"what was pulled ({records} records)")) from None
            before = _stamps_of(out, stamps)
            _replace(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    index.source = str(out)
    return SyncSummary(
        index=index, out=str(out), pages=count, records=records, new=sum(key not in before for key in now),
        updated=sum(key in before and before[key] != stamp for key, stamp in now.items()),
        unchanged=sum(before.get(key) == stamp for key, stamp in now.items()),
        removed=sum(key not in now for key in before))
