"""The one owner of the on-disk format of an index snapshot (one version of one KB).

A snapshot directory holds:
- ``faiss.index``: inner product over L2-normalized vectors, so scores are cosine similarities;
- ``kb.db``: article and chunk metadata (``kbdb.py``); row i of ``chunks`` is FAISS vector i;
- ``calibration.json``: the score calibration of this KB (``kbsuggest/rank/calibration.py`` reads it): fitted
  for it when it was indexed (``learning/coldstart.py``), or its warm calibration (below);
- ``centroids.index`` (HNSW snapshots only): an inverted-file index (IVF) of the articles' centroids (unit
  mean of their chunk vectors, id i = article i), so a large KB finds its best articles by whole-article
  similarity without scoring them all;
- ``manifest.json``: what built it (model, dim, counts, chunking, how the calibration was fitted).

**Chunk order rule.** Articles are stored sorted by id, and chunks grouped by article in that order; the
first chunk of every article is its title alone (empty anchor and heading). Readers rely on it: an
article's chunks are one contiguous range and its title vector is the first of them. ``kbdb.read`` checks it.

Snapshots are written aside and published by ``versions.py``, so a reader never sees half of one.

Beside its versions, a KB directory may hold ``calibration.warm.json``: the calibration ``kbsuggest
calibrate`` fitted from the KB's labelled history, with the model it was fitted for. Every later snapshot
of that KB and model takes it as its ``calibration.json`` (so it survives reindexing) until the next fit.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from kbsuggest import __version__
from kbsuggest.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError

FORMAT_VERSION = 2  # 2: chunk order rule, calibration.json in the snapshot
INDEX_FILE = "faiss.index"
MANIFEST_FILE = "manifest.json"
KB_FILE = "kb.db"
CALIBRATION_FILE = "calibration.json"
CENTROIDS_FILE = "centroids.index"
WARM_CALIBRATION_FILE = "calibration.warm.json"  # in the KB directory, not in a version
SNAPSHOT_FILES = (INDEX_FILE, KB_FILE, CALIBRATION_FILE, CENTROIDS_FILE, MANIFEST_FILE)  # the manifest is last


@dataclass
class Manifest:
    model: str  # Embedder.name that produced the vectors
    dim: int
    chunk_count: int
    article_count: int
    articles_hash: str  # hash over every article's content hash: changes when any article does
    chunking: dict
    index_type: str = "flat"  # chosen by size: see choose_index_type
    model_file: str = ""  # "<file> sha256:<hex>" of the weights that built it, when the embedder has one
    calibration: dict = field(default_factory=dict)  # how calibration.json was obtained (source, fitted on)
    kb: str = "default"
    format_version: int = FORMAT_VERSION
    kbsuggest_version: str = __version__
    created_at: str = ""
    extra: dict = field(default_factory=dict)
    model_name: str = "base"  # "base", or the adapted model (kbsuggest learn) that built it: reindexing keeps it
    lineage: dict = field(default_factory=dict)  # an adapted model's lineage: base model, pairs, date, held-out figures


def _faiss():
    import faiss  # deferred: importing faiss costs ~0.3 s, and `kbsuggest --help` needs none of it

    return faiss


# Exact search of one 384-d query costs ~0.07 ms at 1,000 vectors and ~1 ms at 10,000 on one core
# (FAISS 1.15, AVX2, measured on the 2-core development machine); past ~5,000 it costs more than the
# ~0.5 ms budget, so an HNSW graph takes over (0.2-0.4 ms at 46k vectors, recall@10 0.99).
FLAT_MAX_VECTORS = 5000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 64


def choose_index_type(n_vectors: int) -> str:
    return "flat" if n_vectors <= FLAT_MAX_VECTORS else f"hnsw{HNSW_M}"


def build_faiss_index(vectors: np.ndarray, index_type: str = "flat"):
    faiss = _faiss()
    dim = vectors.shape[1]
    if index_type == "flat":
        index = faiss.IndexFlatIP(dim)
    elif index_type == f"hnsw{HNSW_M}":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    else:
        raise ValueError(f"unknown index type {index_type!r}; valid: flat, hnsw{HNSW_M}")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_vectors(directory: Path, vectors: np.ndarray, index_type: str) -> None:
    _faiss().write_index(build_faiss_index(vectors, index_type), str(directory / INDEX_FILE))


def centroids_of(vectors: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Unit-length mean of each article's chunk vectors (chunks grouped by article from ``starts``)."""
    if len(starts) == 0:
        return np.zeros((0, vectors.shape[1]), np.float32)
    sums = np.add.reduceat(np.asarray(vectors, np.float32), np.asarray(starts, np.int64), axis=0)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1)).astype(np.float32)


