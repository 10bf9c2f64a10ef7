"""Gap mining, leave one data set out (``python benchmarks/mining.py --part lodo``).

Data sets: BANKING77 test (77 intents) and the three HINT3 bots' train files (sofmattress 21,
curekart 28, powerplay11 57; HINT3's NO_NODES_DETECTED label would be dropped as noise, but the v2
train files have none). The automatic cut's one constant, ClusterParams.neighbours (k of the
neighbour graph), is chosen on the other three data sets for each held-out one: it must keep clusters
<= 2x intents and unclustered <= 15% on all three, and of those the highest mean NMI wins.
Beside it, same embeddings, same run: today's fixed cut (average linkage at cosine distance 0.4,
attach 0.5), KMeans told the true k, and HDBSCAN with BERTopic's defaults (UMAP to 5 dimensions, 15
neighbours, min_dist 0, cosine; min_cluster_size 10, Euclidean, 'eom'). Unclustered tickets count as
one more label in NMI and ARI (HDBSCAN's noise likewise). The four sets are under 6,000 rows, so the
job clusters them in one tree; the sampled path (over 6,000) is checked on BANKING77 train + test
(13,083 rows) against one tree on all of them, and timed on 1,000,000 vectors.
"""

from __future__ import annotations

import csv
import itertools
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from embed_cache import cached_encode
from gaps.cluster import ClusterParams, centroids, cluster, radii
from gaps.describe import ctfidf_keywords

NOISE_LABEL = "NO_NODES_DETECTED"  # HINT3's "no intent": noise, not a topic (absent from the v2 train files)
GRID = {"neighbours": (5, 7, 10, 15, 20)}  # the usual range of k for neighbour graphs (UMAP, scanpy: 15)


def load(data: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    sets = {}
    banking = data / "banking77" / "test.csv"
    if banking.exists():
        rows = list(csv.DictReader(open(banking, encoding="utf-8")))
        sets["banking77"] = ([r["text"] for r in rows], np.array([r["category"] for r in rows]))
    for bot in ("sofmattress", "curekart", "powerplay11"):
        path = data / "hint3" / f"{bot}_train.csv"
        if path.exists():
            rows = [r for r in csv.DictReader(open(path, encoding="utf-8")) if r["label"] != NOISE_LABEL]
            sets[bot] = ([r["sentence"] for r in rows], np.array([r["label"] for r in rows]))
    return sets


def score(gold: np.ndarray, labels: np.ndarray) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    found = len(set(labels[labels >= 0].tolist()))
    return {"nmi": normalized_mutual_info_score(gold, labels), "ari": adjusted_rand_score(gold, labels),
            "clusters": found, "unclustered": float(np.mean(labels < 0)), "ratio": found / len(set(gold))}


def feasible(row: dict) -> bool:
    return row["ratio"] <= 2.0 and row["unclustered"] <= 0.15


def choose(table: dict, configs: list[dict], names: list[str]) -> dict:
    """The first config of the grid that is feasible everywhere in ``names`` with the highest mean NMI."""
    def key(i: int):
        rows = [table[i, name] for name in names]
        return all(feasible(r) for r in rows), np.mean([r["nmi"] for r in rows])
    return configs[max(range(len(configs)), key=key)]


def hdbscan_bertopic(vectors: np.ndarray) -> tuple[np.ndarray, str]:
    from sklearn.cluster import HDBSCAN

    try:
        import umap
    except ImportError:
        reduced, how = vectors, "HDBSCAN on the raw embeddings (umap-learn is not installed)"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reduced = umap.UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                                random_state=42).fit_transform(vectors)
        how = "UMAP(5, 15, 0.0, cosine) + HDBSCAN(10, euclidean, eom)"
    labels = HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom").fit_predict(reduced)
    return labels, how


def merge_check(texts: list[str], gold: np.ndarray, vectors: np.ndarray, labels: np.ndarray) -> str:
    """The merge pass we did not keep: cluster pairs where one centre is within the other's reach (see
    gaps.cluster.radii) and that share a top-2 c-TF-IDF keyword; how many of them are one intent."""
    ids = np.arange(labels.max() + 1)
    centres = centroids(vectors, labels, ids)
    reach = radii(vectors, labels, ids, centres, ClusterParams())
    close = centres @ centres.T >= np.minimum.outer(reach, reach)
    words = ctfidf_keywords([" ".join(t for t, l in zip(texts, labels) if l == k) for k in ids])
    major = [Counter(gold[labels == k]).most_common(1)[0][0] for k in ids]
    pairs = [(i, j) for i, j in itertools.combinations(ids, 2) if close[i, j] and set(words[i][:2]) & set(words[j][:2])]
    return f"{len(pairs)} candidate merges, {sum(major[i] == major[j] for i, j in pairs)} of them within one intent"


