"""One big KB (part 2 of benchmarks/tenants.py): build, load, memory and in-process latency of a KB of
50,000 synthetic articles, and whether HNSW candidate generation keeps the ranking's quality.

Quality: the 125 StackFAQ threads among the same 50,000 synthetic distractors, the 1,249 StackFAQ
queries replayed whole and 30/50/70 % typed, hit@3 of (a) ``Suggester.suggest`` (candidates: ANN
chunks + lexical + filtered cosine) and (b) every public article scored with the same features and
calibration. Vectors of synthetic articles are near-duplicates of real int8 embeddings; StackFAQ
threads and every query get real int8 embeddings.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import os
import shutil
from pathlib import Path

import numpy as np

from tenants_common import (ARTICLES, STACKFAQ, Timer, build, built_once, in_subprocess, ms, near_duplicates,
                            serving_registry, worker_main)

from http_load import peak_rss_mb, rss_mb  # noqa: E402

PERCENTS = (30, 50, 70, 100)


# ---- workers (fresh subprocesses) ----

def build_worker(spec: dict) -> dict:
    from domain_data import write_stackfaq
    from synth import synthesize_kb

    work, index_dir, embedder = Path(spec["work"]), Path(spec["index_dir"]), near_duplicates()
    synthetic = synthesize_kb(ARTICLES, work / "big-source", spec["articles"])
    out = {"big": build(synthetic, index_dir, "big", embedder)}
    if spec["faq"]:
        source = work / "faq-source"
        threads = write_stackfaq(source / "stackfaq")
        shutil.copytree(synthetic, source / "synthetic", copy_function=os.link)
        # StackFAQ threads declare no audience: public, as benchmarks/quality.py indexes them
        out["faq"] = build(source, index_dir, "faq", embedder, require_audience=False) | {"threads": threads}
    return out


def load(spec: dict):
    """(registry, suggester, load time, RSS after load) of the spec's KB, as served, query cache off."""
    registry = serving_registry(spec["index_dir"], query_cache_size=0)
    registry.embedder()
    before = rss_mb(os.getpid())
    with Timer() as t:
        suggester = registry.get(spec["kb"])
    figures = {"load_s": t.wall, "load_cpu_s": t.cpu, "rss_mb": rss_mb(os.getpid()), "rss_before_mb": before,
               "estimate_mb": suggester.memory_bytes() / 2**20, "articles": suggester.snapshot.size,
               "chunks": suggester.manifest.chunk_count, "index_type": suggester.manifest.index_type}
    return registry, suggester, figures


def latency_worker(spec: dict) -> dict:
    _, suggester, figures = load(spec)
    prefixes = json.loads(Path(spec["prefixes"]).read_text())
    for text in prefixes[:50]:
        suggester.suggest(text)
    wall, cpu = [], []
    for text in prefixes:
        with Timer() as t:
            suggester.suggest(text)
        wall.append(t.wall)
        cpu.append(t.cpu)
    return figures | {"prefixes": len(prefixes), "p50_ms": ms(wall, 50), "p99_ms": ms(wall, 99),
                      "max_ms": ms(wall, 100), "cpu_p50_ms": ms(cpu, 50), "cpu_p99_ms": ms(cpu, 99),
                      "peak_rss_mb": peak_rss_mb(os.getpid())}


def exhaustive_twin(suggester):
    """The same Suggester over the same snapshot with every chunk vector in memory and every article a
    candidate, as with a flat index (it sets ``_exhaustive``: the benchmark compares the two paths of
    one Suggester, so the features, calibration and lexical indexes are the very same objects)."""
    from kbsuggest.index.format import stored_vectors

    twin = copy.copy(suggester)
    twin.snapshot = dataclasses.replace(suggester.snapshot, vectors=stored_vectors(suggester.snapshot.index))
    twin._exhaustive = True
    return twin


def exhaustive_top3(twin, text: str, embed, public: np.ndarray, ids: list[str]) -> list[str]:
    """Every article's features -> calibrated probability -> the 3 best public ones (ties: position)."""
    query = twin.understand(text)
    if query is None:
        return []
    vector = embed(query.text.strip())
    features, _ = twin.features(query, vector, coverage=twin.public_lexical.coverage(query))
    score = np.where(public, twin.calibration.probability(features), -np.inf)
    best = np.argpartition(-score, 2)[:3]
    return [ids[i] for i in sorted(best.tolist(), key=lambda i: (-score[i], i)) if score[i] >= 0]


# Candidate generation with other settings (module constants of kbsuggest/rank/suggester.py, set by this
# benchmark only): what would close a gap to the exhaustive ranking, and what it costs per query.
VARIANTS = {"as built": {}, "ANN depth 256": {"ANN_DEPTH": 256},
            "+ best 64 articles by whole-article cosine": {"SELECTIVE": 1.01}}
DEFAULTS: dict = {}  # the suggester's own values, read by the worker before it changes any


