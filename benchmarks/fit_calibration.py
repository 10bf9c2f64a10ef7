"""Fit the calibrated score (kbsuggest/rank/calibration.json) offline, on evaluation data.

    python benchmarks/fit_calibration.py [--domains] [--write] [--candidates 20] [--objective listwise|pointwise]

``fit(samples)`` fits on any list of (Suggester, labelled queries) and returns a
``kbsuggest.rank.calibration.Calibration`` (benchmarks/lodo.py fits one per held-out domain with it).
Each query is replayed keystroke by keystroke (the same debounced prefixes as the evaluation); for
each prefix, the candidates are the union of the best articles by dense and by lexical evidence; a
candidate is positive when it is the article that answers the query. The weights of
kbsuggest.rank.calibration.FEATURES are fitted by a listwise objective (the log-likelihood of the
answering article under a softmax over each answerable prefix's candidates, L2-regularised: it
optimises the order, which a pointwise fit trades for separating easy negatives), then Platt
scaling (scikit-learn's logistic regression on that one fused score, over every candidate row,
unanswerable ones included) makes it P(answers | features). ``--objective pointwise`` fits one
logistic regression on the features directly instead.

``--domains`` fits the packaged calibration (what ships): exactly as each leave-one-domain-out fold of
benchmarks/domains.py is fitted (benchmarks/lodo.py), on every domain it finds, none held out, so the
held-out figures domains.py prints are those of the shipped weights on a KB they never saw; prints
the weights and the threshold (precision >= 0.9, false suggestions <= 0.10 on those domains).

Without ``--domains``, the fit of StackFAQ alone (the packaged calibration until 2026-12-02), on data
disjoint from what benchmarks/quality.py reports as held out:
- answerable: the StackFAQ queries of threads with an even doc_id, against the StackFAQ + Plausible KB;
- unanswerable: the first two BANKING77 *train* queries of each intent (quality.py uses test queries).
It prints the coefficients and hit@3 at 30/50/70/100% typed on the held-out (odd doc_id) queries.
``--write`` stores the weights (and, with ``--domains``, the threshold). Skips (exit 0) when
../shared/data is absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from domain_data import DATA, banking77_sample, read_csv, write_stackfaq_kb  # noqa: E402

from evaluation.replay import PERCENTS, debounced_lengths, typed_length  # noqa: E402
from indexing.build import build_index  # noqa: E402
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed import create_embedder  # noqa: E402
from kbsuggest.kbs.load import load_suggester  # noqa: E402
from kbsuggest.rank.calibration import DEFAULT_FILE, FEATURES, Calibration  # noqa: E402
from kbsuggest.rank.suggester import Suggester  # noqa: E402

L2 = 10.0  # penalty of the listwise weights, as every fold (benchmarks/lodo.py) and the packaged fit use it
Labelled = tuple[str, str, str | None]  # (query id, text, id of the article that answers it; None: none does)


@dataclass
class TrainingRows:
    """The rows one KB's labelled queries contribute to a fit."""
    X: np.ndarray  # (rows, len(FEATURES)): every candidate of every prefix
    y: np.ndarray  # (rows,) the candidate answers the query
    groups: list[tuple[np.ndarray, int]] = field(default_factory=list)  # answerable prefixes: candidates, gold row
    ids: list[str] = field(default_factory=list)  # the query ids the rows come from


def featurize(suggester: Suggester, texts: list[str]) -> dict[str, np.ndarray | None]:
    queries = [suggester.understand(t) for t in texts]
    todo = [i for i, q in enumerate(queries) if q is not None]
    vectors = suggester.embedder.encode([queries[i].text.strip() for i in todo]) if todo else []
    out: dict[str, np.ndarray | None] = dict.fromkeys(texts)
    for row, i in enumerate(todo):
        out[texts[i]] = suggester.features(queries[i], vectors[row])[0]
    return out


def candidates(features: np.ndarray, n: int) -> np.ndarray:
    dense = np.argsort(-features[:, FEATURES.index("chunk_cos")], kind="stable")[:n]
    lexical = np.argsort(-(features[:, FEATURES.index("title_cov")] + features[:, FEATURES.index("text_cov")]),
                         kind="stable")[:n]
    return np.union1d(dense, lexical)


def training_rows(suggester: Suggester, labelled: Sequence[Labelled], n_candidates: int = 20) -> TrainingRows:
    """Candidate rows of every debounced prefix of ``labelled`` against ``suggester``'s KB."""
    position = {a.id: i for i, a in enumerate(suggester.articles)}
    prefixes = sorted({text[:n] for _, text, _ in labelled for n in debounced_lengths(text)})
    feats = featurize(suggester, prefixes)
    X, y, groups = [], [], []
    for _, text, article in labelled:
        gold = position[article] if article is not None else -1
        for n in debounced_lengths(text):
            f = feats[text[:n]]
            if f is None:
                continue
            rows = candidates(f, n_candidates)
            X.append(f[rows])
            y.append(rows == gold)
            if gold >= 0:  # the listwise objective sees the answering article among the candidates
                rows = rows if gold in rows else np.append(rows, gold)
                groups.append((f[rows], int(np.flatnonzero(rows == gold)[0])))
    empty = np.zeros((0, len(FEATURES)), np.float32)
    return TrainingRows(np.concatenate(X) if X else empty, np.concatenate(y) if y else np.zeros(0, bool), groups,
                        [query_id for query_id, _, _ in labelled])


