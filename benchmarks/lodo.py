"""Leave one domain out: fit on the other domains, evaluate on the held-out one.

Everything kbsuggest fits offline is fitted per fold, on the domains outside the held-out group only:
the calibration (weights and Platt scaling, benchmarks/fit_calibration.py's ``fit_rows``) and the
threshold (the lowest whose precision on those domains reaches 0.9 with at most 10% false
suggestions, evaluation/calibrate.py's rule, as quality.py recommends it). A group is an Integreat
city in all its languages: its questions are translations, so fitting on the German city while
holding out the English one would leak. Evaluation goes through ``Suggester.suggest_many``, the code
the API runs, on the domain's snapshot with the fold's calibration in place of the packaged one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from domain_data import Domain  # noqa: E402
from fit_calibration import TrainingRows, fit_rows, training_rows  # noqa: E402

from evaluation.calibrate import Sweep  # noqa: E402
from evaluation.metrics import per_ticket  # noqa: E402
from evaluation.replay import Ranking, SuggesterRanker, Trace, debounced_lengths, replay  # noqa: E402
from indexing.build import build_index  # noqa: E402
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.domain import Ticket  # noqa: E402
from kbsuggest.index.versions import kb_dir, resolve  # noqa: E402
from kbsuggest.kbs.load import load_suggester  # noqa: E402
from kbsuggest.rank.calibration import Calibration  # noqa: E402
from kbsuggest.rank.suggester import Suggester  # noqa: E402
from learning import fit as kb_fit  # noqa: E402
from learning.coldstart import add_candidates, cold_start  # noqa: E402

TARGET_PRECISION = 0.9
MAX_FALSE_RATE = 0.1


@dataclass
class BuiltDomain:
    """A domain's KB indexed, its Suggester with the packaged calibration, and what can be evaluated."""
    domain: Domain
    settings: Settings
    embedder: object
    suggester: Suggester
    tickets: list[Ticket]  # evaluated: answerable ones whose article is a public article of the index, all others
    fit_tickets: list[Ticket]
    skipped: list[str] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0

    @property
    def name(self) -> str:
        return self.domain.name

    @property
    def snapshot_dir(self) -> Path:
        return resolve(kb_dir(self.settings.index_dir, self.settings.default_kb().name))

    def with_calibration(self, calibration: Calibration) -> Suggester:
        """A Suggester over the same snapshot and policy, scoring with ``calibration``."""
        s = self.suggester
        return Suggester(s.snapshot, s.embedder, s.policy, calibration)


def build(domain: Domain, root: Path, embedder) -> BuiltDomain:
    """Write the domain's KB under ``root`` and index it with ``embedder``."""
    root = Path(root) / domain.name
    domain.write_kb(root / "kb")
    settings = Settings(index_dir=root / "index", db_path=root / "kbsuggest.db")
    summary = build_index(root / "kb", settings, embedder)
    suggester = load_suggester(settings, embedder)
    visible = {a.id for a in suggester.articles if a.audience == "public"}

    def usable(tickets: Sequence[Ticket]) -> list[Ticket]:
        return [t for t in tickets if not t.answerable or visible.intersection(t.linked_articles)]

    skipped = [t.id for t in domain.tickets if t.answerable and not visible.intersection(t.linked_articles)]
    return BuiltDomain(domain, settings, embedder, suggester, usable(domain.tickets), usable(domain.fit_tickets),
                       skipped, summary.articles, summary.chunks)


def labelled(tickets: Sequence[Ticket]) -> list[tuple[str, str, str | None]]:
    """(id, title, answering article) for fit_calibration; our domains link one article per query."""
    return [(t.id, t.title, t.linked_articles[0] if t.linked_articles else None) for t in tickets]


@dataclass
class Fold:
    held_out: str  # the group held out
    train: list[str]  # names of the domains fitted on
    calibration: Calibration  # its threshold is the fitted one
    fit_ids: frozenset[str]  # every ticket id the fit saw (calibration and threshold)
    threshold_note: str = ""
    real_text: kb_fit.Scale = kb_fit.IDENTITY  # pseudo_to_real: cold-start logit -> real text's


