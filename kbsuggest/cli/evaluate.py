"""``kbsuggest evaluate``: the CLI edge of the evaluation (imports only click at module level)."""

from __future__ import annotations

from pathlib import Path

import click

from kbsuggest.cli.context import kb_option, ticket_options


@click.command()
@click.argument("tickets", required=False, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=Path("var/evaluation"), show_default=True,
              help="Directory for report.md, report.html and metrics.json.")
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
              help="Read a field from another column, e.g. --map title=subject (repeatable).")
@ticket_options
@click.option("--every", type=int, default=6, show_default=True,
              help="Besides each completed word, send a prefix every N characters typed.")
@click.option("--target-precision", type=float, default=0.9, show_default=True,
              help="Precision the recommended threshold must reach.")
@click.option("--max-false-rate", type=float, default=0.1, show_default=True,
              help="Largest false-suggestion rate the recommended threshold may have.")
@click.option("--tune-threshold", is_flag=True,
              help="Store the recommended threshold for this model in the service database.")
@click.option("--internal", is_flag=True, help="Replay as an agent (internal articles may be suggested).")
@click.option("--no-baselines", is_flag=True, help="Skip the BM25 and dense baselines.")
@click.option("--compare", is_flag=True, help="Show recorded runs side by side instead of evaluating.")
@click.option("--runs", help="With --compare: comma-separated run ids (default: the last five).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@kb_option
@click.pass_context
def evaluate(ctx: click.Context, tickets: Path | None, out: Path, mapping: tuple[str, ...], preset: str | None,
             fmt: str | None, date_format: str | None, every: int, target_precision: float, max_false_rate: float, tune_threshold: bool, internal: bool,
             no_baselines: bool, compare: bool, runs: str | None, quiet: bool, kb: str) -> None:
    """Replay historical TICKETS (CSV, JSON Lines or a JSON page) keystroke by keystroke and report deflection;
    a ticket's linked_articles are the articles that answer it."""
    from kbsuggest.cli.context import CLIContext, echo
    from kbsuggest.errors import ConfigError

    obj = ctx.find_object(CLIContext)
    settings = obj.settings()
    kb = obj.kb(kb, settings).name
    store = obj.store(settings)
    if compare:
        from evaluation.report import compare_table
        from evaluation.runs import load_runs

        try:
            ids = [int(i) for i in runs.split(",")] if runs else None
        except ValueError:
            raise ConfigError(f"--runs {runs!r} must be comma-separated run ids, e.g. --runs 3,4") from None
        for line in compare_table(load_runs(store, kb, ids)).splitlines():
            echo(line)
        return
    if tickets is None:
        raise ConfigError("missing TICKETS: pass a CSV or JSONL file of tickets (or --compare)")

    from tqdm import tqdm

    from evaluation.evaluate import evaluate as run_evaluation
    from evaluation.report import SUMMARY_HEADER, summary_rows, write_reports
    from evaluation.runs import record_run
    from tickets.records import parse_mapping

    bar = tqdm(total=0, unit="prefix", disable=quiet or None, leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        result = run_evaluation(settings, tickets, mapping=parse_mapping(mapping), preset=preset, fmt=fmt,
                                date_format=date_format, every=every,
                                target_precision=target_precision, max_false_rate=max_false_rate,
                                include_internal=internal, baselines=not no_baselines, progress=progress,
                                kb=kb, store=store)
    finally:
        bar.close()
    notes = [str(b) for b in result.bad_rows] + result.skipped
    for note in notes:
        echo(f"skipped {note}", err=True)
    for cut in result.cut:
        echo(f"kept {cut}", err=True)
    run_id = record_run(store, kb, settings, result.metrics, result.seconds)
    paths = write_reports(result.metrics, out, notes)
    counts = result.metrics["tickets"]
    click.echo(f"run #{run_id}: {counts['evaluated']} tickets ({counts['answerable']} answerable, "
               f"{counts['unanswerable']} unanswerable), {counts['prefixes']} prefixes, "
               f"{len(notes)} skipped, {result.seconds:.1f} s")
    click.echo(" | ".join(SUMMARY_HEADER))
    for row in summary_rows(result.metrics):
        click.echo(" | ".join(row))
    click.echo("wrote " + ", ".join(str(p) for p in paths))
    if tune_threshold:
        recommended = result.metrics["systems"]["kbsuggest"]["threshold"]["recommended"]
        if recommended is None:
            raise ConfigError(f"no threshold reaches precision {target_precision} with at most {max_false_rate} "
                              f"false suggestions on these tickets; lower --target-precision or raise --max-false-rate")
        store.set_threshold(kb, result.model, result.scale, recommended, target_precision, run_id)
        click.echo(f"stored min_score {recommended} for KB {kb}, {result.model} in {settings.db_path}"
                   + (" (an explicit min_score for this KB is set and still wins)"
                      if obj.kb(kb, settings).min_score is not None else ""))
