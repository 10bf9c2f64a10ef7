"""The gap-mining job: resolved tickets and widget signals -> coverage -> clusters -> ranked gaps.

Two kinds of gap: ``missing`` (a cluster of items no public article answers: uncovered tickets,
no-result queries, "still need help" feedback, ``gaps/signals.py``) and ``failing`` (an article is
found for these tickets, yet the agents resolved them with something else: it needs a rewrite or a
new title). A ticket counts as failing only when it records its linked articles and the found one is
not among them; without that information nothing is claimed. Every uncovered item ends up in a gap or
in the result's ``unclustered_items`` with its nearest gap, and every covered ticket in
``covered_items`` with the article that covers it: the report accounts for each one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np

from kbsuggest.config import Settings
from kbsuggest.embed import Embedder
from gaps.cluster import ClusterParams, centroids, cluster
from gaps.coverage import Coverage, check_coverage
from gaps.describe import (ctfidf_keywords, parse_day, representatives, resolution_steps, suggested_title,
                           timeline, title_style, trend_label)
from gaps.signals import counts, impact
from gaps.view import RedactedTicket
from kbsuggest.rank.suggester import Suggester

Progress = Callable[[str, int], Callable[[int], None]]  # (stage, total) -> advance(n)
_NO_COVERAGE = Coverage(None, 0.0, False, None)  # a widget item: unanswered when it was asked


def no_progress(stage: str, total: int) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class Gap:
    kind: str  # "missing" or "failing"
    title: str  # suggested article title, in the KB's title style (failing: the article's own title)
    keywords: list[str]  # keyphrases (c-TF-IDF)
    ticket_ids: list[str]  # every item: ticket ids, and widget items' ids (``signal:session:hash``)
    impact: float  # the weighted sum of gaps/signals.py (Settings.gap_signal_weights, gap_half_life_days)
    last_30_days: int
    previous_30_days: int
    trend: str
    weekly: list[int]
    first_seen: str
    last_seen: str
    examples: list[dict]  # representative items {id, text, signal}, nearest the centre first (redacted)
    article_id: str | None = None  # failing: the article that is found; missing: the nearest one
    article_score: float = 0.0
    internal_article: str | None = None  # an internal runbook answers most of these tickets
    change: str = "new"  # against the previous run: new, growing, shrinking, unchanged
    rank: int = 0
    signals: dict[str, int] = field(default_factory=dict)  # items per signal
    linked: dict[str, int] = field(default_factory=dict)  # failing: the articles agents linked instead, with counts
    steps: list[str] = field(default_factory=list)  # the agents' most common resolution sentences (redacted)

    @property
    def size(self) -> int:
        return len(self.ticket_ids)

    @property
    def widget_only(self) -> bool:
        """No ticket in it: only the widget's signals found this gap."""
        return bool(self.signals) and self.signals.get("ticket", 0) == 0

    def to_dict(self) -> dict:
        return {"rank": self.rank, **asdict(self), "size": self.size, "widget_only": self.widget_only}


@dataclass
class MiningResult:
    gaps: list[Gap]
    as_of: str
    tickets: int  # imported
    resolved: int
    covered: int
    uncovered: int
    unclustered: int  # uncovered items (tickets and widget signals) left outside every gap
    closed: list[dict] = field(default_factory=list)  # gaps of the previous run not found any more
    run_id: int | None = None
    signals: dict[str, int] = field(default_factory=dict)  # mined (uncovered) items per signal
    unclustered_items: list[dict] = field(default_factory=list)  # {id, signal, text, created_at, nearest_gap, similarity}
    covered_items: list[dict] = field(default_factory=list)  # {id, article_id, score, linked_articles, failing}
    alarms: list[dict] = field(default_factory=list)  # drift and staleness (gaps/drift.py)
    title_style: str = "imperative"
    widget_items: dict[str, str] = field(default_factory=dict)  # id -> signal of every widget item mined

    def signal_of(self, item_id: str) -> str:
        return self.widget_items.get(item_id, "ticket")

    @property
    def mined(self) -> int:
        return sum(self.signals.values())

    @property
    def unclustered_share(self) -> float:
        return self.unclustered / self.mined if self.mined else 0.0


