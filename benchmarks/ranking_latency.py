"""What the hybrid ranking adds to a suggestion, without the embedding: query understanding (completion,
typo repair), lexical coverage, dense features and the calibrated fusion, per query.

    python benchmarks/ranking_latency.py [--articles 1000] [--queries 2000]

Builds a KB of N articles synthesized from the sample KB with the hash embedder (the embedder does not
change this cost; benchmarks/latency.py measures the whole request with the real model), embeds every
prefix up front, then times ``Suggester.understand`` + ranking alone, without and with the match spans
(issue 18's highlighting; the pairs alternate). Prints p50/p99 in milliseconds and the paired difference.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency import titles_and_prefixes  # noqa: E402
from synth import synthesize_kb  # noqa: E402

from indexing.build import build_index  # noqa: E402
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed.hashing import HashEmbedder  # noqa: E402
from kbsuggest.kbs.load import load_suggester  # noqa: E402
from kbsuggest.rank.highlight import Highlighter  # noqa: E402
from kbsuggest.rank.suggester import normalize_query  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kbsuggest-ranking-") as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", db_path=Path(tmp) / "db", embedder="hash")
        summary = build_index(synthesize_kb(REPO / "articles", Path(tmp) / "kb", args.articles), settings, HashEmbedder())
        started = time.perf_counter()
        suggester = load_suggester(settings, HashEmbedder())
        load_s = time.perf_counter() - started
    _, prefixes = titles_and_prefixes(args.queries)
    vectors = {p: suggester.embedder.encode([p]) for p in prefixes}
    took: dict[bool, list[float]] = {False: [], True: []}
    for rounds in range(2):  # the first round warms up
        for runs in took.values():
            runs.clear()
        for n, text in enumerate(prefixes):
            for marked in ((False, True) if n % 2 else (True, False)):  # alternated: neither always goes first
                t = time.perf_counter()
                query = suggester.understand(text)
                if query is not None:  # with marks: the match spans the API returns (rank/highlight.py)
                    suggester._rank(query, vectors[text], 3, 0.0, True, None, None, False,
                                    Highlighter(normalize_query(text), query) if marked else None)
                took[marked].append(time.perf_counter() - t)
    print(f"{summary.articles} articles, {summary.chunks} chunks ({suggester.manifest.index_type}), "
          f"vocabulary {len(suggester.lexical.vocabulary.words)} words, load {load_s:.2f} s, {len(prefixes)} prefixes")
    for marked, label in ((False, "understanding + hybrid ranking (no embedding)"), (True, "the same with match spans")):
        ms = np.array(took[marked]) * 1000
        print(f"{label}: p50 {np.percentile(ms, 50):.3f} ms, p99 {np.percentile(ms, 99):.3f} ms")
    extra = (np.array(took[True]) - np.array(took[False])) * 1e6
    print(f"match spans add, per query (paired): median {np.median(extra):.1f} µs, mean {extra.mean():.1f} µs")

if __name__ == "__main__":
    main()
