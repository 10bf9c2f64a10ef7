"""One gap-mining run from the service database: load tickets, mine, diff with the last run, save it."""

from __future__ import annotations

from datetime import datetime

from kbsuggest.config import Settings
from kbsuggest.embed import Embedder, create_embedder
from kbsuggest.errors import ConfigError
from gaps.mine import MiningResult, Progress, no_progress, mine_gaps
from gaps.runs import compare_with_last_run, save_run
from gaps.view import load_redacted
from tickets.store import open_tickets_db
from kbsuggest.rank.suggester import Suggester


def run_gap_job(settings: Settings, embedder: Embedder | None = None, suggester: Suggester | None = None,
                as_of: datetime | None = None, progress: Progress = no_progress) -> MiningResult:
    tickets = load_redacted(settings.db_path, settings.gap_description_chars)
    if not any(t.resolved for t in tickets):
        raise ConfigError(f"no resolved tickets in {str(settings.db_path)!r}; import some with "
                          "`kbsuggest tickets import FILE`")
    embedder = embedder or create_embedder(settings.embedder, settings.model_path, settings.embed_batch_size)
    # Without an index every ticket would look like a gap: refuse (IndexNotFoundError says what to run).
    suggester = suggester or Suggester.load(settings, embedder)
    result = mine_gaps(tickets, settings, embedder, suggester, as_of, progress)
    db = open_tickets_db(settings.db_path)
    try:
        compare_with_last_run(db, result)
        save_run(db, result)
    finally:
        db.conn.close()
    return result