def encode(embedder: Embedder, texts: list[str], progress: Progress, batch: int | None = None) -> np.ndarray:
    """Embed each distinct text once (the same short title recurs across many tickets), in batches of 256
    (or the embedder's ``preferred_batch``: gaps.distributed hands each call to several workers)."""
    batch = batch or getattr(embedder, "preferred_batch", 256)
    unique, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True)
    advance = progress("embedding", len(unique))
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


def _ages(stamps: list[str], as_of: datetime) -> np.ndarray:
    return np.array([(as_of - parse_day(s)).total_seconds() / 86400 for s in stamps], dtype=np.float64)


def _failing(pool: list[RedactedTicket], coverage: list[Coverage], min_size: int) -> list[np.ndarray]:
    """Rows of covered tickets whose agents linked other articles than the one found, per found article."""
    failing: dict[str, list[int]] = {}
    for i, c in enumerate(coverage):
        linked = pool[i].linked_articles
        if c.covered and linked and c.article_id not in linked:
            failing.setdefault(c.article_id, []).append(i)
    return [np.array(rows) for _, rows in sorted(failing.items()) if len(rows) >= min_size]


@dataclass(frozen=True)
class _Context:
    pool: list[RedactedTicket]
    vectors: np.ndarray
    coverage: list[Coverage]
    as_of: datetime
    settings: Settings
    style: str
    suggester: Suggester | None


def _describe(kind: str, rows: np.ndarray, words: list[str], ctx: _Context) -> Gap:
    members = [ctx.pool[i] for i in rows]
    found = [ctx.coverage[i] for i in rows]
    centre = centroids(ctx.vectors[rows], np.zeros(len(rows), dtype=np.int64), np.array([0]))[0]
    examples = [members[j] for j in representatives(ctx.vectors[rows], centre)]
    stamps = [t.created_at for t in members]
    times = timeline(stamps, ctx.as_of)
    article = _majority([c.article_id for c in found], share=0.0)
    # a ticket's title reads more like an article's than a half-typed query does
    title = suggested_title(next((e.title for e in examples if e.signal == "ticket"), examples[0].title), ctx.style)
    if kind == "failing" and ctx.suggester is not None:
        title = next((a.title for a in ctx.suggester.articles if a.id == article), title)
    linked = Counter(a for t in members for a in t.linked_articles) if kind == "failing" else Counter()
    weights, half_life = ctx.settings.gap_signal_weights, ctx.settings.gap_half_life_days
    return Gap(
        kind=kind, title=title, keywords=words, ticket_ids=[t.id for t in members],
        impact=round(impact(members, _ages(stamps, ctx.as_of), weights, half_life), 2),
        last_30_days=times["last_30_days"], previous_30_days=times["previous_30_days"],
        trend=trend_label(times["last_30_days"], times["previous_30_days"]), weekly=times["weekly"],
        first_seen=times["first_seen"], last_seen=times["last_seen"],
        examples=[{"id": t.id, "text": t.text, "signal": t.signal} for t in examples], article_id=article,
        article_score=round(float(np.mean([c.score for c in found])), 3),
        internal_article=_majority([c.internal_article for c in found]),
        signals=counts(members), linked=dict(linked.most_common()),
        steps=resolution_steps([t.resolution for t in members if t.resolution]),
    )


def _nearest_gaps(vectors: np.ndarray, labels: np.ndarray, rows: np.ndarray, ranks: dict[int, int]) -> list[tuple]:
    """(rank, cosine) of the nearest missing gap's centre for each of ``rows`` ((None, 0.0) without gaps)."""
    ids = np.array(sorted(ranks), dtype=np.int64)
    if not len(ids) or not len(rows):
        return [(None, 0.0)] * len(rows)
    centres = centroids(vectors, labels, ids)
    similarity = vectors[rows] @ centres.T
    best = similarity.argmax(axis=1)
    return [(ranks[int(ids[b])], round(float(similarity[i, b]), 3)) for i, b in enumerate(best)]


