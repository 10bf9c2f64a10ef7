"""Suggestion latency: in-process per backend, HTTP under simulated typists, a naive baseline, KB size.

    python benchmarks/latency.py            # everything, medians of 3 runs (~15 min on 2 busy cores)
    python benchmarks/latency.py --quick    # one run, fewer queries, no 10k KB, no real 1k build

(a) ``Suggester.suggest`` p50/p99 over >= 2,000 distinct prefixes, cache off, for sentence-transformers,
onnx fp32 and onnx int8 on a 1,000-article KB; (b) HTTP end to end with N typists (paced like a
debounced form, then unpaced for sustained throughput); (c) the naive baseline (benchmarks/naive_app.py)
under the same load, with ratios; (d) KBs of 100, 1,000 and 10,000 articles; and the agreement of the
ONNX models with sentence-transformers. Each in-process measure runs in a fresh subprocess, so one
backend's memory (torch) never counts against another. Needs the ``model`` extra and exported models
(``kbsuggest models export``); StackFAQ (../shared/data) is used when present.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from http_load import kbsuggest_server, peak_rss_mb, start_server, stop_server, typists_in_subprocess  # noqa: E402
from latency_report import report  # noqa: E402
from synth import NearDuplicateEmbedder, synthesize_kb  # noqa: E402

STACKFAQ = REPO.parent / "shared" / "data" / "stackfaq"
from kbsuggest.embed.models import FP32_FILE, INT8_FILE, models_dir  # noqa: E402

FP32, INT8 = models_dir() / FP32_FILE, models_dir() / INT8_FILE
ALL_CORES = "onnx int8, all cores per query (KBSUGGEST_ONNX_THREADS=0)"
BACKENDS = {"sentence-transformers": ("sentence-transformers", None), "onnx fp32": ("onnx", FP32),
            "onnx int8": ("onnx", INT8)}


def pct(values, q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def titles_and_prefixes(n: int) -> tuple[list[str], list[str]]:
    """Ticket-like titles (StackFAQ queries when present, else KB titles and headings) and n distinct prefixes."""
    from indexing.build import load_articles
    from kbsuggest.config import Settings

    articles, _ = load_articles(REPO / "articles", Settings())
    titles = [a.title for a in articles] + [s.heading for a in articles for s in a.sections if s.heading]
    if (STACKFAQ / "stackfaq_queries.csv").exists():
        with open(STACKFAQ / "stackfaq_queries.csv", newline="", encoding="utf-8") as f:
            titles += [row["query"].strip() for row in csv.DictReader(f)]
    rng = random.Random(7)
    prefixes = sorted({t[:c].strip() for t in titles for c in range(3, len(t) + 1, 3) if len(t[:c].strip()) >= 3})
    rng.shuffle(prefixes)
    return titles, prefixes[:n]


# ---- in-process measurement (runs in a subprocess: python latency.py --worker JSON) ----

def worker(spec: dict) -> dict:
    from kbsuggest.config import Settings
    from kbsuggest.kbs.load import load_suggester

    started = time.perf_counter()
    settings = Settings(index_dir=spec["index_dir"], embedder=spec["embedder"], model_path=spec["model_path"],
                        query_cache_size=0, onnx_threads=spec.get("threads", 1))
    suggester = load_suggester(settings)
    load_s = time.perf_counter() - started
    queries = json.loads(Path(spec["queries"]).read_text())
    for q in queries[:50]:
        suggester.suggest(q)
    took = []
    for q in queries:
        t = time.perf_counter()
        suggester.suggest(q)
        took.append(time.perf_counter() - t)
    return {"p50": pct(took, 50), "p99": pct(took, 99), "load_s": load_s, "rss": peak_rss_mb(os.getpid()),
            "torch": "torch" in sys.modules}


def in_process(index_dir: Path, backend: str, queries_file: Path, runs: int, threads: int = 1) -> dict:
    embedder, model_path = BACKENDS[backend]
    spec = json.dumps({"index_dir": str(index_dir), "embedder": embedder, "threads": threads,
                       "model_path": str(model_path) if model_path else None, "queries": str(queries_file)})
    results = [json.loads(subprocess.run([sys.executable, __file__, "--worker", spec], check=True,
                                         capture_output=True, text=True).stdout.splitlines()[-1])
               for _ in range(runs)]
    return {key: statistics.median(r[key] for r in results) for key in ("p50", "p99", "load_s", "rss")} | {
        "torch": results[0]["torch"]}


# ---- index building ----

def build(kb_dir: Path, index_dir: Path, embedder) -> tuple[float, dict]:
    from indexing.build import build_index
    from kbsuggest.config import Settings
    from kbsuggest.index.versions import kb_dir as kb_index, resolve

    summary = build_index(kb_dir, Settings(index_dir=index_dir), embedder)
    manifest = json.loads((resolve(kb_index(index_dir, "default")) / "manifest.json").read_text())
    return summary.seconds, manifest


def make_embedder(backend: str):
    from kbsuggest.embed import create_embedder

    name, path = BACKENDS[backend]
    return create_embedder(name, path)


# ---- agreement ----

def agreement(st, fp32, int8) -> dict:
    from indexing.build import load_articles
    from indexing.chunking import chunk_article
    from kbsuggest.config import Settings

    settings = Settings()
    articles, _ = load_articles(REPO / "articles", settings)
    texts = [c.text for a in articles for c in chunk_article(a, settings.chunk_max_words, settings.chunk_overlap_words)]
    cos = np.sum(st.encode(texts) * fp32.encode(texts), axis=1)
    out = {"chunks": len(texts), "fp32_min": float(cos.min()), "fp32_mean": float(cos.mean())}
    if (STACKFAQ / "stackfaq_queries.csv").exists():
        with open(STACKFAQ / "stackfaq_docs.csv", newline="", encoding="utf-8") as f:
            docs = list(csv.DictReader(f))
        with open(STACKFAQ / "stackfaq_queries.csv", newline="", encoding="utf-8") as f:
            queries = list(csv.DictReader(f))
        doc_texts = [f"{d['question']}\n{d['answers']}" for d in docs]
        doc_ids = np.array([d["doc_id"] for d in docs])
        tops = {}
        for name, model in (("fp32", fp32), ("int8", int8)):
            scores = model.encode([q["query"] for q in queries]) @ model.encode(doc_texts).T
            tops[name] = doc_ids[np.argsort(-scores, axis=1)[:, :3]]
        gold = np.array([q["doc_id"] for q in queries])
        out |= {"queries": len(queries),
                "top3_kept": float(np.mean([len(set(a) & set(b)) / 3 for a, b in zip(tops["fp32"], tops["int8"])])),
                "top3_same_order": float(np.mean(np.all(tops["fp32"] == tops["int8"], axis=1))),
                "top3_same_set": float(np.mean([set(a) == set(b) for a, b in zip(tops["fp32"], tops["int8"])])),
                "hit3_fp32": float(np.mean([g in t for g, t in zip(gold, tops["fp32"])])),
                "hit3_int8": float(np.mean([g in t for g, t in zip(gold, tops["int8"])]))}
    return out


# ---- HTTP ----

def http(index_dir: Path, work: Path, titles: list[str], args, naive: bool) -> dict:
    port = 8765 + naive
    if naive:
        argv = [sys.executable, str(REPO / "benchmarks" / "naive_app.py"), str(index_dir), str(port)]
    else:
        argv = kbsuggest_server(port)
    env = {"KBSUGGEST_INDEX_DIR": str(index_dir), "KBSUGGEST_EMBEDDER": "onnx", "KBSUGGEST_MODEL_PATH": str(INT8),
           "KBSUGGEST_DB_PATH": str(work / "service.db"), "PYTHONPATH": str(REPO),
           # every simulated typist comes from 127.0.0.1: the per-client rate limit would see one client
           "KBSUGGEST_RATE_LIMIT_PER_SECOND": "0"}
    runs = []
    for _ in range(args.runs):
        process = start_server(argv, port, env)
        try:
            paced = typists_in_subprocess(port, titles, args.typists, args.seconds, paced=True)
            flat_out = typists_in_subprocess(port, titles, args.typists, args.seconds, paced=False)
            rss = peak_rss_mb(process.pid)
        finally:
            stop_server(process)
        runs.append({"p50": pct(paced["latencies"], 50), "p95": pct(paced["latencies"], 95),
                     "p99": pct(paced["latencies"], 99), "rate": paced["throughput"],
                     "errors": paced["errors"] + flat_out["errors"], "requests": len(paced["latencies"]),
                     "sustained": flat_out["throughput"], "sustained_p50": pct(flat_out["latencies"], 50),
                     "sustained_p99": pct(flat_out["latencies"], 99), "rss": rss})
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]} | {
        "errors": sum(r["errors"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run, 500 queries, 5 s HTTP runs, KBs 100 and 1,000 "
                        "with the 1,000 one near-duplicate (no real 1k build)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measure; medians are reported")
    parser.add_argument("--queries", type=int, default=2000, help="distinct prefixes for in-process measures")
    parser.add_argument("--typists", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each HTTP load phase")
    parser.add_argument("--sizes", default="100,1000,10000", help="KB sizes for (d)")
    parser.add_argument("--no-http", action="store_true", help="skip (b) and (c)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    if args.quick:
        args.runs, args.queries, args.seconds = 1, 500, 5.0
        args.sizes = ",".join(s for s in args.sizes.split(",") if int(s) <= 1000)
    if not (FP32.exists() and INT8.exists()):
        sys.exit("no exported models in models/: run `kbsuggest models export` (or `make model`) first")
    sizes = [int(s) for s in args.sizes.split(",")]
    load = os.getloadavg()[0]
    print(f"kbsuggest latency benchmark: {os.cpu_count()} cores, load average {load:.1f} at start, "
          f"runs={args.runs}, queries={args.queries}, typists={args.typists}, {args.seconds:.0f} s per HTTP phase")

    with tempfile.TemporaryDirectory(prefix="kbsuggest-bench-") as tmp:
        work = Path(tmp)
        titles, prefixes = titles_and_prefixes(args.queries)
        queries = work / "queries.json"
        queries.write_text(json.dumps(prefixes))
        embedders = {name: make_embedder(name) for name in BACKENDS}
        near = {name: NearDuplicateEmbedder(e) for name, e in embedders.items()}

        print("agreement of the ONNX models with sentence-transformers ...", flush=True)
        agree = agreement(embedders["sentence-transformers"], embedders["onnx fp32"], embedders["onnx int8"])

        kbs: dict[int, dict] = {}
        for size in sorted(set(sizes) | {1000}):
            kb = synthesize_kb(REPO / "articles", work / f"kb-{size}", size)
            real = size <= 100 or (size <= 1000 and not args.quick)
            print(f"building the {size}-article KB ({'real' if real else 'near-duplicate'} int8 embeddings) ...",
                  flush=True)
            index = work / f"index-{size}-int8"
            seconds, manifest = build(kb, index, embedders["onnx int8"] if real else near["onnx int8"])
            kbs[size] = {"kb": kb, "index": index, "build_s": seconds if real else None, "manifest": manifest}

        print("(a) in-process, 1,000 articles, cache off ...", flush=True)
        a_rows = {}
        for name in BACKENDS:
            index = work / f"index-1000-near-{name.replace(' ', '-')}"
            build(kbs[1000]["kb"], index, near[name])
            a_rows[name] = in_process(index, name, queries, args.runs)
            a_rows[name]["index"] = index
        # Not the serving default: every core on each query helps one caller alone, not a loaded server.
        a_rows[ALL_CORES] = in_process(a_rows["onnx int8"]["index"], "onnx int8", queries, args.runs, threads=0)
        print("(d) in-process onnx int8 by KB size ...", flush=True)
        d_rows = {size: in_process(kbs[size]["index"], "onnx int8", queries, args.runs) for size in sizes}

        b = c = None
        if not args.no_http:
            print(f"(b) HTTP, {args.typists} typists, kbsuggest (onnx int8, 1,000 articles) ...", flush=True)
            b = http(kbs[1000]["index"], work, titles, args, naive=False)
            print("(c) HTTP, the same load on the naive baseline (sentence-transformers, plain route) ...", flush=True)
            c = http(a_rows["sentence-transformers"]["index"], work, titles, args, naive=True)
    report(args, agree, a_rows, d_rows, kbs, b, c, load)


if __name__ == "__main__":
    main()
