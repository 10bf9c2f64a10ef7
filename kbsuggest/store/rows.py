"""Row shapes both store backends share: a ticket as a row and back, an event as a row of known columns."""

from __future__ import annotations

import json

from kbsuggest.domain import Ticket

TICKET_COLUMNS = ("kb", "id", "title", "description", "status", "created_at", "resolved_at", "tags",
                  "linked_articles", "imported_at", "resolution", "reopens")
EVENT_COLUMNS = ("kb", "session_id", "type", "at", "received_at", "mode", "query", "article_id", "position", "score",
                 "helpful", "suggestions", "suggestion_opened", "locale", "product")


def ticket_row(kb: str, ticket: Ticket, imported_at: str) -> tuple:
    return (kb, ticket.id, ticket.title, ticket.description, ticket.status, ticket.created_at, ticket.resolved_at,
            json.dumps(list(ticket.tags)), json.dumps(list(ticket.linked_articles)), imported_at,
            ticket.resolution, ticket.reopens)


def ticket_of(kb: str, r: dict) -> Ticket:
    return Ticket(r["id"], r["title"], r["description"] or "", r["status"] or "", r["created_at"], r["resolved_at"],
                  tuple(json.loads(r["tags"] or "[]")), tuple(json.loads(r["linked_articles"] or "[]")), kb,
                  r.get("resolution") or "", int(r.get("reopens") or 0))


def event_row(kb: str, row: dict) -> tuple:
    """One event in ``EVENT_COLUMNS`` order; booleans as 0/1, as SQLite keeps them."""
    values = {**row, "kb": kb}
    return tuple(int(v) if isinstance(v := values.get(c), bool) else v for c in EVENT_COLUMNS)


def with_metrics(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["metrics"] = json.loads(row["metrics"])
    return rows
