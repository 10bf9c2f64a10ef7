"""One gap-mining run from the service database: load tickets, mine, diff with the last run, save it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from kbsuggest.config import Settings
from kbsuggest.embed import Embedder, make_embedder
from kbsuggest.errors import ConfigError
from gaps.mine import MiningResult, Progress, no_progress, mine_gaps
from gaps.runs import compare_with_last_run, save_run
from gaps.view import load_redacted
from kbsuggest.kbs.load import load_suggester
from kbsuggest.rank.suggester import Suggester
from kbsuggest.store import Store, open_store

if TYPE_CHECKING:
    from gaps.distributed import DaskRunner


def run_gap_job(settings: Settings, embedder: Embedder | None = None, suggester: Suggester | None = None,
                as_of: datetime | None = None, progress: Progress = no_progress, kb: str = "default",
                store: Store | None = None, runner: "DaskRunner | None" = None) -> MiningResult:
    """One run; with ``runner`` (gaps.distributed) redaction, embedding and coverage run on Dask workers."""
    store = store or open_store(settings)
    if runner is None:
        tickets = load_redacted(store, kb, settings.gap_description_chars)
    else:
        from gaps.distributed import redact_all

        tickets = redact_all(runner, store.tickets(kb))
    if not any(t.resolved for t in tickets):
        raise ConfigError(f"no resolved tickets of KB {kb!r} in {str(settings.db_path)!r}; import some with "
                          f"`kbsuggest tickets import FILE --kb {kb}`")
    embedder = embedder or make_embedder(settings)
    # Without an index every ticket would look like a gap: refuse (IndexNotFoundError says what to run).
    suggester = suggester or load_suggester(settings, embedder, kb, store)
    if runner is not None:
        from gaps.distributed import DaskEmbedder, DaskSuggester

        embedder, suggester = DaskEmbedder(runner, embedder), DaskSuggester(runner, suggester)
    result = mine_gaps(tickets, settings, embedder, suggester, as_of, progress)
    compare_with_last_run(store, kb, result)
    save_run(store, kb, result)
    return result
