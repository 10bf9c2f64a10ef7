"""The one owner of the on-disk index format.

An index directory holds ``faiss.index`` (inner product over L2-normalized vectors, so scores are
cosine similarities), ``kb.db`` (article and chunk metadata, row i = FAISS vector i) and
``manifest.json`` (what built it). A directory is written aside and swapped into place, so a reader
never sees half an index.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from kbsuggest import __version__
from kbsuggest.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError

FORMAT_VERSION = 1
INDEX_FILE = "faiss.index"
MANIFEST_FILE = "manifest.json"
KB_FILE = "kb.db"


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
    format_version: int = FORMAT_VERSION
    kbsuggest_version: str = __version__
    created_at: str = ""
    extra: dict = field(default_factory=dict)


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


@contextmanager
def staged_index_dir(target: Path) -> Iterator[Path]:
    """Yield an empty directory beside ``target``; on success it replaces ``target`` in two renames."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def write_index(directory: Path, vectors: np.ndarray, manifest: Manifest) -> None:
    faiss = _faiss()
    faiss.write_index(build_faiss_index(vectors, manifest.index_type), str(directory / INDEX_FILE))
    (directory / MANIFEST_FILE).write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")


def read_manifest(directory: Path) -> Manifest:
    directory = Path(directory)
    path = directory / MANIFEST_FILE
    if not path.exists():
        raise IndexNotFoundError(f"no index at {str(directory)!r}: build one with `kbsuggest index DIR`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (ValueError, TypeError) as exc:
        raise IndexCorruptError(f"{str(path)!r} is not a valid manifest ({exc}); rebuild the index") from None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(
            f"index at {str(directory)!r} has format {manifest.format_version}, this kbsuggest reads "
            f"{FORMAT_VERSION}; rebuild it with `kbsuggest index DIR`"
        )
    return manifest


def check_compatible(manifest: Manifest, model: str, dim: int, directory: Path, model_file: str = "") -> None:
    if manifest.model != model or manifest.dim != dim:
        raise IndexMismatchError(
            f"index at {str(directory)!r} was built with model {manifest.model!r} (dim {manifest.dim}) but the "
            f"configured embedder is {model!r} (dim {dim}); rebuild with `kbsuggest index DIR` "
            f"or set KBSUGGEST_EMBEDDER to the model that built it"
        )
    if manifest.model_file != model_file:
        raise IndexMismatchError(
            f"index at {str(directory)!r} was built with model file {manifest.model_file!r} but the configured "
            f"model file is {model_file!r} (re-exported or replaced); rebuild with `kbsuggest index DIR` "
            f"or set KBSUGGEST_MODEL_PATH to the file that built it"
        )


def load_index(directory: Path, model: str, dim: int, model_file: str = ""):
    """Load the FAISS index of ``directory`` after checking it was built by ``model`` (and ``model_file``)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    check_compatible(manifest, model, dim, directory, model_file)
    try:
        index = _faiss().read_index(str(directory / INDEX_FILE))
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
        raise IndexCorruptError(f"cannot read {str(directory / INDEX_FILE)!r}: {reason}; rebuild the index") from None
    if index.ntotal != manifest.chunk_count or index.d != manifest.dim:
        raise IndexCorruptError(
            f"index at {str(directory)!r} holds {index.ntotal} vectors of dim {index.d}, its manifest says "
            f"{manifest.chunk_count} of dim {manifest.dim}; rebuild the index"
        )
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = HNSW_EF_SEARCH  # not stored in the file
    return index, manifest


def single_query_threads() -> None:
    """One OpenMP thread for FAISS: a serving process searches one query at a time, and two are slower."""
    _faiss().omp_set_num_threads(1)


def stored_vectors(index) -> np.ndarray:
    """All vectors of a flat or HNSW index, for reusing the embeddings of unchanged articles."""
    return index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)