# IVF, not HNSW, for the centroids: on a KB of near-duplicate articles an HNSW graph of them found only
# 64% of the exact 64 best (78% at efSearch 256); 2·sqrt(n) lists with 16 probed found 98% in 0.17 ms
# (StackFAQ prefixes among 5,000 synthetic articles).
CENTROID_PROBES = 16


def write_centroids(directory: Path, centroids: np.ndarray) -> None:
    faiss = _faiss()
    n, dim = centroids.shape
    lists = max(1, min(n, int(2 * n ** 0.5)))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
    faiss.ParameterSpace().set_index_parameter(index, "verbose", 0)
    index.train(np.ascontiguousarray(centroids, np.float32))
    index.add(np.ascontiguousarray(centroids, np.float32))
    faiss.write_index(index, str(Path(directory) / CENTROIDS_FILE))


def load_centroids(directory: Path, articles: int):
    """The snapshot's centroid graph, or None (flat snapshots have none: every article is scored)."""
    path = Path(directory) / CENTROIDS_FILE
    if not path.is_file():
        return None
    try:
        index = _faiss().read_index(str(path))
    except RuntimeError:
        raise IndexCorruptError("cannot read the article centroids of the index; rebuild the index") from None
    if index.ntotal != articles:
        raise IndexCorruptError(f"the index holds {index.ntotal} article centroids for {articles} articles; "
                                f"rebuild the index")
    index.nprobe = CENTROID_PROBES
    index.make_direct_map()  # so the centroids can be read back (Suggester needs all of them)
    return index


def write_calibration(directory: Path, data: dict) -> None:
    _write_synced(directory / CALIBRATION_FILE, (json.dumps(data, indent=2) + "\n").encode())


def write_warm_calibration(kb_directory: Path, data: dict) -> None:
    """``data``: {"model": embedder name, "calibration": calibration.json's content, "how": provenance}."""
    from kbsuggest.index.versions import write_atomically  # versions imports this module

    write_atomically(Path(kb_directory) / WARM_CALIBRATION_FILE, (json.dumps(data, indent=2) + "\n").encode())


