"""How far can fusing kbsuggest's evidence with tantivy's lift hit@3 on half-typed text? (issue 14's bar)

    KBSUGGEST_MODELS_DIR=/work/main/models python benchmarks/fusion_bound.py [--quick]

The bar of issue 14 is the best peer + 0.05 at 30 % and 50 % typed. tantivy, configured for type-ahead
(benchmarks/peers.py), is that peer at 30 % on 7 of 8 domains. This asks whether its evidence, which
kbsuggest does not have, is what is missing. For every domain's answerable queries at 30/50/70/100 %
typed, with every article scored (no candidate cut, no threshold):
- ``kbsuggest``: the six features of kbsuggest/rank/calibration.py, weights fitted listwise (w >= 0, as
  benchmarks/fit_calibration.py fits them) on the other domains only (leave one group out, as
  benchmarks/lodo.py), the held-out fit @0 of benchmarks/domains.py up to its candidate cut;
- ``kbsuggest + tantivy score``: the same with a seventh feature, the article's tantivy score divided by
  the best article's (in [0, 1], as ``text_bm25`` is), fitted the same way;
- ``kbsuggest, tantivy RRF``: the two rankings fused by reciprocal rank (k = 60, each ranking's best 10), the usual
  fusion of a lexical and a dense engine;
- ``tantivy``: the peer alone;
- ``six cards``: the right article among kbsuggest's top 3 *or* tantivy's top 3. Not a system (a form
  shows three cards): an upper bound of what any fusion of the two rankings could show in three.
``--bar domains.json`` (a run of benchmarks/domains.py) also sets each system against issue 14's bar there (the
strongest peer + 0.05 at 30 and 50 %, + 0.03 at 100 %, benchmarks/domain_report.py). Skips (exit 0) when
../shared/data is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from domain_data import DATA, available_domains  # noqa: E402
from domain_report import BAR_MARGIN, bar_of  # noqa: E402
from embed_cache import DiskCachedEmbedder  # noqa: E402
from lodo import build  # noqa: E402  (before fit_calibration: lodo needs the package learning/, not learning.py here)
from fit_calibration import L2, fit_listwise  # noqa: E402
from peers import TantivyRanker, article_fields  # noqa: E402

from evaluation.replay import PERCENTS, typed_length  # noqa: E402
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed import make_embedder  # noqa: E402

QUICK_LIMIT = 40
SYSTEMS = ("kbsuggest", "kbsuggest + tantivy score", "kbsuggest, tantivy RRF", "tantivy", "six cards")
RRF_K, RRF_DEPTH = 60, 10


@dataclass
class Prefix:
    """One answerable query typed to one share: every article's features and tantivy score."""
    percent: int
    gold: int  # position of the answering article
    features: np.ndarray | None  # (articles, 6); None: kbsuggest has nothing to search for yet
    tantivy: np.ndarray  # (articles,) 0 where tantivy does not match


def relative(scores: np.ndarray) -> np.ndarray:
    """Scores divided by the best one (all 0 when nothing matched)."""
    top = scores.max(initial=0.0)
    return scores / top if top > 0 else np.zeros_like(scores)


def with_tantivy(p: Prefix) -> np.ndarray:
    return np.column_stack([p.features, relative(p.tantivy)])


def ranked(scores: np.ndarray, depth: int = 3) -> list[int]:
    """The ``depth`` best positions (ties broken by position, as a stable sort does)."""
    return np.argsort(-scores, kind="stable")[:depth].tolist()


def in_top3(scores: np.ndarray, gold: int) -> bool:
    return gold in ranked(scores)


def rrf_top3(rankings: Sequence[list[int]]) -> list[int]:
    """The 3 best by reciprocal rank fusion: each position scores sum of 1 / (RRF_K + rank) over the rankings;
    a tie (ranks i, j against j, i) goes to the first ranking's order."""
    fused: dict[int, float] = defaultdict(float)
    for ranking in rankings:
        for rank, position in enumerate(ranking):
            fused[position] += 1.0 / (RRF_K + rank)
    first = {position: rank for rank, position in enumerate(rankings[0])}
    return sorted(fused, key=lambda p: (-fused[p], first.get(p, len(first)), p))[:3]


def hits(p: Prefix, weights: dict[str, np.ndarray]) -> dict[str, bool]:
    """Per system, whether the right article is in its top 3 (tantivy shows nothing when nothing matched)."""
    matched = bool(p.tantivy.max(initial=0.0) > 0)
    lexical_ranking = ranked(p.tantivy, RRF_DEPTH) if matched else []
    lexical = p.gold in lexical_ranking[:3]
    if p.features is None:
        return {"kbsuggest": False, "kbsuggest + tantivy score": False, "kbsuggest, tantivy RRF": lexical,
                "tantivy": lexical, "six cards": lexical}
    ours_ranking = ranked(p.features @ weights["kbsuggest"], RRF_DEPTH)
    ours = p.gold in ours_ranking[:3]
    return {"kbsuggest": ours, "kbsuggest + tantivy score": in_top3(with_tantivy(p) @ weights["fused"], p.gold),
            "kbsuggest, tantivy RRF": p.gold in rrf_top3([ours_ranking, lexical_ranking]),
            "tantivy": lexical, "six cards": ours or lexical}


