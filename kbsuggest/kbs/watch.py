"""Index publication to every replica: each process serves the version its KBs' ``CURRENT`` names.

The protocol. A publication — ``kbsuggest index``, or an admin write handled by any replica — writes a
new immutable version into the shared index directory and points the KB's ``CURRENT`` at it (one atomic
rename under the KB's cross-process lock: ``kbsuggest/index/versions.py``), then ``announce``s it: with
PostgreSQL, ``NOTIFY kbsuggest_index, '<kb> <version>'``; with SQLite, nothing. Each replica's
``IndexWatcher`` wakes on an announcement, and in any case every ``KBSUGGEST_INDEX_POLL_SECONDS`` (the
fallback for a lost notification, a listener that is reconnecting, or no channel at all), and for each KB
it has loaded whose ``CURRENT`` names another version than the one it serves, loads that version aside and
swaps it in with one assignment (``Registry.load``). KBs not loaded yet read ``CURRENT`` when they load.
With a remote location (``KBSUGGEST_INDEX_URL``, ``kbsuggest/index/remote.py``) each pass, and one at start,
first fetches into this process's index directory the version each KB's remote ``CURRENT`` names; the rest
is the same.

Failure modes: a version that cannot be loaded (corrupt, another model, unreadable share) leaves the old
version serving, and ``/readyz`` says so — that KB's ``error``, with ``version`` the one served; it is tried
again when ``CURRENT`` changes, or after ``RETRY_SECONDS``. A replica that misses every notification still
converges within one poll period; one that cannot read the share keeps serving what it has loaded. A version
that cannot be fetched (bucket unreachable, a file that does not match ``files.json``) is reported the same way.
"""

from __future__ import annotations

import logging
import re
import threading
import time

from kbsuggest.config import KB_NAME
from kbsuggest.errors import KBSuggestError, StoreUnavailableError
from kbsuggest.index import remote, versions
from kbsuggest.index.remote import LocationError
from kbsuggest.kbs.registry import RETRY_SECONDS, Registry
from kbsuggest.store import Store

log = logging.getLogger("kbsuggest")


def announce(store: Store | None, kb: str, version: str) -> None:
    """Tell the other replicas about a publication; best effort (they poll ``CURRENT`` anyway)."""
    if store is None:
        return
    try:
        store.announce(kb, version)
    except StoreUnavailableError as exc:
        log.warning("publication of KB %r %s not announced (replicas will see it when they poll): %s", kb, version, exc)


class IndexWatcher:
    def __init__(self, registry: Registry, store: Store | None, poll_seconds: float) -> None:
        self.registry, self.store, self.poll_seconds = registry, store, poll_seconds
        self._stop, self._wake = threading.Event(), threading.Event()
        self._threads: list[threading.Thread] = []
        self._failed: dict[str, tuple[str, float]] = {}  # kb -> (version that failed, when)
        self.listening = threading.Event()  # set once the notification channel is connected
        self.location = remote.location_for(registry.settings)

    def fetch(self) -> set[str]:
        """With a location (``KBSUGGEST_INDEX_URL``): bring the working copy of every KB there to the version
        its CURRENT names (``remote.fetch``); return the KBs left behind (the reason is in the registry)."""
        if self.location is None:
            return set()
        loaded = {s.name: s.version for s in self.registry.status() if s.loaded}
        try:
            kbs = [kb for kb in self.location.children("") if re.match(KB_NAME, kb)]
        except LocationError as exc:  # keep serving what is here
            for kb, served in loaded.items():
                self._failed[kb] = ("", time.monotonic())  # cleared by check() once the location answers
                self.registry.failed(kb, f"{exc} (serving {served})")
            return set(loaded)
        behind = set()
        for kb in kbs:
            root, name = versions.kb_dir(self.registry.settings.index_dir, kb), None
            try:
                name = remote.current(self.location, kb)[0]
                if name is None or name == versions.current_name(root):
                    continue
                failed = self._failed.get(kb)
                if failed and failed[0] == name and time.monotonic() - failed[1] < RETRY_SECONDS:
                    behind.add(kb)
                    continue
                with versions.locked(root):
                    remote.fetch(self.location, root, kb, name)
                if self._failed.pop(kb, None) and kb not in loaded:  # its next load finds it: nothing is wrong
                    self.registry.failed(kb, None)
            except (KBSuggestError, OSError) as exc:  # the working copy is unchanged: its version keeps serving
                self._failed[kb] = (name or "", time.monotonic())
                behind.add(kb)
                here = loaded.get(kb) or versions.current_name(root)
                reason = (f"version {name} not fetched from {self.location.url} (serving {here}): {exc}" if name
                          else f"{exc} (serving {here})")
                if kb in loaded or here is None:  # a KB that is here but not loaded still loads what it has
                    self.registry.failed(kb, reason)
                log.error("KB %r: %s", kb, reason)
        return behind

    def check(self) -> list[str]:
        """One pass: fetch what the location published, then load every loaded KB's newly published version;
        return the KBs swapped."""
        swapped = []
        behind = self.fetch()
        for status in self.registry.status():
            if not status.loaded or status.name in behind:
                continue
            try:
                current = versions.current_name(versions.kb_dir(self.registry.settings.index_dir, status.name))
            except OSError as exc:  # the share is unreadable: keep serving
                self._failed[status.name] = ("", time.monotonic())
                self.registry.failed(status.name, f"the published version cannot be read: {exc.strerror or exc}")
                continue
            if current is None or current == status.version:
                if status.name in self._failed:  # CURRENT went back to the served version: nothing is wrong now
                    del self._failed[status.name]
                    self.registry.publish(status.name, self.registry.peek(status.name))
                continue
            failed = self._failed.get(status.name)
            if failed and failed[0] == current and time.monotonic() - failed[1] < RETRY_SECONDS:
                continue
            try:
                self.registry.load(status.name)
            except (KBSuggestError, OSError) as exc:  # the old version keeps serving; the registry says why
                self._failed[status.name] = (current, time.monotonic())
                self.registry.failed(status.name, f"version {current} not loaded (serving {status.version}): {exc}")
                log.error("KB %r: version %s not loaded, still serving %s: %s", status.name, current, status.version, exc)
                continue
            self._failed.pop(status.name, None)
            swapped.append(status.name)
            log.info("KB %r: now serving %s (was %s)", status.name, current, status.version)
        return swapped

    def _heard(self, payload: str) -> None:
        """An announcement, or "" when the listener (re)connected and may have missed some: look now."""
        if not payload:
            self.listening.set()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_seconds or None)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.check()
            except Exception:  # never let the watcher die: the next pass tries again
                log.exception("index watcher pass failed")

    def start(self) -> None:
        targets = [self._run] + ([lambda: self.store.listen(self._heard, self._stop)] if self.store else [])
        self._threads = [threading.Thread(target=t, name=f"kbsuggest-index-{i}", daemon=True)
                         for i, t in enumerate(targets)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=5)
