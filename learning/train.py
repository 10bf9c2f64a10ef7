"""Fine-tune the embedding model on a KB's pairs (sentence-transformers, CPU, bounded) and export it.

The model always starts from the shipped all-MiniLM-L6-v2, never from an earlier adapted one: every run
learns from the whole history again, so adapted models never drift on their own outputs, and the lineage
of each is one base model and one set of pairs.

Loss: ``MultipleNegativesRankingLoss`` over (query, answering article, article shown and not chosen):
every other article of the batch is a negative too, so batches never hold an article twice (it would be
its own negative). The article side of a pair is one of its indexed chunk texts, its title alone half of
the time (ticket titles look like article titles, and the title chunk is a ranking feature). Pairs of
weight w < 1 (opened, not confirmed) are drawn into an epoch with probability w.

Bounded: the step count is fixed before training from the epochs asked for, cut to what fits the time
budget at the speed of a probe step measured first (that estimate is printed before training starts), and
training also stops at the budget. Seeded: the batches, the positives' chunks and torch's initialisation.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from learning.pairs import Pair

TITLE_SHARE = 0.5  # how often the positive is the article's title chunk rather than another of its chunks
TRAIN_MAX_TOKENS = 64  # truncation while training (queries are short; a chunk's title and first ~40 words); not exported


@dataclass
class TrainConfig:
    epochs: int = 3  # at most: the time budget usually cuts a run of a few thousand pairs to one or two passes
    batch_size: int = 32
    learning_rate: float = 6e-5
    warmup_share: float = 0.1
    max_minutes: float = 10.0  # training alone: 5,000 pairs' whole `learn` (evaluation, export, reindex) fits 15 min
    max_steps: int | None = None
    seed: int = 0
    hard_negatives: bool = True

    @classmethod
    def given(cls, **options) -> "TrainConfig":
        """A config of command-line options; those left unset (None) keep the defaults above (their one owner)."""
        return cls(**{name: value for name, value in options.items() if value is not None})


@dataclass
class TrainResult:
    steps: int
    planned_steps: int
    examples: int
    seconds: float
    seconds_per_step: float
    first_loss: float
    last_loss: float
    agreement: dict[str, float] = field(default_factory=dict)  # ONNX file -> lowest cosine to the torch model
    stopped_by_budget: bool = False


@dataclass(frozen=True)
class Example:
    anchor: str
    positive: str  # article id
    negative: str | None


def examples_of(pairs: list[Pair], hard_negatives: bool) -> list[tuple[Example, float]]:
    return [(Example(p.query, p.article_id, (p.negatives[0] if hard_negatives and p.negatives else None)), p.weight)
            for p in pairs]


def plan_batches(weighted: list[tuple[Example, float]], batch_size: int, epochs: int,
                 rng: random.Random) -> list[list[Example]]:
    """Shuffled batches, each with every article at most once (as a positive or a negative) and one kind of
    row (with or without a negative), over ``epochs`` passes."""
    batches: list[list[Example]] = []
    for _ in range(epochs):
        epoch: list[list[Example]] = []
        chosen = [e for e, w in weighted if w >= 1 or rng.random() < w]
        rng.shuffle(chosen)
        for with_negative in (True, False):
            pending = [e for e in chosen if (e.negative is not None) == with_negative]
            while pending:
                batch, used, rest = [], set(), []
                for e in pending:
                    articles = {e.positive} | ({e.negative} if e.negative else set())
                    if len(batch) < batch_size and not articles & used:
                        batch.append(e)
                        used |= articles
                    else:
                        rest.append(e)
                if len(batch) > 1:  # one row has no in-batch negative to learn from
                    epoch.append(batch)
                elif not rest:
                    break
                pending = rest if len(batch) > 1 else rest[1:]
        # Shuffled within the epoch: when the time budget cuts the run, what ran is whole passes first.
        rng.shuffle(epoch)
        batches += epoch
    return batches


def _positive(texts: dict[str, list[str]], article: str, rng: random.Random) -> str:
    chunks = texts[article]
    return chunks[0] if len(chunks) == 1 or rng.random() < TITLE_SHARE else rng.choice(chunks[1:])


def fine_tune(pairs: list[Pair], texts: dict[str, list[str]], config: TrainConfig, out_dir: Path,
              say: Callable[[str], None] = print, check_texts: list[str] | None = None) -> TrainResult:
    """Train on ``pairs`` (``texts``: article id -> its chunk texts, title first), export the model to ONNX
    (tokenizer.json and the int8 file) into ``out_dir``, and check the export against the torch model."""
    import torch
    from sentence_transformers import SentenceTransformer, losses

    from kbsuggest.embed.export import CHECK_TEXTS, agreement, export_models
    from kbsuggest.embed.models import FP32_FILE, INT8_FILE, minilm_path

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = SentenceTransformer(str(minilm_path()), device="cpu")
    exported_length = model.max_seq_length
    model.max_seq_length = TRAIN_MAX_TOKENS
    loss = losses.MultipleNegativesRankingLoss(model)
    # The word-embedding table (half the weights) stays as shipped: a few thousand pairs cannot retrain 30,522
    # rows, and the optimizer then updates half as much per step.
    model[0].auto_model.embeddings.word_embeddings.weight.requires_grad_(False)
    tokenize = getattr(model, "preprocess", None) or model.tokenize
    batches = plan_batches(examples_of(pairs, config.hard_negatives), config.batch_size, config.epochs, rng)
    if not batches:
        raise ValueError("no training batch: the pairs name fewer than two articles")

    def columns(batch: list[Example]) -> list[list[str]]:
        out = [[e.anchor for e in batch], [_positive(texts, e.positive, rng) for e in batch]]
        if batch[0].negative is not None:
            out.append([_positive(texts, e.negative, rng) for e in batch])
        return out

    def step_loss(batch: list[Example]):
        return loss([tokenize(column) for column in columns(batch)], None)

    model.train()
    per_step = 0.0
    for batch in batches[:2]:  # the probe: a step's cost on this machine, now (the first one also warms up)
        probe_started = time.perf_counter()
        step_loss(batch).backward()
        model.zero_grad()
        per_step = time.perf_counter() - probe_started
    budget = config.max_minutes * 60
    planned = len(batches) if config.max_steps is None else min(len(batches), config.max_steps)
    steps = min(planned, max(1, int(budget / per_step)))
    say(f"training: {steps} steps of {config.batch_size} pairs ({len(pairs)} pairs, {config.epochs} epoch"
        f"{'s' if config.epochs != 1 else ''}), about {per_step:.2f} s a step: ~{steps * per_step / 60:.1f} min"
        + (f" (cut from {planned} steps to fit --max-minutes {config.max_minutes:g})" if steps < planned else ""))
    optimizer = torch.optim.AdamW([w for w in model.parameters() if w.requires_grad], lr=config.learning_rate)
    warmup = max(1, int(steps * config.warmup_share))
    started, losses_seen, done, stopped = time.perf_counter(), [], 0, False
    while done < steps:
        # Warm-up, then linear decay to the planned end, wherever the re-planning below moves it.
        share = min((done + 1) / warmup, max(0.0, (steps - done) / max(1, steps - warmup)))
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate * share
        value = step_loss(batches[done])
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        losses_seen.append(float(value.detach()))
        done += 1
        elapsed = time.perf_counter() - started
        if elapsed > budget:
            stopped = True
            break
        # Re-planned from the steps' mean time so far: one probe step misjudges a shared machine.
        steps = min(planned, max(done + 1, int(budget * done / elapsed)))
    seconds = time.perf_counter() - started
    model.eval()
    model.max_seq_length = exported_length  # serving truncates as the base model does
    staging = Path(out_dir)
    torch_dir = staging / "torch"
    model.save(str(torch_dir))
    paths = export_models(staging, force=True, source=torch_dir)
    check = list(CHECK_TEXTS) + list(check_texts or [])[:20]
    result = TrainResult(done, planned, len(pairs), seconds, seconds / max(1, done), losses_seen[0], losses_seen[-1],
                         agreement([staging / FP32_FILE, staging / INT8_FILE], check, torch_dir), stopped)
    shutil.rmtree(torch_dir)
    (staging / FP32_FILE).unlink()  # serving needs the int8 file only (the fp32 one was for the check)
    return result
