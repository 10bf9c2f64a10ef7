"""What ``kbsuggest learn`` prints: the pairs and the split (``--dry-run``), then the outcome."""

from __future__ import annotations

from collections import Counter

from learning.heldout import table
from learning.job import LearnResult, Prepared
from learning.train import TrainConfig


def split_lines(prepared: Prepared, config: TrainConfig) -> list[str]:
    sp, history = prepared.split, prepared.history
    kinds = Counter(p.kind for p in sp.train)
    lines = [f"history: {len(history.pairs)} pairs from {sp.sources} tickets and widget sessions"
             + (f"; left out: " + ", ".join(f"{n} {why}" for why, n in sorted(history.dropped.items()))
                if history.dropped else ""),
             f"train: {len(sp.train)} pairs from {sp.sources - sp.heldout_sources} sources ("
             + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) + ")",
             f"held out: the newest {sp.heldout_sources} sources (from {sp.cutoff or '-'}), {len(sp.heldout)} questions",
             f"training: {len(sp.train)} pairs, {config.epochs} pass{'es' if config.epochs != 1 else ''} in batches of "
             f"up to {config.batch_size} (no article twice in one), as many steps as fit in {config.max_minutes:g} min "
             f"(the time per step is measured before training starts)"]
    return lines


def pair_lines(prepared: Prepared) -> list[str]:
    held = {c.source for c in prepared.split.heldout}
    lines = [f"{'part':<8} {'kind':<18} {'weight':>6}  {'source':<24} {'at':<20} query -> article [negatives]"]
    for p in prepared.history.pairs:
        part = "held" if p.source in held else "train"
        negatives = f" [{', '.join(p.negatives)}]" if p.negatives else ""
        lines.append(f"{part:<8} {p.kind:<18} {p.weight:>6.2f}  {p.source[:24]:<24} {p.at[:19]:<20} "
                     f"{p.query!r} -> {p.article_id}{negatives}")
    return lines


def result_lines(result: LearnResult) -> list[str]:
    t = result.training
    lines = [f"trained {result.model}: {t.steps} steps in {t.seconds:.0f} s ({t.seconds_per_step:.2f} s a step), loss "
             f"{t.first_loss:.3f} -> {t.last_loss:.3f}" + (" (stopped at the time budget)" if t.stopped_by_budget else ""),
             "ONNX vs torch, lowest cosine: " + ", ".join(f"{k} {v:.4f}" for k, v in t.agreement.items()),
             f"served before: {result.served_before}", *table(result.before, result.after)]
    if result.verdict.switch:
        lines.append(f"switched KB to {result.model} ({result.version}): {result.verdict.reason}")
    else:
        lines.append(f"kept {result.served_before}, did not switch: {result.verdict.reason} "
                     f"(`kbsuggest models use {result.model}` would force it)")
    lines.append(f"took {result.seconds:.0f} s, peak RSS {result.peak_rss_mb:.0f} MB")
    return lines
