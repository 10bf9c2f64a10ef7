"""Each mining run is kept in the service database, so the next run can say which gaps are new,
growing, shrinking or closed. A gap is the same as a previous one when they share tickets (failing
gaps: the same article); identities by title or keywords would drift with every rerun."""

from __future__ import annotations

import json

from kbsuggest.store import Store

SAME_GAP_OVERLAP = 0.3  # share of the smaller gap's tickets two gaps must share to be the same gap


def same_gap(gap, previous: dict, previous_ids: set[str]) -> bool:
    if gap.kind == "failing" or previous["kind"] == "failing":
        return gap.kind == previous["kind"] and gap.article_id == previous["article_id"]
    shared = len(previous_ids.intersection(gap.ticket_ids))
    return shared >= SAME_GAP_OVERLAP * min(len(previous_ids), len(gap.ticket_ids))


def compare_with_last_run(store: Store, kb: str, result) -> None:
    """Set ``change`` on each gap of ``result`` and list the previous run's gaps that closed."""
    previous = store.last_gap_run(kb)
    if not previous:
        return
    ids = [set(json.loads(p["ticket_ids"])) for p in previous]
    matched = set()
    for gap in result.gaps:
        match = next((j for j, p in enumerate(previous) if j not in matched and same_gap(gap, p, ids[j])), None)
        if match is None:
            gap.change = "new"
            continue
        matched.add(match)
        before = previous[match]["size"]
        gap.change = "growing" if gap.size > before else "shrinking" if gap.size < before else "unchanged"
    result.closed = [{"title": p["title"], "kind": p["kind"], "size": p["size"], "article_id": p["article_id"]}
                     for j, p in enumerate(previous) if j not in matched]


def save_run(store: Store, kb: str, result) -> int:
    """Record ``result`` (after ``compare_with_last_run``) and return its run id."""
    run = {"as_of": result.as_of, "tickets": result.tickets, "resolved": result.resolved, "covered": result.covered,
           "uncovered": result.uncovered, "unclustered": result.unclustered, "gaps": len(result.gaps)}
    gaps = [{"rank": g.rank, "kind": g.kind, "title": g.title, "keywords": json.dumps(g.keywords), "size": g.size,
             "impact": g.impact, "article_id": g.article_id, "ticket_ids": json.dumps(g.ticket_ids), "change": g.change,
             "signals": json.dumps(g.signals)}
            for g in result.gaps]
    result.run_id = store.save_gap_run(kb, run, gaps)
    return result.run_id
