"""Ticket import: a CSV/JSONL export -> the tickets of a KB in the service store (upsert by id).

Rows that cannot be read are reported by line and the rest imported, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kbsuggest.store import Store
from tickets.reader import read_tickets
from tickets.records import BadRow


@dataclass
class ImportSummary:
    inserted: int = 0
    updated: int = 0
    bad: list[BadRow] = field(default_factory=list)  # rows left out
    cut: list[BadRow] = field(default_factory=list)  # rows imported with a text field cut to its bound

    @property
    def imported(self) -> int:
        return self.inserted + self.updated


def import_tickets(store: Store, kb: str, path: Path | str, mapping: Mapping[str, str] | None = None,
                   preset: str | None = None, fmt: str | None = None, date_format: str | None = None) -> ImportSummary:
    """Upsert the readable tickets of one export file into KB ``kb`` by id, in one transaction (nothing is
    written when none is readable)."""
    read = read_tickets(path, mapping, preset, fmt, date_format=date_format)
    inserted, updated = store.write_tickets(kb, read.tickets) if read.tickets else (0, 0)
    return ImportSummary(inserted, updated, read.bad, read.cut)
