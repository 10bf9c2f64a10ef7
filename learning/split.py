"""The evaluation split: the newest share of the history (by time) is held out, the rest trained on.

By source (a ticket, a widget session), never by pair: the prefixes of a held-out title must not be
trained on. By time, not at random: a model is trained on the past and serves the future, so the held-out
part measures what switching would have done to the newest questions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from learning.pairs import Case, History, Pair

HELD_OUT_SHARE = 0.2


@dataclass
class Split:
    train: list[Pair]
    heldout: list[Case]
    cutoff: str  # the oldest held-out source's time ("" when nothing is held out)
    sources: int  # sources in the history
    heldout_sources: int


def split(history: History, share: float = HELD_OUT_SHARE) -> Split:
    """Hold out the newest ``share`` of the sources (at least one when there are two or more)."""
    times: dict[str, str] = {}
    for item in [*history.pairs, *history.cases]:
        times[item.source] = min(times.get(item.source, item.at), item.at)
    order = sorted(times, key=lambda source: (times[source], source))
    count = min(len(order) - 1, max(1, math.ceil(len(order) * share))) if len(order) > 1 else 0
    held = set(order[len(order) - count:]) if count else set()
    return Split([p for p in history.pairs if p.source not in held],
                 [c for c in history.cases if c.source in held],
                 min((times[s] for s in held), default=""), len(order), count)
