"""A loaded snapshot: one version of one KB, immutable once loaded.

Everything is checked at load (manifest, model identity, vector count, chunk order rule), so a bad
index is a clear ``IndexCorruptError``/``IndexMismatchError`` at load time, never a failed request.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kbsuggest.domain import ArticleInfo
from kbsuggest.index import kbdb
from kbsuggest.index.format import (Manifest, check_compatible, load_centroids, load_vectors, read_calibration,
                                    read_manifest, storage_view, stored_vectors)
from kbsuggest.index.versions import resolve


@dataclass(frozen=True, eq=False)
class Snapshot:
    kb: str
    version: str  # the version directory's name ("v000007"; the directory name for a bare snapshot)
    manifest: Manifest
    index: object | None  # the FAISS HNSW index; None for a flat one (its vectors are in ``vectors``)
    articles: list[ArticleInfo]  # sorted by id
    chunk_article: np.ndarray  # (n_chunks,) int32 article position, grouped (chunk order rule)
    starts: np.ndarray  # (n_articles,) first chunk of each article = its title chunk
    counts: np.ndarray  # (n_articles,) chunks per article
    anchors: list[str]
    headings: list[str]
    bodies: list[str]
    vectors: np.ndarray | None  # (n_chunks, dim) in memory for flat indexes; None for HNSW (ask the index)
    calibration: dict | None  # the snapshot's calibration.json, None for the packaged default
    centroid_index: object | None = None  # HNSW over article centroids (HNSW snapshots; format.py)
    storage: np.ndarray | None = None  # the HNSW index's own vectors, viewed in place (format.storage_view)

    @property
    def size(self) -> int:
        return len(self.articles)

    def chunk_vectors(self, rows: np.ndarray) -> np.ndarray:
        """Vectors of the given chunk rows (from memory, or the HNSW index's storage)."""
        if self.vectors is not None:
            return self.vectors[rows]
        if self.storage is not None:
            return self.storage[rows]
        if len(rows) == 0:
            return np.zeros((0, self.manifest.dim), np.float32)
        return self.index.reconstruct_batch(np.ascontiguousarray(rows, dtype=np.int64))

    def memory_bytes(self) -> int:
        """Approximate memory held: vectors, HNSW links, metadata strings and their objects."""
        n, dim = self.manifest.chunk_count, self.manifest.dim
        vectors = n * dim * 4
        links = n * 2 * 32 * 4 if self.vectors is None else 0
        if self.centroid_index is not None:
            links += len(self.articles) * (dim * 4 + 2 * 32 * 4)
        text = sum(map(len, self.bodies)) + sum(map(len, self.headings)) + sum(map(len, self.anchors))
        return vectors + links + text + 200 * n + 600 * len(self.articles)


def load_snapshot(path: Path, model: str, dim: int, model_file: str = "", kb: str = "default") -> Snapshot:
    """Load the snapshot at ``path`` (a KB directory, whose current version is read, or a snapshot directory)."""
    directory = resolve(path)
    manifest = read_manifest(directory)
    check_compatible(manifest, model, dim, model_file)
    index = load_vectors(directory, manifest)
    rows = kbdb.read(directory, index.ntotal)
    n = len(rows.articles)
    counts = np.bincount(rows.chunk_article, minlength=n).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    vectors = stored_vectors(index) if manifest.index_type == "flat" else None  # the build's choice
    if vectors is not None:
        index = None  # a flat index is one matrix product over ``vectors``: no need to hold it twice
    return Snapshot(kb, directory.name, manifest, index, rows.articles, rows.chunk_article, starts, counts,
                    rows.anchors, rows.headings, rows.bodies, vectors, read_calibration(directory),
                    load_centroids(directory, n) if vectors is None else None,
                    storage_view(index) if vectors is None else None)
