"""One gap-mining run from the service database: load tickets and widget signals, mine, diff with the
last runs, raise the drift alarms, save the run."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from gaps.drift import drift_alarms
from gaps.mine import MiningResult, Progress, no_progress, mine_gaps
from gaps.runs import compare_with_last_run, save_run
from gaps.signals import load_widget_signals
from gaps.view import redact_all
from kbsuggest.config import Settings
from kbsuggest.embed import Embedder
from kbsuggest.errors import ConfigError, KBSuggestError
from kbsuggest.index.kbdb import article_dates
from kbsuggest.index.versions import kb_dir, resolve
from kbsuggest.kbs.load import kb_embedder, load_suggester
from kbsuggest.rank.suggester import Suggester
from kbsuggest.store import Store, open_store

if TYPE_CHECKING:
    from gaps.distributed import DaskRunner


def _article_dates(settings: Settings, kb: str) -> dict[str, str]:
    try:
        return article_dates(resolve(kb_dir(settings.index_dir, kb)))
    except (KBSuggestError, OSError):  # a suggester handed in without an index on disk (tests): no dates, no alarm
        return {}


def run_gap_job(settings: Settings, embedder: Embedder | None = None, suggester: Suggester | None = None,
                as_of: datetime | None = None, progress: Progress = no_progress, kb: str = "default",
                store: Store | None = None, runner: "DaskRunner | None" = None) -> MiningResult:
    """One run; with ``runner`` (gaps.distributed) redaction, embedding and coverage run on Dask workers."""
    store = store or open_store(settings)
    raw = store.tickets(kb)
    if not any(t.resolved for t in raw):
        raise ConfigError(f"no resolved tickets of KB {kb!r} in {str(settings.db_path)!r}; import some with "
                          f"`kbsuggest tickets import FILE --kb {kb}`")
    widget = load_widget_signals(store, kb)
    embedder = embedder or kb_embedder(settings, kb)  # the model the KB's index was built with
    # Without an index every ticket would look like a gap: refuse (IndexNotFoundError says what to run).
    suggester = suggester or load_suggester(settings, embedder, kb, store)
    if runner is None:
        tickets = redact_all(raw, settings.gap_description_chars, progress)
    else:
        from gaps.distributed import DaskEmbedder, DaskSuggester, redact_on_workers

        tickets = redact_on_workers(runner, raw)
        embedder, suggester = DaskEmbedder(runner, embedder), DaskSuggester(runner, suggester)
    result = mine_gaps(tickets, settings, embedder, suggester, as_of, progress, widget)
    history = store.gap_run_history(kb)
    compare_with_last_run(store, kb, result)
    titles = {a.id: a.title for a in suggester.articles}
    result.alarms = drift_alarms(result, tickets, _article_dates(settings, kb), titles, history, settings.gap_min_tickets)
    save_run(store, kb, result)
    return result
