"""Group the uncovered tickets' embeddings into candidate gaps, without being told how many there are.

Automatic (the default): a Ward tree on the unit vectors (squared distance = 2 - 2 cos), cut where
the partition's modularity on the tickets' nearest-neighbour graph is highest, at a resolution fitted
to the same data (gaps/granularity.py): the number of gaps follows each run's tickets. Explicit
(``distance_threshold`` set): the average-linkage tree cut at that cosine distance, the same
granularity for every data set.
Beyond ``direct_limit`` tickets (the pairwise matrix is O(n²)) the tree is built on a random sample
and every ticket within reach of the nearest of its clusters (see ``radii``) joins it; the tickets
left over are linked again, so rarer topics surface in later rounds, while a cluster of leftovers
that is only the fringe of an earlier cluster joins it (``_fold_fringes``).
Clusters smaller than ``min_size`` are outliers; a second pass attaches each outlier to the nearest
cluster when within its reach (or at least ``attach_score`` similar, when set); the rest stay
unclustered (-1). No constant of the automatic mode is a cosine: the cut, the resolution and the
reach come from each run's tickets; only the graph's ``neighbours`` was chosen, leave one data set
out (benchmarks/mining_lodo.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaps.granularity import best_cut

UNCLUSTERED = -1
_BLOCK = 16384  # rows per matrix product when scoring many tickets against the centres


@dataclass(frozen=True)
class ClusterParams:
    distance_threshold: float | None = None  # cosine distance of a fixed average-linkage cut; None: chosen per run
    min_size: int = 3  # smaller groups are outliers, not gaps
    attach_score: float | None = None  # cosine to a centre for an outlier to join; None: the cluster's reach
    direct_limit: int = 6000  # above this many tickets, link a sample and assign the rest (O(n²) memory)
    seed: int = 0
    neighbours: int = 5  # k of the neighbour graph the cut is scored on (chosen leave-one-dataset-out)
    scored: int = 2000  # rows of that graph: a fixed size, so the granularity does not drift with n


def _normalized(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _linkage(vectors: np.ndarray, params: ClusterParams) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    unit = _normalized(vectors)
    distance = unit @ unit.T  # BLAS and in place, not pdist's loop: 6,000 rows take 0.3 s, not 3 s
    np.subtract(1.0, distance, out=distance)
    np.maximum(distance, 0.0, out=distance)
    np.fill_diagonal(distance, 0.0)
    cosine = squareform(distance, checks=False).astype(np.float64)
    del distance
    if params.distance_threshold is not None:
        return fcluster(linkage(cosine, "average"), params.distance_threshold, "distance").astype(np.int64) - 1
    tree = linkage(np.sqrt(2.0 * cosine), "ward")  # the Euclidean distance of unit vectors
    return best_cut(unit, tree, params.min_size, params.neighbours, params.scored, params.seed)


def _nearest(vectors: np.ndarray, rows: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of, and cosine to, the nearest centre of each of ``rows`` (in blocks, to bound memory)."""
    best, score = np.zeros(len(rows), dtype=np.int64), np.full(len(rows), -1.0, dtype=np.float32)
    for start in range(0, len(rows), _BLOCK):
        similarity = vectors[rows[start:start + _BLOCK]] @ centres.T
        best[start:start + _BLOCK] = similarity.argmax(axis=1)
        score[start:start + _BLOCK] = similarity.max(axis=1)
    return best, score


def _kept(labels: np.ndarray, min_size: int, below: int | None = None) -> np.ndarray:
    """Labels (>= 0, and < ``below`` when given) of the clusters with at least ``min_size`` rows."""
    counts = np.bincount(labels[labels >= 0], minlength=1)
    kept = np.flatnonzero(counts >= min_size)
    return kept if below is None else kept[kept < below]


