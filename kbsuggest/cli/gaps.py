"""CLI: ``kbsuggest tickets import`` and ``kbsuggest gaps``. Only click at import time."""

from __future__ import annotations

from pathlib import Path

import click

from kbsuggest.cli.context import kb_option, ticket_options


@click.group()
def tickets() -> None:
    """Import resolved tickets for gap mining."""


@tickets.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
              help="Column holding a field (id, title, description, status, created_at, resolved_at, tags, "
                   "linked_articles); repeatable.")
@ticket_options
@kb_option
@click.pass_context
def import_command(ctx: click.Context, file: Path, mapping: tuple[str, ...], preset: str | None, fmt: str | None,
                   date_format: str | None, kb: str) -> None:
    """Upsert the tickets of FILE (CSV, JSON Lines or a JSON page) by id into the service database, in one
    transaction.

    Bad rows are listed and left out; the command fails (exit 1) when no ticket could be imported."""
    from kbsuggest.cli.context import CLIContext, echo
    from kbsuggest.errors import ConfigError
    from tickets.importer import import_tickets
    from tickets.records import parse_mapping

    obj = ctx.find_object(CLIContext)
    settings = obj.settings()
    summary = import_tickets(obj.store(settings), obj.kb(kb, settings).name, file, parse_mapping(mapping), preset, fmt,
                             date_format)
    echo(f"imported {summary.imported} tickets ({summary.inserted} new, {summary.updated} updated) into "
         f"{settings.db_path}; {len(summary.bad)} bad rows" + (f", {len(summary.cut)} cut" if summary.cut else ""))
    for bad in summary.bad:
        echo(f"  skipped {bad}")
    for cut in summary.cut:
        echo(f"  kept {cut}")
    if not summary.imported:
        raise ConfigError(f"no ticket of {str(file)!r} could be imported; the database is unchanged")


def _tqdm_progress(stage: str, total: int):
    from tqdm import tqdm

    bar = tqdm(total=total, desc=stage, unit="", leave=False, file=click.get_text_stream("stderr"))

    def advance(n: int) -> None:
        bar.update(n)
        if bar.n >= bar.total:
            bar.close()
    return advance


@click.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("var/gaps"), show_default=True,
              help="Directory for gaps.html (and its further pages), unclustered.html, gaps.csv, items.csv, gaps.json.")
@click.option("--as-of", type=click.DateTime(), help="Date the trend counts back from; default: the newest ticket.")
@click.option("--json", "as_json", is_flag=True, help="Print the run (gaps, signals, drift alarms) as JSON instead of the table.")
@click.option("--drafts-to", type=click.Path(path_type=Path, file_okay=False),
              help="Write a Markdown draft per gap (draft: true, audience: internal) into this folder of the KB.")
@click.option("--git-branch", help="With --drafts-to: commit the drafts on this new branch of the KB's git repository "
                                   "instead of writing them; the checked-out branch and the work tree are not touched.")
@click.option("--no-progress", "quiet", is_flag=True, help="No progress bar.")
@click.option("--scheduler", metavar="ADDRESS", help="Run redaction, embedding and coverage on the Dask cluster of "
              "this scheduler (tcp://HOST:8786); its workers must see the index and model paths.")
@click.option("--workers", type=int, help="Run them on a local Dask cluster of this many worker processes.")
@kb_option
@click.pass_context
def gaps(ctx: click.Context, out_dir: Path, as_of, as_json: bool, drafts_to: Path | None, git_branch: str | None,
         quiet: bool, scheduler: str | None, workers: int | None, kb: str) -> None:
    """Find the recurring questions no article answers in KB --kb (resolved tickets, the widget's no-result
    queries and "still need help" feedback); write the report to --out."""
    from contextlib import nullcontext

    from kbsuggest.cli.context import CLIContext, echo
    from kbsuggest.errors import ConfigError

    if git_branch and not drafts_to:
        raise ConfigError("--git-branch needs --drafts-to DIR (the folder of the KB repository the drafts go in)")
    from gaps.job import run_gap_job
    from gaps.mine import no_progress
    from gaps.report import payload, summary_lines, write_report

    obj = ctx.find_object(CLIContext)
    settings = obj.settings()
    name = obj.kb(kb, settings).name
    runner = None
    if scheduler or workers is not None:
        from gaps.distributed import DaskRunner

        runner = DaskRunner(settings, name, scheduler, workers)
    with runner or nullcontext():
        result = run_gap_job(settings, as_of=as_of, progress=no_progress if quiet else _tqdm_progress,
                             kb=name, store=obj.store(settings), runner=runner)
    paths = write_report(result, out_dir, settings)
    lines = summary_lines(result) + [f"run {result.run_id}: wrote {paths[0]} and {len(paths) - 1} more files in {out_dir}"]
    if drafts_to:
        lines += _drafts(result, settings, name, drafts_to, git_branch)
    if as_json:
        import json

        click.echo(json.dumps(payload(result, full=False), indent=1, ensure_ascii=False))
        return
    for line in lines:
        echo(line)


def _drafts(result, settings, kb: str, folder: Path, branch: str | None) -> list[str]:
    from gaps.publish import commit_drafts, drafts, write_drafts
    from kbsuggest.kbs.load import load_suggester

    taken = {a.id for a in load_suggester(settings, kb=kb).articles}
    files = drafts(result.gaps, taken)
    if branch:
        commit, prefix = commit_drafts(files, folder, branch, f"Drafts for {len(files)} gaps (kbsuggest gaps run {result.run_id})")
        return [f"committed {len(files)} drafts under {prefix or '.'}/ on new branch {branch} ({commit[:12]}); "
                f"the checked-out branch is unchanged"]
    written, kept = write_drafts(files, folder)
    return [f"wrote {len(written)} drafts to {folder}"] + [f"  kept {p} (not a kbsuggest draft)" for p in kept]
