"""Leave-one-domain-out suggestion quality: kbsuggest against its strongest peers on every KB we have.

    KBSUGGEST_MODELS_DIR=/work/main/models python benchmarks/domains.py [--domains a,b] [--quick]
        [--extra DIR[:lang]] [--peers bm25,dense,tantivy,txtai]

Domains (benchmarks/domain_data.py): ``stackfaq``, ``integreat-<city>-<en|de>``, ``sample``, and any
``--extra`` folder in the Integreat layout. Each is indexed in a temporary directory with the
configured embedder (the onnx int8 model by default); embeddings are cached per text under
benchmarks/out/cache, so reruns skip them. For every held-out domain (``--domains``: which ones are
evaluated; every available domain can be fitted on), kbsuggest's calibration and threshold are fitted
on the other domains only (benchmarks/lodo.py) and the domain is replayed keystroke by keystroke
through: the shipped default (the per-KB cold-start calibration that ``kbsuggest index`` fits, here
on the fold's held-out feature weights, in form and chat mode), the same as indexed (on the packaged
weights, which ``fit_calibration.py --domains`` fits exactly as a fold but on every domain, so none of it is held
out), the packaged calibration at its own threshold with no per-KB fit, the held-out fit, and the peers
(benchmarks/peers.py, evaluation/baselines.py), which rank whole articles with no threshold. Prints Markdown tables (benchmarks/domain_report.py) and writes every
figure to benchmarks/out/domains.json. Skips (exit 0) when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from domain_data import DATA, available_domains  # noqa: E402
from domain_metrics import summarize  # noqa: E402
from domain_report import print_report  # noqa: E402
from embed_cache import DiskCachedEmbedder  # noqa: E402
from lodo import BuiltDomain, Fold, build, held_out, run  # noqa: E402
from peers import TantivyRanker, TxtaiRanker, article_fields  # noqa: E402

from evaluation.baselines import BM25Ranker, DenseRanker, whole_articles  # noqa: E402
from evaluation.replay import SuggesterRanker  # noqa: E402
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed import make_embedder  # noqa: E402
from kbsuggest.errors import ConfigError  # noqa: E402
from kbsuggest.rank.calibration import GATED, Calibration  # noqa: E402
from kbsuggest.rank.suggester import Suggester  # noqa: E402
from learning.coldstart import cold_start  # noqa: E402
from learning import fit, thresholds  # noqa: E402

OUT = HERE / "out"
PEERS = ("bm25", "dense", "tantivy", "txtai")
QUICK_LIMIT = 40  # queries per domain and per unanswerable source with --quick
PACKAGED_MIN_SCORE = Calibration.default().threshold  # one calibration and min_score for every KB (no per-KB fit)
SHIPPED = "kbsuggest shipped (per-KB cold start, held-out weights)"
ORACLE = "bound: shipped ranking, form threshold fitted on this domain's unanswerable queries"
NEAR_ORACLE = "bound: the same, fitted on its project and BANKING77 queries only (not its own)"


def peer_rankers(b: BuiltDomain, names: list[str]) -> tuple[list, dict[str, str]]:
    """The peers that could be built for this domain, and why the others could not."""
    documents = whole_articles(b.snapshot_dir)
    makers = {"bm25": lambda: BM25Ranker(documents), "dense": lambda: DenseRanker(documents, b.embedder),
              "tantivy": lambda: TantivyRanker(article_fields(b.snapshot_dir), b.domain.language),
              "txtai": lambda: TxtaiRanker(documents, b.embedder)}
    built, missing = [], {}
    for name in names:
        try:
            built.append(makers[name]())
        except Exception as exc:  # a peer that cannot run is reported, not fatal
            missing[name] = f"{type(exc).__name__}: {exc}"
    return built, missing


def per_kb(b: BuiltDomain, fold: Fold, pull: float) -> tuple[Suggester, dict]:
    """The domain's Suggester calibrated as ``kbsuggest index`` does (learning/coldstart.py), on the fold's
    weights and map to real text."""
    calibration, how = cold_start(b.with_calibration(fold.calibration), fold.calibration, pull=pull,
                                  real_text=fold.real_text)
    return b.with_calibration(calibration), how


def evaluate_domain(b: BuiltDomain, fold: Fold, peers: list[str], pull: float = fit.PULL) -> dict:
    packaged = SuggesterRanker(b.with_calibration(Calibration.default()), name="packaged")
    indexed = SuggesterRanker(b.suggester, name="indexed")  # what `kbsuggest index` built: per-KB cold start
    lodo_cold, lodo_how = per_kb(b, fold, pull)
    shipped = SuggesterRanker(lodo_cold, name="shipped")
    held_out = SuggesterRanker(b.with_calibration(fold.calibration), name="lodo")
    others, missing = peer_rankers(b, peers)
    traces, rankings = run(b.tickets, [packaged, indexed, shipped, held_out, *others])
    sources = {t.id: source for source, tickets in b.domain.unanswerable.items() for t in tickets}
    t = fold.calibration.threshold
    cold, mine = lodo_cold.calibration.thresholds, b.suggester.calibration.thresholds

    def row(name: str, system: str, threshold: float | None, calibrated: bool = True,
            gate: bool = False, whole: bool = False) -> tuple[str, dict]:
        return name, summarize(b.tickets, traces[system], threshold, sources,
                               rankings[system] if calibrated else None, gate, whole)

    # The bounds of this ranking: the form threshold chosen on this domain's unanswerable queries (at most
    # FORM_MAX_FALSE shown anything), which no shipped fit can see. Not shippable figures: what any threshold
    # fitted without labels could reach at best. The second leaves out the domain's own on-topic questions
    # (Integreat's are questions another page may answer): the cost of hiding other services' and apps' text alone.
    def bound(keep) -> float:
        worst = [np.nanmax(np.asarray(tr.top, float), initial=0.0) for x, tr in zip(b.tickets, traces["shipped"])
                 if not x.answerable and keep(sources[x.id])]
        return thresholds.quantile_threshold(np.asarray(worst), thresholds.FORM_MAX_FALSE)

    # the rows the report compares (benchmarks/domain_report.py), named once so it need not parse names
    roles = {"form": f"{SHIPPED} form", "chat": f"{SHIPPED} chat", "@0": f"{SHIPPED} @0",
             "held_out": "kbsuggest held-out fit @fitted"}
    systems = dict([
        row(roles["form"], "shipped", cold["form"], gate=GATED["form"]),
        row(f"{SHIPPED} form, threshold per card (before)", "shipped", cold["form"]),
        row(roles["chat"], "shipped", cold["chat"], whole=True),
        row(roles["@0"], "shipped", 0.0),
        row(f"{ORACLE} ({thresholds.FORM_MAX_FALSE:g})", "shipped", bound(lambda source: True), gate=GATED["form"]),
        row(f"{NEAR_ORACLE} ({thresholds.FORM_MAX_FALSE:g})", "shipped", bound(lambda source: source != "own"),
            gate=GATED["form"]),
        row("kbsuggest per-KB, packaged weights (as indexed) form", "indexed", mine["form"], gate=GATED["form"]),
        row("kbsuggest per-KB, packaged weights (as indexed) chat", "indexed", mine["chat"], whole=True),
        row(f"kbsuggest packaged calibration @{PACKAGED_MIN_SCORE:g} (no per-KB fit)", "packaged", PACKAGED_MIN_SCORE),
        row(roles["held_out"], "lodo", t),
        row("kbsuggest held-out fit @0", "lodo", 0.0),
        *(row(r.name, r.name, None, calibrated=False) for r in others),
    ])
    return {
        "group": b.domain.group, "language": b.domain.language, "note": b.domain.note,
        "articles": b.articles, "chunks": b.chunks, "answerable": sum(x.answerable for x in b.tickets),
        "unanswerable": {s: len(ts) for s, ts in b.domain.unanswerable.items()}, "skipped": b.skipped,
        "fold": {"held_out": fold.held_out, "train": fold.train, "threshold": t, "threshold_note": fold.threshold_note,
                 "coef": [round(float(c), 4) for c in fold.calibration.coef],
                 "intercept": round(fold.calibration.intercept, 4), "fit_queries": len(fold.fit_ids),
                 "pseudo_to_real": [round(x, 4) for x in fold.real_text]},
        "per_kb": {"held_out_weights": {k: v for k, v in lodo_how.items() if k not in ("method",)},
                   "as_indexed": {k: v for k, v in b.suggester.manifest.calibration.items() if k not in ("method",)}},
        "peers_not_run": missing, "systems": systems,
        "roles": {**roles, "peers": [r.name for r in others]},
    }


def parse_extra(value: str) -> tuple[Path, str]:
    folder, _, language = value.partition(":")
    if not (Path(folder) / "docs.csv").is_file() or not (Path(folder) / "queries.csv").is_file():
        raise ConfigError(f"--extra {value!r}: expected a folder with docs.csv and queries.csv (Integreat layout)")
    return Path(folder), language or "en"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", help="comma-separated domains to hold out and evaluate (default: all)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_LIMIT} queries per domain and source")
    parser.add_argument("--extra", action="append", default=[], metavar="DIR[:lang]",
                        help="another domain: a folder with docs.csv, queries.csv (+ unanswerable_generated.csv)")
    parser.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated, of {', '.join(PEERS)}")
    parser.add_argument("--json", type=Path, default=OUT / "domains.json", help="where to write every figure")
    parser.add_argument("--pull", type=float, default=fit.PULL,
                        help=f"the per-KB weight fit's pull towards the held-out weights (default {fit.PULL}; "
                             "inf: no refit; the as-indexed rows keep the shipped pull, as kbsuggest index does); "
                             "benchmarks/choose_pull.py compares runs")
    args = parser.parse_args()
    try:
        extras = [parse_extra(v) for v in args.extra]
        peers = [p for p in args.peers.split(",") if p]
        if unknown := sorted(set(peers) - set(PEERS)):
            raise ConfigError(f"--peers: unknown {', '.join(unknown)}; valid: {', '.join(PEERS)}")
        if not DATA.is_dir() and not extras:
            print(f"skipped: the third-party data is not at {DATA} (see ../shared/data/README.md)")
            return 0
        domains = available_domains(QUICK_LIMIT if args.quick else None, extras)
        names = [d.name for d in domains]
        chosen = args.domains.split(",") if args.domains else names
        if unknown := [n for n in chosen if n not in names]:
            raise ConfigError(f"--domains: unknown {', '.join(unknown)}; available: {', '.join(names)}")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    started = time.perf_counter()
    embedder = DiskCachedEmbedder(make_embedder(Settings()))
    cached = len(embedder)
    results: dict[str, dict] = {}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kbsuggest-domains-") as tmp:
        built = []
        for d in domains:
            step = time.perf_counter()
            built.append(build(d, Path(tmp), embedder))
            timings[f"index {d.name}"] = round(time.perf_counter() - step, 1)
            print(f"indexed {d.name}: {built[-1].articles} articles in {timings[f'index {d.name}']} s", file=sys.stderr)
        step = time.perf_counter()
        for fold, domains_held_out in held_out(built, chosen):
            timings[f"fit without {fold.held_out}"] = round(time.perf_counter() - step, 1)
            for b in domains_held_out:
                step = time.perf_counter()
                results[b.name] = evaluate_domain(b, fold, peers, args.pull)
                timings[f"evaluate {b.name}"] = round(time.perf_counter() - step, 1)
                print(f"evaluated {b.name} in {timings[f'evaluate {b.name}']} s", file=sys.stderr)
            embedder.flush()
            step = time.perf_counter()
    embedder.flush()
    report = {
        "config": {"model": embedder.name, "model_file": embedder.model_file, "quick": args.quick,
                   "packaged_min_score": PACKAGED_MIN_SCORE, "pull": args.pull if np.isfinite(args.pull) else "inf",
                   "peers": peers, "domains": chosen,
                   "fitted_on_all_of": names},
        "embeddings": {"cached_before": cached, "embedded_now": embedder.embedded},
        "seconds": {"total": round(time.perf_counter() - started, 1), **timings},
        "domains": results,
    }
    print_report(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
