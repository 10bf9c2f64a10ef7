"""One exported row -> a ``Ticket``: timestamps, lists, and the bounds every field is kept within.

Bounds (a row outside them is a bad row, reported by line, unless it says "cut"):
- ``id`` at most 200 characters, ``status`` at most 50;
- ``title`` cut to 1,000 characters and ``description`` to 100,000 (the row is kept, the cut reported);
- ``created_at``/``resolved_at`` in 1970..2100, as ``tickets/dates.py`` reads them (ISO 8601, epoch
  seconds or milliseconds, the exports' own formats, numeric dates in the file's day/month order);
- ``tags`` at most 100 of at most 100 characters; ``linked_articles`` at most 100 article ids;
- ``resolution`` (the agent's answer) cut like ``description``; ``reopens`` a count from 0 to 1,000,000.
A text field must be text (a JSON number is accepted as its digits; an object or array is not).
"""

from __future__ import annotations

import json
import re

from kbsuggest.domain import ARTICLE_ID, RESOLVED_STATUSES, Ticket
from kbsuggest.timestamps import utc_iso
from tickets.dates import from_epoch, from_text, quoted, to_utc

ID_CHARS = 200
STATUS_CHARS = 50
TITLE_CHARS = 1_000
DESCRIPTION_CHARS = 100_000
TAG_CHARS = 100
MAX_ITEMS = 100  # tags, linked articles

_SURROGATE = re.compile("[\ud800-\udfff]")
_ARTICLE_ID = re.compile(ARTICLE_ID)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a JSON object", list: "a JSON array"}.get(type(value), type(value).__name__)


def text_of(value: object, field: str) -> str:
    """A field's text ("" when absent); a number is taken as written, anything else is an error."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{field} is {_kind(value)}, not text")
    text = str(value).strip()
    if _SURROGATE.search(text):
        raise ValueError(f"{field} is not valid Unicode (a lone surrogate escape)")
    return text


def parse_time(value: object, field: str = "time", order: str | None = None, pattern: str | None = None) -> str | None:
    """The service database's timestamp (``kbsuggest/timestamps.py``: UTC, milliseconds, Z); None when blank;
    ValueError naming ``field``. ``order``/``pattern``: how the file writes numeric dates (``tickets/dates.py``)."""
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{field} is {_kind(value)}, not a date")
    if isinstance(value, str):
        moment = from_text(value.strip(), field, order, pattern)
    else:
        moment = from_epoch(float(value), field, value)
    return utc_iso(to_utc(moment, field, value))


def _count(value: object, field: str) -> int:
    """A non-negative whole number (0 when blank)."""
    text = text_of(value, field)
    if not text:
        return 0
    if not text.isdigit() or int(text) > 1_000_000:
        raise ValueError(f"{field} is {quoted(text)}, not a count from 0 to 1,000,000")
    return int(text)


def parse_list(value: object, field: str = "list") -> list[str]:
    """A JSON list, or a string of items separated by commas, semicolons or spaces (at most 100)."""
    if value in (None, ""):
        return []
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            pass  # not JSON after all: split it as text
    if isinstance(value, list):  # Intercom and Help Scout give tags as objects: {"name": ...}, {"tag": ...}
        items = [text_of(v.get("name", v.get("tag")) if isinstance(v, dict) else v, f"an item of {field}")
                 for v in value]
    else:
        items = re.split(r"[,;\s]+", text_of(value, field))
    items = [item for item in items if item]
    if len(items) > MAX_ITEMS:
        raise ValueError(f"{field} has {len(items):,} items; at most {MAX_ITEMS}")
    return items


def _bounded(text: str, field: str, limit: int, cuts: list[str]) -> str:
    if len(text) > limit:
        cuts.append(f"{field} cut to {limit:,} characters (was {len(text):,})")
        return text[:limit]
    return text


def to_ticket(row: dict, order: str | None = None, pattern: str | None = None) -> tuple[Ticket, list[str]]:
    """The ticket of one row of ``tickets.reader.FIELDS``, and what was cut to fit (ValueError: a bad row);
    ``order``/``pattern`` as ``parse_time`` takes them."""
    cuts: list[str] = []
    ticket_id = text_of(row["id"], "id")
    if len(ticket_id) > ID_CHARS:
        raise ValueError(f"id is {len(ticket_id):,} characters long; at most {ID_CHARS}")
    status = text_of(row["status"], "status").lower()
    if len(status) > STATUS_CHARS:
        raise ValueError(f"status is {len(status):,} characters long; at most {STATUS_CHARS}")
    created = parse_time(row["created_at"], "created_at", order, pattern)
    resolved = parse_time(row["resolved_at"], "resolved_at", order, pattern)
    if status and status not in RESOLVED_STATUSES:
        resolved = None  # still open: an export's "updated at" is no resolution time
    tags = parse_list(row["tags"], "tags")
    if long := next((t for t in tags if len(t) > TAG_CHARS), None):
        raise ValueError(f"tags: {quoted(long)} is longer than {TAG_CHARS} characters")
    linked = parse_list(row["linked_articles"], "linked_articles")
    if wrong := next((a for a in linked if not _ARTICLE_ID.fullmatch(a)), None):
        raise ValueError(f"linked_articles: {quoted(wrong)} is not an article id")
    ticket = Ticket(
        id=ticket_id,
        title=_bounded(text_of(row["title"], "title"), "title", TITLE_CHARS, cuts),
        description=_bounded(text_of(row["description"], "description"), "description", DESCRIPTION_CHARS, cuts),
        status=status or ("solved" if resolved else "open"), created_at=created, resolved_at=resolved,
        tags=tuple(tags), linked_articles=tuple(dict.fromkeys(linked)),
        resolution=_bounded(text_of(row.get("resolution"), "resolution"), "resolution", DESCRIPTION_CHARS, cuts),
        reopens=_count(row.get("reopens"), "reopens"),
    )
    return ticket, cuts
