"""Gap mining local vs on a local Dask cluster, stage by stage, and a projection to 10 million tickets.

    python benchmarks/mining_dask.py                       # 50,000 tickets, 2 workers
    python benchmarks/mining_dask.py --tickets 1000000 --workers 2

Tickets are BANKING77 train titles resampled with light perturbation (benchmarks/mining.py's scale run),
imported once into a SQLite store and mined twice against the sample KB (articles/): locally, then with
redaction, embedding and coverage on ``--workers`` worker processes of one thread each (gaps/distributed.py).
It prints each stage's seconds and throughput, whether both runs found identical gaps, and, from the
measured per-stage throughputs, what 10 million tickets would take on N workers of this machine's kind
(the spread stages divided by N, the rest as measured, scaled by tickets).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

from mining import AS_OF, DATA, perturb  # noqa: E402

STAGES = ("redaction", "embedding", "checking coverage", "clustering", "describing gaps")  # gaps.mine's names
SPREAD = ("redaction", "embedding", "checking coverage")


def write_export(path: Path, n: int) -> int:
    rng = random.Random(1)
    train = [r["text"] for r in csv.DictReader(open(DATA / "banking77" / "train.csv", encoding="utf-8"))]
    distinct = set()
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            title = perturb(rng.choice(train), rng)
            distinct.add(title)
            created = AS_OF - timedelta(days=rng.uniform(0, 180))
            handle.write(json.dumps({"id": f"S{i}", "title": title, "status": "solved",
                                     "created_at": created.isoformat(timespec="seconds")}) + "\n")
    return len(distinct)


def timed_run(settings, runner=None) -> tuple[dict[str, float], object]:
    from gaps.job import run_gap_job

    marks = {"redaction": time.perf_counter()}

    def progress(stage, total):
        if stage != "redacting":  # the local run's own name for the first stage, timed from the start
            marks.setdefault(stage, time.perf_counter())
        return lambda k: None

    result = run_gap_job(settings, progress=progress, runner=runner)
    marks["end"] = time.perf_counter()
    order = sorted(marks, key=marks.get)
    return {a: marks[b] - marks[a] for a, b in zip(order, order[1:])}, result


def membership(result) -> list[tuple]:
    return sorted((g.kind, tuple(sorted(g.ticket_ids))) for g in result.gaps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent (third-party data is not part of the repository)")
        return
    from gaps.distributed import DaskRunner
    from indexing.build import build_index
    from kbsuggest.config import Settings
    from kbsuggest.embed import make_embedder
    from kbsuggest.store.sqlite import SQLiteStore
    from tickets.importer import import_tickets

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", db_path=Path(tmp) / "k.db")
        build_index(ROOT / "articles", settings, make_embedder(settings))
        distinct = write_export(Path(tmp) / "tickets.jsonl", args.tickets)
        import_tickets(SQLiteStore(settings.db_path), "default", Path(tmp) / "tickets.jsonl")
        print(f"{args.tickets:,} tickets ({distinct:,} distinct titles), embedder {settings.embedder}; "
              f"mining locally, then on {args.workers} Dask workers (1 thread each)")
        local, local_result = timed_run(settings)
        with DaskRunner(settings, "default", workers=args.workers) as runner:
            dask, dask_result = timed_run(settings, runner)
    print(f"\n{'stage':<20} {'local s':>9} {'dask s':>9} {'local/s':>10} {'dask/s':>10}")
    for stage in STAGES:
        a, b = local.get(stage, 0.0), dask.get(stage, 0.0)
        print(f"{stage:<20} {a:>9.1f} {b:>9.1f} {args.tickets / max(a, 1e-9):>10,.0f} {args.tickets / max(b, 1e-9):>10,.0f}")
    ta, tb = sum(local.values()), sum(dask.values())
    print(f"{'total':<20} {ta:>9.1f} {tb:>9.1f}   dask/local {tb / ta:.2f}")
    same = membership(local_result) == membership(dask_result)
    print(f"identical gaps: {same} ({len(local_result.gaps)} local, {len(dask_result.gaps)} dask)")

    scale = 10_000_000 / args.tickets
    spread_per_worker = sum(dask.get(s, 0.0) for s in SPREAD) * args.workers  # worker-seconds at this size
    rest = sum(dask.get(s, 0.0) for s in STAGES if s not in SPREAD)
    print("\nprojection for 10,000,000 tickets (spread stages / N workers; the rest scaled by tickets, one process):")
    for n in (2, 8, 32, 128):
        hours = (spread_per_worker * scale / n + rest * scale) / 3600
        print(f"  {n:>4} workers: {hours:6.1f} h")
    print("targets: identical gaps; on 2 local workers no slower than local")


if __name__ == "__main__":
    main()