def prefixes_of(b, tantivy: TantivyRanker) -> list[Prefix]:
    s = b.suggester
    position = {a.id: i for i, a in enumerate(s.articles)}
    out = []
    for ticket in b.tickets:
        if not ticket.answerable:
            continue
        for percent in PERCENTS:
            text = ticket.title[:typed_length(len(ticket.title), percent)]
            lexical = np.zeros(len(s.articles), np.float32)
            if (query := tantivy.query(text)) is not None:
                for score, address in tantivy.searcher.search(query, len(s.articles)).hits:
                    lexical[position[tantivy.searcher.doc(address)["id"][0]]] = score
            understood = s.understand(text)
            features = None if understood is None else s.features(
                understood, s.embedder.encode([understood.text.strip()])[0])[0]
            out.append(Prefix(percent, position[ticket.linked_articles[0]], features, lexical))
    return out


def evaluate(domains: dict[str, tuple[str, list[Prefix]]]) -> dict[str, dict[str, list[float]]]:
    """Per domain and system, hit@3 at each of PERCENTS, every weight fitted without the domain's group."""
    out = {}
    for group in dict.fromkeys(g for g, _ in domains.values()):
        train = [p for g, ps in domains.values() if g != group for p in ps if p.features is not None]
        weights = {"kbsuggest": fit_listwise([(p.features, p.gold) for p in train], L2),
                   "fused": fit_listwise([(with_tantivy(p), p.gold) for p in train], L2)}
        for name, (g, ps) in domains.items():
            if g != group:
                continue
            found: dict[tuple[str, int], list[bool]] = defaultdict(list)
            for p in ps:
                for system, hit in hits(p, weights).items():
                    found[system, p.percent].append(hit)
            out[name] = {system: [float(np.mean(found[system, pc])) for pc in PERCENTS] for system in SYSTEMS}
    return out


def report(results: dict[str, dict[str, list[float]]]) -> None:
    head = " | ".join(f"hit@3@{p}%" for p in PERCENTS)
    print(f"| domain | system | {head} |\n|---|---|{'---|' * len(PERCENTS)}")
    for name, systems in results.items():
        for system, values in systems.items():
            print(f"| {name} | {system} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    print(f"\n| mean over {len(results)} domains | {head} |\n|---|{'---|' * len(PERCENTS)}")
    for system in SYSTEMS:
        mean = np.mean([results[n][system] for n in results], axis=0)
        print(f"| {system} | " + " | ".join(f"{v:.3f}" for v in mean) + " |")


def against_bar(results: dict[str, dict[str, list[float]]], report: dict) -> None:
    """Each system against the bar of ``report`` (a domains.py JSON) per share typed, and how many domains reach it."""
    common = [n for n in results if n in report["domains"] and bar_of(report["domains"][n], 30) is not None]
    print(f"\n| domain | typed | bar | {' | '.join(SYSTEMS)} |\n|---|---|---|{'---|' * len(SYSTEMS)}")
    reached: dict[tuple[str, int], int] = defaultdict(int)
    for name in common:
        for percent in BAR_MARGIN:
            _, _, bar = bar_of(report["domains"][name], percent)
            cells = []
            for system in SYSTEMS:
                value = results[name][system][PERCENTS.index(percent)]
                reached[system, percent] += value >= bar
                cells.append(f"{value:.3f} {'✓' if value >= bar else '✗'}")
            print(f"| {name} | {percent}% | {bar:.3f} | " + " | ".join(cells) + " |")
    print(f"\n| domains at the bar (of {len(common)}) | " + " | ".join(f"{p}%" for p in BAR_MARGIN)
          + f" |\n|---|{'---|' * len(BAR_MARGIN)}")
    for system in SYSTEMS:
        print(f"| {system} | " + " | ".join(str(reached[system, p]) for p in BAR_MARGIN) + " |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_LIMIT} queries per domain")
    parser.add_argument("--bar", type=Path, help="a domains.py JSON: set each system against its bar")
    args = parser.parse_args(argv)
    if args.bar is not None and not args.bar.is_file():
        print(f"error: --bar: no file {args.bar} (write one with benchmarks/domains.py --json)", file=sys.stderr)
        return 1
    if not DATA.is_dir():
        print(f"skipped: the third-party data is not at {DATA} (see ../shared/data/README.md)")
        return 0
    embedder = DiskCachedEmbedder(make_embedder(Settings()))
    domains = {}
    with tempfile.TemporaryDirectory(prefix="kbsuggest-fusion-") as tmp:
        for d in available_domains(QUICK_LIMIT if args.quick else None):
            b = build(d, Path(tmp), embedder)
            domains[d.name] = (d.group, prefixes_of(b, TantivyRanker(article_fields(b.snapshot_dir), d.language)))
            print(f"{d.name}: {len(domains[d.name][1])} prefixes", file=sys.stderr)
    embedder.flush()
    results = evaluate(domains)
    report(results)
    if args.bar is not None:
        against_bar(results, json.loads(args.bar.read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
