"""Many small KBs in one process (part 1 of benchmarks/tenants.py): memory and load time per KB, HTTP
latency for a random KB with every KB loaded, and a memory budget that holds only a share of them.

KB ``kb-NN`` holds articles [NN*size, (NN+1)*size) of the synthetic sequence (the sample KB and its
variants, ``synth.synthesize_kb``), so every KB has its own ids and titles; their vectors are
near-duplicates of real int8 embeddings. Queries are embedded by the real onnx int8 model.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from tenants_common import (ARTICLES, REPO, Timer, build, built_once, in_subprocess, ms, near_duplicates,
                            serving_registry, worker_main)

from http_load import (free_port, kbsuggest_server, peak_rss_mb, rss_mb, start_server, stop_server,  # noqa: E402
                       typists_in_subprocess)

# How the server runs: as served, and with the two fixes this benchmark found, applied from outside:
# OpenBLAS on one thread (numpy's BLAS otherwise wakes a thread per core for every small product, in each
# of the request threads at once) and the KBs declared in a KBs file (a KB that no file declares costs a
# scan of the index root, one CURRENT file per KB, on every request).
VARIANTS = {"as served": ({}, False), "OpenBLAS 1 thread": ({"OPENBLAS_NUM_THREADS": "1"}, False),
            "OpenBLAS 1 thread + KBs file": ({"OPENBLAS_NUM_THREADS": "1"}, True)}
BUDGET_VARIANTS = ("as served", "OpenBLAS 1 thread + KBs file")
LOADED = re.compile(r"^(?P<t>[\d.]+) KB '(?P<kb>[^']+)' loaded \(.*\) in (?P<s>[\d.]+) s$")
UNLOADED = re.compile(r"^(?P<t>[\d.]+) KB '(?P<kb>[^']+)' unloaded")


def kb_names(n: int) -> list[str]:
    return [f"kb-{i:02d}" for i in range(n)]


# ---- workers (fresh subprocesses) ----

def build_worker(spec: dict) -> dict:
    from synth import synthesize_kb

    embedder, work, size = near_duplicates(), Path(spec["work"]), spec["articles"]
    builds = []
    for i, name in enumerate(kb_names(spec["kbs"])):
        source = synthesize_kb(ARTICLES, work / "sources" / name, size, start=i * size)
        builds.append(build(source, Path(spec["index_dir"]), name, embedder))
    return {"seconds": [b["seconds"] for b in builds], "chunks": sum(b["chunks"] for b in builds),
            "index_types": sorted({b["index_type"] for b in builds})}


def load_worker(spec: dict) -> dict:
    """Load every KB one after the other through a serving Registry: time and resident memory of each."""
    registry = serving_registry(spec["index_dir"])
    registry.embedder()
    rss, seconds, cpu = [rss_mb(os.getpid())], [], []
    for name in kb_names(spec["kbs"]):
        with Timer() as t:
            registry.get(name)
        seconds.append(t.wall)
        cpu.append(t.cpu)
        rss.append(rss_mb(os.getpid()))
    loaded = sum(status.loaded for status in registry.status())
    return {"loaded": loaded, "seconds": seconds, "cpu": cpu, "rss": rss,
            "estimate_mb": registry.memory_bytes() / 2**20, "peak_rss_mb": peak_rss_mb(os.getpid())}


# ---- HTTP ----

@contextmanager
def server(index_dir: Path, work: Path, variant: str, kbs: list[str], budget_mb: int = 0, log: Path | None = None):
    port, (extra, declared) = free_port(), VARIANTS[variant]
    kbs_file = work / "kbs.toml"
    if declared:
        kbs_file.write_text("".join(f"[kbs.{name}]\n" for name in kbs))
    env = {"KBSUGGEST_INDEX_DIR": str(index_dir), "KBSUGGEST_EMBEDDER": "onnx", "PYTHONPATH": str(REPO),
           "KBSUGGEST_DB_PATH": str(work / "service.db"), "KBSUGGEST_MEMORY_BUDGET_MB": str(budget_mb),
           # every simulated typist comes from 127.0.0.1: the per-client rate limit would see one client
           "KBSUGGEST_RATE_LIMIT_PER_SECOND": "0"} | extra | ({"KBSUGGEST_KBS_FILE": str(kbs_file)} if declared else {})
    process = start_server(kbsuggest_server(port, log_loads=log is not None), port, env, log_path=log,
                           ready="/healthz")  # /readyz wants a default KB, which this index root has not
    try:
        yield port, process
    finally:
        stop_server(process)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loaded_kbs(port: int) -> int:
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=30).read()
    except urllib.error.HTTPError as exc:  # 503 without a default KB; the body still lists every KB
        body = exc.read()
    return sum(kb["loaded"] for kb in json.loads(body)["kbs"])


def first_queries(port: int, kbs: list[str], query: str = "reset password") -> list[float]:
    """One query per KB, one after the other, on a fresh server: each one loads its KB."""
    took = []
    for kb in kbs:
        with Timer() as t:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/kbs/{kb}/suggest?q={quote(query)}", timeout=60).read()
        took.append(t.wall)
    return took


def all_loaded(index_dir: Path, work: Path, kbs: list[str], titles: list[str], args, variant: str) -> dict:
    """Every KB loaded, then typists whose every request goes to a random KB."""
    with server(index_dir, work, variant, kbs) as (port, process):
        first = first_queries(port, kbs)
        cpu = cpu_seconds(process.pid)
        run = typists_in_subprocess(port, titles, args.typists, args.seconds, paced=True, kbs=kbs)
        cpu = cpu_seconds(process.pid) - cpu
        out = {"first_query_p50_ms": ms(first, 50), "first_query_max_ms": ms(first, 100),
               "server_cpu_ms_per_request": cpu * 1000 / max(1, len(run["latencies"])),
               "rss_mb": rss_mb(process.pid), "peak_rss_mb": peak_rss_mb(process.pid), "loaded": loaded_kbs(port)}
    lat = run["latencies"]
    return out | {"requests": len(lat), "errors": run["errors"], "rate": run["throughput"],
                  "p50_ms": ms(lat, 50), "p95_ms": ms(lat, 95), "p99_ms": ms(lat, 99), "max_ms": ms(lat, 100)}


def classify(log_lines: list[str], requests: list) -> dict:
    """Latencies of the requests (kb, wall-clock start, latency) that overlapped a load of their KB (cold),
    of those among them whose KB had been unloaded before that load (first queries after eviction), and of
    the others (warm); and how many loads and unloads the server logged."""
    loads, unloads = [], []
    for line in log_lines:
        if m := LOADED.match(line):
            loads.append((m["kb"], float(m["t"]) - float(m["s"]), float(m["t"])))
        elif m := UNLOADED.match(line):
            unloads.append((m["kb"], float(m["t"])))
    out = {"cold": [], "after_eviction": [], "warm": [], "loads": len(loads), "evictions": len(unloads)}
    for kb, start, latency in requests:
        overlapping = [began for name, began, end in loads if name == kb and start <= end and start + latency >= began]
        out["cold" if overlapping else "warm"].append(latency)
        if overlapping and any(name == kb and t < overlapping[0] for name, t in unloads):
            out["after_eviction"].append(latency)
    return out


def under_budget(index_dir: Path, work: Path, kbs: list[str], titles: list[str], args, variant: str,
                 budget_mb: int) -> dict:
    """A budget holding a share of the KBs; each typed title goes to a random KB (one visitor, one widget).
    The server logs each load with its end time and duration: a request overlapping a load of its KB
    waited for it (a cold query); one whose KB had been unloaded before is a first query after eviction."""
    log = work / "budget-server.log"
    with server(index_dir, work, variant, kbs, budget_mb=budget_mb, log=log) as (port, _):
        run = typists_in_subprocess(port, titles, args.typists, args.seconds, paced=True, kbs=kbs, kb_per="title")
        loaded_at_end = loaded_kbs(port)
    kinds = classify(log.read_text(encoding="utf-8", errors="replace").splitlines(), run["log"])
    cold, after_eviction, warm = kinds["cold"], kinds["after_eviction"], kinds["warm"]
    lat = run["latencies"]
    return {"budget_mb": budget_mb, "loaded_at_end": loaded_at_end, "loads": kinds["loads"],
            "evictions": kinds["evictions"],
            "requests": len(lat), "errors": run["errors"], "p50_ms": ms(lat, 50), "p99_ms": ms(lat, 99),
            "warm_p50_ms": ms(warm, 50), "warm_p99_ms": ms(warm, 99), "cold": len(cold),
            "cold_p50_ms": ms(cold, 50), "cold_max_ms": ms(cold, 100), "after_eviction": len(after_eviction),
            "after_eviction_p50_ms": ms(after_eviction, 50), "after_eviction_max_ms": ms(after_eviction, 100)}


def run(work: Path, titles: list[str], args) -> dict:
    index_dir, kbs = work / "many-index", kb_names(args.kbs)
    spec = {"work": str(work), "index_dir": str(index_dir), "kbs": args.kbs, "articles": args.kb_articles}
    print(f"[1] building {args.kbs} KBs x {args.kb_articles} articles (near-duplicate vectors) ...", flush=True)
    built = built_once(work, __file__, spec)
    print("[1] loading them one after the other in a fresh process ...", flush=True)
    loaded = in_subprocess(__file__, "load", spec)
    http, budget = {}, {}
    for variant in VARIANTS if args.variants else ["as served"]:
        print(f"[1] HTTP ({variant}): every KB loaded, {args.typists} typists, each request to a random KB ...",
              flush=True)
        http[variant] = all_loaded(index_dir, work, kbs, titles, args, variant)
    budget_mb = max(1, round(args.budget_share * loaded["estimate_mb"]))
    for variant in BUDGET_VARIANTS if args.variants else ["as served"]:
        print(f"[1] HTTP ({variant}): memory budget {budget_mb} MB (~{args.budget_share:.0%} of the KBs), each "
              f"title to a random KB ...", flush=True)
        budget[variant] = under_budget(index_dir, work, kbs, titles, args, variant, budget_mb)
    return {"built": built, "loaded": loaded, "http": http, "budget": budget}


if __name__ == "__main__":
    worker_main({"build": build_worker, "load": load_worker})
