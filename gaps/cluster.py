"""Group the uncovered tickets' embeddings into candidate gaps, without being told how many there are.

Average-linkage agglomerative clustering on cosine distance, cut at a distance threshold: a gap is a
set of tickets whose mean pairwise similarity stays above ``1 - threshold``, so the number of gaps
follows from the data. Beyond ``direct_limit`` tickets (the pairwise matrix is O(n²)), the linkage
runs on a random sample, every ticket close to a centre of the sample's clusters joins it, and the
rest is sampled again, so rarer topics surface in later rounds.
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
    direct_limit: int = 6000  # above this many tickets, link a sample and assign the rest (O(n²) memory)
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


def _nearest(vectors: np.ndarray, centres: np.ndarray, block: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """Index of, and cosine to, the nearest centre of each row (in blocks, to bound memory)."""
    best, score = np.zeros(len(vectors), dtype=np.int64), np.full(len(vectors), -1.0, dtype=np.float32)
    for start in range(0, len(vectors), block):
        similarity = vectors[start:start + block] @ centres.T
        best[start:start + block] = similarity.argmax(axis=1)
        score[start:start + block] = similarity.max(axis=1)
    return best, score


def _first_pass(vectors: np.ndarray, params: ClusterParams, max_rounds: int = 6) -> np.ndarray:
    """Linkage labels for every row. Large inputs: link a random sample, give every row close to one of
    its clusters' centres that cluster, and repeat on the rows left over (rarer topics surface there)."""
    labels = np.full(len(vectors), UNCLUSTERED, dtype=np.int64)
    pool, rng, next_label = np.arange(len(vectors)), np.random.default_rng(params.seed), 0
    for _ in range(max_rounds):
        if len(pool) <= params.direct_limit:
            labels[pool] = _linkage(vectors[pool], params.distance_threshold) + next_label
            return labels
        sample = np.sort(rng.choice(pool, params.direct_limit, replace=False))
        found = _linkage(vectors[sample], params.distance_threshold)
        kept = np.flatnonzero(np.bincount(found) >= params.min_size)
        if len(kept) == 0:
            break
        best, score = _nearest(vectors[pool], centroids(vectors[sample], found, kept))
        joined = score >= params.attach_score
        labels[pool[joined]] = best[joined] + next_label
        next_label += len(kept)
        pool = pool[~joined]
    return labels  # rows still in the pool after the last round stay outliers


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
    sizes = np.bincount(raw[raw >= 0], minlength=int(raw.max()) + 1)
    kept = np.flatnonzero(sizes >= params.min_size)
    labels = np.where((raw >= 0) & (sizes[np.maximum(raw, 0)] >= params.min_size), raw, UNCLUSTERED)
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
