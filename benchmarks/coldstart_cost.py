"""What the cold-start calibration costs at index time, with and without the per-KB weight refit.

    KBSUGGEST_MODELS_DIR=/work/main/models python benchmarks/coldstart_cost.py [--kb articles] [--runs 3]

Indexes the KB once with the configured embedder, then times ``learning.coldstart.cold_start`` on it (the
off-topic vectors cached, as on every build after a model's first), at ``PULL`` inf (no refit) and at the
shipped ``PULL``, alternately; prints the median of each and the weight fit alone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexing.build import build_index  # noqa: E402
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed import make_embedder  # noqa: E402
from kbsuggest.kbs.load import load_suggester  # noqa: E402
from learning import coldstart, fit  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=Path(__file__).resolve().parent.parent / "articles")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    shipped = fit.PULL
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", db_path=Path(tmp) / "kb.db")
        embedder = make_embedder(settings)
        build_index(args.kb, settings, embedder)
        suggester = load_suggester(settings, embedder)
        coldstart.cold_start(suggester)  # the off-topic vectors, once
        seconds: dict[float, list[float]] = {float("inf"): [], shipped: []}
        for _ in range(args.runs):
            for pull in seconds:
                started = time.perf_counter()
                coldstart.cold_start(suggester, pull=pull)
                seconds[pull].append(time.perf_counter() - started)
        candidates, _ = coldstart.cold_candidates(suggester, suggester.calibration)
        started = time.perf_counter()
        fit.listwise_weights(candidates, suggester.calibration.coef)
        alone = time.perf_counter() - started
    print(f"{args.kb}: {suggester.snapshot.size} articles, {len(candidates)} cold-start texts")
    for pull, times in seconds.items():
        print(f"cold start, pull {pull}: median {statistics.median(times):.3f} s over {len(times)} runs")
    print(f"weight fit alone: {alone:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