def centroids(vectors: np.ndarray, labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Unit-length mean vector of each cluster in ``ids`` (ascending), in that order."""
    from scipy.sparse import csr_matrix

    rows = np.flatnonzero(np.isin(labels, ids))
    members = csr_matrix((np.ones(len(rows), dtype=np.float32), (np.searchsorted(ids, labels[rows]), rows)),
                         shape=(len(ids), len(vectors)))
    return _normalized(np.asarray(members @ vectors, dtype=np.float64)).astype(np.float32)  # not np.add.at: ~50x faster


def radii(vectors: np.ndarray, labels: np.ndarray, ids: np.ndarray, centres: np.ndarray,
          params: ClusterParams) -> np.ndarray:
    """How close a ticket must be to each centre in ``ids`` to join it: the explicit ``attach_score``,
    else the cluster's reach, the cosine of its least close member to the centre (a ticket within
    reach does not widen the cluster)."""
    if params.attach_score is not None:
        return np.full(len(ids), params.attach_score, dtype=np.float32)
    members = np.flatnonzero(np.isin(labels, ids))
    position = np.searchsorted(ids, labels[members])
    own = np.concatenate([np.einsum("ij,ij->i", vectors[members[i:i + _BLOCK]], centres[position[i:i + _BLOCK]])
                          for i in range(0, len(members), _BLOCK)] or [np.zeros(0)])
    reach = np.full(len(ids), np.inf, dtype=np.float32)
    np.minimum.at(reach, position, own)
    return reach


def _fold_fringes(vectors: np.ndarray, labels: np.ndarray, new: np.ndarray, first: int,
                  params: ClusterParams) -> np.ndarray:
    """Clusters of leftover tickets (``new``) that are the fringe of earlier clusters (labels < ``first``)
    join them: one whose centre lies within reach of an earlier cluster joins that one; one whose
    tickets are on average closer to earlier centres than to their own is split among the nearest
    earlier clusters. Returns the clusters still new."""
    old = _kept(labels, params.min_size, below=first)
    if len(old) == 0 or len(new) == 0:
        return new
    centres, own = centroids(vectors, labels, old), centroids(vectors, labels, new)
    nearest, score = _nearest(own, np.arange(len(new)), centres)
    within = score >= radii(vectors, labels, old, centres, params)[nearest]
    rows = np.flatnonzero(np.isin(labels, new))
    position = np.searchsorted(new, labels[rows])
    closest, to_old = _nearest(vectors, rows, centres)
    to_own = np.einsum("ij,ij->i", vectors[rows], own[position])
    loose = np.bincount(position, to_old - to_own, len(new)) >= 0
    labels[rows[loose[position]]] = old[closest[loose[position]]]
    remap = np.arange(int(labels.max()) + 1)
    remap[new[within & ~loose]] = old[nearest[within & ~loose]]
    labels[labels >= 0] = remap[labels[labels >= 0]]
    return new[~within & ~loose]


def _first_pass(vectors: np.ndarray, params: ClusterParams, max_rounds: int = 6) -> np.ndarray:
    """Tree labels for every row: one tree on all rows up to ``direct_limit``, else rounds of a tree on
    a sample of the rows not yet clustered, whose clusters take the rows within their reach."""
    labels = np.full(len(vectors), UNCLUSTERED, dtype=np.int64)
    rng = np.random.default_rng(params.seed)
    pool = np.arange(len(vectors))
    for _ in range(max_rounds):
        sample = np.sort(rng.choice(pool, params.direct_limit, replace=False)) if len(pool) > params.direct_limit else pool
        first = int(labels.max()) + 1
        labels[sample] = _linkage(vectors[sample], params) + first
        found = _kept(labels, params.min_size)
        new = _fold_fringes(vectors, labels, found[found >= first], first, params)
        rest = np.setdiff1d(pool, sample, assume_unique=True)
        if len(rest) == 0 or len(new) == 0:
            break
        centres = centroids(vectors, labels, new)
        best, score = _nearest(vectors, rest, centres)
        joined = score >= radii(vectors, labels, new, centres, params)[best]
        labels[rest[joined]] = new[best[joined]]
        pool = rest[~joined]
    return labels  # rows still in the pool after the last round stay outliers


def cluster(vectors: np.ndarray, params: ClusterParams = ClusterParams()) -> np.ndarray:
    """One label per row (0..k-1, ordered by cluster size, largest first) or ``UNCLUSTERED``."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) == 0:
        return np.zeros(0, dtype=np.int64)
    raw = _first_pass(vectors, params)
    kept = _kept(raw, params.min_size)
    labels = np.where(np.isin(raw, kept), raw, UNCLUSTERED)
    outliers = np.flatnonzero(labels == UNCLUSTERED)
    if len(kept) and len(outliers):  # second pass: attach outliers where they plausibly belong
        centres = centroids(vectors, labels, kept)
        best, score = _nearest(vectors, outliers, centres)
        close = score >= radii(vectors, labels, kept, centres, params)[best]
        labels[outliers[close]] = kept[best[close]]
    # renumber by size so label 0 is the biggest cluster (stable for equal sizes)
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = ids[np.lexsort((ids, -counts))]
    remap = np.full(max(int(raw.max()) + 1, 1), UNCLUSTERED, dtype=np.int64)
    remap[order] = np.arange(len(order))
    return np.where(labels >= 0, remap[np.maximum(labels, 0)], UNCLUSTERED)
