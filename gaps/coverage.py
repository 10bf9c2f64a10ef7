"""Coverage: does some public article answer this ticket? Checked through the ``Suggester``.

Only public articles count as coverage: the report is for the public KB's authors, and a question
that only an internal runbook answers still costs a ticket each time a customer asks it. Such
tickets are flagged (``internal_article``) so the report can say "publish a version of this runbook".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kbsuggest.rank.suggester import Suggester


@dataclass(frozen=True)
class Coverage:
    article_id: str | None  # best public article, if any
    score: float  # cosine similarity of its best section (0 when there is none)
    covered: bool  # score >= the coverage threshold
    internal_article: str | None  # an internal article above the threshold, when no public one is


def check_coverage(suggester: Suggester | None, texts: list[str], vectors: np.ndarray,
                   threshold: float) -> list[Coverage]:
    """One ``Coverage`` per text (row of ``vectors``); without a suggester (empty KB) nothing is covered.

    The threshold applies to the raw cosine (``similarity``), on which it was measured, not to the
    suggester's calibrated score (which is tuned for half-typed titles, not whole tickets).
    """
    if suggester is None:
        return [Coverage(None, 0.0, False, None) for _ in range(len(vectors))]
    # Each distinct text once: its vector is a function of the text, so its coverage is too, and the same
    # short title recurs across many tickets (as gaps.mine.encode embeds it once).
    unique, first, inverse = np.unique(np.array(texts, dtype=object), return_index=True, return_inverse=True)
    if len(unique) < len(texts):
        once = check_coverage(suggester, unique.tolist(), np.asarray(vectors)[first], threshold)
        return [once[i] for i in inverse.ravel()]
    public = suggester.suggest_vectors(texts, vectors, 1, min_score=-1.0)
    internal = suggester.suggest_vectors(texts, vectors, 1, include_internal=True, min_score=-1.0)
    out = []
    for best, anyone in zip(public, internal):
        article, score = (best[0].article_id, best[0].similarity) if best else (None, 0.0)
        covered = bool(best) and score >= threshold
        hidden = (anyone[0].article_id if anyone and anyone[0].similarity >= threshold and not covered
                  and anyone[0].article_id != article else None)
        out.append(Coverage(article, float(score), covered, hidden))
    return out
