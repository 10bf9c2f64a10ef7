"""Fitting a KB's calibration with numpy only: its feature weights, the scale of its score, its two thresholds.

On examples of the KB (pseudo-queries at cold start, labelled history when warm), in this order:
- **weights**: the packaged feature weights (``kbsuggest/rank/calibration.json``, fitted across domains)
  refitted listwise (softmax over each text's candidates, the answering article as the target), pulled
  towards the packaged ones by ``PULL``: a KB whose text the model embeds poorly (German for an English
  model) leans on lexical evidence, a KB of short titles on the title;
- **Platt scaling**: ``P(answers) = sigmoid(slope * logit + offset)`` over the suggestions a visitor would
  be shown (the top ``SHOWN`` of each text), by Newton's method on the weighted log-loss, each step halved
  until it lowers the loss (a full Newton step can oscillate and diverge on these examples); at cold start
  then composed with the packaged map from pseudo-queries to real text (``real_text_scale``: pseudo-queries
  share their article's wording, so a scale fitted on them alone promises more than real tickets get);
- **form and chat thresholds** on that score (``thresholds.py``).
Answerable and out-of-domain examples weigh the same in total (a declared prior of half and half).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

SHOWN = 3
KEEP = 50  # candidates of a text the weight fit sees (its best by the packaged weights, and the answer)
# Pull of the weights towards the packaged ones, against answerable texts weighing 1 in all. Chosen leave-one-
# domain-out on what the form shows (benchmarks/choose_pull.py over domains.py --pull 0.03|0.1|0.3|inf, every
# query; mean hit@3 over 30/50/100 % typed for each held-out domain at the pull best on the other domains): 0.1
# for all 8 held-out domains since lexical matching follows the KB's languages (0.3 for 7 of 8 before). A
# weaker pull (0.03) ranks better still with no threshold but raises the form threshold more (see README).
PULL = 0.1
# Pull of (slope, offset) towards the packaged scale (1, 0), against examples weighing 2 in all: keeps a fit
# finite when the KB's pseudo-queries and the off-topic texts are separable (they often are).
L2 = 0.05
MAX_SLOPE = 4.0  # at most this much sharper than the packaged scale


@dataclass
class Candidates:
    """Per text typed: the features of its candidates (at most ``KEEP``, best by the base weights first, the
    answering article always kept) and which of them answer it; ``scored`` turns them into ``Examples``."""
    features: list[np.ndarray] = field(default_factory=list)  # per text: (<= KEEP, n features)
    correct: list[np.ndarray] = field(default_factory=list)  # per text: same rows, bool
    query: list[int] = field(default_factory=list)
    whole: list[bool] = field(default_factory=list)
    answerable: list[bool] = field(default_factory=list)

    def add(self, features: np.ndarray, correct: np.ndarray, base_logits: np.ndarray, query: int, whole: bool,
            answerable: bool) -> None:
        order = np.argsort(-base_logits, kind="stable")
        correct = np.asarray(correct, bool)
        rest = order[KEEP:]
        keep = np.concatenate([order[:KEEP], rest[correct[rest]]])
        self.features.append(np.asarray(features, np.float64)[keep])
        self.correct.append(correct[keep])
        self.query.append(query)
        self.whole.append(whole)
        self.answerable.append(answerable)

    def scored(self, coef: np.ndarray, intercept: float) -> "Examples":
        examples = Examples()
        for f, c, q, full, a in zip(self.features, self.correct, self.query, self.whole, self.answerable):
            examples.add(f @ coef + intercept, c, q, full, a)
        return examples

    def __len__(self) -> int:
        return len(self.features)


def rows(examples, keep) -> object:
    """The same kind of examples (``Candidates`` or ``Examples``: parallel lists, one entry per text), the
    texts where ``keep`` is true only."""
    keep = list(keep)
    return type(examples)(**{f.name: [v for v, k in zip(getattr(examples, f.name), keep) if k]
                             for f in fields(examples)})


def listwise_weights(candidates: Candidates, coef0: np.ndarray, pull: float = PULL,
                     iterations: int = 30) -> np.ndarray:
    """Weights minimising, over the answerable texts with their answer among the candidates, the weighted
    softmax loss of the answer (each query weighs 1 over its prefixes, all of them 1 in total) plus
    ``pull``/2 |coef - coef0|^2; ``coef0`` when no text has its answer among
    its candidates, or for an infinite pull."""
    rows = [i for i, (a, c) in enumerate(zip(candidates.answerable, candidates.correct)) if a and c.any()]
    coef0 = np.asarray(coef0, np.float64)
    if not rows or not np.isfinite(pull):
        return coef0
    width = max(len(candidates.correct[i]) for i in rows)
    F = np.zeros((len(rows), width, len(coef0)))
    valid = np.zeros((len(rows), width), bool)
    gold = np.zeros((len(rows), width), bool)
    for r, i in enumerate(rows):
        n = len(candidates.correct[i])
        F[r, :n], valid[r, :n], gold[r, :n] = candidates.features[i], True, candidates.correct[i]
    query = np.array([candidates.query[i] for i in rows])
    w = 1.0 / np.bincount(query)[query]
    w /= w.sum()

    def probabilities(coef: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = np.where(valid, F @ coef, -np.inf)
        answer = np.where(gold, s, -np.inf).max(axis=1)  # the best-ranked answer, when several answer
        p = np.exp(s - s.max(axis=1, keepdims=True))
        return s, answer, p / p.sum(axis=1, keepdims=True)

    def objective(coef: np.ndarray) -> float:
        s, answer, _ = probabilities(coef)
        loss = np.logaddexp.reduce(s, axis=1) - answer
        return float(w @ loss) + pull / 2 * float(((coef - coef0) ** 2).sum())

    def newton_step(coef: np.ndarray) -> np.ndarray:
        s, answer, p = probabilities(coef)
        target = (s == answer[:, None]) & gold
        target = target / target.sum(axis=1, keepdims=True)
        mean = np.einsum("tk,tkf->tf", p, F)
        gradient = np.einsum("t,tf->f", w, mean - np.einsum("tk,tkf->tf", target, F)) + pull * (coef - coef0)
        hessian = (np.einsum("t,tk,tkf,tkg->fg", w, p, F, F) - np.einsum("t,tf,tg->fg", w, mean, mean)
                   + pull * np.eye(len(coef0)))
        return np.linalg.solve(hessian, gradient)

    return _minimise(coef0.copy(), objective, newton_step, iterations)


@dataclass
class Examples:
    """Top-``SHOWN`` fused logits of each text typed so far, with whether each answers the text."""
    logits: list[np.ndarray] = field(default_factory=list)  # per text: (<= SHOWN,) best first
    correct: list[np.ndarray] = field(default_factory=list)  # per text: same shape, bool
    query: list[int] = field(default_factory=list)  # per text: the query it is a prefix of
    whole: list[bool] = field(default_factory=list)  # per text: the whole query (a chat message)
    answerable: list[bool] = field(default_factory=list)  # per text

    def add(self, logits: np.ndarray, correct: np.ndarray, query: int, whole: bool, answerable: bool) -> None:
        order = np.argsort(-logits, kind="stable")[:SHOWN]
        self.logits.append(np.asarray(logits, np.float64)[order])
        self.correct.append(np.asarray(correct, bool)[order])
        self.query.append(query)
        self.whole.append(whole)
        self.answerable.append(answerable)

    def __len__(self) -> int:
        return len(self.logits)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50.0, 50.0)))


def _loss(s: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Weighted log-loss of sigmoid(s) against y, computed stably (no log of 0)."""
    return float((w * (np.logaddexp(0.0, s) - y * s)).sum())


