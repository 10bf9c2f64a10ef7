"""The ``tickets`` table of the service database: every read and write of it lives here.

Raw text is stored as exported (within the bounds of ``tickets.fields``); whoever embeds, clusters
or shows tickets redacts first (``gaps.view``). An import is one transaction: all of its tickets,
or, on any failure or a kill mid-way, none (the table stays as it was).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from kbsuggest.db import Migration, open_db
from kbsuggest.domain import Ticket

COLUMNS = ("id", "title", "description", "status", "created_at", "resolved_at", "tags", "linked_articles",
           "imported_at")
_UPSERT = (f"INSERT INTO tickets ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
           f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in COLUMNS[1:])}")


def _tickets_001(db: sqlite_utils.Database) -> None:
    db["tickets"].create({c: str for c in COLUMNS}, pk="id")
    db["tickets"].create_index(["created_at"])


TICKETS_MIGRATIONS: list[Migration] = [("tickets-001-create", _tickets_001)]


def open_tickets_db(path: Path | str) -> sqlite_utils.Database:
    from gaps.runs import RUNS_MIGRATIONS  # runs live in the same database

    return open_db(path, [*TICKETS_MIGRATIONS, *RUNS_MIGRATIONS], wal=True)


def _row(ticket: Ticket, imported_at: str) -> tuple:
    return (ticket.id, ticket.title, ticket.description, ticket.status, ticket.created_at, ticket.resolved_at,
            json.dumps(list(ticket.tags)), json.dumps(list(ticket.linked_articles)), imported_at)


def write_tickets(db_path: Path | str, tickets: list[Ticket]) -> tuple[int, int]:
    """Upsert ``tickets`` by id in one transaction; (inserted, updated) distinct ids."""
    imported_at = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
    db = open_tickets_db(db_path)
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now: nothing else writes in between
        try:
            before = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
            conn.executemany(_UPSERT, (_row(t, imported_at) for t in tickets))
            inserted = conn.execute("SELECT count(*) FROM tickets").fetchone()[0] - before
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
    return inserted, len({t.id for t in tickets}) - inserted


def stored_tickets(db_path: Path | str) -> list[Ticket]:
    """Every imported ticket, oldest first, as stored (not redacted)."""
    db = open_tickets_db(db_path)
    try:
        rows = list(db.query("select * from tickets order by created_at, id"))
    finally:
        db.conn.close()
    return [Ticket(r["id"], r["title"], r["description"] or "", r["status"] or "", r["created_at"], r["resolved_at"],
                   tuple(json.loads(r["tags"] or "[]")), tuple(json.loads(r["linked_articles"] or "[]")))
            for r in rows]
