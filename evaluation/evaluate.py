"""One evaluation: load tickets, replay them through kbsuggest and the baselines, compute metrics.

``metrics`` holds only deterministic content (no clock times), so two runs on the same tickets,
index and settings produce identical metrics.json files.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.baselines import BM25Ranker, DenseRanker, whole_articles
from evaluation.metrics import system_metrics
from evaluation.replay import PERCENTS, CachedEmbedder, SuggesterRanker, debounced_lengths, replay
from evaluation.tickets import load_tickets
from kbsuggest.config import Settings
from kbsuggest.embed import Embedder, create_embedder
from kbsuggest.errors import ConfigError
from tickets.records import BadRow
from kbsuggest.index.versions import kb_dir, resolve
from kbsuggest.kbs.load import calibration_scale, load_suggester
from kbsuggest.store import Store


@dataclass
class Evaluation:
    metrics: dict
    bad_rows: list[BadRow] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # tickets whose resolving article is not in the index
    seconds: float = 0.0
    model: str = ""
    scale: str = ""  # the calibration the scores are on (a tuned threshold is stored for it)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def evaluate(settings: Settings, tickets_path: Path, *, mapping: Mapping[str, str] | None = None,
             fmt: str | None = None, every: int = 6, target_precision: float = 0.9, max_false_rate: float = 0.1,
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
    tickets, bad = load_tickets(tickets_path, mapping, fmt)
    embedder = CachedEmbedder(embedder or create_embedder(settings.embedder, settings.model_path,
                                                          settings.embed_batch_size))
    suggester = load_suggester(settings, embedder, kb, store)
    visible = {a.id for a in suggester.articles if include_internal or a.audience == "public"}
    skipped = [f"ticket {t.id!r}: resolved_article_id {t.resolved_article_id!r} is not an article of the index"
               + ("" if include_internal else " (or is internal)")
               for t in tickets if t.answerable and t.resolved_article_id not in visible]
    tickets = [t for t in tickets if not t.answerable or t.resolved_article_id in visible]
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
    return Evaluation(metrics, bad, skipped, time.perf_counter() - started, embedder.name,
                      calibration_scale(suggester.calibration))
