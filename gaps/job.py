"""One gap-mining run from the service database: load tickets, mine, diff with the last run, save it."""

from __future__ import annotations

from datetime import datetime

from kbsuggest.config import Settings
from kbsuggest.embed import Embedder
from kbsuggest.errors import ConfigError
from gaps.mine import MiningResult, Progress, no_progress, mine_gaps
from gaps.runs import compare_with_last_run, save_run
from gaps.view import load_redacted
from kbsuggest.kbs.load import kb_embedder, load_suggester
from kbsuggest.rank.suggester import Suggester
from kbsuggest.store import Store, open_store


def run_gap_job(settings: Settings, embedder: Embedder | None = None, suggester: Suggester | None = None,
                as_of: datetime | None = None, progress: Progress = no_progress, kb: str = "default",
                store: Store | None = None) -> MiningResult:
    store = store or open_store(settings)
    tickets = load_redacted(store, kb, settings.gap_description_chars)
    if not any(t.resolved for t in tickets):
        raise ConfigError(f"no resolved tickets of KB {kb!r} in {str(settings.db_path)!r}; import some with "
                          f"`kbsuggest tickets import FILE --kb {kb}`")
    embedder = embedder or kb_embedder(settings, kb)  # the model the KB's index was built with
    # Without an index every ticket would look like a gap: refuse (IndexNotFoundError says what to run).
    suggester = suggester or load_suggester(settings, embedder, kb, store)
    result = mine_gaps(tickets, settings, embedder, suggester, as_of, progress)
    compare_with_last_run(store, kb, result)
    save_run(store, kb, result)
    return result
