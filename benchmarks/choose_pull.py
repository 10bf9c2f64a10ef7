"""The per-KB weight fit's pull (learning/fit.py's ``PULL``), chosen leave-one-domain-out from domains.py runs.

    python benchmarks/domains.py --pull inf --json benchmarks/out/pull-inf.json   # and 0.03, 0.1, 0.3 ...
    python benchmarks/choose_pull.py benchmarks/out/pull-*.json [--row form]

For each held-out domain, the pull whose runs score best on the *other* groups of domains (mean hit@3 over
30/50/100 % typed of the shipped ``--row``: ``form``, what a customer sees, or ``@0``), and that domain's
figures at it: the pull is then a fitted constant whose figures are held out like every other one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SHIPPED = "kbsuggest shipped (per-KB cold start, held-out weights)"
TYPED = ("hit@3_30", "hit@3_50", "hit@3_100")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="domains.py --json outputs, one per pull")
    parser.add_argument("--row", default="form", choices=("form", "@0"))
    args = parser.parse_args()
    runs = {}
    for path in args.runs:
        report = json.loads(path.read_text(encoding="utf-8"))
        runs[str(report["config"].get("pull", "?"))] = report["domains"]
    domains = sorted(set.intersection(*(set(d) for d in runs.values())))
    if len(runs) < 2 or not domains:
        print("error: give at least two runs over the same domains", file=sys.stderr)
        return 1
    groups = {d: next(iter(runs.values()))[d]["group"] for d in domains}

    def quality(pull: str, domain: str) -> float:
        row = runs[pull][domain]["systems"][f"{SHIPPED} {args.row}"]
        return sum(row[k] for k in TYPED) / len(TYPED)

    print(f"| held-out domain | pull chosen on the others | {' | '.join(TYPED)} |")
    print("|---|---|" + "---|" * len(TYPED))
    chosen = {}
    for domain in domains:
        others = [d for d in domains if groups[d] != groups[domain]]
        chosen[domain] = max(runs, key=lambda pull: sum(quality(pull, d) for d in others))
        row = runs[chosen[domain]][domain]["systems"][f"{SHIPPED} {args.row}"]
        print(f"| {domain} | {chosen[domain]} | " + " | ".join(f"{row[k]:.3f}" for k in TYPED) + " |")
    mean = [sum(runs[chosen[d]][d]["systems"][f"{SHIPPED} {args.row}"][k] for d in domains) / len(domains)
            for k in TYPED]
    print(f"| mean, held out | | " + " | ".join(f"{m:.3f}" for m in mean) + " |")
    for pull in runs:
        fixed = [sum(runs[pull][d]["systems"][f"{SHIPPED} {args.row}"][k] for d in domains) / len(domains)
                 for k in TYPED]
        print(f"| mean at pull {pull} | | " + " | ".join(f"{m:.3f}" for m in fixed) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
