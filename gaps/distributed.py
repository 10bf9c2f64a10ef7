"""Gap mining on Dask: the per-ticket stages run on workers, the rest stays in the calling process.

What is spread, and why that and no more: redaction, embedding and coverage (one nearest-article search per
ticket) are independent per ticket and are nearly all of a large run's time (benchmarks/mining_dask.py
measures each stage). Clustering is not spread: it links a fixed-size sample (``ClusterParams.direct_limit``)
and scores its cut on a fixed-size neighbour graph (``ClusterParams.scored``), so its cost does not grow
with the tickets, and what grows (assigning every ticket to the nearest centre) is one matrix product.

The same input gives the same gaps as a local run: tickets are cut into the same batches of texts the local
run embeds (batches of ``BATCH`` distinct texts, in the same order), each worker builds the same embedder
and suggester from the same settings, and the results come back in input order.

Workers must see the index directory and the model files at the paths of the settings (shared storage, as
for a fleet's index publication); they never open the service database: tickets are read and runs are saved
by the calling process.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING

import numpy as np

from kbsuggest.config import Settings
from kbsuggest.errors import ConfigError

if TYPE_CHECKING:
    from kbsuggest.domain import Ticket
    from gaps.view import RedactedTicket

BATCH = 256  # distinct texts per embedding call: gaps.mine.encode's batch, so vectors are the same
BATCHES_PER_TASK = 4  # embedding calls per task
TICKETS_PER_TASK = 2000  # redaction and coverage work per task (a task costs a few ms of scheduling)


class DaskRunner:
    """A Dask client: on a running scheduler (``tcp://HOST:8786``) or on a local cluster of ``workers``
    processes with one thread each (each ONNX session then uses one core, as a serving process does)."""

    def __init__(self, settings: Settings, kb: str, scheduler: str | None = None, workers: int | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # the extra is optional: a plain install mines locally
            raise ConfigError("gap mining on Dask needs the dask extra: pip install 'kbsuggest[dask]'") from None
        if (scheduler is None) == (workers is None):
            raise ConfigError("give either a scheduler address or a number of local workers, not both")
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be at least 1, not {workers}")
        self.settings, self.kb = settings, kb
        self._cluster = (LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None) if workers else None)
        try:
            self.client = Client(self._cluster or scheduler, timeout="20s")
        except OSError as exc:
            raise ConfigError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from None
        self.workers = len(self.client.scheduler_info()["workers"])

    def map(self, fn, chunks: list) -> list:
        """``fn(settings, kb, chunk)`` for every chunk on the workers, results in the order of ``chunks``."""
        if not chunks:
            return []
        # Each chunk travels as one pickled blob, both ways: Dask serialises a list element by element,
        # which cost 10x the redaction itself (100,000 short tickets: 6 s against 0.6 s as blobs).
        # The blobs are scattered, not put in the task graph (which makes Dask warn about a large graph:
        # same speed); the settings travel with each task (a few hundred bytes).
        n = len(chunks)
        blobs = self.client.scatter([pickle.dumps(chunk, protocol=5) for chunk in chunks])
        futures = self.client.map(_unpacked, [fn] * n, [self.settings] * n, [self.kb] * n, blobs, pure=False)
        return [pickle.loads(blob) for blob in self.client.gather(futures)]

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> "DaskRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _chunks(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]


# ---- on the workers: each builds its embedder and suggester once, from the settings it was sent ----

_loaded: dict[tuple[str, str], object] = {}  # (settings as JSON, what) -> embedder or suggester, per worker


def _worker_embedder(settings: Settings, kb: str):
    from kbsuggest.kbs.load import kb_embedder

    key = (settings.model_dump_json(), f"embedder {kb}")
    if key not in _loaded:
        embedder = kb_embedder(settings, kb)  # the model the KB is served with (an adapted one, if any)
        if hasattr(embedder, "batch_threads"):  # the worker's threads, not every core: workers share a machine
            from distributed import get_worker

            embedder.batch_threads = get_worker().state.nthreads
        _loaded[key] = embedder
    return _loaded[key]


def _worker_suggester(settings: Settings, kb: str):
    from kbsuggest.config import KBSettings, load_kbs
    from kbsuggest.kbs.load import build_suggester

    key = (settings.model_dump_json(), f"suggester {kb}")
    if key not in _loaded:  # no store: coverage asks for every score (min_score=-1), no tuned threshold applies
        config = load_kbs(settings).get(kb) or KBSettings(name=kb)
        _loaded[key] = build_suggester(settings, config, _worker_embedder(settings, kb))
    return _loaded[key]


def _unpacked(fn, settings: Settings, kb: str, blob: bytes) -> bytes:
    return pickle.dumps(fn(settings, kb, pickle.loads(blob)), protocol=5)


def _redact_task(settings: Settings, kb: str, rows: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    from gaps.view import redacted_texts

    return [redacted_texts(*row, settings.gap_description_chars) for row in rows]


def _encode_task(settings: Settings, kb: str, batches: list[list[str]]) -> list[np.ndarray]:
    embedder = _worker_embedder(settings, kb)
    return [embedder.encode(batch) for batch in batches]


def _suggest_task(settings: Settings, kb: str, work: tuple) -> list:
    texts, vectors, k, options = work
    return _worker_suggester(settings, kb).suggest_vectors(texts, vectors, k, **options)


# ---- in the calling process: drop-in stand-ins for what gaps.mine and gaps.view use ----

def redact_on_workers(runner: DaskRunner, tickets: list["Ticket"]) -> list["RedactedTicket"]:
    from gaps.view import with_texts

    rows = [(t.title, t.description, t.resolution) for t in tickets]
    texts = [r for part in runner.map(_redact_task, _chunks(rows, TICKETS_PER_TASK)) for r in part]
    return [with_texts(t, r) for t, r in zip(tickets, texts)]


class DaskEmbedder:
    """An ``Embedder`` whose ``encode`` splits the texts into ``BATCH``-sized calls run on the workers."""

    def __init__(self, runner: DaskRunner, local) -> None:
        self.runner, self.name, self.dim = runner, local.name, local.dim
        self.model_file = getattr(local, "model_file", "")
        # gaps.mine.encode hands over this many texts per call: 16 tasks per worker, so that the wait for a
        # call's last task (while the other workers idle) is a small share of the call.
        self.preferred_batch = BATCH * BATCHES_PER_TASK * 16 * max(runner.workers, 1)

    def encode(self, texts) -> np.ndarray:
        batches = _chunks(list(texts), BATCH)
        parts = [v for part in self.runner.map(_encode_task, _chunks(batches, BATCHES_PER_TASK)) for v in part]
        return np.vstack(parts) if parts else np.zeros((0, self.dim), np.float32)


class DaskSuggester:
    """The local ``Suggester`` (articles, manifest, ...) whose ``suggest_vectors`` runs on the workers."""

    def __init__(self, runner: DaskRunner, local) -> None:
        self._runner, self._local = runner, local

    def __getattr__(self, name):
        return getattr(self._local, name)

    def suggest_vectors(self, texts: list[str], vectors: np.ndarray, k: int | None = None, **options) -> list:
        vectors = np.asarray(vectors, dtype=np.float32)
        work = [(texts[s:s + TICKETS_PER_TASK], vectors[s:s + TICKETS_PER_TASK], k, options)
                for s in range(0, len(texts), TICKETS_PER_TASK)]
        return [row for part in self._runner.map(_suggest_task, work) for row in part]
