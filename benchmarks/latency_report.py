"""The printed report of benchmarks/latency.py: agreement, tables (a)-(d), ratios, targets met or missed."""

from __future__ import annotations

import os


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def report(args, agree, a_rows, d_rows, kbs, b, c, load) -> None:
    f = lambda x, d=1: "—" if x is None else f"{x:.{d}f}"  # noqa: E731
    print(f"\n## Agreement\nonnx fp32 vs sentence-transformers on the sample KB ({agree['chunks']} chunks): "
          f"cosine min {agree['fp32_min']:.5f}, mean {agree['fp32_mean']:.5f}")
    if "queries" in agree:
        print(f"onnx int8 vs fp32 on StackFAQ ({agree['queries']} queries, 125 threads): top-3 results kept "
              f"{agree['top3_kept']:.1%}; whole top-3 list identical {agree['top3_same_order']:.1%} "
              f"(same set {agree['top3_same_set']:.1%}); hit@3 fp32 "
              f"{agree['hit3_fp32']:.1%}, int8 {agree['hit3_int8']:.1%}")
    else:
        print("StackFAQ not found (../shared/data/stackfaq): int8 top-3 agreement skipped")
    print(f"\n## (a) In-process Suggester.suggest, 1,000 articles (near-duplicate vectors), cache off, "
          f"{args.queries} prefixes, median of {args.runs}")
    print(table(["backend", "p50 ms", "p99 ms", "load s", "peak RSS MB", "torch loaded"],
                [[n, f(r["p50"], 2), f(r["p99"], 2), f(r["load_s"]), f(r["rss"], 0), r["torch"]]
                 for n, r in a_rows.items()]))
    print("\n## (d) onnx int8 by KB size (synthesized from the sample KB)")
    print(table(["articles", "chunks", "index", "vectors", "build s", "p50 ms", "p99 ms", "peak RSS MB"],
                [[size, kbs[size]["manifest"]["chunk_count"], kbs[size]["manifest"]["index_type"],
                  "real" if kbs[size]["build_s"] is not None else "near-dup", f(kbs[size]["build_s"]),
                  f(r["p50"], 2), f(r["p99"], 2), f(r["rss"], 0)] for size, r in d_rows.items()]))
    if b and c:
        print(f"\n## (b, c) HTTP GET /v1/suggest, {args.typists} typists, median of {args.runs} runs of "
              f"{args.seconds:.0f} s (paced: debounced form; sustained: no waits)")
        print(table(["server", "p50 ms", "p95 ms", "p99 ms", "req/s", "sustained req/s", "sustained p99 ms",
                     "errors", "peak RSS MB"],
                    [[name, f(r["p50"], 2), f(r["p95"], 2), f(r["p99"], 2), f(r["rate"]), f(r["sustained"]),
                      f(r["sustained_p99"]), r["errors"], f(r["rss"], 0)]
                     for name, r in (("kbsuggest onnx int8", b), ("naive sentence-transformers", c))]))
    ratio_in = a_rows["sentence-transformers"]["p50"] / a_rows["onnx int8"]["p50"]
    print(f"\nratio p50 naive/kbsuggest: in-process {ratio_in:.1f}x"
          + (f", HTTP {c['p50'] / b['p50']:.1f}x, sustained throughput {b['sustained'] / c['sustained']:.1f}x"
             if b and c else ""))
    d1k = d_rows.get(1000) or a_rows["onnx int8"]
    targets = [("fp32 vs st cosine >= 0.999 (min over sample KB)", agree["fp32_min"], agree["fp32_min"] >= 0.999)]
    if "queries" in agree:
        targets.append(("int8 top-3 results kept >= 95% (StackFAQ)", 100 * agree["top3_kept"], agree["top3_kept"] >= 0.95))
    targets += [("in-process p50 <= 2 ms (int8, 1k, cache off)", d1k["p50"], d1k["p50"] <= 2),
               ("in-process p99 <= 5 ms", d1k["p99"], d1k["p99"] <= 5),
               # the budget the ranking work must stay within (issue 14): the whole request as it stood then
               ("in-process p99 <= 6.5 ms (ranking budget)", d1k["p99"], d1k["p99"] <= 6.5),
               ("build 1,000 articles <= 60 s", kbs[1000]["build_s"],
                kbs[1000]["build_s"] is not None and kbs[1000]["build_s"] <= 60)]
    if b and c:
        targets += [(f"HTTP p99 <= 15 ms at {args.typists} typists, 0 errors", b["p99"], b["p99"] <= 15 and b["errors"] == 0),
                    (">= 300 suggestions/s sustained", b["sustained"], b["sustained"] >= 300),
                    ("p50 >= 5x better than naive (HTTP)", c["p50"] / b["p50"], c["p50"] / b["p50"] >= 5),
                    ("serving RSS <= 400 MB", b["rss"], b["rss"] <= 400)]
    print(f"\n## Targets (load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end, {os.cpu_count()} cores)")
    print(table(["target", "measured", "met"],
                [[t, f(v, 5 if v is not None and v <= 1 else 2), "yes" if ok else "NO"] for t, v, ok in targets]))
