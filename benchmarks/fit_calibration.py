"""Fit the calibrated score (kbsuggest/calibration.json) offline, on evaluation data.

    python benchmarks/fit_calibration.py [--write] [--candidates 20] [--objective listwise|pointwise]

Training data (disjoint from what benchmarks/quality.py reports as held out):
- answerable: the StackFAQ queries of threads with an even doc_id, replayed keystroke by keystroke
  (the same debounced prefixes as the evaluation) against the StackFAQ + Plausible KB;
- unanswerable: the first two BANKING77 *train* queries of each intent (quality.py uses test queries).
For each prefix, the candidates are the union of the best articles by dense and by lexical
evidence; a candidate is positive when it is the thread that answers the query. The weights of
kbsuggest.rank.calibration.FEATURES are fitted by a listwise objective (the log-likelihood of the
answering article under a softmax over each answerable prefix's candidates, L2-regularised: it
optimises the order, which a pointwise fit trades for separating easy negatives), then Platt
scaling (scikit-learn's logistic regression on that one fused score, over every candidate row,
BANKING77 ones included) makes it P(answers | features). ``--objective pointwise`` fits one
logistic regression on the features directly instead.
Prints the coefficients and hit@3 at 30/50/70/100% typed on the held-out (odd doc_id) queries;
``--write`` stores the coefficients. Skips (exit 0) when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import DATA, write_kb  # noqa: E402

from evaluation.replay import PERCENTS, debounced_lengths, typed_length  # noqa: E402
from indexing.build import build_index  # noqa: E402
from kbsuggest.rank.calibration import CALIBRATION_FILE, FEATURES  # noqa: E402
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed import create_embedder  # noqa: E402
from kbsuggest.kbs.load import load_suggester  # noqa: E402


def load_queries() -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    with open(DATA / "stackfaq" / "stackfaq_queries.csv", encoding="utf-8", newline="") as handle:
        rows = [(q["query"], f"stackfaq-{q['doc_id']}", int(q["doc_id"])) for q in csv.DictReader(handle)]
    train = [(q, gold) for q, gold, doc in rows if doc % 2 == 0]
    held = [(q, gold) for q, gold, doc in rows if doc % 2 == 1]
    per_intent: dict[str, list[str]] = {}
    with open(DATA / "banking77" / "train.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            per_intent.setdefault(row["category"], []).append(row["text"])
    negatives = [text for texts in per_intent.values() for text in texts[:2]]
    return train, held, negatives


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


def fit_listwise(groups: list[tuple[np.ndarray, int]], l2: float) -> np.ndarray:
    """Weights maximising sum log softmax(X w)[gold] over groups (X, gold row), minus l2/2 |w|^2."""
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

    return minimize(loss, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B").x


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the fit in {CALIBRATION_FILE.name}")
    parser.add_argument("--candidates", type=int, default=20, help="best articles per prefix, by dense and by lexical")
    parser.add_argument("--objective", choices=("listwise", "pointwise"), default="listwise")
    parser.add_argument("--l2", type=float, default=10.0, help="L2 penalty of the listwise weights")
    args = parser.parse_args()
    if not (DATA / "stackfaq").is_dir() or not (DATA / "banking77").is_dir():
        print(f"skipped: the third-party data is not at {DATA}")
        return 0
    from sklearn.linear_model import LogisticRegression

    train, held, negatives = load_queries()
    with tempfile.TemporaryDirectory(prefix="kbsuggest-fit-") as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", db_path=Path(tmp) / "kbsuggest.db")
        embedder = create_embedder(settings.embedder, settings.model_path, settings.embed_batch_size)
        write_kb(Path(tmp) / "kb")
        build_index(Path(tmp) / "kb", settings, embedder)
        suggester = load_suggester(settings, embedder)
    position = {a.id: i for i, a in enumerate(suggester.articles)}
    labelled = [(q, position[gold]) for q, gold in train] + [(q, -1) for q in negatives]
    prefixes = sorted({q[:n] for q, _ in labelled for n in debounced_lengths(q)})
    feats = featurize(suggester, prefixes)
    X, y, groups = [], [], []
    for query, gold in labelled:
        for n in debounced_lengths(query):
            f = feats[query[:n]]
            if f is None:
                continue
            rows = candidates(f, args.candidates)
            X.append(f[rows])
            y.append(rows == gold)
            if gold >= 0:  # the listwise objective sees the answering article among the candidates
                rows = rows if gold in rows else np.append(rows, gold)
                groups.append((f[rows], int(np.flatnonzero(rows == gold)[0])))
    X, y = np.concatenate(X), np.concatenate(y)
    if args.objective == "listwise":
        weights = fit_listwise(groups, args.l2)
        platt = LogisticRegression(C=1.0, max_iter=1000).fit((X @ weights)[:, None], y)
        coef, intercept = (platt.coef_[0, 0] * weights).tolist(), float(platt.intercept_[0])
    else:
        model = LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
        coef, intercept = model.coef_[0].tolist(), float(model.intercept_[0])
    print(f"{len(X)} rows ({int(y.sum())} positive) from {len(train)} queries + {len(negatives)} BANKING77 negatives; "
          f"{args.objective} objective")
    print("coef", dict(zip(FEATURES, np.round(coef, 3))), "intercept", round(intercept, 3))

    held_prefixes = sorted({q[:typed_length(len(q), p)] for q, _ in held for p in PERCENTS})
    held_feats = featurize(suggester, held_prefixes)
    for p in PERCENTS:
        hits = 0
        for query, gold in held:
            f = held_feats[query[:typed_length(len(query), p)]]
            if f is not None:
                score = f @ np.asarray(coef) + intercept
                hits += position[gold] in np.argsort(-score, kind="stable")[:3]
        print(f"held-out hit@3 at {p}% typed: {hits / len(held):.3f} ({len(held)} queries)")
    if args.write:
        data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
        data.update(features=list(FEATURES), coef=[round(c, 4) for c in coef], intercept=round(intercept, 4), fitted_on=(
            f"{dt.date.today().isoformat()} by benchmarks/fit_calibration.py with {suggester.embedder.name}: "
            f"{len(train)} StackFAQ queries (even doc_id) replayed keystroke by keystroke against the StackFAQ + "
            f"Plausible KB, and {len(negatives)} BANKING77 train queries as unanswerable; {len(X)} "
            f"(prefix, candidate) rows, top {args.candidates} candidates by dense and by lexical evidence; "
            + ("listwise weights (softmax over each prefix's candidates, "
               f"L2 {args.l2}) then Platt scaling" if args.objective == "listwise" else "pointwise logistic regression")))
        CALIBRATION_FILE.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
