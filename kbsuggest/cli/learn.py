"""CLI: ``kbsuggest learn``. Only click at import time (torch loads inside the command, in learning/)."""

from __future__ import annotations

import click

from kbsuggest.cli.context import kb_option


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the pairs and the evaluation split; train nothing.")
@click.option("--epochs", type=click.IntRange(1, 10), help="Passes over the pairs, as far as --max-minutes allows "
              "[default: 3].")
@click.option("--batch-size", type=click.IntRange(2, 256), default=32, show_default=True, help="Pairs per step.")
@click.option("--max-minutes", type=click.FloatRange(0.1, 600),
              help="Training time budget: steps are cut to fit it, re-planned as they run; export, evaluation and "
                   "reindex come after [default: 10].")
@click.option("--max-steps", type=click.IntRange(1), help="At most this many steps.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-hard-negatives", is_flag=True, help="Train on in-batch negatives only.")
@kb_option
@click.pass_context
def learn(ctx: click.Context, dry_run: bool, epochs: int | None, batch_size: int, max_minutes: float | None,
          max_steps: int | None, seed: int, no_hard_negatives: bool, kb: str) -> None:
    """Adapt the embedding model to KB --kb from its history (resolved tickets with linked articles, widget
    feedback); switch the KB to it only when it is better on the newest 20 % of that history.

    Needs pip install 'kbsuggest[model]' (PyTorch) except with --dry-run."""
    from kbsuggest.cli.context import CLIContext, echo
    from learning.job import learn as run, prepare
    from learning.report import pair_lines, result_lines, split_lines
    from learning.train import TrainConfig

    obj = ctx.find_object(CLIContext)
    settings = obj.settings()
    config = TrainConfig.given(epochs=epochs, max_minutes=max_minutes, batch_size=batch_size, max_steps=max_steps,
                               seed=seed, hard_negatives=not no_hard_negatives)
    kb_config, store = obj.kb(kb, settings), obj.store(settings)
    if dry_run:
        prepared = prepare(settings, kb_config, store)
        for line in pair_lines(prepared) + split_lines(prepared, config):
            echo(line)
        return
    prepared = prepare(settings, kb_config, store)
    for line in split_lines(prepared, config):
        echo(line)
    for line in result_lines(run(settings, kb_config, store, config, say=echo, prepared=prepared)):
        echo(line)
