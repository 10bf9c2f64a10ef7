"""Keystroke replay: the prefixes a debounced ticket form sends, run through each ranking system.

Every distinct prefix text is ranked once per system, in batches (one embedding call per batch for
the kbsuggest Suggester, whose ``suggest_many`` is the same code the API runs). Rankings are taken
without a threshold (``min_score=-1``) so that every threshold can be evaluated from one replay.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kbsuggest.domain import Ticket

PERCENTS = (30, 50, 70, 100)  # shares of the title typed at which hit@3 is reported
DEPTH = 10  # ranks kept per prefix: MRR is MRR@10
Ranking = list[tuple[str, float]]  # (article id, score), best first


class Ranker(Protocol):
    name: str

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        """The best ``k`` articles for each text, best first (no threshold)."""
        ...


def typed_length(n: int, percent: int) -> int:
    """Characters typed at ``percent`` of an n-character title: round(n × share), half up, at least 3."""
    return min(n, max(3, (n * percent + 50) // 100))


def debounced_lengths(title: str, every: int = 6, start: int = 3) -> list[int]:
    """Prefix lengths a debounced form sends: each completed word, every ``every`` characters inside
    a long word, the whole title, and the fixed shares of ``PERCENTS``."""
    n = len(title)
    lengths = {typed_length(n, p) for p in PERCENTS}
    last = 0
    for p in range(min(start, n), n + 1):
        if p == n or title[p].isspace() or p - last >= every:
            lengths.add(p)
            last = p
    return sorted(lengths)


@dataclass
class Trace:
    """One ticket replayed through one system; one entry per prefix length."""
    lengths: list[int]
    ranks: list[int]  # 0-based rank of the best-ranked linked article in the top DEPTH, -1 when absent
    gold: list[float]  # its score (nan when absent)
    top: list[float]  # the best score at that prefix (nan when nothing was returned)

    @property
    def full_rank(self) -> int:
        return self.ranks[-1]


def _trace(ticket: Ticket, lengths: list[int], rankings: list[Ranking]) -> Trace:
    ranks, gold, top = [], [], []
    right = set(ticket.linked_articles)  # any of them is the right article
    for ranking in rankings:
        rank = next((i for i, (article, _) in enumerate(ranking) if article in right), -1)
        ranks.append(rank)
        gold.append(ranking[rank][1] if rank >= 0 else math.nan)
        top.append(ranking[0][1] if ranking else math.nan)
    return Trace(lengths, ranks, gold, top)


def replay(tickets: Sequence[Ticket], rankers: Sequence[Ranker], every: int = 6, batch_size: int = 512,
           progress: Callable[[int], None] | None = None) -> dict[str, list[Trace]]:
    """Replay every ticket's prefixes through every ranker; ``progress(n)`` is told of texts done."""
    lengths = [debounced_lengths(t.title, every) for t in tickets]
    texts = sorted({t.title[:n] for t, ls in zip(tickets, lengths) for n in ls})  # sorted: same batches every run
    rankings: dict[str, dict[str, Ranking]] = {r.name: {} for r in rankers}
    for start in range(0, len(texts), batch_size):
        batch = texts[start:start + batch_size]
        for ranker in rankers:
            rankings[ranker.name].update(zip(batch, ranker.rank(batch, DEPTH)))
        if progress:
            progress(len(batch))
    return {
        r.name: [_trace(t, ls, [rankings[r.name][t.title[:n]] for n in ls]) for t, ls in zip(tickets, lengths)]
        for r in rankers
    }


class SuggesterRanker:
    """kbsuggest itself: ``Suggester.suggest_many``, exactly what the API calls."""

    def __init__(self, suggester, include_internal: bool = False, name: str = "kbsuggest") -> None:
        self.suggester = suggester
        self.include_internal = include_internal
        self.name = name

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        found = self.suggester.suggest_many(list(texts), k, include_internal=self.include_internal, min_score=-1.0)
        return [[(s.article_id, s.score) for s in row] for row in found]


class CachedEmbedder:
    """Remembers vectors by text, so the dense baseline reuses the Suggester's query embeddings."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.model_file = getattr(inner, "model_file", "")  # the index check compares it (onnx backends)
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self.inner.encode(missing)))
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._cache[t] for t in texts]).astype(np.float32)