def read_warm_calibration(kb_directory: Path) -> dict | None:
    path = Path(kb_directory) / WARM_CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("calibration"), dict):
            raise ValueError("not an object with a calibration")
        return data
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"the warm calibration {WARM_CALIBRATION_FILE} is unreadable ({_reason(exc)}); "
                                f"delete it or run `kbsuggest calibrate` again") from None


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Last file of a snapshot: its presence says the others are complete."""
    _write_synced(directory / MANIFEST_FILE, (json.dumps(asdict(manifest), indent=2) + "\n").encode())


def read_calibration(directory: Path) -> dict | None:
    path = Path(directory) / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"the calibration of the index is unreadable ({_reason(exc)}); rebuild the index") from None


def _reason(exc: Exception) -> str:
    """What went wrong, never the server path an OSError carries."""
    return (exc.strerror or type(exc).__name__) if isinstance(exc, OSError) else str(exc)


def read_manifest(directory: Path) -> Manifest:
    directory = Path(directory)
    path = directory / MANIFEST_FILE
    if not path.exists():
        raise IndexNotFoundError(f"no index at {directory.name!r}: build one with `kbsuggest index DIR`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(Manifest)}
        manifest = Manifest(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError, AttributeError) as exc:  # unreadable, not JSON, not an object
        raise IndexCorruptError(f"the index has not a valid manifest ({_reason(exc)}); rebuild the index") from None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(
            f"the index has format {manifest.format_version}, this kbsuggest reads {FORMAT_VERSION}; "
            f"rebuild it with `kbsuggest index DIR`")
    return manifest


def check_compatible(manifest: Manifest, model: str, dim: int, model_file: str = "") -> None:
    if manifest.model != model or manifest.dim != dim:
        raise IndexMismatchError(
            f"the index was built with model {manifest.model!r} (dim {manifest.dim}) but the configured embedder "
            f"is {model!r} (dim {dim}); rebuild with `kbsuggest index DIR` or set KBSUGGEST_EMBEDDER to the "
            f"model that built it")
    if manifest.model_file != model_file:
        raise IndexMismatchError(
            f"the index was built with model file {manifest.model_file!r} but the configured model file is "
            f"{model_file!r} (re-exported or replaced); rebuild with `kbsuggest index DIR` or set "
            f"KBSUGGEST_MODEL_PATH to the file that built it")


def load_vectors(directory: Path, manifest: Manifest):
    """The FAISS index of a snapshot, checked against its manifest."""
    try:
        index = _faiss().read_index(str(Path(directory) / INDEX_FILE))
    except RuntimeError as exc:
        # FAISS's message names its source file and ours: keep only what went wrong, never a server path
        reason = re.sub(r"(?:/[^\s:]+)+", "…", str(exc).strip().splitlines()[-1]) if str(exc).strip() else ""
        raise IndexCorruptError(f"cannot read the vectors of the index ({reason[-120:] or 'unreadable'}); "
                                f"rebuild the index") from None
    if index.ntotal != manifest.chunk_count or index.d != manifest.dim:
        raise IndexCorruptError(
            f"the index holds {index.ntotal} vectors of dim {index.d}, its manifest says {manifest.chunk_count} "
            f"of dim {manifest.dim}; rebuild the index")
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = HNSW_EF_SEARCH  # not stored in the file
    return index


def load_index(directory: Path, model: str, dim: int, model_file: str = ""):
    """(FAISS index, manifest) of a snapshot directory, after checking it was built by ``model``."""
    manifest = read_manifest(directory)
    check_compatible(manifest, model, dim, model_file)
    return load_vectors(directory, manifest), manifest


def single_query_threads() -> None:
    """One thread for FAISS (OpenMP) and for every BLAS library loaded, FAISS's own included (hence after
    importing it): a serving process computes small products for many requests at once, and two threads
    per product in several request threads took the HTTP p99 of 100 KBs from 41 ms to 2.6 s (measured by
    benchmarks/tenants.py)."""
    from threadpoolctl import threadpool_limits

    _faiss().omp_set_num_threads(1)
    threadpool_limits(1, "blas")


def storage_view(index) -> np.ndarray | None:
    """A read-only view, without a copy, of the vectors an HNSW index stores (None if its storage is not flat).
    Gathering a query's candidate chunks from it took a sixth of the query's time through reconstruct_batch
    (1.7 of 11 ms at 1,000 articles; /tmp profile of Suggester.suggest under load) and next to nothing here."""
    faiss = _faiss()
    storage = faiss.downcast_index(index.storage) if hasattr(index, "storage") else None
    if not isinstance(storage, faiss.IndexFlat) or index.ntotal == 0:
        return None
    view = faiss.rev_swig_ptr(storage.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    view.flags.writeable = False  # the index owns this memory; the snapshot keeps the index alive
    return view


def stored_vectors(index) -> np.ndarray:
    """All vectors of a flat or HNSW index, for reusing the embeddings of unchanged articles."""
    return index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)
