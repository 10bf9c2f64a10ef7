"""``kbsuggest stats``: online deflection figures from the widget events in the service database."""

from __future__ import annotations

import click

from kbsuggest.cli.context import kb_option


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


@click.command()
@click.option("--from", "start", help="First day or date-time (ISO); default: 30 days before --to.")
@click.option("--to", "end", help="Last day (inclusive) or date-time (exclusive); default: now.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="Service database [env KBSUGGEST_DB_PATH].")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON (the API's format).")
@kb_option
@click.pass_context
def stats(ctx: click.Context, start: str | None, end: str | None, db_path: str | None, as_json: bool, kb: str) -> None:
    """Deflection of widget sessions: confirmed, potential, none; top articles; unanswered queries."""
    import json
    from dataclasses import asdict
    from datetime import datetime, timedelta, timezone

    from kbsuggest.cli.context import CLIContext, echo
    from kbsuggest.events.deflection import deflection_stats, period

    obj = ctx.find_object(CLIContext)
    settings = obj.settings(db_path=db_path)
    now = datetime.now(timezone.utc)
    begin, stop = period(start, end, now)
    kb = obj.kb(kb, settings).name  # a bad --kb is named before a missing database
    store = obj.store(settings, must_exist=True)
    try:
        figures = deflection_stats(store, kb, begin, stop,
                                   timedelta(minutes=settings.deflection_window_minutes), now)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(asdict(figures), indent=2))
        return
    c = figures.counts
    click.echo(f"period      {figures.start} .. {figures.end}   window {figures.window_minutes} min")
    click.echo(f"sessions    {figures.sessions}  (pending {c['pending']}: window not elapsed, not in the rates)")
    click.echo(f"confirmed   {c['confirmed']:>5}  {_pct(figures.confirmed_rate):>6}   rated helpful, no ticket")
    click.echo(f"potential   {c['potential']:>5}  {_pct(figures.potential_rate):>6}   opened an article, no ticket")
    click.echo(f"none        {c['none']:>5}            ticket submitted, or 'I still need help'")
    click.echo(f"unengaged   {c['unengaged']:>5}            shown suggestions, opened nothing, no ticket")
    click.echo(f"deflection  {_pct(figures.deflection_rate):>12}   (confirmed + potential)")
    if figures.top_articles:
        click.echo("top deflecting articles   confirmed potential opened shown")
        for a in figures.top_articles:
            echo(f"  {a.article_id:<28} {a.confirmed:>5} {a.potential:>9} {a.opened:>6} {a.shown:>5}")
    if figures.unanswered_queries:
        click.echo("queries with no suggestion (sessions)")
        for q in figures.unanswered_queries:
            echo(f"  {q.sessions:>4}  {q.query}")