def _minimise(theta: np.ndarray, objective, newton_step, iterations: int) -> np.ndarray:
    """Newton's method from ``theta``: each step (``newton_step(theta)``) is halved until it does not raise
    ``objective`` (a full step can oscillate and diverge); stops when theta moves by less than 1e-9."""
    for _ in range(iterations):
        step, current, t = newton_step(theta), objective(theta), 1.0
        while t > 1e-10 and objective(theta - t * step) > current:
            t /= 2
        before, theta = theta, theta - t * step
        if np.abs(theta - before).max() < 1e-9:
            break
    return theta


def platt(z: np.ndarray, y: np.ndarray, w: np.ndarray, iterations: int = 100) -> tuple[float, float]:
    """(slope, offset) minimising sum w * logloss(sigmoid(slope * z + offset), y) + L2/2 |(slope - 1, offset)|^2."""
    X = np.column_stack([z, np.ones_like(z)]).astype(np.float64)
    prior = np.array([1.0, 0.0])

    def objective(theta: np.ndarray) -> float:
        return _loss(X @ theta, y, w) + L2 / 2 * float(((theta - prior) ** 2).sum())

    def newton_step(theta: np.ndarray) -> np.ndarray:
        p = sigmoid(X @ theta)
        gradient = X.T @ (w * (p - y)) + L2 * (theta - prior)
        hessian = (X * (w * p * (1 - p))[:, None]).T @ X + L2 * np.eye(2)
        return np.linalg.solve(hessian, gradient)

    theta = _minimise(prior.copy(), objective, newton_step, iterations)
    slope, offset = float(theta[0]), float(theta[1])
    if slope > MAX_SLOPE:  # refit the offset alone at the largest slope allowed
        slope, offset = MAX_SLOPE, _offset_for(MAX_SLOPE * z, y, w)
    if slope <= 0:  # a flat or inverted fit would break the ranking: keep the scale, move the offset only
        slope, offset = 1.0, float(np.log((w * y).sum() + 1e-9) - np.log((w * (1 - y)).sum() + 1e-9))
    return slope, offset


