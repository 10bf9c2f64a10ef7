"""Suggest latency and index-build time of this tree against another git revision, measured side by side.

    python benchmarks/compare_revisions.py --base 2450e20            # in-process suggest, 1,000 articles
    python benchmarks/compare_revisions.py --base 2450e20 --build 1000   # also a real int8 build of 1,000 articles

A noisy machine moves every absolute figure, so the two trees run alternately (base, head, base, head, ...)
in fresh subprocesses, each with its own code on ``PYTHONPATH``, and the report is the ratio of medians
beside wall and CPU time (CPU time moves less under contention). Each tree builds its own indexes with its
own code (formats may differ): the sample KB synthesized to ``--size`` articles with near-duplicate vectors
(``synth.py``), so only the query path is real. The base is checked out with ``git worktree`` under a
temporary directory and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from latency import titles_and_prefixes  # noqa: E402

# Runs inside each tree (its own code first on sys.path): build the indexes when missing, then time queries.
WORKER = r"""
import json, os, sys, time
from pathlib import Path
spec = json.loads(sys.argv[1])
sys.path.append(os.path.join(spec["tree"], "benchmarks"))
from synth import NearDuplicateEmbedder, synthesize_kb
from indexing.build import build_index
from kbsuggest.config import Settings
from kbsuggest.embed import create_embedder
work, tree = Path(spec["work"]), Path(spec["tree"])
embedder = create_embedder("onnx", spec["model"])
if spec["task"] == "build":
    kb = synthesize_kb(tree / "articles", work / "kb-build", spec["size"])
    wall, cpu = time.perf_counter(), time.process_time()
    build_index(kb, Settings(index_dir=work / "index-build"), embedder)
    print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))
    sys.exit()
index = work / "index"
if not index.exists():
    build_index(synthesize_kb(tree / "articles", work / "kb", spec["size"]), Settings(index_dir=index),
                NearDuplicateEmbedder(embedder))
from kbsuggest.kbs.load import load_suggester
suggester = load_suggester(Settings(index_dir=index, embedder="onnx", model_path=spec["model"], query_cache_size=0,
                                    onnx_threads=1, **spec["settings"]))
queries = json.loads(Path(spec["queries"]).read_text())
for q in queries[:50]:
    suggester.suggest(q)
wall, cpu, shown = [], [], 0
for q in queries:
    w, c = time.perf_counter(), time.process_time()
    shown += len(suggester.suggest(q))
    cpu.append(time.process_time() - c)
    wall.append(time.perf_counter() - w)
def pct(xs, p):
    xs = sorted(xs)
    return 1000 * xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
print(json.dumps({"p50": pct(wall, 50), "p99": pct(wall, 99), "cpu_p50": pct(cpu, 50), "cpu_p99": pct(cpu, 99),
                  "cpu_mean": 1000 * sum(cpu) / len(cpu), "shown": shown / len(queries)}))
"""


def run(tree: Path, work: Path, spec: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    spec = {**spec, "tree": str(tree), "work": str(work)}
    out = subprocess.run([sys.executable, "-c", WORKER, json.dumps(spec)], env=env, check=True, capture_output=True,
                         text=True, cwd=tree)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="git revision to compare with (e.g. 2450e20)")
    parser.add_argument("--size", type=int, default=1000, help="articles of the suggest KB (near-duplicate vectors)")
    parser.add_argument("--queries", type=int, default=1000, help="distinct typed prefixes per run")
    parser.add_argument("--runs", type=int, default=3, help="alternating runs per tree; medians are reported")
    parser.add_argument("--min-score", type=float, help="serve with this threshold (0: always three, so every "
                        "suggestion's snippet and highlighting is paid for); default: each tree's own")
    parser.add_argument("--build", type=int, default=0, help="also time a real int8 build of this many articles")
    args = parser.parse_args()
    from kbsuggest.embed.models import INT8_FILE, models_dir

    model = str(models_dir() / INT8_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = tmp / "base"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(base), args.base], check=True)
        try:
            queries = tmp / "queries.json"
            queries.write_text(json.dumps(titles_and_prefixes(args.queries)[1]))
            trees = {"base": base, "head": REPO}
            spec = {"model": model, "queries": str(queries), "size": args.size, "task": "suggest",
                    "settings": {} if args.min_score is None else {"min_score": args.min_score}}
            results: dict[str, list[dict]] = {"base": [], "head": []}
            for i in range(args.runs):
                for name, tree in trees.items():
                    (tmp / name).mkdir(exist_ok=True)
                    results[name].append(run(tree, tmp / name, spec))
                    print(f"run {i + 1} {name}: {json.dumps(results[name][-1])}", flush=True)
            report(results, f"suggest, {args.size} articles, {args.queries} prefixes, in process (ms per query)", args.base)
            if args.build:
                builds: dict[str, list[dict]] = {"base": [], "head": []}
                for i in range(args.runs):
                    for name, tree in trees.items():
                        work = tmp / f"{name}-build-{i}"
                        work.mkdir()
                        builds[name].append(run(tree, work, {**spec, "task": "build", "size": args.build}))
                        print(f"build {i + 1} {name}: {json.dumps(builds[name][-1])}", flush=True)
                report(builds, f"real int8 build of {args.build} articles (s)", args.base)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], check=False)


def report(results: dict[str, list[dict]], title: str, base: str) -> None:
    print(f"\n{title}: median of {len(results['head'])} alternating runs (base {base})")
    print(f"{'measure':>10} {'base':>10} {'head':>10} {'head/base':>10}")
    for key in results["head"][0]:
        b = statistics.median(r[key] for r in results["base"])
        h = statistics.median(r[key] for r in results["head"])
        print(f"{key:>10} {b:>10.3f} {h:>10.3f} {h / b if b else float('nan'):>10.2f}")


if __name__ == "__main__":
    main()
