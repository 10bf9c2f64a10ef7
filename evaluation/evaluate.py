"""One evaluation: load tickets, replay them through kbsuggest and the baselines, compute metrics.

``metrics`` holds only deterministic content (no clock times), so two runs on the same tickets,
index and settings produce identical metrics.json files.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from evaluation.baselines import BM25Ranker, DenseRanker, whole_articles
from evaluation.metrics import system_metrics
from evaluation.replay import PERCENTS, CachedEmbedder, SuggesterRanker, debounced_lengths, replay
from kbsuggest.config import Settings
from kbsuggest.domain import Ticket
from kbsuggest.embed import Embedder, create_embedder
from kbsuggest.errors import ConfigError
from tickets.reader import read_tickets
from tickets.records import BadRow
from kbsuggest.index.versions import kb_dir, resolve
from kbsuggest.kbs.load import calibration_scale, load_suggester
from kbsuggest.store import Store


@dataclass
class Evaluation:
    metrics: dict
    bad_rows: list[BadRow] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # tickets none of whose linked articles is in the index
    cut: list[BadRow] = field(default_factory=list)  # tickets kept with a text field cut to its bound
    seconds: float = 0.0
    model: str = ""
    scale: str = ""  # the calibration the scores are on (a tuned threshold is stored for it)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _gold_in_index(tickets: list[Ticket], visible: set[str], include_internal: bool) -> tuple[list[Ticket], list[str]]:
    """Tickets with their linked articles narrowed to those that can be suggested; a ticket none of whose
    linked articles can be is skipped (it could never be deflected), with a note saying why."""
    kept, skipped = [], []
    for ticket in tickets:
        gold = tuple(a for a in ticket.linked_articles if a in visible)
        if ticket.answerable and not gold:
            ids, many = ", ".join(map(repr, ticket.linked_articles)), len(ticket.linked_articles) > 1
            skipped.append(f"ticket {ticket.id!r}: linked article{'s' * many} {ids} "
                           + ("are not articles" if many else "is not an article") + " of the index"
                           + ("" if include_internal else f" (or {'are' if many else 'is'} internal)"))
        else:
            kept.append(replace(ticket, linked_articles=gold))
    return kept, skipped


def evaluate(settings: Settings, tickets_path: Path, *, mapping: Mapping[str, str] | None = None,
             preset: str | None = None, date_format: str | None = None, fmt: str | None = None, every: int = 6,
             target_precision: float = 0.9, max_false_rate: float = 0.1,
             include_internal: bool = False, baselines: bool = True, embedder: Embedder | None = None,
             progress: Callable[[int, int], None] | None = None, kb: str = "default",
             store: Store | None = None) -> Evaluation:
    """``progress(done, total)`` is called as prefix texts are ranked (for a progress bar)."""
    if every < 1:
        raise ConfigError(f"--every must be at least 1 character, got {every}")
    if not 0 < target_precision <= 1:
        raise ConfigError(f"--target-precision must be in (0, 1], got {target_precision}")
    if not 0 <= max_false_rate <= 1:
        raise ConfigError(f"--max-false-rate must be in [0, 1], got {max_false_rate}")
    started = time.perf_counter()
    read = read_tickets(tickets_path, mapping, preset, fmt=fmt, required=("id", "title"), date_format=date_format)
    if not read.tickets:
        reasons = f"; first problem: {read.bad[0]}" if read.bad else ""
        raise ConfigError(f"no usable tickets in {str(tickets_path)!r}{reasons}")
    tickets, bad = read.tickets, read.bad
    embedder = CachedEmbedder(embedder or create_embedder(settings.embedder, settings.model_path,
                                                          settings.embed_batch_size))
    suggester = load_suggester(settings, embedder, kb, store)
    visible = {a.id for a in suggester.articles if include_internal or a.audience == "public"}
    tickets, skipped = _gold_in_index(tickets, visible, include_internal)
    if not tickets:
        raise ConfigError(f"no ticket of {str(tickets_path)!r} can be evaluated: {skipped[0]}")

    rankers = [SuggesterRanker(suggester, include_internal)]
    if baselines:
        documents = whole_articles(resolve(kb_dir(settings.index_dir, kb)), include_internal)
        rankers += [BM25Ranker(documents), DenseRanker(documents, embedder, settings.min_query_chars)]
    total = len({t.title[:n] for t in tickets for n in debounced_lengths(t.title, every)})
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    traces = replay(tickets, rankers, every, progress=step)
    configured = suggester.policy.min_score  # the serving threshold, a tuned one included
    thresholds = {"kbsuggest": configured, "dense": configured, "bm25": None}  # BM25 scores are not cosines
    metrics = {
        "config": {
            "tickets": Path(tickets_path).name, "tickets_sha256": _sha256(tickets_path),
            "kb": kb, "model": embedder.name, "articles": len(visible), "articles_hash": suggester.manifest.articles_hash,
            "min_score": configured, "every": every, "percents": list(PERCENTS),
            "target_precision": target_precision, "max_false_rate": max_false_rate, "include_internal": include_internal,
        },
        "tickets": {"read": len(tickets) + len(skipped) + len(bad), "bad_rows": len(bad), "skipped": len(skipped),
                    "evaluated": len(tickets), "answerable": sum(t.answerable for t in tickets),
                    "unanswerable": sum(not t.answerable for t in tickets), "prefixes": total},
        "systems": {name: system_metrics(tickets, traces[name], thresholds[name], target_precision, max_false_rate)
                    for name in traces},
    }
    return Evaluation(metrics, bad, skipped, read.cut, time.perf_counter() - started, embedder.name,
                      calibration_scale(suggester.calibration))