def mine_gaps(tickets: list[RedactedTicket], settings: Settings, embedder: Embedder, suggester: Suggester | None,
              as_of: datetime | None = None, progress: Progress = no_progress,
              widget: Sequence[RedactedTicket] = ()) -> MiningResult:
    """Find and rank the gaps among the resolved ``tickets`` and the ``widget`` signals (all redacted)."""
    resolved = [t for t in tickets if t.resolved]
    stamps = [t.created_at for t in resolved] + [w.created_at for w in widget]
    as_of = as_of or (max(parse_day(s) for s in stamps) if stamps else datetime.now())
    vectors = encode(embedder, [t.text for t in resolved] + [w.text for w in widget], progress)
    advance = progress("checking coverage", 1)
    coverage = check_coverage(suggester, [t.text for t in resolved], vectors[:len(resolved)],
                              settings.gap_coverage_score)
    advance(1)
    # the pool: covered tickets first, then the uncovered ones and the widget's signals (what is clustered)
    covered = [i for i, c in enumerate(coverage) if c.covered]
    order = np.array(covered + [i for i, c in enumerate(coverage) if not c.covered], dtype=np.int64)
    pool = [resolved[i] for i in order] + list(widget)
    pool_coverage = [coverage[i] for i in order] + [_NO_COVERAGE] * len(widget)
    pool_vectors = np.vstack([vectors[order], vectors[len(resolved):]])
    mined = np.arange(len(covered), len(pool))
    advance = progress("clustering", 1)
    params = ClusterParams(settings.gap_cluster_distance, settings.gap_min_tickets, settings.gap_attach_score)
    labels = cluster(pool_vectors[mined], params) if len(mined) else np.zeros(0, dtype=np.int64)
    advance(1)

    clusters = int(labels.max(initial=-1)) + 1
    groups = [("missing", mined[labels == k]) for k in range(clusters)]
    groups += [("failing", rows) for rows in _failing(pool, pool_coverage, settings.gap_min_tickets)]
    style = title_style([a.title for a in suggester.articles if a.audience == "public"]) if suggester else "imperative"
    ctx = _Context(pool, pool_vectors, pool_coverage, as_of, settings, style, suggester)
    advance = progress("describing gaps", len(groups))
    keywords = ctfidf_keywords([" ".join(pool[i].text for i in rows) for _, rows in groups])
    gaps = []
    for (kind, rows), words in zip(groups, keywords):
        gaps.append(_describe(kind, rows, words, ctx))
        advance(1)
    for rank, g in enumerate(sorted(range(len(gaps)), key=lambda g: (-gaps[g].impact, -gaps[g].size, gaps[g].title)), 1):
        gaps[g].rank = rank

    full_labels = np.full(len(pool), -1, dtype=np.int64)
    full_labels[mined] = labels
    left = mined[labels == -1]
    nearest = _nearest_gaps(pool_vectors, full_labels, left, {k: gaps[k].rank for k in range(clusters)})
    unclustered = [{"id": pool[i].id, "signal": pool[i].signal, "text": pool[i].text,
                    "created_at": pool[i].created_at[:10], "nearest_gap": rank, "similarity": score}
                   for i, (rank, score) in zip(left, nearest)]
    unclustered.sort(key=lambda u: (u["nearest_gap"] or 0, -u["similarity"], u["id"]))
    failing = {pool[i].id for kind, rows in groups if kind == "failing" for i in rows}
    covered_items = [{"id": pool[i].id, "article_id": pool_coverage[i].article_id,
                      "score": round(pool_coverage[i].score, 3), "linked_articles": list(pool[i].linked_articles),
                      "failing": pool[i].id in failing} for i in range(len(covered))]
    return MiningResult(sorted(gaps, key=lambda g: g.rank), as_of.isoformat(timespec="seconds"), len(tickets),
                        len(resolved), len(covered), len(resolved) - len(covered), len(unclustered),
                        signals=counts([pool[i] for i in mined]), unclustered_items=unclustered,
                        covered_items=covered_items, title_style=style,
                        widget_items={w.id: w.signal for w in widget})
