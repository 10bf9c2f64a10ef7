"""Ticket import: CSV/JSONL exports -> the ``tickets`` table of the service database (upsert by id).

Raw text is stored as exported (nothing is lost); every reader that embeds, clusters or shows tickets
goes through ``load_tickets``, which redacts PII first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from kbsuggest.errors import ConfigError
from gaps.redact import redact
from tickets.records import BadRow, read_records
from kbsuggest.db import Migration, open_db

FIELDS = ("id", "title", "description", "status", "created_at", "resolved_at", "tags", "linked_articles")
REQUIRED = ("id", "title", "created_at")
RESOLVED_STATUSES = {"solved", "closed", "resolved", "done"}

# Column names of common help-desk exports (see README "Gap mining" for the export each one means).
PRESETS: dict[str, dict[str, str]] = {
    # Zendesk Incremental Ticket Export API, one ticket object per line; a solved ticket's last update
    # is taken as its resolution time (the API's metrics `solved_at` can be mapped instead).
    "zendesk": {"title": "subject", "resolved_at": "updated_at"},
    # Freshdesk "Export tickets" CSV.
    "freshdesk": {"id": "Ticket ID", "title": "Subject", "description": "Description", "status": "Status",
                  "created_at": "Created time", "resolved_at": "Resolved time", "tags": "Tags"},
}


def _tickets_001(db: sqlite_utils.Database) -> None:
    db["tickets"].create(
        {"id": str, "title": str, "description": str, "status": str, "created_at": str, "resolved_at": str,
         "tags": str, "linked_articles": str, "imported_at": str},
        pk="id",
    )
    db["tickets"].create_index(["created_at"])


TICKETS_MIGRATIONS: list[Migration] = [("tickets-001-create", _tickets_001)]


def open_tickets_db(path: Path | str) -> sqlite_utils.Database:
    return open_db(path, TICKETS_MIGRATIONS, wal=True)


_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%m/%d/%Y %H:%M")


def parse_time(value: object) -> str | None:
    """An ISO-8601 UTC timestamp ``YYYY-MM-DDTHH:MM:SS`` from the usual export formats; None when blank."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        moment = datetime.fromtimestamp(value, timezone.utc)
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for fmt in _DATE_FORMATS:
                try:
                    moment = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                raise ValueError(f"unreadable date {text!r}") from None
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def parse_list(value: object) -> list[str]:
    """A JSON list, or a string of items separated by commas, semicolons or spaces."""
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return parse_list(json.loads(text))
        except json.JSONDecodeError:
            pass
    return [item for item in re.split(r"[,;\s]+", text) if item]


@dataclass
class ImportSummary:
    inserted: int = 0
    updated: int = 0
    bad: list[BadRow] = field(default_factory=list)


def import_tickets(db_path: Path | str, path: Path | str, mapping: dict[str, str] | None = None,
                   preset: str | None = None, fmt: str | None = None) -> ImportSummary:
    """Upsert the tickets of one export file by id; rows that cannot be read are reported, the rest imported."""
    if preset and preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; valid: {', '.join(sorted(PRESETS))}")
    columns = {**PRESETS.get(preset or "", {}), **(mapping or {})}
    rows, bad = read_records(path, FIELDS, REQUIRED, columns, fmt, line_field="_line")
    records = []
    for row in rows:
        try:
            created, resolved = parse_time(row["created_at"]), parse_time(row["resolved_at"])
        except ValueError as exc:
            bad.append(BadRow(row["_line"], str(exc)))
            continue
        status = str(row["status"] or "").strip().lower()
        if status and status not in RESOLVED_STATUSES:
            resolved = None  # still open: an export's "updated at" is no resolution time
        records.append({
            "id": str(row["id"]), "title": str(row["title"]), "description": str(row["description"] or ""),
            "status": status or ("solved" if resolved else "open"), "created_at": created, "resolved_at": resolved,
            "tags": json.dumps(parse_list(row["tags"])), "linked_articles": json.dumps(parse_list(row["linked_articles"])),
            "imported_at": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"),
        })
    db = open_tickets_db(db_path)
    try:
        ids = [r["id"] for r in records]
        existing = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            existing.update(r[0] for r in db.execute(
                f"select id from tickets where id in ({','.join('?' * len(chunk))})", chunk).fetchall())
        with db.conn:
            db["tickets"].upsert_all(records, pk="id", batch_size=1000)
    finally:
        db.conn.close()
    unique = {r["id"] for r in records}
    return ImportSummary(inserted=len(unique - existing), updated=len(unique & existing),
                         bad=sorted(bad, key=lambda b: b.line))


@dataclass(frozen=True)
class Ticket:
    id: str
    text: str  # redacted title + the start of the description: what is embedded and shown
    title: str  # redacted
    created_at: str
    resolved: bool
    linked_articles: tuple[str, ...]


def ticket_text(title: str, description: str, description_chars: int) -> str:
    title, start = title.strip(), (description or "").strip()[:description_chars]
    if not start or start.startswith(title):
        return start or title
    return f"{title} {start}" if title[-1:] in ".?!:" else f"{title}. {start}"


def load_tickets(db_path: Path | str, description_chars: int = 200) -> list[Ticket]:
    """Every imported ticket, oldest first, with PII redacted."""
    db = open_tickets_db(db_path)
    try:
        rows = list(db.query("select * from tickets order by created_at, id"))
    finally:
        db.conn.close()
    return [
        Ticket(r["id"], redact(ticket_text(r["title"], r["description"], description_chars)), redact(r["title"]),
               r["created_at"], r["status"] in RESOLVED_STATUSES,
               tuple(json.loads(r["linked_articles"] or "[]")))
        for r in rows
    ]