def _offset_for(s: np.ndarray, y: np.ndarray, w: np.ndarray, iterations: int = 100) -> float:
    def objective(b: np.ndarray) -> float:
        return _loss(s + b[0], y, w) + L2 / 2 * float(b[0] ** 2)

    def newton_step(b: np.ndarray) -> np.ndarray:
        p = sigmoid(s + b[0])
        return np.array([((w * (p - y)).sum() + L2 * b[0]) / ((w * p * (1 - p)).sum() + L2)])

    return float(_minimise(np.zeros(1), objective, newton_step, iterations)[0])


def _weights(examples: Examples, declared_prior: bool = True) -> np.ndarray:
    """Per text: each query weighs 1 over its prefixes; with ``declared_prior`` answerable and unanswerable weigh
    the same in total, else each side as often as its queries occur (the mix of a KB's own history); 2 in all."""
    query = np.array(examples.query)
    w = 1.0 / np.bincount(query)[query]
    if declared_prior:
        return _half_and_half(w, np.array(examples.answerable))
    return 2 * w / w.sum()


def _half_and_half(w: np.ndarray, answerable: np.ndarray) -> np.ndarray:
    """``w`` scaled so that the answerable and the unanswerable side each weigh 1 in all."""
    for side in (True, False):
        mask = answerable == side
        if mask.any():
            w[mask] /= w[mask].sum()
    return w


def fit_scale(examples: Examples, declared_prior: bool = True) -> tuple[float, float]:
    """(slope, offset) of the Platt scaling over each text's top ``SHOWN`` (``_weights``)."""
    w_text = _weights(examples, declared_prior)
    z = np.concatenate(examples.logits)
    y = np.concatenate(examples.correct).astype(np.float64)
    w = np.repeat(w_text, [len(x) for x in examples.logits])
    return platt(z, y, w)


Scale = tuple[float, float]  # (slope, offset) of a logit
IDENTITY: Scale = (1.0, 0.0)


def compose(first: Scale, then: Scale) -> Scale:
    """The scale applying ``first``, then ``then``."""
    return then[0] * first[0], then[0] * first[1] + then[1]


def shown_cards(examples: Examples, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(logits, correct, weights) of the cards a form shows: each text's top ``SHOWN`` when its best reaches
    ``threshold`` (on ``sigmoid(logit)``). Each query weighs 1 over its shown cards, answerable and
    unanswerable queries half each (the declared prior of every fit here)."""
    shown = [i for i, x in enumerate(examples.logits) if len(x) and sigmoid(x[0]) >= threshold]
    if not shown:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    z = np.concatenate([examples.logits[i] for i in shown])
    y = np.concatenate([examples.correct[i] for i in shown]).astype(np.float64)
    cards = [len(examples.logits[i]) for i in shown]
    query = np.repeat([examples.query[i] for i in shown], cards)
    _, inverse, counts = np.unique(query, return_inverse=True, return_counts=True)
    return z, y, _half_and_half(1.0 / counts[inverse], np.repeat([examples.answerable[i] for i in shown], cards))


def real_text_scale(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Scale:
    """The Platt map from cold-start logits to what real text gets, over ``shown_cards`` of several KBs' labelled
    history, each KB weighing the same (2 in all, as in one KB's cold start): fitted across domains
    (benchmarks/fit_calibration.py --domains), never on the KB it is applied to."""
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return IDENTITY
    z, y, w = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return platt(z, y, w / len(parts))
