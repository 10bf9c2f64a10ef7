"""Metrics of one system's replay: ranking quality while typing, deflection and false suggestions.

Definitions (the issue's; see evaluation/README.md):
- hit@1, hit@3, MRR@10 on the full title; hit@3 at 30/50/70/100% typed (the first round(n × share)
  characters, half up, at least 3). Ranking metrics ignore the threshold, so baselines compare.
- characters to first hit: prefix length at which the resolving article first enters the top 3.
- potential deflection rate: answerable tickets whose resolving article was shown (in the top 3 while the
  best score is at or above the threshold: the form's policy) at some prefix before the title was finished.
- false-suggestion rate: unanswerable tickets shown anything at or above the threshold at any prefix.
- expected calibration error (ECE) of scores against whether each item answers: 10 equal-width bins.
The resolving article is any of the ticket's ``linked_articles`` (the best-ranked one counts).
Micro averages weigh tickets; macro averages weigh resolving articles equally (a ticket with several
counts for its first). 95% CIs are
percentile bootstraps (1,000 resamples of tickets, or of articles for macro) with a fixed seed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from evaluation.calibrate import Sweep
from evaluation.replay import PERCENTS, Trace, typed_length
from kbsuggest.domain import Ticket
from kbsuggest.rank.calibration import GATED

SEED = 20261123
RESAMPLES = 1000
CURVE_PERCENTS = tuple(range(10, 101, 5))  # x axis of the hit@3-vs-typed chart


def expected_calibration_error(scores: Sequence[float], labels: Sequence[bool], bins: int = 10) -> float | None:
    """sum over equal-width bins of [0, 1] of (share of items in the bin) x |mean label - mean score|.
    A score of exactly 1 falls in the last bin. None without items."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, float)
    if not len(scores):
        return None
    which = np.minimum((scores * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(which):
        inside = which == b
        total += inside.sum() / len(scores) * abs(labels[inside].mean() - scores[inside].mean())
    return total


def bootstrap(values: np.ndarray) -> dict:
    """Mean with a 95% percentile-bootstrap interval; identical for identical input."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return {"value": None, "ci": None}
    rng = np.random.default_rng(SEED)
    means = values[rng.integers(0, len(values), size=(RESAMPLES, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"value": round(float(values.mean()), 4), "ci": [round(float(low), 4), round(float(high), 4)]}


def _best(scores: list[float], keep: list[bool]) -> float:
    chosen = [s for s, k in zip(scores, keep) if k and not math.isnan(s)]
    return max(chosen) if chosen else -math.inf


def hit_at_length(trace: Trace, length: int, k: int = 3) -> bool:
    """Was the resolving article in the top k of the latest prefix sent with at most ``length`` characters?"""
    sent = [i for i, n in enumerate(trace.lengths) if n <= length]
    return bool(sent) and 0 <= trace.ranks[sent[-1]] < k


def per_ticket(ticket: Ticket, trace: Trace) -> dict:
    n = len(ticket.title)
    in_top3 = [0 <= r < 3 for r in trace.ranks]
    # A ticket replay models the form: while its policy gates the list on the best score (calibration.GATED),
    # the resolving article in the top 3 is shown at t when the *top* score is at least t.
    shown_by = trace.top if GATED["form"] else trace.gold
    return {
        "hit@1": trace.full_rank == 0,
        "hit@3": 0 <= trace.full_rank < 3,
        "mrr": 1.0 / (trace.full_rank + 1) if trace.full_rank >= 0 else 0.0,
        **{f"hit@3_{p}": hit_at_length(trace, typed_length(n, p)) for p in PERCENTS},
        "first_hit": next((length for length, hit in zip(trace.lengths, in_top3) if hit), None),
        "early": _best(shown_by, [h and length < n for h, length in zip(in_top3, trace.lengths)]),
        "right": _best(shown_by, in_top3),
        "any": _best(trace.top, [True] * len(trace.top)),
        "curve": [hit_at_length(trace, typed_length(n, p)) for p in CURVE_PERCENTS],
    }


RANKING_KEYS = ("hit@1", "hit@3", "mrr", *(f"hit@3_{p}" for p in PERCENTS))


def _micro_macro(rows: list[dict], articles: list[str], key) -> dict:
    values = np.array([key(r) for r in rows], dtype=float)
    groups: dict[str, list[float]] = defaultdict(list)
    for article, value in zip(articles, values):
        groups[article].append(value)
    return {"micro": bootstrap(values), "macro": bootstrap(np.array([np.mean(groups[a]) for a in sorted(groups)]))}


def system_metrics(tickets: Sequence[Ticket], traces: Sequence[Trace], configured: float | None,
                   target_precision: float, max_false_rate: float = 1.0) -> dict:
    """Every metric of one system; ``configured`` is its serving threshold (None: it has none)."""
    rows = [per_ticket(t, tr) for t, tr in zip(tickets, traces)]
    answerable = [r for t, r in zip(tickets, rows) if t.answerable]
    articles = [t.linked_articles[0] for t in tickets if t.answerable]  # macro: a ticket counts for its first
    unanswerable = [r for t, r in zip(tickets, rows) if not t.answerable]
    sweep = Sweep(np.array([r["early"] for r in answerable]), np.array([r["right"] for r in answerable]),
                  np.array([r["any"] for r in answerable]), np.array([r["any"] for r in unanswerable]))
    recommended = sweep.recommend(target_precision, max_false_rate)

    def at(threshold: float | None) -> dict | None:
        if threshold is None:
            return None
        point = sweep.at(threshold).as_dict()
        point["deflection"] = _micro_macro(answerable, articles, lambda r: r["early"] >= threshold)
        point["false_suggestion"] = bootstrap(np.array([r["any"] >= threshold for r in unanswerable], float))
        return point

    first = [r["first_hit"] for r in answerable if r["first_hit"] is not None]
    return {
        "tickets": {"answerable": len(answerable), "unanswerable": len(unanswerable)},
        "ranking": {key: _micro_macro(answerable, articles, lambda r, key=key: float(r[key])) for key in RANKING_KEYS},
        "typed_curve": [[p, round(float(np.mean([r["curve"][i] for r in answerable])), 4) if answerable else None]
                        for i, p in enumerate(CURVE_PERCENTS)],
        "chars_to_first_hit": {
            "mean": bootstrap(np.array(first, float)), "median": float(np.median(first)) if first else None,
            "never": len(answerable) - len(first), "values": sorted(first),
        },
        "threshold": {
            "target_precision": target_precision, "max_false_rate": max_false_rate,
            "configured": configured, "at_configured": at(configured),
            "recommended": recommended, "at_recommended": at(recommended),
            "curve": [p.as_dict() for p in sweep.curve()],
        },
    }
