"""Coverage: does some public article answer this ticket? Checked through the ``Suggester``.

Only public articles count as coverage: the report is for the public KB's authors, and a question
that only an internal runbook answers still costs a ticket each time a customer asks it. Such
tickets are flagged (``internal_article``) so the report can say "publish a version of this runbook".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kbsuggest.suggest import Suggester


@dataclass(frozen=True)
class Coverage:
    article_id: str | None  # best public article, if any
    score: float  # its cosine score (0 when there is none)
    covered: bool  # score >= the coverage threshold
    internal_article: str | None  # an internal article above the threshold, when no public one is


def check_coverage(suggester: Suggester | None, vectors: np.ndarray, threshold: float) -> list[Coverage]:
    """One ``Coverage`` per row of ``vectors``; without a suggester (empty KB) nothing is covered."""
    if suggester is None:
        return [Coverage(None, 0.0, False, None) for _ in range(len(vectors))]
    public = suggester.suggest_vectors(vectors, 1, min_score=-1.0)
    internal = suggester.suggest_vectors(vectors, 1, include_internal=True, min_score=threshold)
    out = []
    for best, anyone in zip(public, internal):
        article, score = (best[0].article_id, best[0].score) if best else (None, 0.0)
        covered = bool(best) and score >= threshold
        hidden = anyone[0].article_id if anyone and not covered and anyone[0].article_id != article else None
        out.append(Coverage(article, float(score), covered, hidden))
    return out
