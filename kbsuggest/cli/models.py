"""``kbsuggest models``: build the ONNX files the onnx backend serves."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def models() -> None:
    """Build the model files the onnx backend serves (needs pip install 'kbsuggest[model]')."""


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
