"""The gap-mining job: resolved tickets -> coverage -> clusters of the uncovered -> ranked gaps.

Two kinds of gap: ``missing`` (a cluster of tickets no public article answers) and ``failing`` (an
article is found for these tickets, yet the agents resolved them with something else: it needs a
rewrite or a new title). A ticket counts as failing only when it records its linked articles and the
found one is not among them; without that information nothing is claimed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np

from kbsuggest.config import Settings
from kbsuggest.embed import Embedder
from gaps.cluster import ClusterParams, centroids, cluster
from gaps.coverage import check_coverage
from gaps.describe import (ctfidf_keywords, parse_day, recency_weight, representatives,
                                     suggested_title, timeline, trend_label)
from gaps.view import RedactedTicket
from kbsuggest.rank.suggester import Suggester

Progress = Callable[[str, int], Callable[[int], None]]  # (stage, total) -> advance(n)


def no_progress(stage: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class Gap:
    kind: str  # "missing" or "failing"
    title: str  # suggested article title (failing: the article's own title)
    keywords: list[str]
    ticket_ids: list[str]
    impact: float  # tickets weighted toward recent ones (see Settings.gap_half_life_days)
    last_30_days: int
    previous_30_days: int
    trend: str
    weekly: list[int]
    first_seen: str
    last_seen: str
    examples: list[dict]  # representative tickets {id, text}, nearest the centre first (redacted)
    article_id: str | None = None  # failing: the article that is found; missing: the nearest one
    article_score: float = 0.0
    internal_article: str | None = None  # an internal runbook answers most of these tickets
    change: str = "new"  # against the previous run: new, growing, shrinking, unchanged
    rank: int = 0

    @property
    def size(self) -> int:
        return len(self.ticket_ids)

    def to_dict(self) -> dict:
        return {"rank": self.rank, **asdict(self), "size": self.size}


@dataclass
class MiningResult:
    gaps: list[Gap]
    as_of: str
    tickets: int  # imported
    resolved: int
    covered: int
    uncovered: int
    unclustered: int  # uncovered tickets left outside every gap after the second pass
    closed: list[dict] = field(default_factory=list)  # gaps of the previous run not found any more
    run_id: int | None = None

    @property
    def unclustered_share(self) -> float:
        return self.unclustered / self.uncovered if self.uncovered else 0.0


def encode(embedder: Embedder, texts: list[str], progress: Progress, batch: int | None = None) -> np.ndarray:
    """Embed each distinct text once (the same short title recurs across many tickets), in batches of 256
    (or the embedder's ``preferred_batch``: gaps.distributed hands each call to several workers)."""
    batch = batch or getattr(embedder, "preferred_batch", 256)
    unique, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True)
    advance = progress("embedding tickets", len(unique))
    parts = []
    for start in range(0, len(unique), batch):
        parts.append(embedder.encode(unique[start:start + batch].tolist()))
        advance(len(parts[-1]))
    if not parts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack(parts)[inverse.ravel()]


def _majority(values: list[str | None], share: float = 0.5) -> str | None:
    present = [v for v in values if v]
    if not present:
        return None
    best = max(set(present), key=lambda v: (present.count(v), v))
    return best if present.count(best) >= share * len(values) else None


def mine_gaps(tickets: list[RedactedTicket], settings: Settings, embedder: Embedder, suggester: Suggester | None,
              as_of: datetime | None = None, progress: Progress = no_progress) -> MiningResult:
    """Find and rank the gaps among the resolved ``tickets`` (already redacted)."""
    resolved = [t for t in tickets if t.resolved]
    as_of = as_of or (max(parse_day(t.created_at) for t in resolved) if resolved else datetime.now())
    vectors = encode(embedder, [t.text for t in resolved], progress)
    advance = progress("checking coverage", 1)
    coverage = check_coverage(suggester, [t.text for t in resolved], vectors, settings.gap_coverage_score)
    advance(1)
    uncovered = np.array([i for i, c in enumerate(coverage) if not c.covered], dtype=np.int64)
    advance = progress("clustering", 1)
    params = ClusterParams(settings.gap_cluster_distance, settings.gap_min_tickets, settings.gap_attach_score)
    labels = cluster(vectors[uncovered], params) if len(uncovered) else np.zeros(0, dtype=np.int64)
    advance(1)

    groups: list[tuple[str, np.ndarray]] = [("missing", uncovered[labels == k]) for k in range(int(labels.max(initial=-1)) + 1)]
    failing: dict[str, list[int]] = {}
    for i, c in enumerate(coverage):
        linked = resolved[i].linked_articles
        if c.covered and linked and c.article_id not in linked:
            failing.setdefault(c.article_id, []).append(i)
    groups += [("failing", np.array(rows)) for _, rows in sorted(failing.items())
               if len(rows) >= settings.gap_min_tickets]

    advance = progress("describing gaps", len(groups))
    keywords = ctfidf_keywords([" ".join(resolved[i].text for i in rows) for _, rows in groups])
    gaps = []
    for (kind, rows), words in zip(groups, keywords):
        members = [resolved[i] for i in rows]
        centre = centroids(vectors[rows], np.zeros(len(rows), dtype=np.int64), np.array([0]))[0]
        examples = [members[j] for j in representatives(vectors[rows], centre)]
        stamps = [t.created_at for t in members]
        times = timeline(stamps, as_of)
        article = _majority([coverage[i].article_id for i in rows], share=0.0)
        title = suggested_title(examples[0].title)
        if kind == "failing" and suggester is not None:
            title = next((a.title for a in suggester.articles if a.id == article), title)
        gaps.append(Gap(
            kind=kind, title=title, keywords=words, ticket_ids=[t.id for t in members],
            impact=round(recency_weight(stamps, as_of, settings.gap_half_life_days), 2),
            last_30_days=times["last_30_days"], previous_30_days=times["previous_30_days"],
            trend=trend_label(times["last_30_days"], times["previous_30_days"]), weekly=times["weekly"],
            first_seen=times["first_seen"], last_seen=times["last_seen"],
            examples=[{"id": t.id, "text": t.text} for t in examples], article_id=article,
            article_score=round(float(np.mean([coverage[i].score for i in rows])), 3),
            internal_article=_majority([coverage[i].internal_article for i in rows]),
        ))
        advance(1)
    gaps.sort(key=lambda g: (-g.impact, -g.size, g.title))
    for rank, gap in enumerate(gaps, 1):
        gap.rank = rank
    return MiningResult(gaps, as_of.isoformat(timespec="seconds"), len(tickets), len(resolved),
                        len(resolved) - len(uncovered), len(uncovered), int((labels == -1).sum()))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "new-article"


def draft_markdown(gap: Gap) -> str:
    """A Markdown stub in the KB's article format that an author can start from."""
    asked = "\n".join(f"- {e['text']}" for e in gap.examples)
    intro = (f"<!-- Rewrite of `{gap.article_id}`: {gap.size} tickets found it but were resolved otherwise. -->\n"
             if gap.kind == "failing" else "")
    return (f"---\nid: {gap.article_id if gap.kind == 'failing' else slug(gap.title)}\ntitle: {gap.title}\n"
            f"audience: public\ntags: [{', '.join(gap.keywords[:4])}]\n---\n{intro}"
            f"Customers ask ({gap.size} tickets, last seen {gap.last_seen}):\n\n{asked}\n\n"
            f"## Steps\n\n1. TODO\n\n## If it still does not work\n\nTODO\n")
