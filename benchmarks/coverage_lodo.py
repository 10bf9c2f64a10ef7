"""Gap mining's coverage decision across domains: is a resolved ticket answered by some article, or a gap?

    KBSUGGEST_MODELS_DIR=/work/main/models python benchmarks/coverage_lodo.py [--quick] [--domains a,b]

Gap mining clusters only the tickets no public article covers (``gaps/coverage.py``). Each domain of
benchmarks/domains.py (StackFAQ + Plausible, Integreat's cities in English and German, the sample KB) is
indexed, calibrated as ``kbsuggest index`` does on the fold's held-out weights (``lodo.py``: fitted without
the domain), and every query is checked whole, as a ticket's text is, under each rule:
- ``cosine >= 0.57``: the best public section's raw cosine against the constant chosen on StackFAQ alone
  (until 2026-12-02 the only rule);
- ``chat``: some card passes the KB's own chat threshold (precision >= 0.80 on its cold-start fit);
- ``form``: the best article passes the KB's form threshold;
- ``score >= p``: the best article's calibrated score (the KB's estimate of the probability that it answers)
  reaches p, for a few p: is the score, read as a probability, a rule that travels?
Per rule: answerable queries covered (by any article, and by the right one first), and the share of each
kind of unanswerable query left uncovered, i.e. reaching gap mining: ``own`` are Integreat's and the
sample's on-topic questions no article answers, the closest thing to a real gap these sets hold. Skips
(exit 0) when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from domain_data import DATA, available_domains  # noqa: E402
from domains import QUICK_LIMIT, per_kb  # noqa: E402
from embed_cache import DiskCachedEmbedder  # noqa: E402
from lodo import build, held_out  # noqa: E402

from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed import make_embedder  # noqa: E402
from learning import fit  # noqa: E402

OUT = HERE / "out"
FIXED = 0.57  # Settings.gap_coverage_score before per-KB coverage
PROBABILITIES = (0.2, 0.3, 0.4, 0.5)


def decisions(suggester, texts: list[str]) -> dict[str, list[tuple[bool, str | None]]]:
    """Per rule, (covered?, the article found) for each whole text, from one ranking of each: the best article
    decides every rule (in chat mode too, a text shows a card when its best one passes). Thresholds are the
    calibration's own: ``suggester.policy`` may hold those of the snapshot it was loaded from."""
    top = [found[0] if found else None for found in suggester.suggest_many(texts, 1, min_score=-1.0)]
    thresholds = suggester.calibration.thresholds
    rules = {f"cosine >= {FIXED}": lambda s: s.similarity >= FIXED,
             "chat": lambda s: s.score >= thresholds["chat"], "form": lambda s: s.score >= thresholds["form"],
             **{f"score >= {p}": (lambda s, p=p: s.score >= p) for p in PROBABILITIES}}
    return {rule: [(s is not None and passes(s), s.article_id if s else None) for s in top]
            for rule, passes in rules.items()}


def measure(b, calibrated) -> dict:
    answerable = [t for t in b.tickets if t.answerable]
    out = {}
    rules = decisions(calibrated, [t.title for t in answerable])
    unanswerable = {s: decisions(calibrated, [t.title for t in ts]) for s, ts in b.domain.unanswerable.items()}
    for rule, found in rules.items():
        row = {"covered": round(float(np.mean([c for c, _ in found])), 4),
               "covered_right": round(float(np.mean([c and a in t.linked_articles
                                                     for (c, a), t in zip(found, answerable)])), 4)}
        for source, by_rule in unanswerable.items():
            row[f"gap_{source}"] = round(float(np.mean([not c for c, _ in by_rule[rule]])), 4)
        row["gap_all"] = round(float(np.mean([not c for by_rule in unanswerable.values() for c, _ in by_rule[rule]])), 4)
        out[rule] = row
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", help="comma-separated domains to evaluate (default: all)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_LIMIT} queries per domain and source")
    parser.add_argument("--json", type=Path, default=OUT / "coverage.json")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: the third-party data is not at {DATA}")
        return 0
    domains = available_domains(QUICK_LIMIT if args.quick else None, [])
    chosen = args.domains.split(",") if args.domains else [d.name for d in domains]
    embedder = DiskCachedEmbedder(make_embedder(Settings()))
    results = {}
    with tempfile.TemporaryDirectory(prefix="kbsuggest-coverage-") as tmp:
        built = [build(d, Path(tmp), embedder) for d in domains]
        for fold, domains_held_out in held_out(built, chosen):
            for b in domains_held_out:
                calibrated, _ = per_kb(b, fold.calibration, fit.PULL)
                results[b.name] = measure(b, calibrated)
                print(f"measured {b.name}", file=sys.stderr)
    embedder.flush()
    rules = list(next(iter(results.values())))
    print("| domain | rule | answerable covered | covered by the right article | uncovered: own / project / "
          "banking77 / all |\n|---|---|---|---|---|")
    for name, by_rule in results.items():
        for rule, r in by_rule.items():
            gaps = " / ".join(f"{r[k]:.3f}" if k in r else "–" for k in ("gap_own", "gap_project", "gap_banking77"))
            print(f"| {name} | {rule} | {r['covered']:.3f} | {r['covered_right']:.3f} | {gaps} / {r['gap_all']:.3f} |")
    print("\nmean over the domains:")
    for rule in rules:
        keys = ("covered", "covered_right", "gap_own", "gap_project", "gap_banking77", "gap_all")
        means = {k: round(float(np.mean([r[rule][k] for r in results.values() if k in r[rule]])), 3) for k in keys}
        print(f"  {rule}: {means}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"quick": args.quick, "domains": results}, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
