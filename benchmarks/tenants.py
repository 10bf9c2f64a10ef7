"""Scale figures of many KBs in one process and of one big KB (issue 13).

    KBSUGGEST_MODELS_DIR=/work/main/models python benchmarks/tenants.py          # ~30 min on 2 cores
    KBSUGGEST_MODELS_DIR=/work/main/models python benchmarks/tenants.py --quick  # a few minutes

[1] 100 KBs x 200 articles (tenants_many.py): memory and load time per KB, server RSS with all loaded,
HTTP p50/p99 with 16 paced typists each request to a random KB, and under a memory budget holding
~25 % of the KBs: evictions and the latency of the first query after one. [2] One KB of 50,000
articles (tenants_big.py): build and load time, RSS, index type, in-process ``Suggester.suggest``
p50/p99 (cache off, one ONNX thread, >= 2,000 distinct prefixes), and hit@3 on StackFAQ of candidate
generation vs exhaustive ranking. Synthetic articles get near-duplicate vectors (benchmarks/synth.py);
queries and StackFAQ threads the real onnx int8 model. Each measure with memory figures runs in a
fresh subprocess. Prints a Markdown table of target / measured / met; writes benchmarks/out/tenants.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from tenants_common import REPO, onnx_int8

import tenants_big  # noqa: E402
import tenants_many  # noqa: E402
from latency import titles_and_prefixes  # noqa: E402
from latency_report import table  # noqa: E402


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def rows(r: dict, args) -> list[list[str]]:
    """[target, measured, met] rows; figures without a target have "—" as met."""
    out = []

    def row(target: str, measured: str, met: bool | None = None) -> None:
        out.append([target, measured, "—" if met is None else ("yes" if met else "**no**")])

    if many := r.get("many"):
        n, size = args.kbs, args.kb_articles
        built, loaded, served = many["built"], many["loaded"], many["http"]["as served"]
        per_kb_rss = (loaded["rss"][-1] - loaded["rss"][1]) / max(1, n - 1)
        row(f"{n} KBs x {size}: build time per KB", f"median {median(built['seconds']):.2f} s "
            f"({sum(built['seconds']):.0f} s in all, {built['chunks']:,} chunks, {'/'.join(built['index_types'])})")
        row("memory per KB (RSS growth per loaded KB)", f"{per_kb_rss:.1f} MB (estimate "
            f"`Snapshot.memory_bytes` {loaded['estimate_mb'] / n:.1f} MB)")
        row("load time per KB (fresh process, one after the other)",
            f"p50 {median(loaded['seconds']) * 1000:.0f} ms, max {max(loaded['seconds'][1:]) * 1000:.0f} ms "
            f"(CPU p50 {median(loaded['cpu']) * 1000:.0f} ms; the first {loaded['seconds'][0] * 1000:.0f} ms)")
        row(f"server RSS with all {n} loaded ≤ 1.5 GB", f"{served['rss_mb']:.0f} MB (peak {served['peak_rss_mb']:.0f} "
            f"MB, {served['loaded']} loaded)", served["rss_mb"] <= 1536)
        row("first query of a KB on a fresh server (loads it), sequential",
            f"p50 {served['first_query_p50_ms']:.0f} ms, max {served['first_query_max_ms']:.0f} ms")
        for variant, http in many["http"].items():
            row(f"HTTP p99 ≤ 20 ms, {args.typists} typists, random KB per request ({variant})",
                f"p99 {http['p99_ms']:.1f} ms (p50 {http['p50_ms']:.1f}, p95 {http['p95_ms']:.1f}; "
                f"{http['requests']} requests, {http['errors']} errors; server CPU "
                f"{http['server_cpu_ms_per_request']:.1f} ms per request)", http["p99_ms"] <= 20 and not http["errors"])
        for variant, budget in many["budget"].items():
            row(f"budget {budget['budget_mb']} MB (~{args.budget_share:.0%}), first query after eviction ≤ 1 s "
                f"({variant})",
                f"p50 {budget['after_eviction_p50_ms']:.0f} ms, max {budget['after_eviction_max_ms']:.0f} ms over "
                f"{budget['after_eviction']} such queries; {budget['evictions']} evictions, {budget['loads']} loads, "
                f"{budget['loaded_at_end']} loaded at the end; the other requests p50 {budget['warm_p50_ms']:.1f}, "
                f"p99 {budget['warm_p99_ms']:.1f} ms ({budget['requests']} requests, {budget['errors']} errors)",
                budget["after_eviction"] > 0 and budget["after_eviction_max_ms"] <= 1000 and not budget["errors"])
    if big := r.get("big"):
        b, lat = big["built"]["big"], big["latency"]
        row(f"KB of {b['articles']:,} articles: build, index type", f"{b['seconds']:.0f} s, {b['chunks']:,} chunks, "
            f"{b['index_type']}")
        row("its load time, RSS", f"{lat['load_s']:.1f} s (CPU {lat['load_cpu_s']:.1f} s); RSS {lat['rss_mb']:.0f} "
            f"MB ({lat['rss_before_mb']:.0f} before loading, peak {lat['peak_rss_mb']:.0f}; estimate "
            f"{lat['estimate_mb']:.0f} MB)")
        row(f"in-process suggest p50 ≤ 5 ms ({lat['prefixes']} prefixes, cache off)",
            f"{lat['p50_ms']:.2f} ms (CPU {lat['cpu_p50_ms']:.2f})", lat["p50_ms"] <= 5)
        row("in-process suggest p99 ≤ 10 ms", f"{lat['p99_ms']:.2f} ms (CPU {lat['cpu_p99_ms']:.2f}; max "
            f"{lat['max_ms']:.1f})", lat["p99_ms"] <= 10)
        if q := big["quality"]:
            f = big["built"]["faq"]
            for percent, p in q["by_percent"].items():
                row(f"hit@3 {percent} % typed, {f['threads']} StackFAQ + {f['articles'] - f['threads']:,} "
                    f"distractors: candidates within 0.01 of exhaustive",
                    f"{p['hit3_candidates']:.3f} vs {p['hit3_exhaustive']:.3f} (diff {p['diff']:+.3f}; same top 3 "
                    f"{p['same_top3']:.1%}; hit only exhaustive {p['only_exhaustive']}, only candidates "
                    f"{p['only_candidates']})", abs(p["diff"]) <= 0.01)
            for name, v in q["variants"].items():
                diffs = ", ".join(f"{percent} %: {p['diff']:+.3f}" for percent, p in v["by_percent"].items())
                row(f"candidates {name}: hit@3 minus exhaustive; CPU per query", f"{diffs}; CPU p50 "
                    f"{v['cpu_p50_ms']:.2f} ms, p99 {v['cpu_p99_ms']:.2f} ms")
    return out


QUICK = {"kbs": 20, "seconds": 15.0, "big": 5000, "faq_queries": 400}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: " + ", ".join(f"{k}={v}" for k, v in QUICK.items()))
    parser.add_argument("--kbs", type=int, help="small KBs (default 100)")
    parser.add_argument("--kb-articles", type=int, default=200)
    parser.add_argument("--typists", type=int, default=16)
    parser.add_argument("--seconds", type=float, help="length of each HTTP phase (default 60)")
    parser.add_argument("--budget-share", type=float, default=0.25, help="share of the KBs the budget holds")
    parser.add_argument("--no-variants", dest="variants", action="store_false",
                        help="as served only: no HTTP runs with OpenBLAS on one thread and a KBs file, no "
                        "other candidate settings in the quality comparison")
    parser.add_argument("--big", type=int, help="articles of the big KB (default 50,000)")
    parser.add_argument("--prefixes", type=int, default=2000, help="distinct prefixes for in-process latency")
    parser.add_argument("--faq-queries", type=int, help="StackFAQ queries replayed (default 0: all 1,249)")
    parser.add_argument("--only", choices=("many", "big"), help="run one part")
    parser.add_argument("--work", type=Path, help="keep the KBs and indexes here (builds are reused by the next run)")
    parser.add_argument("--out", type=Path, help="JSON results (default benchmarks/out/tenants[-quick].json)")
    args = parser.parse_args()
    for key, full in {"kbs": 100, "seconds": 60.0, "big": 50_000, "faq_queries": 0}.items():
        if getattr(args, key) is None:
            setattr(args, key, QUICK[key] if args.quick else full)
    out = args.out or REPO / "benchmarks" / "out" / f"tenants{'-quick' if args.quick else ''}.json"
    onnx_int8()  # exits with a clear message when the model is missing
    started, load = time.perf_counter(), os.getloadavg()[0]
    print(f"kbsuggest tenants benchmark: {os.cpu_count()} cores, load average {load:.1f} at start; synthetic "
          f"articles get near-duplicate vectors, queries the onnx int8 model", flush=True)
    titles, prefixes = titles_and_prefixes(args.prefixes)
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    results: dict = {"args": settings | {"out": str(out)}, "load_average_at_start": load}
    with tempfile.TemporaryDirectory(prefix="kbsuggest-tenants-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.only in (None, "many"):
            results["many"] = tenants_many.run(work, titles, args)
        if args.only in (None, "big"):
            results["big"] = tenants_big.run(work, prefixes, args)
    results["seconds"] = time.perf_counter() - started
    results["table"] = rows(results, args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n## Scale (issue 13): {results['seconds'] / 60:.1f} min, load average {load:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at the end\n")
    print(table(["target", "measured", "met"], results["table"]))
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