def fit_listwise(groups: list[tuple[np.ndarray, int]], l2: float) -> np.ndarray:
    """Weights w >= 0 maximising sum log softmax(X w)[gold] over groups (X, gold row), minus l2/2 |w|^2.

    Bounded below by 0 because every feature is evidence for the article: unbounded, the Integreat-heavy folds
    weighed the title cosine at -3.1 (collinear with the centroid cosine there), which a KB of title-like
    tickets then inherited; bounded, held-out hit@3 is the same (README, Ranking)."""
    from scipy.optimize import minimize

    X = np.concatenate([g for g, _ in groups]).astype(np.float64)
    sizes = np.array([len(g) for g, _ in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    gold = starts + np.array([row for _, row in groups])
    group_of = np.repeat(np.arange(len(groups)), sizes)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = X @ w
        top = np.maximum.reduceat(s, starts)
        e = np.exp(s - top[group_of])
        z = np.add.reduceat(e, starts)
        p = e / z[group_of]
        ll = (s[gold] - top - np.log(z)).sum()
        return -ll + 0.5 * l2 * w @ w, -(X[gold].sum(0) - p @ X) + l2 * w

    return minimize(loss, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * X.shape[1]).x


def fit_rows(parts: Sequence[TrainingRows], objective: str = "listwise", l2: float = L2,
             threshold: float | None = None) -> Calibration:
    """One calibration from the pooled rows of several KBs; ``threshold`` defaults to the packaged one."""
    from sklearn.linear_model import LogisticRegression

    X = np.concatenate([p.X for p in parts])
    y = np.concatenate([p.y for p in parts])
    if objective == "listwise":
        weights = fit_listwise([g for p in parts for g in p.groups], l2)
        platt = LogisticRegression(C=1.0, max_iter=1000).fit((X @ weights)[:, None], y)
        coef, intercept = platt.coef_[0, 0] * weights, float(platt.intercept_[0])
    else:
        model = LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
        coef, intercept = model.coef_[0], float(model.intercept_[0])
    return Calibration(np.asarray(coef, np.float32), intercept,
                       Calibration.default().threshold if threshold is None else threshold)


def fit(samples: Sequence[tuple[Suggester, Sequence[Labelled]]], n_candidates: int = 20, **options) -> Calibration:
    """Fit on (KB, labelled queries) pairs: see ``fit_rows`` for the options."""
    return fit_rows([training_rows(s, labelled, n_candidates) for s, labelled in samples], **options)


def load_queries() -> tuple[list[Labelled], list[Labelled], list[Labelled]]:
    rows = [(q["query"], f"stackfaq-{q['doc_id']}", int(q["doc_id"]))
            for q in read_csv(DATA / "stackfaq" / "stackfaq_queries.csv")]
    train = [(f"q{i}", q, gold) for i, (q, gold, doc) in enumerate(rows) if doc % 2 == 0]
    held = [(f"q{i}", q, gold) for i, (q, gold, doc) in enumerate(rows) if doc % 2 == 1]
    negatives = [(f"n{i}", text, None) for i, text in enumerate(banking77_sample("train", 2))]
    return train, held, negatives


def write_packaged(calibration: Calibration, fitted_on: str, threshold_note: str | None = None,
                   pseudo_to_real: dict | None = None) -> None:
    """Store ``calibration``'s weights (and, with ``threshold_note``, its threshold; with ``pseudo_to_real``, the
    cold start's map to real text) as the packaged default."""
    data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    data.update(features=list(FEATURES), coef=[round(float(c), 4) for c in calibration.coef],
                intercept=round(calibration.intercept, 4), fitted_on=f"{dt.date.today().isoformat()} {fitted_on}")
    if threshold_note is not None:
        data.update(threshold=round(calibration.threshold, 4), threshold_note=threshold_note)
    if pseudo_to_real is not None:
        data.update(pseudo_to_real=pseudo_to_real)
    DEFAULT_FILE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {DEFAULT_FILE}")


def fit_domains(args: argparse.Namespace) -> int:
    """The packaged calibration fitted as every leave-one-domain-out fold is (benchmarks/lodo.py), on every
    domain benchmarks/domain_data.py finds, none held out: what benchmarks/domains.py measures on unseen KBs."""
    from domain_data import available_domains
    from embed_cache import DiskCachedEmbedder
    from lodo import Folds, build

    from kbsuggest.embed import make_embedder

    embedder = DiskCachedEmbedder(make_embedder(Settings()))
    with tempfile.TemporaryDirectory(prefix="kbsuggest-fit-") as tmp:
        built = [build(d, Path(tmp), embedder) for d in available_domains()]
        fold = Folds(built, args.candidates).fit(None)
    embedder.flush()
    c = fold.calibration
    print(f"fitted on {', '.join(fold.train)} ({len(fold.fit_ids)} labelled queries)")
    print("coef", dict(zip(FEATURES, np.round(c.coef.tolist(), 3))), "intercept", round(c.intercept, 3))
    print(f"threshold {c.threshold:.4f}: {fold.threshold_note}")
    slope, offset = fold.real_text
    print(f"pseudo_to_real: slope {slope:.4f}, offset {offset:.4f}")
    if args.write:
        write_packaged(c, (
            f"by benchmarks/fit_calibration.py --domains with {embedder.name}: as each leave-one-domain-out fold of "
            f"benchmarks/domains.py is fitted, on all of {', '.join(fold.train)} ({len(fold.fit_ids)} labelled queries "
            f"replayed keystroke by keystroke, the answerable ones of each domain with BANKING77 train queries as "
            f"unanswerable); top {args.candidates} candidates by dense and by lexical evidence; listwise weights "
            f"(softmax over each prefix's candidates, L2 {L2}) then Platt scaling"),
            f"benchmarks/fit_calibration.py --domains: the lowest threshold with precision >= 0.9 and at most 0.10 "
            f"false suggestions on the same domains ({fold.threshold_note}). Settings.min_score defaults to it; each "
            f"KB's own calibration (learning/coldstart.py) replaces it.",
            {"slope": round(slope, 4), "offset": round(offset, 4),
             "note": "benchmarks/fit_calibration.py --domains: the cold start's score (learning/coldstart.py) mapped "
                     "to what real text gets: each domain cold-started on these weights, its labelled queries and "
                     "BANKING77 train queries typed as a form sends them, a Platt fit over the cards its form shows "
                     "(each domain the same weight, answerable and unanswerable half each). Pseudo-queries share their "
                     "article's wording, so a scale fitted on them alone promises more than real tickets get."})
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the fit in {DEFAULT_FILE.name}")
    parser.add_argument("--domains", action="store_true",
                        help="fit on every domain of benchmarks/domain_data.py (the shipped default), not StackFAQ alone, "
                             "exactly as a fold of lodo.py (--objective and --l2 do not apply)")
    parser.add_argument("--candidates", type=int, default=20, help="best articles per prefix, by dense and by lexical")
    parser.add_argument("--objective", choices=("listwise", "pointwise"), default="listwise")
    parser.add_argument("--l2", type=float, default=L2, help="L2 penalty of the listwise weights")
    args = parser.parse_args()
    if not (DATA / "stackfaq").is_dir() or not (DATA / "banking77").is_dir():
        print(f"skipped: the third-party data is not at {DATA}")
        return 0
    if args.domains:
        return fit_domains(args)

    train, held, negatives = load_queries()
    with tempfile.TemporaryDirectory(prefix="kbsuggest-fit-") as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", db_path=Path(tmp) / "kbsuggest.db")
        embedder = create_embedder(settings.embedder, settings.model_path, settings.embed_batch_size)
        write_stackfaq_kb(Path(tmp) / "kb")
        build_index(Path(tmp) / "kb", settings, embedder)
        suggester = load_suggester(settings, embedder)
    rows = training_rows(suggester, train + negatives, args.candidates)
    calibration = fit_rows([rows], args.objective, args.l2)
    coef, intercept = calibration.coef.tolist(), calibration.intercept
    print(f"{len(rows.X)} rows ({int(rows.y.sum())} positive) from {len(train)} queries + {len(negatives)} BANKING77 "
          f"negatives; {args.objective} objective")
    print("coef", dict(zip(FEATURES, np.round(coef, 3))), "intercept", round(intercept, 3))

    position = {a.id: i for i, a in enumerate(suggester.articles)}
    held_feats = featurize(suggester, sorted({q[:typed_length(len(q), p)] for _, q, _ in held for p in PERCENTS}))
    for p in PERCENTS:
        hits = 0
        for _, query, gold in held:
            f = held_feats[query[:typed_length(len(query), p)]]
            if f is not None:
                hits += position[gold] in np.argsort(-calibration.probability(f), kind="stable")[:3]
        print(f"held-out hit@3 at {p}% typed: {hits / len(held):.3f} ({len(held)} queries)")
    if args.write:
        write_packaged(calibration, (
            f"by benchmarks/fit_calibration.py with {suggester.embedder.name}: "
            f"{len(train)} StackFAQ queries (even doc_id) replayed keystroke by keystroke against the StackFAQ + "
            f"Plausible KB, and {len(negatives)} BANKING77 train queries as unanswerable; {len(rows.X)} "
            f"(prefix, candidate) rows, top {args.candidates} candidates by dense and by lexical evidence; "
            + ("listwise weights (softmax over each prefix's candidates, "
               f"L2 {args.l2}) then Platt scaling" if args.objective == "listwise" else "pointwise logistic regression")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
