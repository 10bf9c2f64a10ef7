"""A KB's two thresholds on its calibrated score, one per surface, chosen on the examples of its fit (``fit.py``):
- **form**: the lowest score at which at most ``FORM_MAX_FALSE`` of the out-of-domain texts show anything at any
  prefix typed (recall is as high as that allows);
- **chat**: the lowest score at which the cards a whole message shows (up to ``SHOWN``) answer it with precision at
  least ``CHAT_PRECISION`` (out-of-domain messages count as wrong), and at most ``CHAT_MAX_FALSE`` of the
  out-of-domain messages show anything; never below the form's. Off-topic messages weigh as much as on-topic
  ones in all (a declared half and half); a warm fit with the KB's unanswered tickets chooses it on its history
  instead, each message once (its real mix).
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


def _top(examples: Examples, slope: float, offset: float) -> np.ndarray:
    """The best calibrated score of each example (0 when it has no candidate)."""
    return np.array([sigmoid(slope * x[0] + offset) if len(x) else 0.0 for x in examples.logits])


def _chat(examples: Examples, top: np.ndarray, slope: float, offset: float, declared_prior: bool) -> float:
    """The lowest chat threshold whose cards answer whole messages with precision >= CHAT_PRECISION and that
    shows anything for at most CHAT_MAX_FALSE of the unanswerable messages. ``declared_prior``: answerable and
    unanswerable messages weigh half each (off-topic text stands in for what a KB is not asked); else each
    message counts once (a KB's own history: its real mix). ``top``: ``_top`` of the examples."""
    whole, answerable = np.array(examples.whole), np.array(examples.answerable)
    chat_false = quantile_threshold(top[whole & ~answerable], CHAT_MAX_FALSE)
    # precision over every card a whole message shows (up to SHOWN), wrong ones of answerable messages
    # and any of an unanswerable one alike
    cards = [(sigmoid(slope * x + offset), c, a) for x, c, a, full in
             zip(examples.logits, examples.correct, answerable, whole) if full]
    scores = np.concatenate([s for s, _, _ in cards]) if cards else np.zeros(0)
    good = np.concatenate([c for _, c, _ in cards]) if cards else np.zeros(0, bool)
    on_topic = np.concatenate([np.full(len(s), a) for s, _, a in cards]) if cards else np.zeros(0, bool)
    answered, unanswered = int((whole & answerable).sum()), int((whole & ~answerable).sum())
    ratio = max(1, answered) / max(1, unanswered) if declared_prior else 1.0  # unanswerable cards' weight
    weight = np.where(on_topic, 1.0, ratio)
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    precision = np.cumsum((good * weight)[order]) / np.cumsum(weight[order])
    # a threshold at a score shows every card tied at it: precision counts only after the last of each tie
    last_of_tie = np.r_[ranked[1:] < ranked[:-1], True] if len(ranked) else np.zeros(0, bool)
    precise = np.flatnonzero((precision >= CHAT_PRECISION) & last_of_tie)
    return max(chat_false, float(ranked[precise[-1]]) if len(precise) else 1.0)  # the lowest still precise


def _reached(examples: Examples, top: np.ndarray, threshold: float) -> dict:
    """At ``threshold``, on whole messages: the unanswerable ones shown anything, the answerable ones whose best
    card (score ``top``) is right and shown."""
    whole, answerable = np.array(examples.whole), np.array(examples.answerable)
    right = np.array([bool(len(c) and c[0]) for c in examples.correct])
    pos, neg, pos_right = top[whole & answerable], top[whole & ~answerable], right[whole & answerable]
    return {"false_suggestions": round(float((neg >= threshold).mean()) if len(neg) else 0.0, 4),
            "recall": round(float((pos_right & (pos >= threshold)).mean()) if len(pos) else 0.0, 4)}


def thresholds(examples: Examples, slope: float, offset: float,
               chat_on: Examples | None = None) -> tuple[dict[str, float], dict]:
    """The form and chat thresholds on the calibrated score, and what they reach on ``examples``. ``chat_on``:
    the KB's own history (answered and unanswered messages), on which the chat threshold is chosen instead, each
    message once: a chat's precision is that of the messages the KB really gets, not of a declared mix."""
    top, query, answerable = _top(examples, slope, offset), np.array(examples.query), np.array(examples.answerable)
    negatives = sorted(set(query[~answerable].tolist()))
    worst = np.array([top[query == q].max() for q in negatives])  # shown anything at any prefix
    form = quantile_threshold(worst, FORM_MAX_FALSE)
    # the chat's examples and their best scores, each computed once
    chat_examples, chat_top = (examples, top) if chat_on is None else (chat_on, _top(chat_on, slope, offset))
    chat = max(form, _chat(chat_examples, chat_top, slope, offset, declared_prior=chat_on is None))
    reached = {
        "form": {"false_suggestions": round(float((worst >= form).mean()) if len(worst) else 0.0, 4),
                 "recall": _reached(examples, top, form)["recall"]},
        "chat": _reached(chat_examples, chat_top, chat),
    }
    return {"form": round(form, 4), "chat": round(chat, 4)}, reached
