"""Each mining run is kept in the service database, so the next run can say which gaps are new,
growing, shrinking or closed. A gap is the same as a previous one when they share tickets (failing
gaps: the same article); identities by title or keywords would drift with every rerun."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlite_utils

from kbsuggest.db import Migration

SAME_GAP_OVERLAP = 0.3  # share of the smaller gap's tickets two gaps must share to be the same gap


def _runs_001(db: sqlite_utils.Database) -> None:
    db["gap_runs"].create({"id": int, "started_at": str, "as_of": str, "tickets": int, "resolved": int,
                           "covered": int, "uncovered": int, "unclustered": int, "gaps": int}, pk="id")
    db["gap_run_gaps"].create({"run_id": int, "rank": int, "kind": str, "title": str, "keywords": str,
                               "size": int, "impact": float, "article_id": str, "ticket_ids": str, "change": str},
                              pk=("run_id", "rank"), foreign_keys=[("run_id", "gap_runs", "id")])


RUNS_MIGRATIONS: list[Migration] = [("tickets-002-gap-runs", _runs_001)]


def _same(gap, previous: dict, previous_ids: set[str]) -> bool:
    if gap.kind == "failing" or previous["kind"] == "failing":
        return gap.kind == previous["kind"] and gap.article_id == previous["article_id"]
    shared = len(previous_ids.intersection(gap.ticket_ids))
    return shared >= SAME_GAP_OVERLAP * min(len(previous_ids), len(gap.ticket_ids))


def compare_with_last_run(db: sqlite_utils.Database, result) -> None:
    """Set ``change`` on each gap of ``result`` and list the previous run's gaps that closed."""
    last = db.execute("select max(id) from gap_runs").fetchone()[0]
    if last is None:
        return
    previous = list(db.query("select * from gap_run_gaps where run_id = ? order by rank", [last]))
    ids = [set(json.loads(p["ticket_ids"])) for p in previous]
    matched = set()
    for gap in result.gaps:
        match = next((j for j, p in enumerate(previous) if j not in matched and _same(gap, p, ids[j])), None)
        if match is None:
            gap.change = "new"
            continue
        matched.add(match)
        before = previous[match]["size"]
        gap.change = "growing" if gap.size > before else "shrinking" if gap.size < before else "unchanged"
    result.closed = [{"title": p["title"], "kind": p["kind"], "size": p["size"], "article_id": p["article_id"]}
                     for j, p in enumerate(previous) if j not in matched]


def save_run(db: sqlite_utils.Database, result) -> int:
    """Record ``result`` (after ``compare_with_last_run``) and return its run id."""
    with db.conn:
        run_id = db["gap_runs"].insert({
            "started_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"),
            "as_of": result.as_of, "tickets": result.tickets, "resolved": result.resolved,
            "covered": result.covered, "uncovered": result.uncovered, "unclustered": result.unclustered,
            "gaps": len(result.gaps)}).last_pk
        db["gap_run_gaps"].insert_all({
            "run_id": run_id, "rank": g.rank, "kind": g.kind, "title": g.title, "keywords": json.dumps(g.keywords),
            "size": g.size, "impact": g.impact, "article_id": g.article_id, "ticket_ids": json.dumps(g.ticket_ids),
            "change": g.change} for g in result.gaps)
    result.run_id = run_id
    return run_id
