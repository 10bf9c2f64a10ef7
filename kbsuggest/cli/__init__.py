"""The ``kbsuggest`` command. Commands translate options into core calls; offline modules load lazily."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from kbsuggest.cli.context import CLIContext, echo, indexer, kb_option
from kbsuggest.errors import KBSuggestError
from kbsuggest.rank.calibration import MODES
from kbsuggest.sources import FORMATS, format_help


class Group(click.Group):
    """Turns expected errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KBSuggestError as exc:
            message = str(exc)
        except OSError as exc:  # a file the command needs cannot be read or written
            message = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
        echo(f"error: {message}", err=True)  # messages quote the input
        sys.exit(1)


@click.group(cls=Group)
@click.option("--index-dir", type=click.Path(path_type=Path), help="Directory of the KBs' indexes [env KBSUGGEST_INDEX_DIR].")
@click.option("--embedder", help="Embedding backend [env KBSUGGEST_EMBEDDER].")
@click.option("--kbs-file", type=click.Path(path_type=Path), help="The KBs file [env KBSUGGEST_KBS_FILE].")
@click.version_option(package_name="kbsuggest")
@click.pass_context
def main(ctx: click.Context, index_dir: Path | None, embedder: str | None, kbs_file: Path | None) -> None:
    """Suggest help articles for ticket titles; build and inspect the indexes of one or many KBs."""
    options = {"index_dir": index_dir, "embedder": embedder, "kbs_file": kbs_file}
    ctx.obj = CLIContext({k: v for k, v in options.items() if v is not None})


@main.command(epilog="Formats (--format; default: the KB's source_format, else detected):\n\n\b\n"
                     + format_help())
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), help="The format of SOURCE (see below).")
@kb_option
@click.pass_obj
def index(obj: CLIContext, source: Path, fmt: str | None, kb: str) -> None:
    """Index the articles of SOURCE (a folder of Markdown or HTML pages, or a help-centre export) as KB --kb:
    a new version of it, published atomically."""
    from indexing.build import build_index
    from kbsuggest.kbs.load import kb_embedder

    settings = obj.settings()
    config = obj.kb(kb, settings)  # reindexed with the model it is served with (`kbsuggest models use`)
    publish_report(obj, settings, build_index(source, settings, kb_embedder(settings, config.name), config, fmt))


def publish_report(obj: CLIContext, settings, summary) -> None:
    """Tell the replicas about a new version (``kbsuggest index``, ``kbsuggest sync``) and print its summary."""
    from kbsuggest.kbs.watch import announce

    store = obj.store(settings)
    announce(store, summary.kb, summary.version)  # every replica serving this index directory loads it
    store.close()
    click.echo(f"indexed {summary.articles} articles ({summary.internal} internal) as {summary.chunks} chunks "
               f"from {summary.source} ({summary.format}) into KB {summary.kb} ({summary.version}, {summary.index_dir})")
    click.echo(f"model {summary.model}: embedded {summary.embedded} articles, reused {summary.reused} unchanged")
    click.echo(f"skipped {len(summary.skipped)} files")
    for path, reason in summary.skipped:
        echo(f"  skipped {path}: {reason}")
    click.echo(f"{len(summary.warnings)} warning{'' if len(summary.warnings) == 1 else 's'}")
    for path, warning in summary.warnings:
        echo(f"  warning {path}: {warning}")
    if summary.excluded:  # redirects, stubs, drafts: reported, not errors
        counts = Counter(reason.split(" (")[0] for _, reason in summary.excluded)
        click.echo(f"{len(summary.excluded)} " + ("not an article" if len(summary.excluded) == 1 else "not articles")
                   + ": " + ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items())))
        for path, reason in summary.excluded:
            echo(f"  left out {path}: {reason}")
    if summary.without_url:
        shown = ", ".join(summary.without_url[:5]) + (", …" if len(summary.without_url) > 5 else "")
        echo(f"warning: {len(summary.without_url)} articles have no url ({shown}): the widget shows them without "
             f"a link; give the source a url or set article_base_url (KBSUGGEST_ARTICLE_BASE_URL)")
    click.echo(f"took {summary.seconds:.1f} s")


@main.command()
@click.option("--host", help="Bind address [env KBSUGGEST_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port [env KBSUGGEST_PORT, default 8000].")
@click.pass_obj
def serve(obj: CLIContext, host: str | None, port: int | None) -> None:
    """Serve every KB's suggest API (and the demo page) over HTTP."""
    from kbsuggest.http.app import create_app
    from kbsuggest.http.server import run

    settings = obj.settings(host=host, port=port)
    run(create_app(settings, indexer=indexer()), settings)  # the indexer lets the admin API rebuild indexes


@main.command()
@click.argument("text")
@click.option("-k", type=click.IntRange(1, 10), default=3, show_default=True, help="How many articles.")
@click.option("--locale", help="Only articles in this locale.")
@click.option("--product", help="Only articles of this product.")
@click.option("--internal", is_flag=True, help="Include internal (agent-only) articles.")
@click.option("--mode", type=click.Choice(MODES), default="form", show_default=True,
              help="The surface whose policy applies: form (the top k once the best reaches the form threshold) "
                   "or chat (only the cards that reach the chat threshold).")
