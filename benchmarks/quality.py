"""Suggestion quality on real data: StackFAQ threads (+ the Plausible docs as distractors) as a KB,
the 1,249 StackFAQ queries as answerable tickets and the project's own unanswerable tickets.

    python benchmarks/quality.py [--out DIR] [--banking77 N] [--every 6] [--limit N]

Everything is written into a temporary directory (never into the repository); the embedder is the
one the settings choose (KBSUGGEST_EMBEDDER). Prints every metric for kbsuggest, BM25 and dense
retrieval over whole articles, and the time taken. Skips (exit 0) when ../shared/data is absent.
Caveat: StackFAQ questions were written by people who had read the thread, so they share more
wording with it than raw ticket titles would.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from evaluation.evaluate import evaluate  # noqa: E402
from evaluation.report import SUMMARY_HEADER, summary_rows, with_ci, write_reports  # noqa: E402
from indexing.build import build_index  # noqa: E402
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed import create_embedder  # noqa: E402

DATA = REPO.parent / "shared" / "data"
UNANSWERABLE = Path(__file__).with_name("unanswerable.txt")


def write_stackfaq(folder: Path) -> int:
    """StackFAQ threads as Markdown articles (id ``stackfaq-<doc_id>``, no audience) in ``folder``."""
    folder.mkdir(parents=True)
    with open(DATA / "stackfaq" / "stackfaq_docs.csv", encoding="utf-8", newline="") as handle:
        docs = list(csv.DictReader(handle))
    for doc in docs:
        title = " ".join(doc["question"].split())
        (folder / f"{doc['doc_id']}.md").write_text(
            f"---\nid: stackfaq-{doc['doc_id']}\ntitle: {json.dumps(title)}\n---\n{doc['answers']}\n", encoding="utf-8")
    return len(docs)


def write_kb(kb: Path) -> int:
    """StackFAQ threads as Markdown articles, and the Plausible docs beside them."""
    threads = write_stackfaq(kb / "stackfaq")
    shutil.copytree(DATA / "plausible_docs" / "docs", kb / "plausible")
    return threads


def write_tickets(path: Path, banking77: int, limit: int = 0) -> None:
    with open(DATA / "stackfaq" / "stackfaq_queries.csv", encoding="utf-8", newline="") as handle:
        queries = list(csv.DictReader(handle))
    if limit and limit < len(queries):  # an evenly spread, deterministic subset for quick iterations
        queries = [queries[i * len(queries) // limit] for i in range(limit)]
    tickets = [{"id": f"q{i}", "title": q["query"], "resolved_article_id": f"stackfaq-{q['doc_id']}"}
               for i, q in enumerate(queries)]
    lines = [line.strip() for line in UNANSWERABLE.read_text(encoding="utf-8").splitlines()]
    tickets += [{"id": f"u{i}", "title": line, "resolved_article_id": None}
                for i, line in enumerate(line for line in lines if line and not line.startswith("#"))]
    if banking77:  # out-of-domain: the first test query of each of the first N intents
        with open(DATA / "banking77" / "test.csv", encoding="utf-8", newline="") as handle:
            first: dict[str, str] = {}
            for row in csv.DictReader(handle):
                first.setdefault(row["category"], row["text"])
        tickets += [{"id": f"b{i}", "title": text, "resolved_article_id": None}
                    for i, text in enumerate(list(first.values())[:banking77])]
    path.write_text("".join(json.dumps(t) + "\n" for t in tickets), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write report.md/report.html/metrics.json here")
    parser.add_argument("--every", type=int, default=6, help="prefix every N characters inside a word")
    parser.add_argument("--target-precision", type=float, default=0.9)
    parser.add_argument("--max-false-rate", type=float, default=0.1)
    parser.add_argument("--banking77", type=int, default=0, help="add N BANKING77 queries as out-of-domain tickets")
    parser.add_argument("--limit", type=int, default=0, help="replay only N StackFAQ queries (quick iterations)")
    args = parser.parse_args()
    if not (DATA / "stackfaq").is_dir() or not (DATA / "plausible_docs").is_dir():
        print(f"skipped: the third-party data is not at {DATA} (see ../shared/data/README.md)")
        return 0

    with tempfile.TemporaryDirectory(prefix="kbsuggest-quality-") as tmp:
        tmp = Path(tmp)
        threads = write_kb(tmp / "kb")
        write_tickets(tmp / "tickets.jsonl", args.banking77, args.limit)
        settings = Settings(index_dir=tmp / "index", db_path=tmp / "kbsuggest.db")
        started, cpu = time.perf_counter(), time.process_time()
        embedder = create_embedder(settings.embedder, settings.model_path, settings.embed_batch_size)
        loaded = time.perf_counter()
        summary = build_index(tmp / "kb", settings, embedder)
        indexed, indexed_cpu = time.perf_counter(), time.process_time()
        result = evaluate(settings, tmp / "tickets.jsonl", every=args.every, target_precision=args.target_precision,
                          max_false_rate=args.max_false_rate, embedder=embedder)
        finished = time.perf_counter()
        if args.out:
            write_reports(result.metrics, args.out, [str(b) for b in result.bad_rows] + result.skipped)

    m = result.metrics
    print(f"KB: {threads} StackFAQ threads + {summary.articles - threads} Plausible docs = {summary.articles} articles, "
          f"{summary.chunks} chunks ({len(summary.skipped)} files skipped); model {summary.model}")
    print(f"tickets: {m['tickets']['answerable']} answerable, {m['tickets']['unanswerable']} unanswerable, "
          f"{m['tickets']['prefixes']} distinct prefixes (every {args.every} chars + word ends + 30/50/70/100%)")
    print(f"time: model load {loaded - started:.1f} s, index {indexed - loaded:.1f} s, "
          f"replay + metrics {finished - indexed:.1f} s (CPU {time.process_time() - indexed_cpu:.0f} s), "
          f"total {finished - started:.1f} s (CPU {time.process_time() - cpu:.0f} s); "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"\nmicro averages; threshold = recommended for precision >= {args.target_precision} "
          f"and false suggestions <= {args.max_false_rate}\n")
    print("| " + " | ".join(SUMMARY_HEADER) + " |")
    print("|" + "---|" * len(SUMMARY_HEADER))
    for row in summary_rows(m):
        print("| " + " | ".join(row) + " |")
    print("\n95% bootstrap intervals (micro | macro per article):")
    for name, system in m["systems"].items():
        for key in ("hit@1", "hit@3", "mrr", "hit@3_30", "hit@3_50", "hit@3_70", "hit@3_100"):
            stat = system["ranking"][key]
            print(f"  {name:<9} {key:<10} {with_ci(stat['micro']):<24} {with_ci(stat['macro'])}")
        chars = system["chars_to_first_hit"]
        print(f"  {name:<9} chars to first top-3 hit: mean {with_ci(chars['mean'])}, median {chars['median']}, "
              f"never {chars['never']}")
        for which in ("configured", "recommended"):
            point = system["threshold"][f"at_{which}"]
            if point:
                print(f"  {name:<9} at {which} threshold {point['threshold']}: deflection "
                      f"{with_ci(point['deflection']['micro'])} (macro {with_ci(point['deflection']['macro'])}), "
                      f"false suggestions {with_ci(point['false_suggestion'])}, precision {point['precision']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
