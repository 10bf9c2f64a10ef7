"""Per-domain figures of one system's replay at one threshold (None: the system has none).

- hit@1 / hit@3 / MRR@10 at 30/50/70/100% typed (evaluation/replay.py's ``typed_length``): the gold
  article counts only when it is shown, i.e. in the ranking with a score at or above the threshold;
- shown nothing: answerable queries for which nothing was shown at any prefix sent up to 50% typed,
  and at the full title;
- false suggestions: unanswerable queries shown anything at any prefix, per source and overall;
- ECE: expected calibration error of ``score`` over every suggestion shown (top 3 at or above the
  threshold, at every prefix sent): does the article shown with score s answer with frequency s?
A chat (``whole=True``) is sent whole messages, not prefixes: its false suggestions, ECE and precision
are judged on the whole text only (its hit@k at a share typed is that prefix sent as a message).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from evaluation.metrics import expected_calibration_error
from evaluation.replay import PERCENTS, Ranking, Trace, typed_length
from kbsuggest.domain import Ticket

SHOWN = 3  # suggestions the widget shows


def _shown(score: float, threshold: float | None) -> bool:
    return not math.isnan(score) and (threshold is None or score >= threshold)


def _at(trace: Trace, length: int, threshold: float | None, gate: bool) -> tuple[int, bool]:
    """(rank of the gold, shown?) at the latest prefix sent with at most ``length`` characters."""
    sent = [i for i, n in enumerate(trace.lengths) if n <= length]
    if not sent:
        return -1, False
    i = sent[-1]
    return trace.ranks[i], trace.ranks[i] >= 0 and _shown(trace.top[i] if gate else trace.gold[i], threshold)


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def summarize(tickets: Sequence[Ticket], traces: Sequence[Trace], threshold: float | None,
              sources: Mapping[str, str], rankings: Mapping[str, Ranking] | None = None, gate: bool = False,
              whole: bool = False) -> dict:
    """``sources``: ticket id -> unanswerable source; ``rankings`` (prefix -> ranking) enable the ECE.
    ``gate``: the threshold applies to the best score only, and then the whole top 3 is shown (form mode).
    ``whole``: the surface is sent whole messages (chat mode)."""
    answerable = [(t, tr) for t, tr in zip(tickets, traces) if t.answerable]
    out: dict = {"threshold": threshold, "answerable": len(answerable)}
    for p in PERCENTS:
        at = [_at(tr, typed_length(len(t.title), p), threshold, gate) for t, tr in answerable]
        out[f"hit@1_{p}"] = _mean([float(shown and rank == 0) for rank, shown in at])
        out[f"hit@3_{p}"] = _mean([float(shown and rank < 3) for rank, shown in at])
        out[f"mrr_{p}"] = _mean([1.0 / (rank + 1) if shown else 0.0 for rank, shown in at])
    half = [not any(_shown(s, threshold) for n, s in zip(tr.lengths, tr.top) if n <= typed_length(len(t.title), 50))
            for t, tr in answerable]
    out["nothing_50"] = _mean([float(x) for x in half])
    out["nothing_100"] = _mean([float(not _shown(tr.top[-1], threshold)) for _, tr in answerable])
    false: dict[str, list[float]] = {}
    for t, tr in zip(tickets, traces):
        if not t.answerable:
            sent = tr.top[-1:] if whole else tr.top
            false.setdefault(sources[t.id], []).append(float(any(_shown(s, threshold) for s in sent)))
    out["false"] = {source: _mean(values) for source, values in false.items()}
    out["false"]["all"] = _mean([v for values in false.values() for v in values])
    out["false_n"] = {source: len(values) for source, values in false.items()}
    if rankings is not None:
        scores, labels = [], []
        for t, tr in zip(tickets, traces):
            for n in (tr.lengths[-1:] if whole else tr.lengths):
                ranking = rankings[t.title[:n]][:SHOWN]
                for article, score in ranking:
                    if _shown(ranking[0][1] if gate else score, threshold):
                        scores.append(score)
                        labels.append(article in t.linked_articles)
        ece = expected_calibration_error(scores, labels)
        out["ece"] = None if ece is None else round(ece, 4)
        out["ece_n"] = len(scores)
        out["precision"] = _mean([float(x) for x in labels])  # of every card shown
        out["mean_score"] = _mean(scores)  # above ``precision``: the scores promise more than the cards deliver
    return out
