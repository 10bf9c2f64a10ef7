"""The service database's tables: the one owner of each table's shape, as named migrations (``pg_schema.py``: the same ones for PostgreSQL).

Migrations already applied to a database are never edited; a change is a new migration. Every table
carries the KB its rows belong to (``kb``); rows written before KBs existed belong to ``default``.
Timestamps are ``kbsuggest/timestamps.py``'s format.
"""

from __future__ import annotations

import sqlite_utils

from kbsuggest.db import Migration
from kbsuggest.store import daily
from kbsuggest.store.daily import DAILY_DDL
from kbsuggest.store.summary import SUMMARY_DDL, refresh


def _events_v1(db: sqlite_utils.Database) -> None:
    db["events"].create(
        {"id": int, "session_id": str, "type": str, "at": str, "received_at": str, "mode": str, "query": str,
         "article_id": str, "position": int, "score": float, "helpful": int, "suggestions": str,
         "suggestion_opened": int},
        pk="id")
    db["events"].create_index(["session_id"])
    db["events"].create_index(["at"])


def _events_kb(db: sqlite_utils.Database) -> None:
    db["events"].add_column("kb", str, not_null_default="default")
    db["events"].create_index(["kb", "at"])


def _thresholds_v1(db: sqlite_utils.Database) -> None:
    db["tuned_thresholds"].create(
        {"model": str, "min_score": float, "target_precision": float, "run_id": int, "tuned_at": str}, pk="model")


def _thresholds_kb(db: sqlite_utils.Database) -> None:
    # keyed by KB, model and the calibration the threshold was tuned on: a refitted calibration or another
    # model never inherits a threshold chosen for a different score scale (older rows cannot be matched)
    db["tuned_thresholds"].drop()
    db["tuned_thresholds"].create(
        {"kb": str, "model": str, "scale": str, "min_score": float, "target_precision": float, "run_id": int,
         "tuned_at": str}, pk=("kb", "model", "scale"))


def _evaluations_v1(db: sqlite_utils.Database) -> None:
    db["evaluation_runs"].create(
        {"id": int, "created_at": str, "tickets": str, "tickets_sha256": str, "model": str, "articles_hash": str,
         "min_score": float, "settings": str, "metrics": str, "seconds": float}, pk="id")


def _evaluations_kb(db: sqlite_utils.Database) -> None:
    db["evaluation_runs"].add_column("kb", str, not_null_default="default")


def _tickets_v1(db: sqlite_utils.Database) -> None:
    db["tickets"].create({c: str for c in ("id", "title", "description", "status", "created_at", "resolved_at",
                                           "tags", "linked_articles", "imported_at")}, pk="id")
    db["tickets"].create_index(["created_at"])


def _tickets_kb(db: sqlite_utils.Database) -> None:
    # the same ticket id in two help desks is two tickets
    db["tickets"].add_column("kb", str, not_null_default="default")
    db["tickets"].transform(pk=("kb", "id"))
    db["tickets"].create_index(["kb", "created_at"])


def _gap_runs_v1(db: sqlite_utils.Database) -> None:
    db["gap_runs"].create({"id": int, "started_at": str, "as_of": str, "tickets": int, "resolved": int,
                           "covered": int, "uncovered": int, "unclustered": int, "gaps": int}, pk="id")
    db["gap_run_gaps"].create({"run_id": int, "rank": int, "kind": str, "title": str, "keywords": str,
                               "size": int, "impact": float, "article_id": str, "ticket_ids": str, "change": str},
                              pk=("run_id", "rank"), foreign_keys=[("run_id", "gap_runs", "id")])


def _gap_runs_kb(db: sqlite_utils.Database) -> None:
    db["gap_runs"].add_column("kb", str, not_null_default="default")


def _events_stats_indexes(db: sqlite_utils.Database) -> None:
    # the statistics queries: a KB's sessions with their events, and the suggestions it showed in a period
    db["events"].create_index(["kb", "session_id", "type", "at"])
    db["events"].create_index(["kb", "type", "at"])


def _tickets_resolution(db: sqlite_utils.Database) -> None:
    # the agent's resolution text (drafts quote it) and the reopen count (drift alarms)
    db["tickets"].add_column("resolution", str)
    db["tickets"].add_column("reopens", int, not_null_default=0)


def _gap_runs_signals(db: sqlite_utils.Database) -> None:
    # per-gap counts of each signal, so a later run can tell a gap that closed and came back
    db["gap_run_gaps"].add_column("signals", str)


def _session_summaries(db: sqlite_utils.Database) -> None:
    # what the page asked suggestions for, and the per-session summaries the statistics read (summary.py)
    db["events"].add_column("locale", str)
    db["events"].add_column("product", str)
    for statement in SUMMARY_DDL:
        db.execute(statement.format(text="TEXT", bigint="INTEGER"))
    refresh(db.conn.cursor(), "sqlite", days=False)  # the sessions already recorded


def _daily_counts(db: sqlite_utils.Database) -> None:
    # per-day counts of the sessions whose class is settled, and the indexes of the live rest (daily.py)
    for statement in DAILY_DDL:
        db.execute(statement.format(text="TEXT", without_rowid=" WITHOUT ROWID"))
    daily.rebuild(db.conn.cursor())  # the sessions already summarised


# The names are those the tables were first created under (by their former modules), so existing
# databases are upgraded in place.
MIGRATIONS: list[Migration] = [
    ("events-001-create", _events_v1),
    ("events-002-kb", _events_kb),
    ("tuning-001-thresholds", _thresholds_v1),
    ("tuning-002-kb-scale", _thresholds_kb),
    ("evaluation-001-runs", _evaluations_v1),
    ("evaluation-002-kb", _evaluations_kb),
    ("tickets-001-create", _tickets_v1),
    ("tickets-003-kb", _tickets_kb),
    ("tickets-002-gap-runs", _gap_runs_v1),
    ("gap-runs-002-kb", _gap_runs_kb),
    ("events-003-stats-indexes", _events_stats_indexes),
    ("tickets-004-resolution", _tickets_resolution),
    ("gap-runs-003-signals", _gap_runs_signals),
    ("events-004-session-summaries", _session_summaries),
    ("events-005-daily-counts", _daily_counts),
]