@kb_option
@click.pass_obj
def suggest(obj: CLIContext, text: str, k: int, locale: str | None, product: str | None, internal: bool, mode: str,
            kb: str) -> None:
    """Show the articles suggested for TEXT."""
    from kbsuggest.kbs.load import build_suggester, kb_embedder

    settings = obj.settings()
    config = obj.kb(kb, settings)
    suggester = build_suggester(settings, config, kb_embedder(settings, config.name), obj.store(settings))
    found = suggester.suggest(text, k, locale=locale, product=product, include_internal=internal, mode=mode)
    if not found:
        click.echo(f"no suggestion above the {mode} threshold")
        return
    click.echo(f"{'#':<2} {'score':>6}  {'article':<28} section")
    for rank, s in enumerate(found, 1):
        echo(f"{rank:<2} {s.score:>6.3f}  {s.article_id:<28} {s.section or '(introduction)'}")
        echo(f"{'':<10}{s.title} — {s.url}{'#' + s.anchor if s.anchor else ''}")


@main.command()
@kb_option
@click.pass_obj
def info(obj: CLIContext, kb: str) -> None:
    """Statistics of a KB's index: articles, chunks, model, version, when it was built; or every KB."""
    from kbsuggest.index import kbdb
    from kbsuggest.index.format import read_calibration, read_manifest
    from kbsuggest.index.versions import kb_dir, list_kbs, resolve, version_names
    from kbsuggest.rank.language import support

    settings = obj.settings()
    directory = resolve(kb_dir(settings.index_dir, obj.kb(kb, settings).name))
    manifest = read_manifest(directory)
    click.echo(f"kb          {kb} (all built: {', '.join(list_kbs(settings.index_dir))})")
    click.echo(f"version     {directory.name} of {', '.join(version_names(directory.parent.parent))} in {directory}")
    click.echo(f"model       {manifest.model} (dim {manifest.dim}, {manifest.index_type} index)")
    if manifest.lineage:  # an adapted model (kbsuggest learn): what it was trained from
        lineage = manifest.lineage
        click.echo(f"adapted     {manifest.model_name} from {lineage.get('base_model', '?')} on "
                   f"{lineage.get('pairs', {}).get('train', '?')} pairs, {lineage.get('created_at', '')[:10]}")
    click.echo(f"built       {manifest.created_at} by kbsuggest {manifest.kbsuggest_version}")
    click.echo(f"articles    {manifest.article_count}   chunks {manifest.chunk_count}")
    show_calibration(manifest.calibration, read_calibration(directory))
    counts = {column: kbdb.counts_by(directory, column) for column in ("audience", "locale", "product")}
    for column, values in counts.items():
        echo(f"{column:<11} " + ", ".join(f"{value or '-'} {n}" for value, n in values))
    # what lexical matching knows of those locales' languages (kbsuggest/rank/language.py)
    echo("languages   " + "; ".join(support(value or "" for value, _ in counts["locale"])))


def show_calibration(how: dict, data: dict | None) -> None:
    """The calibration lines of ``kbsuggest info``: where it came from, its thresholds and scale."""
    from kbsuggest.rank.calibration import FEATURES, Calibration

    calibration = Calibration.from_dict(data, "calibration.json") if data else Calibration.default()
    thresholds = "  ".join(f"{mode} {t:.4f}" for mode, t in calibration.thresholds.items())
    click.echo(f"calibration {how.get('source', 'packaged default')}: thresholds {thresholds}")
    if "slope" in how:
        kinds = ", ".join(f"{n} {kind}s" for kind, n in how.get("by_kind", {}).items())
        click.echo(f"            scale slope {how['slope']} offset {how['offset']}, from {how.get('examples')} examples"
                   + (f" ({how.get('pseudo_queries')} pseudo-queries: {kinds}; {how.get('offtopic_texts')} off-topic "
                      f"texts; seed {how.get('seed')})" if "pseudo_queries" in how else "")
                   + (f" ({how['labels']} labels, fitted {how.get('fitted_at', '')})" if "labels" in how else ""))
    if real := how.get("pseudo_to_real"):
        click.echo(f"            including the packaged map from pseudo-queries to real text (slope {real['slope']}, "
                   f"offset {real['offset']})")
    pull = (how.get("weights") or {}).get("pull")
    click.echo("            weights " + ", ".join(f"{f} {c:.3f}" for f, c in zip(FEATURES, calibration.coef.tolist()))
               + f", intercept {calibration.intercept:.3f}"
               + (f" (refitted from the packaged ones, pull {pull}, then scaled)" if pull else ""))


# Commands of the offline jobs live beside their code and are registered here, one line each.
# (Their modules import click only; heavy dependencies load inside the commands.)
from kbsuggest.cli.admin import admin  # noqa: E402
from kbsuggest.cli.calibrate import calibrate  # noqa: E402
from kbsuggest.cli.evaluate import evaluate  # noqa: E402
from kbsuggest.cli.gaps import gaps, tickets  # noqa: E402
from kbsuggest.cli.learn import learn  # noqa: E402
from kbsuggest.cli.models import models  # noqa: E402
from kbsuggest.cli.stats import stats  # noqa: E402
from kbsuggest.cli.sync import sync  # noqa: E402

for command in (admin, models, stats, evaluate, tickets, gaps, learn, calibrate, sync):
    main.add_command(command)
