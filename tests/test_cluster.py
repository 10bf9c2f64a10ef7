"""The gap clustering on synthetic embeddings: the automatic cut finds the number of well-separated
topics, the same way every run, in direct and sampled mode; the explicit distance override still cuts
where it is told."""

import numpy as np
import pytest

from gaps.cluster import UNCLUSTERED, ClusterParams, cluster
from gaps.granularity import fitted_resolution, knn_graph, modularity


def blobs(count: int, seed: int = 0, sizes: tuple[int, int] = (6, 26), noise: float = 0.05,
          dim: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """``count`` well-separated topics of ``sizes`` tickets each (a range), unit vectors, rows shuffled."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(count, dim))
    sizes = rng.integers(*sizes, count)
    topic = np.repeat(np.arange(count), sizes)
    vectors = centres[topic] / np.linalg.norm(centres[topic], axis=1, keepdims=True)
    vectors = vectors + rng.normal(scale=noise, size=vectors.shape)
    order = rng.permutation(len(topic))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True))[order].astype(np.float32), topic[order]


def same_partition(labels: np.ndarray, topic: np.ndarray) -> bool:
    pairs = set(zip(labels.tolist(), topic.tolist()))
    return len(pairs) == len(set(labels.tolist())) == len(set(topic.tolist()))


@pytest.mark.parametrize("count", [2, 3, 5, 12, 30])
@pytest.mark.parametrize("seed", [0, 1])
def test_automatic_cut_finds_each_well_separated_topic(count, seed):
    vectors, topic = blobs(count, seed=seed)
    labels = cluster(vectors)
    assert (labels.max() + 1, int((labels == UNCLUSTERED).sum())) == (count, 0)
    assert same_partition(labels, topic)


def test_one_topic_alone_is_split():
    """Known limit: modularity always finds some split of a single blob's neighbour graph (15 rows: a
    3-neighbour graph since k is bounded by ln n on small sets, cut in 3)."""
    vectors, _ = blobs(1, seed=1)
    assert cluster(vectors).max() + 1 == 3


def test_automatic_cut_is_deterministic():
    vectors, _ = blobs(12, seed=7, noise=0.3)  # overlapping topics: ties and near-ties are resolved the same way
    assert np.array_equal(cluster(vectors), cluster(vectors.copy()))


@pytest.mark.parametrize("count", [5, 12, 30])
def test_sampled_mode_finds_the_same_topics(count):
    """Over ``direct_limit`` rows: a tree on a third of them, the rest joins within reach, the fringe
    left over folds back into its topic."""
    vectors, topic = blobs(count, seed=count, sizes=(40, 80))
    labels = cluster(vectors, ClusterParams(direct_limit=len(vectors) // 3))
    assert (labels.max() + 1, int((labels == UNCLUSTERED).sum())) == (count, 0)
    assert same_partition(labels, topic)


def angles(*degrees: float) -> np.ndarray:
    radians = np.radians(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32)


def test_explicit_distance_overrides_the_automatic_cut():
    # two pairs 5 degrees apart (cosine distance 0.004), 90 degrees between the pairs
    vectors = angles(0, 5, 90, 95)
    fixed = dict(min_size=2, attach_score=0.5)
    assert cluster(vectors, ClusterParams(distance_threshold=0.1, **fixed)).tolist() == [0, 0, 1, 1]
    assert cluster(vectors, ClusterParams(distance_threshold=1.5, **fixed)).tolist() == [0, 0, 0, 0]
    assert cluster(vectors, ClusterParams(distance_threshold=0.001, **fixed)).tolist() == [UNCLUSTERED] * 4


def test_an_outlier_joins_a_cluster_within_its_reach_or_the_explicit_score():
    """A pair is too small to be a gap; unset ``attach_score``: it joins only within the cluster's reach
    (its least close member, 2 degrees from the centre), explicit: at the given cosine (cos 60° = 0.5)."""
    vectors = angles(-2, -1, 0, 1, 2, 60, 61)
    assert cluster(vectors, ClusterParams(distance_threshold=0.01)).tolist() == [0] * 5 + [UNCLUSTERED] * 2
    assert cluster(vectors, ClusterParams(distance_threshold=0.01, attach_score=0.4)).tolist() == [0] * 7


def test_modularity_and_fitted_resolution_of_two_joined_triangles():
    # triangles 0-1-2 and 3-4-5 joined by the edge 2-3: 7 edges, 6 inside
    edges = (np.array([0, 0, 1, 3, 3, 4, 2]), np.array([1, 2, 2, 4, 5, 5, 3]))
    halves = np.array([0, 0, 0, 1, 1, 1])
    assert modularity(edges, halves) == pytest.approx(6 / 7 - 0.5)
    within, between = (6 / 7) / 0.5, (1 / 7) / 0.5
    assert fitted_resolution(edges, halves) == pytest.approx((within - between) / np.log(within / between))
    apart = (np.array([0, 0, 1, 3, 3, 4]), np.array([1, 2, 2, 4, 5, 5]))
    assert fitted_resolution(apart, halves) is None  # no edge between the groups: any resolution fits


def test_knn_graph_lists_each_undirected_edge_once():
    vectors = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.14, 0.99]], dtype=np.float32)
    a, b = knn_graph(vectors, 1)
    assert sorted(zip(a.tolist(), b.tolist())) == [(0, 1), (2, 3)]
