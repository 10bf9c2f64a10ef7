"""The ``kbsuggest`` command. Commands translate options into core calls; offline modules load lazily."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kbsuggest.cli.context import echo, indexer, settings_from
from kbsuggest.errors import KBSuggestError


class Group(click.Group):
    """Turns expected errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KBSuggestError as exc:
            echo(f"error: {exc}", err=True)  # messages quote the input
            sys.exit(1)


@click.group(cls=Group)
@click.option("--index-dir", type=click.Path(path_type=Path), help="Index directory [env KBSUGGEST_INDEX_DIR].")
@click.option("--embedder", help="Embedding backend [env KBSUGGEST_EMBEDDER].")
@click.version_option(package_name="kbsuggest")
@click.pass_context
def main(ctx: click.Context, index_dir: Path | None, embedder: str | None) -> None:
    """Suggest help articles for ticket titles; build and inspect the index."""
    ctx.obj = {k: v for k, v in {"index_dir": index_dir, "embedder": embedder}.items() if v is not None}


@main.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.pass_context
def index(ctx: click.Context, source: Path) -> None:
    """Index every Markdown file under SOURCE into the index directory."""
    from indexing.build import build_index
    from kbsuggest.embed import make_embedder

    settings = settings_from(ctx)
    summary = build_index(source, settings, make_embedder(settings))
    click.echo(f"indexed {summary.articles} articles ({summary.internal} internal) as {summary.chunks} chunks "
               f"from {summary.source} into {summary.index_dir}")
    click.echo(f"model {summary.model}: embedded {summary.embedded} articles, reused {summary.reused} unchanged")
    click.echo(f"skipped {len(summary.skipped)} files")
    for path, reason in summary.skipped:
        echo(f"  skipped {path}: {reason}")
    click.echo(f"took {summary.seconds:.1f} s")


@main.command()
@click.option("--host", help="Bind address [env KBSUGGEST_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port [env KBSUGGEST_PORT, default 8000].")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the suggest API (and the demo page) over HTTP."""
    import uvicorn

    from kbsuggest.http.app import create_app

    settings = settings_from(ctx, host=host, port=port)
    app = create_app(settings)
    app.state.indexer = indexer()  # lets the admin API rebuild the index
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=settings.access_log)


@main.command()
@click.argument("text")
@click.option("-k", type=click.IntRange(1, 10), default=3, show_default=True, help="How many articles.")
@click.option("--locale", help="Only articles in this locale.")
@click.option("--product", help="Only articles of this product.")
@click.option("--internal", is_flag=True, help="Include internal (agent-only) articles.")
@click.pass_context
def suggest(ctx: click.Context, text: str, k: int, locale: str | None, product: str | None, internal: bool) -> None:
    """Show the articles suggested for TEXT."""
    from kbsuggest.rank.suggester import Suggester

    found = Suggester.load(settings_from(ctx)).suggest(text, k, locale=locale, product=product, include_internal=internal)
    if not found:
        click.echo("no suggestion above the threshold")
        return
    click.echo(f"{'#':<2} {'score':>6}  {'article':<28} section")
    for rank, s in enumerate(found, 1):
        echo(f"{rank:<2} {s.score:>6.3f}  {s.article_id:<28} {s.section or '(introduction)'}")
        echo(f"{'':<10}{s.title} — {s.url}{'#' + s.anchor if s.anchor else ''}")


@main.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Statistics of the index: articles, chunks, model, when it was built."""
    from kbsuggest.db import open_db
    from kbsuggest.index.format import KB_FILE, read_manifest

    settings = settings_from(ctx)
    manifest = read_manifest(settings.index_dir)
    db = open_db(settings.index_dir / KB_FILE)
    click.echo(f"index       {settings.index_dir}")
    click.echo(f"model       {manifest.model} (dim {manifest.dim}, {manifest.index_type} index)")
    click.echo(f"built       {manifest.created_at} by kbsuggest {manifest.kbsuggest_version}")
    click.echo(f"articles    {manifest.article_count}   chunks {manifest.chunk_count}")
    for column in ("audience", "locale", "product"):
        counts = db.execute(f"select {column}, count(*) from articles group by 1 order by 2 desc").fetchall()
        echo(f"{column:<11} " + ", ".join(f"{value or '-'} {n}" for value, n in counts))
    db.conn.close()


# Commands of the offline jobs live beside their code and are registered here, one line each.
# (Their modules import click only; heavy dependencies load inside the commands.)
from kbsuggest.cli.admin import admin  # noqa: E402
from kbsuggest.cli.evaluate import evaluate  # noqa: E402
from kbsuggest.cli.gaps import gaps, tickets  # noqa: E402
from kbsuggest.cli.models import models  # noqa: E402
from kbsuggest.cli.stats import stats  # noqa: E402

for command in (admin, models, stats, evaluate, tickets, gaps):
    main.add_command(command)
