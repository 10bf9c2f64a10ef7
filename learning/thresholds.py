"""A KB's two thresholds on its calibrated score, one per surface, chosen on the examples of its fit (``fit.py``):
- **form**: the lowest score at which at most ``FORM_MAX_FALSE`` of the out-of-domain texts show anything at any
  prefix typed (recall is as high as that allows);
- **chat**: the lowest score at which the cards a whole message shows (up to ``SHOWN``) answer it with precision at
  least ``CHAT_PRECISION`` (out-of-domain messages count as wrong), and at most ``CHAT_MAX_FALSE`` of the
  out-of-domain messages show anything; never below the form's.
"""

from __future__ import annotations

import numpy as np

from learning.fit import SHOWN, Examples, sigmoid

FORM_MAX_FALSE = 0.20
CHAT_PRECISION = 0.80
CHAT_MAX_FALSE = 0.10
EPS = 1e-4  # a threshold sits just above the score it must hide


def quantile_threshold(scores: np.ndarray, max_share: float) -> float:
    """The lowest threshold at which at most ``max_share`` of ``scores`` are at or above it."""
    if not len(scores):
        return 0.0
    ordered = np.sort(scores)[::-1]
    allowed = int(np.floor(max_share * len(ordered)))
    return 0.0 if allowed >= len(ordered) else float(min(1.0, ordered[allowed] + EPS))


def thresholds(examples: Examples, slope: float, offset: float) -> tuple[dict[str, float], dict]:
    """The form and chat thresholds on the calibrated score, and what they reach on ``examples``."""
    top = np.array([sigmoid(slope * x[0] + offset) if len(x) else 0.0 for x in examples.logits])
    right = np.array([bool(len(c) and c[0]) for c in examples.correct])
    query, whole, answerable = np.array(examples.query), np.array(examples.whole), np.array(examples.answerable)
    negatives = sorted(set(query[~answerable].tolist()))
    worst = np.array([top[query == q].max() for q in negatives])  # shown anything at any prefix
    form = quantile_threshold(worst, FORM_MAX_FALSE)
    chat_false = quantile_threshold(top[whole & ~answerable], CHAT_MAX_FALSE)
    # precision over every card a whole message shows (up to SHOWN), wrong ones of answerable messages
    # and any of an off-topic one alike
    cards = [(sigmoid(slope * x + offset), c, a) for x, c, a, full in
             zip(examples.logits, examples.correct, answerable, whole) if full]
    scores = np.concatenate([s for s, _, _ in cards]) if cards else np.zeros(0)
    good = np.concatenate([c for _, c, _ in cards]) if cards else np.zeros(0, bool)
    on_topic = np.concatenate([np.full(len(s), a) for s, _, a in cards]) if cards else np.zeros(0, bool)
    ratio = max(1, int((whole & answerable).sum())) / max(1, int((whole & ~answerable).sum()))  # half-and-half prior
    weight = np.where(on_topic, 1.0, ratio)
    order = np.argsort(-scores, kind="stable")
    precision = np.cumsum((good * weight)[order]) / np.cumsum(weight[order])
    precise = np.flatnonzero(precision >= CHAT_PRECISION)
    chat_precision = float(scores[order][precise[-1]]) if len(precise) else 1.0  # the lowest score still precise
    pos, neg = top[whole & answerable], top[whole & ~answerable]
    pos_right = right[whole & answerable]
    chat = max(form, chat_false, chat_precision)
    reached = {
        "form": {"false_suggestions": round(float((worst >= form).mean()) if len(worst) else 0.0, 4),
                 "recall": round(float((pos_right & (pos >= form)).mean()) if len(pos) else 0.0, 4)},
        "chat": {"false_suggestions": round(float((neg >= chat).mean()) if len(neg) else 0.0, 4),
                 "recall": round(float((pos_right & (pos >= chat)).mean()) if len(pos) else 0.0, 4)},
    }
    return {"form": round(form, 4), "chat": round(chat, 4)}, reached
