"""Ticket exports (CSV or JSONL) -> ``Ticket``s: the one reader of the import and the evaluation.

Column names come from a preset of a help-desk export and/or ``--map FIELD=COLUMN``. The evaluation's
older column names are aliases: ``body`` is the description and ``resolved_article_id`` a one-item
``linked_articles``, so files written for it keep working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kbsuggest.domain import Ticket
from kbsuggest.errors import ConfigError
from tickets.fields import to_ticket
from tickets.records import BadRow, read_records

FIELDS = ("id", "title", "description", "status", "created_at", "resolved_at", "tags", "linked_articles")
ALIASES = {"body": "description", "resolved_article_id": "linked_articles"}
IMPORT_REQUIRED = ("id", "title", "created_at")  # gap mining needs the date; the evaluation only id and title

# Column names of common help-desk exports (see README "Gap mining" for the export each one means).
PRESETS: dict[str, dict[str, str]] = {
    # Zendesk Incremental Ticket Export API, one ticket object per line; a solved ticket's last update
    # is taken as its resolution time (the API's metrics `solved_at` can be mapped instead).
    "zendesk": {"title": "subject", "resolved_at": "updated_at"},
    # Freshdesk "Export tickets" CSV.
    "freshdesk": {"id": "Ticket ID", "title": "Subject", "description": "Description", "status": "Status",
                  "created_at": "Created time", "resolved_at": "Resolved time", "tags": "Tags"},
}


@dataclass
class TicketFile:
    tickets: list[Ticket]
    bad: list[BadRow] = field(default_factory=list)  # rows left out, with the reason
    cut: list[BadRow] = field(default_factory=list)  # rows kept with a text field cut to its bound


def read_tickets(path: Path | str, mapping: Mapping[str, str] | None = None, preset: str | None = None,
                 fmt: str | None = None, required: Sequence[str] = IMPORT_REQUIRED) -> TicketFile:
    """The tickets of one export in file order; rows that cannot be read are reported, never fatal."""
    if preset and preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; valid: {', '.join(sorted(PRESETS))}")
    mapping = dict(mapping or {})
    overridden = {ALIASES.get(name, name) for name in mapping}  # --map wins over the preset, aliases included
    columns = {**{f: c for f, c in PRESETS.get(preset or "", {}).items() if f not in overridden}, **mapping}
    rows, bad = read_records(path, FIELDS, required, columns, fmt, line_field="_line", aliases=ALIASES)
    out = TicketFile([], bad)
    for row in rows:
        try:
            ticket, cuts = to_ticket(row)
        except ValueError as exc:
            out.bad.append(BadRow(row["_line"], str(exc)))
            continue
        out.tickets.append(ticket)
        out.cut += [BadRow(row["_line"], note) for note in cuts]
    out.bad.sort(key=lambda b: b.line)
    return out
