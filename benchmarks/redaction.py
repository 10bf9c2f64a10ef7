"""PII redaction: recall on the labelled set, precision cost on ticket text, throughput; new beside old.

    python benchmarks/redaction.py            # everything, throughput as the median of 5 runs
    python benchmarks/redaction.py --runs 1   # quicker

- recall:     per category, the share of the labelled secrets (tests/fixtures/pii/labelled.jsonl) fully
              removed (no alphanumeric piece of them left, see evaluation/pii.py), and the negatives
              (dates, versions, prices, "AWS", "password reset"...) that come back unchanged.
- precision:  on the project's ticket fixtures (tests/fixtures/tickets/*, evaluation/sample_tickets.csv),
              every word outside the fixtures' known PII that a redactor replaced, listed; and, when
              ../shared/data is present, how many BANKING77 / HINT3 texts (real customer messages)
              were changed at all, with what.
- throughput: tickets per second on the labelled set (PII in every text), on the fixtures (mostly none)
              and on BANKING77 when present (the texts the gap-mining scale benchmark resamples).

The baseline is the regex-only redaction of beb47b4, copied into benchmarks/redaction_baseline.py.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

import redaction_baseline  # noqa: E402
from evaluation.pii import NEGATIVE, leaked, load_labelled, lost_words, score  # noqa: E402
from gaps.redact import redact  # noqa: E402

REDACTORS = {"old": redaction_baseline.redact, "new": redact}
TEXT_FIELDS = ("title", "subject", "description", "body", "Subject", "Description")
# the PII the fixtures were written with (tests/test_gaps.py checks the report holds none of it)
FIXTURE_PII = ["maria.lopez@example.com", "+44 20 7946 0958", "it-admin@acme.example", "s3cr3tT0kenValue99",
               "4111 1111 1111 1111", "203.0.113.45"]


def fixture_texts() -> list[str]:
    texts = []
    paths = sorted((REPO / "tests" / "fixtures" / "tickets").iterdir()) + [REPO / "evaluation" / "sample_tickets.csv"]
    for path in paths:
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
        else:
            rows = []
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:  # the fixtures hold deliberately bad lines
                    continue
        texts += [row[f] for row in rows for f in TEXT_FIELDS if isinstance(row.get(f), str) and row[f].strip()]
    return texts


def third_party_texts() -> dict[str, list[str]]:
    sources = {"banking77": [DATA / "banking77" / "train.csv", DATA / "banking77" / "test.csv"],
               "hint3": sorted((DATA / "hint3").glob("*_train.csv")) if (DATA / "hint3").is_dir() else []}
    found = {}
    for name, paths in sources.items():
        texts = []
        for path in paths:
            if path.is_file():
                with path.open(newline="", encoding="utf-8") as handle:
                    texts += [row.get("text") or row.get("sentence") or "" for row in csv.DictReader(handle)]
        if texts:
            found[name] = texts
    return found


def recall_table(samples: list[dict]) -> None:
    scores = {name: score(fn, samples) for name, fn in REDACTORS.items()}
    new = scores["new"]
    print(f"labelled set: {len(samples)} samples, {sum(new.total.values())} secrets in "
          f"{len(new.total)} categories, {new.negatives} negatives\n")
    print(f"{'category':<12} {'secrets':>7} {'old recall':>10} {'new recall':>10}")
    for category in sorted(new.total):
        print(f"{category:<12} {new.total[category]:>7} {scores['old'].recall(category):>10.3f} "
              f"{new.recall(category):>10.3f}")
    print(f"{'overall':<12} {sum(new.total.values()):>7} {scores['old'].recall():>10.3f} {new.recall():>10.3f}")
    print(f"{'negatives':<12} {new.negatives:>7} {scores['old'].negatives_kept:>7} kept {new.negatives_kept:>5} kept")
    print(f"context words lost in positive samples: old {len(scores['old'].lost)}, new {len(new.lost)} "
          f"{Counter(new.lost).most_common(10) if new.lost else ''}")
    for category, misses in sorted(new.misses.items()):
        for text, redacted, secret in misses:
            print(f"  new misses [{category}] {secret!r}: {redacted!r}")
    for text, redacted in new.changed_negatives:
        print(f"  new changes negative: {text!r} -> {redacted!r}")


def precision_on_fixtures(texts: list[str]) -> None:
    print(f"\nprecision cost on the ticket fixtures ({len(texts)} texts; known PII: {len(FIXTURE_PII)} strings)")
    for name, fn in REDACTORS.items():
        lost, removed, present = [], 0, 0
        for text in texts:
            pii = [p for p in FIXTURE_PII if p in text]
            present += len(pii)
            redacted = fn(text)
            removed += sum(not leaked(text, redacted, p, pii) for p in pii)
            lost += [(w, text) for w in lost_words(text, redacted, pii)]
        print(f"  {name}: known PII removed {removed}/{present}, {len(lost)} non-PII words replaced"
              + (":" if lost else ""))
        for word, text in lost:
            print(f"      {word!r} in {text!r}")


def precision_on_third_party(sources: dict[str, list[str]]) -> None:
    if not sources:
        print("\n(../shared/data absent: no third-party precision check)")
        return
    for source, texts in sources.items():
        print(f"\nchanged texts in {source} ({len(texts)} real customer messages, no PII expected)")
        for name, fn in REDACTORS.items():
            changed = [(t, fn(t)) for t in texts if fn(t) != t]
            words = Counter(w for t, r in changed for w in lost_words(t, r, []))
            print(f"  {name}: {len(changed)} texts changed, {sum(words.values())} words replaced")
            for text, redacted in changed[:8]:
                print(f"      {text!r} -> {redacted!r}")


def _seconds(fn, texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        fn(text)
    return time.perf_counter() - start


def throughput(corpora: dict[str, list[str]], runs: int) -> None:
    print(f"\nthroughput, tickets/s (median of {runs} runs; 2 shared cores, noisy)")
    print(f"{'corpus':<20} {'texts':>6} {'old':>10} {'new':>10} {'new/old':>8} {'new us/ticket':>14}")
    slowest = float("inf")
    for corpus, texts in corpora.items():
        rates = {name: len(texts) / statistics.median(_seconds(fn, texts) for _ in range(runs))
                 for name, fn in REDACTORS.items()}
        slowest = min(slowest, rates["new"])
        print(f"{corpus:<20} {len(texts):>6} {rates['old']:>10,.0f} {rates['new']:>10,.0f} "
              f"{rates['new'] / rates['old']:>8.2f} {1e6 / rates['new']:>14.1f}")
    print(f"1,000,000 tickets at the slowest new rate: {1_000_000 / slowest / 60:.1f} min on one core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="throughput repetitions (median)")
    args = parser.parse_args()
    samples = load_labelled()
    recall_table(samples)
    fixtures = fixture_texts()
    precision_on_fixtures(fixtures)
    sources = third_party_texts()
    precision_on_third_party(sources)
    redact("warm up +44 20 7946 0958")  # library imports and metadata loading are not per-ticket costs
    corpora = {"labelled (all PII)": [s["text"] for s in samples if s["category"] != NEGATIVE],
               "labelled negatives": [s["text"] for s in samples if s["category"] == NEGATIVE],
               "ticket fixtures": fixtures}
    if "banking77" in sources:
        corpora["banking77"] = sources["banking77"]
    throughput(corpora, args.runs)


if __name__ == "__main__":
    main()
