"""``kbsuggest models``: build the ONNX files the onnx backend serves; list a KB's models and switch it."""

from __future__ import annotations

from pathlib import Path

import click

from kbsuggest.cli.context import kb_option


@click.group()
def models() -> None:
    """Build the model files the onnx backend serves (export needs pip install 'kbsuggest[model]'); list the
    models of a KB (the base model and those `kbsuggest learn` adapted to it) and switch between them."""


@models.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Directory to write the ONNX files and tokenizer.json into [default: the models directory].")
@click.option("--force", is_flag=True, help="Export again even when the files exist (they are kept otherwise).")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Compare the exported models with sentence-transformers on a few texts.")
def export(out_dir: Path | None, force: bool, check: bool) -> None:
    """Export all-MiniLM-L6-v2 to ONNX: fp32 and dynamically quantized int8."""
    from kbsuggest.embed.export import CHECK_TEXTS, agreement, export_models, exported

    fresh = force or not all(p.is_file() for p in exported(out_dir))
    paths = export_models(out_dir, force)
    for path in paths:
        click.echo(f"{path}  {path.stat().st_size / 1e6:.1f} MB")
    if check and fresh:
        for name, cosine in agreement(paths[1:], CHECK_TEXTS).items():
            click.echo(f"{name}: lowest cosine to sentence-transformers over {len(CHECK_TEXTS)} texts {cosine:.4f}")


def _figures(lineage: dict, when: str) -> str:
    held = lineage.get("held_out", {}).get(when, {})
    return "/".join(f"{held[f'hit@3_{p}']:.2f}" if f"hit@3_{p}" in held else "-" for p in (30, 50, 100))


@models.command("list")
@kb_option
@click.pass_context
def list_models(ctx: click.Context, kb: str) -> None:
    """The models KB --kb can be served with; * marks the one it is served with."""
    from kbsuggest.cli.context import CLIContext, echo
    from kbsuggest.embed.models import BASE, adapted_models, adapted_root, read_lineage
    from kbsuggest.kbs.load import served_model

    obj = ctx.find_object(CLIContext)
    settings = obj.settings()
    name = obj.kb(kb, settings).name
    served = served_model(settings, name)
    click.echo(f"  {'model':<34} {'created':<20} {'pairs':>6}  held-out hit@3 30/50/100% before -> after   verdict")
    click.echo(f"{'*' if served == BASE else ' '} {BASE:<34} {'(shipped)':<20} {'-':>6}")
    for model in adapted_models(name):
        lineage = read_lineage(adapted_root() / model)
        verdict = lineage.get("verdict", {})
        echo(f"{'*' if served == model else ' '} {model:<34} {lineage.get('created_at', '')[:19]:<20} "
             f"{lineage.get('pairs', {}).get('train', 0):>6}  {_figures(lineage, 'before'):<14} -> "
             f"{_figures(lineage, 'after'):<14}  {'switched' if verdict.get('switched') else 'refused'}: "
             f"{verdict.get('reason', '')}")


@models.command("use")
@click.argument("name")
@kb_option
@click.pass_context
def use(ctx: click.Context, name: str, kb: str) -> None:
    """Serve KB --kb with model NAME (`base` or one of `models list`): reindexes the KB with it and publishes
    the new version (every replica switches; the previous version is kept for a rollback)."""
    from indexing.build import build_index
    from kbsuggest.cli.context import CLIContext
    from kbsuggest.embed import make_embedder
    from kbsuggest.kbs.watch import announce
    from learning.job import articles_dir

    obj = ctx.find_object(CLIContext)
    settings = obj.settings()
    config = obj.kb(kb, settings)
    embedder = make_embedder(settings, name, config.name)  # an unknown name lists the valid ones
    summary = build_index(articles_dir(settings, config), settings, embedder, config)
    store = obj.store(settings)
    announce(store, summary.kb, summary.version)
    store.close()
    click.echo(f"KB {summary.kb} is served with {name} ({summary.model}) from {summary.version}: "
               f"{summary.articles} articles, {summary.chunks} chunks, {summary.embedded} embedded, took {summary.seconds:.1f} s")
