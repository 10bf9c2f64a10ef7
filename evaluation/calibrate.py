"""Threshold calibration: sweep ``min_score`` and recommend the threshold for a target precision.

Per ticket, three numbers decide every threshold at once (the form shows the top 3 when the best
scores >= t, so an article is shown at threshold t exactly when it is in the top 3 and the top-1 scores >= t):
- ``early``: best top-1 score while the resolving article is in the top 3, before the title was finished
  (deflected at t when early >= t);
- ``right``: the same over every prefix, the full title included;
- ``any``: best top-1 score over every prefix (something was shown at t when any >= t).
Precision at t = tickets whose resolving article was shown / tickets shown anything, over the run.
The recommended threshold is the lowest (so the most deflection) whose precision reaches the target
and whose false-suggestion rate stays within a cap: with few unanswerable tickets among many
answerable ones, precision alone would hardly notice false suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CURVE_POINTS = 101  # thresholds kept for the chart and metrics.json


@dataclass(frozen=True)
class Point:
    threshold: float
    deflection: float  # share of answerable tickets deflected
    false_suggestion: float | None  # share of unanswerable tickets shown anything (None: there are none)
    precision: float | None  # None when nothing is shown

    def as_dict(self) -> dict:
        return {k: (None if v is None else round(v, 4)) for k, v in self.__dict__.items()}


def _at_least(sorted_values: np.ndarray, t: float) -> int:
    return int(len(sorted_values) - np.searchsorted(sorted_values, t, side="left"))


class Sweep:
    def __init__(self, early: np.ndarray, right: np.ndarray, any_answerable: np.ndarray,
                 any_unanswerable: np.ndarray) -> None:
        self.early = np.sort(early)
        self.right = np.sort(right)
        self.shown = np.sort(np.concatenate([any_answerable, any_unanswerable]))
        self.false = np.sort(any_unanswerable)
        values = np.concatenate([early, right, any_answerable, any_unanswerable])
        self.thresholds = np.unique(np.round(values[np.isfinite(values)], 4))

    def at(self, t: float) -> Point:
        shown = _at_least(self.shown, t)
        return Point(
            float(t),
            _at_least(self.early, t) / len(self.early) if len(self.early) else 0.0,
            _at_least(self.false, t) / len(self.false) if len(self.false) else None,
            _at_least(self.right, t) / shown if shown else None,
        )

    def recommend(self, target_precision: float, max_false_rate: float = 1.0) -> float | None:
        """The lowest threshold meeting both targets (the cap is ignored without unanswerable tickets)."""
        for t in self.thresholds:
            point = self.at(float(t))
            if (point.precision is not None and point.precision >= target_precision
                    and (point.false_suggestion is None or point.false_suggestion <= max_false_rate)):
                return float(t)
        return None

    def curve(self) -> list[Point]:
        if len(self.thresholds) == 0:
            return []
        picks = np.unique(np.linspace(0, len(self.thresholds) - 1, CURVE_POINTS).round().astype(int))
        return [self.at(float(self.thresholds[i])) for i in picks]
