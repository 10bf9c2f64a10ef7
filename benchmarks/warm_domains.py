"""What ``kbsuggest calibrate`` gains on each domain's own history, with and without its unanswered tickets.

    KBSUGGEST_MODELS_DIR=/work/main/models python benchmarks/warm_domains.py [--domains a,b] [--quick]

Each domain of benchmarks/domains.py is cold-started as shipped (leave-one-domain-out: on feature weights
and a map to real text fitted on the other domains). Its evaluated queries then play its history: the
answerable ones as resolved tickets linked to their article, the unanswerable ones (the domain's own,
project and BANKING77 text) as resolved tickets with no article. learning/warm.py's 70/30 split by text
decides which the fit sees; every figure is on the other 30 %, replayed keystroke by keystroke as
domains.py does (its metrics: form hit@3, nothing shown, false suggestions, ECE of the cards shown). Three
calibrations: the cold start, ``warm`` fitted on the answered tickets only (before 2026-12-04), and
``warm + unanswered`` (what ``kbsuggest calibrate`` fits now: the scale and the chat threshold learn the
history's own mix).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from domain_data import DATA, available_domains  # noqa: E402
from domain_metrics import summarize  # noqa: E402
from domains import QUICK_LIMIT, per_kb  # noqa: E402
from embed_cache import DiskCachedEmbedder  # noqa: E402
from lodo import build, held_out, run  # noqa: E402

from evaluation.replay import SuggesterRanker  # noqa: E402
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed import make_embedder  # noqa: E402
from kbsuggest.rank.calibration import GATED  # noqa: E402
from learning import fit  # noqa: E402
from learning.warm import Label, held_out as in_test, warm_fit  # noqa: E402

SYSTEMS = ("cold start", "warm", "warm + unanswered")
COLUMNS = ("form threshold", "hit@3@30%", "hit@3@50%", "hit@3@100%", "nothing shown ≤50%", "false (form)",
           "ECE form (n)", "chat precision (cards)", "ECE chat")


def history(b) -> tuple[list[Label], list]:
    """(the domain's tickets as history labels, the tickets of its held-out 30 %)."""
    labels = [Label(t.title, t.linked_articles[0] if t.answerable else None, "ticket" if t.answerable else "unanswered")
              for t in b.tickets]
    return labels, [t for t, x in zip(b.tickets, labels) if in_test(x)]


def evaluate(b, fold) -> dict[str, dict]:
    cold, _ = per_kb(b, fold, fit.PULL)
    labels, test = history(b)
    warm, _ = warm_fit(cold, [x for x in labels if x.article_id is not None], base=fold.calibration)
    mixed, how = warm_fit(cold, labels, base=fold.calibration)
    suggesters = {"cold start": cold, "warm": b.with_calibration(warm), "warm + unanswered": b.with_calibration(mixed)}
    traces, rankings = run(test, [SuggesterRanker(s, name=n) for n, s in suggesters.items()])
    sources = {t.id: "history" for t in test if not t.answerable}
    out = {}
    for name, s in suggesters.items():
        t = s.calibration.thresholds
        form = summarize(test, traces[name], t["form"], sources, rankings[name], gate=GATED["form"])
        chat = summarize(test, traces[name], t["chat"], sources, rankings[name], whole=True)
        out[name] = {"form": form, "chat": chat, "threshold": t["form"]}
    out["split"] = {"train": how["train"], "held_out": how["held_out"], "by_source": how["by_source"]}
    return out


def row(name: str, r: dict) -> str:
    f, c = r["form"], r["chat"]

    def n(x, digits=3):
        return "–" if x is None else f"{x:.{digits}f}"

    cells = [n(r["threshold"], 4), n(f["hit@3_30"]), n(f["hit@3_50"]), n(f["hit@3_100"]), n(f["nothing_50"]),
             n(f["false"].get("all")), f"{n(f.get('ece'))} ({f.get('ece_n', 0)})",
             f"{n(c.get('precision'))} ({c.get('ece_n', 0)})", n(c.get("ece"))]
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", help="comma-separated domains to evaluate (default: all)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_LIMIT} queries per domain and source")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: the third-party data is not at {DATA} (see ../shared/data/README.md)")
        return 0
    domains = available_domains(QUICK_LIMIT if args.quick else None)
    names = [d.name for d in domains]
    chosen = args.domains.split(",") if args.domains else names
    if unknown := [x for x in chosen if x not in names]:
        print(f"error: --domains: unknown {', '.join(unknown)}; available: {', '.join(names)}", file=sys.stderr)
        return 1
    embedder = DiskCachedEmbedder(make_embedder(Settings()))
    print("# Warm calibration on each domain's own history (figures on its held-out 30 %)\n")
    print("| domain / calibration | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    with tempfile.TemporaryDirectory(prefix="kbsuggest-warm-") as tmp:
        built = [build(d, Path(tmp), embedder) for d in domains]
        for fold, group in held_out(built, chosen):
            for b in group:
                result = evaluate(b, fold)
                split = result.pop("split")
                for name in SYSTEMS:
                    print(row(f"{b.name} / {name}", result[name]), flush=True)
                print(f"| {b.name}: history {split['train']} texts fitted on, {split['held_out']} held out "
                      f"({split['by_source']['ticket']} answered, {split['by_source']['unanswered']} unanswered in "
                      f"all) |" + " |" * len(COLUMNS), flush=True)
            embedder.flush()
    embedder.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
