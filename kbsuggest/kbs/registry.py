"""The KBs one process serves: name -> loaded Suggester, loaded lazily, swapped whole, evicted under a budget.

- **Lazy**: a KB loads on its first query (or at start for the default KB), under a lock of its own, so a
  slow load never pauses the other KBs.
- **Swap**: an admin change builds a new Suggester aside and ``publish`` replaces the old one with one
  assignment; requests in flight finish on the one they started with.
- **Budget**: past ``KBSUGGEST_MEMORY_BUDGET_MB``, the least recently used KBs are unloaded (their next
  query loads them again). Memory is each KB's estimate (``Suggester.memory_bytes``).
- **Failures**: a KB whose index cannot be loaded answers ``IndexUnavailableError`` with the reason; if it
  was serving, it keeps serving the version it had.
- **Process policy** (``serving=True``, the server only): FAISS and BLAS work with one thread
  (``single_query_threads``), and every loaded
  index is frozen out of the cycle collector — a loaded index is tens of thousands of long-lived objects
  whose scan by each full collection was a 25-40 ms pause on some unlucky request. Frozen objects are
  still freed by reference counting when a KB is replaced or evicted.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from kbsuggest.config import DEFAULT_KB, KBSettings, Settings, load_kbs
from kbsuggest.embed import Embedder, make_embedder
from kbsuggest.embed.cache import QueryCache
from kbsuggest.embed.models import BASE
from kbsuggest.errors import IndexUnavailableError, KBSuggestError, UnknownKBError
from kbsuggest.index.format import single_query_threads
from kbsuggest.index.versions import current_name, kb_dir, list_kbs
from kbsuggest.kbs.load import build_suggester, served_model
from kbsuggest.rank.suggester import Suggester
from kbsuggest.store import Store

log = logging.getLogger("kbsuggest")
RETRY_SECONDS = 10.0  # a KB that failed to load is tried again at most this often (a broken index costs a load)


@dataclass(frozen=True)
class KBStatus:
    name: str
    loaded: bool
    articles: int | None = None
    chunks: int | None = None
    model: str | None = None
    version: str | None = None
    index_created_at: str | None = None
    error: str | None = None


class Registry:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, store: Store | None = None, *,
                 serving: bool = False, kbs: dict[str, KBSettings] | None = None) -> None:
        self.settings = settings
        self.kbs = kbs if kbs is not None else load_kbs(settings)
        self.store = store
        self.serving = serving
        # model name -> (embedder, its query cache): KBs served with the same model share both
        self._embedders: dict[str, tuple[Embedder, QueryCache]] = {}
        self._given = embedder  # the base model's embedder, when the caller made it (tests, benchmarks)
        self._embedder_lock = threading.Lock()
        self._loaded: OrderedDict[str, Suggester] = OrderedDict()  # least recently used first
        self._errors: dict[str, str] = {}
        self._failed_at: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()  # for the dicts above (never held during a load)
        if serving:
            single_query_threads()

    # which KBs ----------------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every KB this process answers for: the configured ones and every one built under the index root."""
        return sorted(set(self.kbs) | set(list_kbs(self.settings.index_dir)))

    def config(self, kb: str) -> KBSettings:
        """The KB's settings (a built KB that no file declares gets the defaults: public only, no admin).
        On every request: it reads at most this KB's own pointer, never the whole index root."""
        if kb in self.kbs:
            return self.kbs[kb]
        if kb in self._loaded or current_name(kb_dir(self.settings.index_dir, kb)) is not None:
            return KBSettings(name=kb)
        raise UnknownKBError(kb)

    # loading ------------------------------------------------------------------------------------------------
    def _model(self, model: str, kb: str) -> tuple[Embedder, QueryCache]:
        with self._embedder_lock:
            found = self._embedders.get(model)
            if found is None:
                given = self._given if model == BASE else None
                embedder = given or make_embedder(self.settings, model, kb)
                found = self._embedders[model] = (embedder, QueryCache(embedder, self.settings.query_cache_size))
            return found

    def embedder(self, model: str = BASE, kb: str = DEFAULT_KB) -> Embedder:
        """The embedder of ``model`` (``base``, or a model adapted to ``kb``), made once per process."""
        return self._model(model, kb)[0]

    @property
    def query_cache(self) -> QueryCache:
        """The base model's query cache."""
        return self._model(BASE, DEFAULT_KB)[1]

    def get(self, kb: str) -> Suggester:
        """The KB's Suggester, loading it if needed; UnknownKBError or IndexUnavailableError otherwise."""
        found = self._touch(kb)
        if found is not None:
            return found
        config = self.config(kb)
        with self._lock_of(kb):
            found = self._touch(kb)
            if found is None:
                if time.monotonic() - self._failed_at.get(kb, -RETRY_SECONDS) < RETRY_SECONDS:
                    raise IndexUnavailableError(f"the index of KB {kb!r} cannot be loaded: {self._errors[kb]}")
                found = self._load(config)
        return found

    def peek(self, kb: str) -> Suggester | None:
        """The loaded Suggester (marked as used, for the LRU), without loading."""
        return self._touch(kb)

    def _touch(self, kb: str) -> Suggester | None:
        with self._guard:
            found = self._loaded.get(kb)
            if found is not None:
                self._loaded.move_to_end(kb)
            return found

    def _lock_of(self, kb: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(kb, threading.Lock())

    def _load(self, config: KBSettings) -> Suggester:
        started = time.perf_counter()
        try:
            embedder, cache = self._model(served_model(self.settings, config.name), config.name)
            suggester = build_suggester(self.settings, config, embedder, self.store, cache)
            suggester.warm_up()
        except KBSuggestError as exc:
            with self._guard:
                self._errors[config.name] = str(exc)
                self._failed_at[config.name] = time.monotonic()
            log.error("KB %r not loaded: %s", config.name, exc)
            raise IndexUnavailableError(f"the index of KB {config.name!r} cannot be loaded: {exc}") from None
        self.publish(config.name, suggester)
        log.info("KB %r loaded (%s, %d articles) in %.2f s", config.name, suggester.snapshot.version,
                 suggester.snapshot.size, time.perf_counter() - started)
        return suggester

    def load(self, kb: str) -> Suggester:
        """Load (again) the KB's current version from disk and publish it."""
        config = self.config(kb)
        with self._lock_of(kb):
            return self._load(config)

    def publish(self, kb: str, suggester: Suggester) -> None:
        """Serve ``suggester`` for ``kb`` from the next request on (one assignment)."""
        with self._guard:
            self._loaded[kb] = suggester
            self._loaded.move_to_end(kb)
            self._errors.pop(kb, None)
            self._failed_at.pop(kb, None)
        if self.serving:
            gc.collect()
            gc.freeze()
        self._evict()

    def failed(self, kb: str, reason: str | None) -> None:
        """Record why a KB could not be (re)loaded (None: it can be now); a loaded version keeps serving."""
        with self._guard:
            self._errors[kb] = reason

    def _evict(self) -> None:
        budget = self.settings.memory_budget_mb * 1024 * 1024
        if not budget:
            return
        with self._guard:
            total = sum(s.memory_bytes() for s in self._loaded.values())
            while total > budget and len(self._loaded) > 1:
                name, evicted = self._loaded.popitem(last=False)
                total -= evicted.memory_bytes()
                log.info("KB %r unloaded (memory budget %d MB)", name, self.settings.memory_budget_mb)

    def memory_bytes(self) -> int:
        with self._guard:
            return sum(s.memory_bytes() for s in self._loaded.values())

    # status -------------------------------------------------------------------------------------------------
    def status(self) -> list[KBStatus]:
        out = []
        for name in self.names():
            loaded = self._loaded.get(name)
            error = self._errors.get(name)
            if loaded is None:
                out.append(KBStatus(name, False, error=error))
                continue
            m = loaded.manifest
            out.append(KBStatus(name, True, m.article_count, m.chunk_count, m.model, loaded.snapshot.version,
                                m.created_at, error))
        return out

    def start(self) -> None:
        """At server start: load the default KB, so the first customer does not wait (errors are kept)."""
        if DEFAULT_KB in self.names():
            try:
                self.get(DEFAULT_KB)
            except IndexUnavailableError:
                pass
