"""Whether an adapted model may replace the one a KB is served with: only when the held-out part shows
it better, never on a hunch.

Refused when (1) nothing is held out; (2) any held-out figure (hit@1, hit@3, MRR at each share typed)
is lower than before; (3) the gain is not shown: per held-out question, the adapted model must win
(a better rank summed over the shares typed) on significantly more questions than it loses, by a
one-sided sign test at ``ALPHA``. A small history cannot pass (3): it takes at least 5 questions won and
none lost (p = 1/32), so 50 pairs (about 12 tickets, 3 held out) never switch a KB, whatever the noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

from learning.heldout import METRICS, Scores

ALPHA = 0.05  # the conventional level; not fitted to any data set


@dataclass(frozen=True)
class Verdict:
    switch: bool
    reason: str
    wins: int = 0
    losses: int = 0
    p_value: float = 1.0


def sign_test(wins: int, losses: int) -> float:
    """P(at least ``wins`` of ``wins + losses`` fair coin flips): the one-sided sign test's p-value."""
    n = wins + losses
    return sum(comb(n, k) for k in range(wins, n + 1)) / 2 ** n if n else 1.0


def _quality(scores: Scores, i: int) -> float:
    return sum(1 / (ranks[i] + 1) if ranks[i] >= 0 else 0.0 for ranks in scores.ranks.values())


def verdict(before: Scores, after: Scores) -> Verdict:
    if before.n == 0:
        return Verdict(False, "no held-out history to compare on")
    worse = [(after.figures[key] - before.figures[key], key) for key in before.figures
             if key.split("_")[0] in METRICS and after.figures[key] < before.figures[key]]
    differences = [_quality(after, i) - _quality(before, i) for i in range(before.n)]
    wins, losses = sum(d > 1e-9 for d in differences), sum(d < -1e-9 for d in differences)
    p_value = sign_test(wins, losses)
    if worse:
        drop, key = min(worse, key=lambda item: item[0])  # the first of the largest drops, in table order
        return Verdict(False, f"worse on the held-out part: {key} {drop:+.3f}", wins, losses, p_value)
    if p_value > ALPHA:
        return Verdict(False, f"no gain shown on the held-out part: better on {wins}, worse on {losses} of "
                              f"{before.n} questions (sign test p={p_value:.2f} > {ALPHA})", wins, losses, p_value)
    return Verdict(True, f"better on {wins}, worse on {losses} of {before.n} held-out questions "
                         f"(sign test p={p_value:.3g})", wins, losses, p_value)