class Folds:
    """Training rows per domain, computed once and pooled per fold."""

    def __init__(self, built: Sequence[BuiltDomain], n_candidates: int = 20) -> None:
        self.built = list(built)
        self.n_candidates = n_candidates
        self._rows: dict[str, TrainingRows] = {}

    def rows(self, b: BuiltDomain) -> TrainingRows:
        if b.name not in self._rows:
            self._rows[b.name] = training_rows(b.suggester, labelled(b.fit_tickets), self.n_candidates)
        return self._rows[b.name]

    def fit(self, held_out: str | None) -> Fold:
        """The fold without ``held_out`` (a group); None fits on every domain, as the packaged weights are."""
        train = [b for b in self.built if b.domain.group != held_out]
        if not train:
            raise ValueError(f"nothing to fit on when {held_out!r} is held out: add another domain")
        parts = [self.rows(b) for b in train]
        calibration = fit_rows(parts)
        threshold, note = fit_threshold(train, calibration)
        return Fold(held_out, [b.name for b in train], Calibration(calibration.coef, calibration.intercept, threshold),
                    frozenset(i for p in parts for i in p.ids), note, pseudo_to_real(train, calibration))


def held_out(built: Sequence[BuiltDomain], chosen: Sequence[str]) -> Iterator[tuple[Fold, list[BuiltDomain]]]:
    """Per group holding a ``chosen`` domain, in order: the fold fitted without that group, and its chosen
    domains (the protocol of every leave-one-domain-out benchmark)."""
    folds = Folds(built)
    for group in dict.fromkeys(b.domain.group for b in built if b.name in chosen):
        yield folds.fit(group), [b for b in built if b.domain.group == group and b.name in chosen]


def pseudo_to_real(train: Sequence[BuiltDomain], weights: Calibration) -> kb_fit.Scale:
    """The map from a cold-start logit to what real text gets: each domain cold-started on ``weights`` (with no
    map), its fit tickets typed as a form sends them, a Platt fit over the cards its form shows
    (learning/fit.py's ``real_text_scale``)."""
    parts = []
    for b in train:
        calibration, _ = cold_start(b.with_calibration(weights), weights, real_text=kb_fit.IDENTITY)
        suggester = b.with_calibration(calibration)
        position = {a.id: i for i, a in enumerate(suggester.articles)}
        queries = [([t.title[:n] for n in debounced_lengths(t.title)],
                    position[t.linked_articles[0]] if t.answerable else None) for t in b.fit_tickets]
        candidates = kb_fit.Candidates()
        add_candidates(candidates, suggester, calibration, queries)
        parts.append(kb_fit.shown_cards(candidates.scored(calibration.coef, calibration.intercept),
                                        calibration.threshold))
    return kb_fit.real_text_scale(parts)


def fit_threshold(train: Sequence[BuiltDomain], calibration: Calibration) -> tuple[float, str]:
    """The recommended min_score over the training domains' replays under ``calibration``."""
    answerable, unanswerable = [], []
    for b in train:
        ranker = SuggesterRanker(b.with_calibration(calibration))
        traces = replay(b.fit_tickets, [ranker])[ranker.name]
        for ticket, trace in zip(b.fit_tickets, traces):
            (answerable if ticket.answerable else unanswerable).append(per_ticket(ticket, trace))
    sweep = Sweep(*(np.array([r[key] for r in answerable]) for key in ("early", "right", "any")),
                  np.array([r["any"] for r in unanswerable]))
    found = sweep.recommend(TARGET_PRECISION, MAX_FALSE_RATE)
    if found is not None:
        point = sweep.at(found)
        return found, (f"precision {point.precision:.3f}, false suggestions {point.false_suggestion:.3f}, deflection "
                       f"{point.deflection:.3f} on {len(answerable)} + {len(unanswerable)} training tickets")
    return calibration.threshold, "no threshold met the targets on the training domains: the packaged one"


class Recorder:
    """A ranker that keeps what it returned, for metrics that need more than the gold's rank (ECE)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.rankings: dict[str, Ranking] = {}

    def rank(self, texts: Sequence[str], k: int) -> list[Ranking]:
        found = self.inner.rank(texts, k)
        self.rankings.update(zip(texts, found))
        return found


def run(tickets: Sequence[Ticket], rankers: Sequence) -> tuple[dict[str, list[Trace]], dict[str, dict[str, Ranking]]]:
    """Replay ``tickets`` through every ranker: traces and the rankings of every prefix, per system."""
    recorders = [Recorder(r) for r in rankers]
    traces = replay(tickets, recorders)
    return traces, {r.name: r.rankings for r in recorders}
