"""Historical tickets to replay: CSV or JSONL read through the shared record reader.

A ticket with an empty ``resolved_article_id`` is one no article answers (it measures false
suggestions). Bad rows are reported by line number and skipped, never fatal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kbsuggest.errors import ConfigError
from tickets.records import BadRow, read_records

FIELDS = ("id", "title", "body", "created_at", "resolved_article_id")
REQUIRED = ("id", "title")


@dataclass(frozen=True)
class Ticket:
    id: str
    title: str
    body: str = ""
    created_at: str = ""
    resolved_article_id: str | None = None  # None: no article answers this ticket

    @property
    def answerable(self) -> bool:
        return self.resolved_article_id is not None


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def load_tickets(path: Path | str, mapping: Mapping[str, str] | None = None,
                 fmt: str | None = None) -> tuple[list[Ticket], list[BadRow]]:
    """Tickets in file order and the rows that were skipped (unparsable, missing id or title)."""
    records, bad = read_records(path, FIELDS, REQUIRED, mapping, fmt)
    tickets = [Ticket(_text(r["id"]), _text(r["title"]), _text(r["body"]), _text(r["created_at"]),
                      _text(r["resolved_article_id"]) or None) for r in records]
    if not tickets:
        reasons = f"; first problem: {bad[0]}" if bad else ""
        raise ConfigError(f"no usable tickets in {str(path)!r}{reasons}")
    return tickets, bad
