"""``kbsuggest calibrate``: refit a KB's calibration from its labelled history (``learning/warm.py``)."""

from __future__ import annotations

import click

from kbsuggest.cli.context import CLIContext, kb_option


def _row(name: str, m: dict) -> str:
    def f(value) -> str:
        return "-" if value is None else f"{value:.3f}"

    unanswered = f" shown on unanswered {f(m['form_false'])}" if m.get("form_false") is not None else ""
    return (f"{name:<7} form {m['form_threshold']:.4f} recall {f(m['form_recall'])}{unanswered}   chat "
            f"{m['chat_threshold']:.4f} precision {f(m['chat_precision'])}   ECE {f(m['ece'])}")


@click.command()
@click.option("--min-labels", type=click.IntRange(min=1), default=None,
              help="Refuse below this many labels [default: 30].")
@click.option("--dry-run", is_flag=True, help="Report before/after without storing or publishing the fit.")
@click.option("--force", is_flag=True, help="Publish the fit even when the held-out part shows it worse.")
@kb_option
@click.pass_obj
def calibrate(obj: CLIContext, min_labels: int | None, dry_run: bool, force: bool, kb: str) -> None:
    """Refit KB --kb's feature weights, score scale and form/chat thresholds from its resolved tickets with
    linked_articles, helpful feedback and opened articles (resolved tickets with no linked article teach the
    score how often the KB's traffic has no answer); report before/after on a held-out 30 %; publish it
    as a new version unless it is worse there (--force publishes anyway). The fit is kept in the KB's index
    directory (calibration.warm.json) and every reindex uses it until the next fit."""
    import datetime as dt

    from indexing.calibrate import publish_calibration
    from kbsuggest.index.format import WARM_CALIBRATION_FILE
    from kbsuggest.index.versions import kb_dir
    from kbsuggest.kbs.load import load_suggester
    from kbsuggest.errors import KBSuggestError
    from learning.warm import MIN_LABELS, history_labels, regression, warm_fit

    settings = obj.settings()
    name = obj.kb(kb, settings).name
    store = obj.store(settings, must_exist=True)
    try:
        suggester = load_suggester(settings, kb=name, store=store)
        labels = history_labels(store, name, {a.id for a in suggester.articles})
    finally:
        store.close()
    calibration, how = warm_fit(suggester, labels, min_labels or MIN_LABELS)
    how["fitted_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    sources = ", ".join(f"{n} {s}" for s, n in how["by_source"].items())
    click.echo(f"{how['labels']} labels ({sources}): fitted on {how['train']}, held out {how['held_out']}")
    click.echo(_row("before", how["before"]))
    click.echo(_row("after", how["after"]))
    if dry_run:
        click.echo("dry run: nothing stored")
        return
    if (why := regression(how["before"], how["after"])) and not force:
        raise KBSuggestError(f"nothing stored: {why}; the current calibration stays (--force publishes anyway)")
    data = calibration.to_dict(fitted_on=f"kbsuggest calibrate on {how['train']} labels of KB {name!r}")
    version = publish_calibration(settings, name, data, how, suggester.embedder.name)
    click.echo(f"stored in {kb_dir(settings.index_dir, name) / WARM_CALIBRATION_FILE} (kept by every reindex until "
               f"the next fit); published {version}")
