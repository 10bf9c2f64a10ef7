"""Group the uncovered tickets' embeddings into candidate gaps, without being told how many there are.

Average-linkage agglomerative clustering on cosine distance, cut at a distance threshold: a gap is a
set of tickets whose mean pairwise similarity stays above ``1 - threshold``, so the number of gaps
follows from the data. Beyond ``direct_limit`` tickets (the pairwise matrix is O(n²)), MiniBatchKMeans
first summarizes them into micro-clusters of a few tickets each and the linkage runs on their centres.
Clusters smaller than ``min_size`` are outliers; a second pass attaches each outlier to the nearest
cluster centre when it is at least ``attach_score`` similar, and the rest stay unclustered (-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNCLUSTERED = -1


@dataclass(frozen=True)
class ClusterParams:
    distance_threshold: float = 0.4  # cosine distance where the average-linkage tree is cut
    min_size: int = 3  # smaller groups are outliers, not gaps
    attach_score: float = 0.5  # cosine to a cluster centre for an outlier to join it
    direct_limit: int = 8000  # above this many tickets, cluster micro-cluster centres instead
    tickets_per_micro: int = 5
    seed: int = 0


def _normalized(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _linkage(vectors: np.ndarray, threshold: float) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, linkage="average",
                                    metric="cosine")
    return model.fit(vectors).labels_


def _first_pass(vectors: np.ndarray, params: ClusterParams) -> np.ndarray:
    if len(vectors) <= params.direct_limit:
        return _linkage(vectors, params.distance_threshold)
    from sklearn.cluster import MiniBatchKMeans

    micro = MiniBatchKMeans(len(vectors) // params.tickets_per_micro, random_state=params.seed,
                            batch_size=4096, n_init=1).fit(vectors)
    return _linkage(_normalized(micro.cluster_centers_), params.distance_threshold)[micro.labels_]


def centroids(vectors: np.ndarray, labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Unit-length mean vector of each cluster in ``ids`` (in that order)."""
    sums = np.zeros((int(labels.max()) + 1, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, labels[labels >= 0], vectors[labels >= 0])
    return _normalized(sums[ids]).astype(np.float32)


def cluster(vectors: np.ndarray, params: ClusterParams = ClusterParams()) -> np.ndarray:
    """One label per row (0..k-1, ordered by cluster size, largest first) or ``UNCLUSTERED``."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) == 0:
        return np.zeros(0, dtype=np.int64)
    raw = _first_pass(vectors, params)
    sizes = np.bincount(raw)
    kept = np.flatnonzero(sizes >= params.min_size)
    labels = np.where(sizes[raw] >= params.min_size, raw, UNCLUSTERED)
    outliers = np.flatnonzero(labels == UNCLUSTERED)
    if len(kept) and len(outliers):  # second pass: attach outliers where they plausibly belong
        similarity = vectors[outliers] @ centroids(vectors, labels, kept).T
        best = similarity.argmax(axis=1)
        close = similarity[np.arange(len(outliers)), best] >= params.attach_score
        labels[outliers[close]] = kept[best[close]]
    # renumber by size so label 0 is the biggest cluster (stable for equal sizes)
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = ids[np.lexsort((ids, -counts))]
    remap = np.full(int(raw.max()) + 1, UNCLUSTERED, dtype=np.int64)
    remap[order] = np.arange(len(order))
    return np.where(labels >= 0, remap[np.maximum(labels, 0)], UNCLUSTERED)
