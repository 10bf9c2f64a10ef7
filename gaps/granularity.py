"""How many gaps: the cut of the Ward tree chosen per run, from the tickets themselves.

Each candidate cut of the tree (1 .. n / min_size clusters) is scored by its modularity on the
tickets' k-nearest-neighbour graph. Modularity weighs both ways: splitting a topic cuts neighbour
edges, lumping topics together raises the share of edges expected inside by chance. How much the
chance term weighs (the resolution) is itself fitted to the data: modularity at resolution γ is the
maximum-likelihood fit of a degree-corrected planted-partition model whose in- and out-group edge
rates give back γ (Newman 2016, "Equivalence between modularity optimization and maximum likelihood
methods for community detection"), so γ and the cut are iterated to a fixed point, starting at 1.
Silhouette, bootstrap stability, the gap statistic and the largest jump in merge heights were tried
on the leave-one-dataset-out sets: on ticket-like text they rise or fall monotonically with the
number of clusters and name no cut; a constant γ > 1 splits a set with few topics (its partitions
all score below zero).
"""

from __future__ import annotations

import numpy as np

Edges = tuple[np.ndarray, np.ndarray]  # ends of each undirected edge, once


def knn_graph(vectors: np.ndarray, neighbours: int) -> Edges:
    """Symmetric k-nearest-neighbour graph of unit ``vectors`` on cosine similarity."""
    n = len(vectors)
    k = min(neighbours, n - 1)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k].ravel()
    rows = np.repeat(np.arange(n), k)
    pairs = np.unique(np.minimum(rows, nearest) * n + np.maximum(rows, nearest))  # a mutual pair is one edge
    return pairs // n, pairs % n


def _groups(edges: Edges, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Share of edges inside a group, and each group's share of the degrees (an unclustered row, label
    -1, is a group of its own)."""
    a, b = edges
    labels = np.where(labels >= 0, labels, labels.max(initial=0) + 1 + np.arange(len(labels)))
    degree = np.bincount(a, minlength=len(labels)) + np.bincount(b, minlength=len(labels))
    return float(np.mean(labels[a] == labels[b])), np.bincount(labels, degree) / (2 * len(a))


def modularity(edges: Edges, labels: np.ndarray, resolution: float = 1.0) -> float:
    inside, share = _groups(edges, labels)
    return inside - resolution * float((share ** 2).sum())


def fitted_resolution(edges: Edges, labels: np.ndarray) -> float | None:
    """Newman's γ = (ω_in - ω_out) / (ln ω_in - ln ω_out) for the partition ``labels``, ω being the
    observed over the expected edge rate inside and between groups; None when no edge runs between
    groups (the partition is perfectly separated: any γ fits it)."""
    inside, share = _groups(edges, labels)
    expected = float((share ** 2).sum())
    if inside >= 1.0 or expected <= 0.0 or inside <= 0.0:
        return None
    within, between = inside / expected, (1.0 - inside) / (1.0 - expected)
    return float((within - between) / (np.log(within) - np.log(between))) if within != between else None


def candidate_counts(n: int, min_size: int, step: float = 1.02) -> np.ndarray:
    """Cluster counts to try: every count up to 50, then a geometric grid (2 % apart) up to n / min_size."""
    top = max(1, n // min_size)
    dense = np.arange(1, min(top, 50) + 1)
    sparse = np.geomspace(50, top, int(np.log(top / 50) / np.log(step)) + 2) if top > 50 else np.zeros(0)
    return np.unique(np.concatenate([dense, sparse.astype(np.int64)]))


def _cuts(tree: np.ndarray, n: int, min_size: int):
    from scipy.cluster.hierarchy import fcluster

    for count in candidate_counts(n, min_size):
        yield fcluster(tree, count, "maxclust").astype(np.int64) - 1


def small_set_neighbours(n: int, neighbours: int, min_size: int) -> int:
    """The graph's k for ``n`` rows: ``neighbours``, but no more than ln n (about what a k-nearest-neighbour
    graph needs to stay connected) on small sets, and no fewer than ``min_size - 1`` (a smallest gap's members
    can then all be each other's neighbours). On a few dozen tickets, 5 neighbours each are more than most
    topics have members, so every topic's tickets must link into others and the best cut lumps them; from 149
    rows on (ln n >= 5) this is ``neighbours`` itself, so no leave-one-out set (328 to 3,080 rows) changes."""
    return int(min(neighbours, max(min_size - 1, np.floor(np.log(max(n, 2))))))


def best_cut(vectors: np.ndarray, tree: np.ndarray, min_size: int, neighbours: int,
             scored: int = 2000, seed: int = 0, rounds: int = 20) -> np.ndarray:
    """Labels (0..k-1) of the cut of ``tree`` (a scipy linkage of unit ``vectors``) with the highest
    modularity at the fitted resolution; clusters smaller than ``min_size`` count as unclustered rows.
    The graph is built on at most ``scored`` rows (a seeded sample): a denser graph of more rows would
    favour finer cuts, so a fixed size keeps the granularity from drifting with the number of tickets."""
    rows = np.arange(len(vectors))
    if len(rows) > scored:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), scored, replace=False))
    edges = knn_graph(vectors[rows], small_set_neighbours(len(rows), neighbours, min_size))
    full, cuts = [], []
    for labels in _cuts(tree, len(vectors), min_size):
        full.append(labels)
        cuts.append(np.where(np.bincount(labels)[labels] >= min_size, labels, -1)[rows])
    resolution, chosen = 1.0, []
    for _ in range(rounds):  # to the fixed point: the cut chosen at γ gives back γ
        best = int(np.argmax([modularity(edges, cut, resolution) for cut in cuts]))
        if best in chosen:
            break
        chosen.append(best)
        fitted = fitted_resolution(edges, cuts[best])
        if fitted is None:
            break
        resolution = fitted
    return full[best]