def configure(suggester, constants: dict) -> None:
    from kbsuggest.rank import suggester as module

    for name in ("ANN_DEPTH", "SELECTIVE", "LEXICAL_CANDIDATES"):
        setattr(module, name, constants.get(name, DEFAULTS[name]))
    suggester.snapshot.index.hnsw.efSearch = max(64, module.ANN_DEPTH)  # the ANN's depth is its efSearch


def quality_worker(spec: dict) -> dict:
    from evaluation.replay import typed_length
    from kbsuggest.rank import suggester as module

    DEFAULTS.update({name: getattr(module, name) for name in ("ANN_DEPTH", "SELECTIVE", "LEXICAL_CANDIDATES")})
    registry, suggester, figures = load(spec)
    twin = exhaustive_twin(suggester)
    ids = [a.id for a in suggester.articles]
    public = np.array([a.audience == "public" for a in suggester.articles], dtype=bool)
    with open(STACKFAQ / "stackfaq_queries.csv", encoding="utf-8", newline="") as handle:
        queries = [(row["query"], f"stackfaq-{row['doc_id']}") for row in csv.DictReader(handle)]
    if spec["limit"] and spec["limit"] < len(queries):  # evenly spread, deterministic
        queries = [queries[i * len(queries) // spec["limit"]] for i in range(spec["limit"])]
    texts = {p: [query[:typed_length(len(query), p)] for query, _ in queries] for p in PERCENTS}
    gold = [g for _, g in queries]
    exhaustive, took = {}, []
    for p in PERCENTS:
        exhaustive[p] = []
        for text in texts[p]:
            with Timer() as t:
                exhaustive[p].append(exhaustive_top3(twin, text, registry.query_cache, public, ids))
            took.append(t.wall)
    variants = {}
    for name, constants in VARIANTS.items() if spec["variants"] else [("as built", {})]:
        configure(suggester, constants)
        out, cpu = {}, []
        for p in PERCENTS:
            found = []
            for text in texts[p]:
                with Timer() as t:
                    found.append([s.article_id for s in suggester.suggest(text, k=3, min_score=0)])
                cpu.append(t.cpu)
            out[str(p)] = compare(found, exhaustive[p], gold)
        variants[name] = {"by_percent": out, "cpu_p50_ms": ms(cpu, 50), "cpu_p99_ms": ms(cpu, 99)}
    configure(suggester, {})
    return figures | {"queries": len(queries), "by_percent": variants["as built"]["by_percent"],
                      "variants": variants, "exhaustive_p50_ms": ms(took, 50)}


def compare(found: list[list[str]], exhaustive: list[list[str]], gold: list[str]) -> dict:
    """hit@3 of candidate generation (``found``) and of the exhaustive ranking, their difference, how often
    the two top 3 are the same, and the queries only one of them answers."""
    hit_a = np.array([g in f for g, f in zip(gold, found)])
    hit_b = np.array([g in e for g, e in zip(gold, exhaustive)])
    return {"hit3_candidates": float(hit_a.mean()), "hit3_exhaustive": float(hit_b.mean()),
            "diff": float(hit_a.mean() - hit_b.mean()),
            "same_top3": float(np.mean([f == e for f, e in zip(found, exhaustive)])),
            "only_exhaustive": int((hit_b & ~hit_a).sum()), "only_candidates": int((hit_a & ~hit_b).sum())}


# ---- orchestration ----

def run(work: Path, prefixes: list[str], args) -> dict:
    index_dir = work / "big-index"
    faq = (STACKFAQ / "stackfaq_queries.csv").exists()
    spec = {"work": str(work), "index_dir": str(index_dir), "articles": args.big, "faq": faq}
    print(f"[2] building a KB of {args.big:,} synthetic articles (near-duplicate vectors)"
          f"{' and the same with the 125 StackFAQ threads' if faq else ''} ...", flush=True)
    built = built_once(work, __file__, spec)
    (work / "prefixes.json").write_text(json.dumps(prefixes))
    print(f"[2] in-process latency over {len(prefixes)} distinct prefixes, cache off ...", flush=True)
    latency = in_subprocess(__file__, "latency", {"index_dir": str(index_dir), "kb": "big",
                                                  "prefixes": str(work / "prefixes.json")})
    quality = None
    if faq:
        print("[2] hit@3 of candidate generation vs exhaustive ranking on StackFAQ ...", flush=True)
        quality = in_subprocess(__file__, "quality", {"index_dir": str(index_dir), "kb": "faq",
                                                      "limit": args.faq_queries, "variants": args.variants})
    else:
        print(f"[2] StackFAQ not found at {STACKFAQ}: the quality comparison is skipped", flush=True)
    return {"built": built, "latency": latency, "quality": quality}


if __name__ == "__main__":
    worker_main({"build": build_worker, "latency": latency_worker, "quality": quality_worker})