def lodo(data: Path, embedder) -> None:
    from sklearn.cluster import KMeans

    sets = load(data)
    if len(sets) < 2:
        print(f"skipped: fewer than two of the lodo data sets under {data}")
        return
    vectors = {name: cached_encode(embedder, texts) for name, (texts, _) in sets.items()}
    configs = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    table, started = {}, time.perf_counter()
    for (i, config), name in itertools.product(enumerate(configs), sets):
        table[i, name] = score(sets[name][1], cluster(vectors[name], ClusterParams(**config)))
    grid_seconds = time.perf_counter() - started
    print(f"\nLeave one data set out: {', '.join(f'{n} ({len(t)} texts, {len(set(g))} intents)' for n, (t, g) in sets.items())}; "
          f"embedder {embedder.name}; {len(configs)} settings x {len(sets)} sets in {grid_seconds:.0f} s")
    for i, config in enumerate(configs):
        print(f"  {', '.join(f'{k}={v}' for k, v in config.items())}: " + "; ".join(
            f"{name} NMI {table[i, name]['nmi']:.3f}, {table[i, name]['clusters']} clusters" for name in sets))
    print(f"{'held out / method':<44} {'NMI':>6} {'ARI':>6} {'clusters':>12} {'unclustered':>11} {'s':>6}")
    for name, (texts, gold) in sets.items():
        chosen = choose(table, configs, [n for n in sets if n != name])
        params = ClusterParams(**chosen)
        started = time.perf_counter()
        labels = cluster(vectors[name], params)
        rows = [("automatic (kbsuggest now)", score(gold, labels), time.perf_counter() - started)]
        merges = merge_check(texts, gold, vectors[name], labels)
        started = time.perf_counter()
        fixed = cluster(vectors[name], ClusterParams(0.4, attach_score=0.5))
        rows.append(("fixed cut 0.4 (before)", score(gold, fixed), time.perf_counter() - started))
        started = time.perf_counter()
        told = KMeans(len(set(gold)), n_init=10, random_state=0).fit_predict(vectors[name])
        rows.append(("KMeans told k", score(gold, told), time.perf_counter() - started))
        started = time.perf_counter()
        labels, how = hdbscan_bertopic(vectors[name])
        rows.append(("HDBSCAN, BERTopic defaults", score(gold, labels), time.perf_counter() - started))
        print(f"{name} (chosen on the others: {', '.join(f'{k}={v}' for k, v in chosen.items())})")
        for label, row, seconds in rows:
            print(f"  {label:<42} {row['nmi']:>6.3f} {row['ari']:>6.3f} {row['clusters']:>5} / {len(set(gold)):<4}"
                  f" {row['unclustered']:>11.1%} {seconds:>6.1f}")
        print(f"  merge pass (centres close, keywords agree): {merges}")
    print(f"HDBSCAN: {how}")
    print(f"chosen on all {len(sets)} sets (the ClusterParams defaults): "
          + ", ".join(f"{k}={v}" for k, v in choose(table, configs, list(sets)).items()))
    print("targets (held out, every set): NMI >= 0.80, clusters <= 2x intents, unclustered <= 15%, better than HDBSCAN")
    sampled_path(data, embedder)


def sampled_path(data: Path, embedder, scale: int = 1_000_000) -> None:
    """The path beyond ``direct_limit``: BANKING77 train + test in one tree vs a 6,000-row sample (the
    default), then ``scale`` vectors (those embeddings resampled, with noise) timed."""
    import resource

    rows = [r for part in ("train", "test") for r in csv.DictReader(open(data / "banking77" / f"{part}.csv", encoding="utf-8"))]
    gold = np.array([r["category"] for r in rows])
    vectors = cached_encode(embedder, [r["text"] for r in rows])
    print(f"\nSampled path, BANKING77 train + test ({len(rows):,} texts, 77 intents):")
    for label, params in (("one tree on all rows", ClusterParams(direct_limit=len(rows))),
                          ("tree on 6,000, rest assigned (default)", ClusterParams())):
        started = time.perf_counter()
        row = score(gold, cluster(vectors, params))
        print(f"  {label:<42} {row['nmi']:>6.3f} {row['ari']:>6.3f} {row['clusters']:>5} / 77   "
              f"{row['unclustered']:>11.1%} {time.perf_counter() - started:>6.1f}")
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(rows), scale)
    big = vectors[pick]
    for start in range(0, scale, 100_000):  # noise in place, in blocks: the copy alone is 1.5 GB
        block = big[start:start + 100_000]
        block += rng.normal(scale=0.012, size=block.shape).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
    started = time.perf_counter()
    row = score(gold[pick], cluster(big))
    print(f"  {scale:,} vectors (resampled, noise: cosine ~0.97 to their text): {time.perf_counter() - started:.1f} s, "
          f"{row['clusters']} clusters, {row['unclustered']:.2%} unclustered, NMI {row['nmi']:.3f}; "
          f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
