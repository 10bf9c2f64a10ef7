"""Ticket exports (CSV, JSON Lines or JSON pages) -> ``Ticket``s: the one reader of the import and the
evaluation (gap mining reads what the import stored).

Column names come from a preset of a help-desk export (``tickets/presets.py``) and/or ``--map
FIELD=COLUMN``. The evaluation's older column names are aliases: ``body`` is the description and
``resolved_article_id`` a one-item ``linked_articles``, so files written for it keep working. Numeric
dates are read in the order the whole file shows (``tickets/dates.py``), or ``date_format``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kbsuggest.domain import Ticket
from kbsuggest.errors import ConfigError
from tickets.dates import infer_order
from tickets.fields import to_ticket
from tickets.presets import PRESETS, Preset
from tickets.records import BadRow, detect_format, read_records, unit_of

FIELDS = ("id", "title", "description", "status", "created_at", "resolved_at", "tags", "linked_articles",
          "resolution", "reopens")
ALIASES = {"body": "description", "resolved_article_id": "linked_articles"}
IMPORT_REQUIRED = ("id", "title", "created_at")  # gap mining needs the date; the evaluation only id and title
DATE_FIELDS = ("created_at", "resolved_at")


@dataclass
class TicketFile:
    tickets: list[Ticket]
    bad: list[BadRow] = field(default_factory=list)  # rows left out, with the reason
    cut: list[BadRow] = field(default_factory=list)  # rows kept with a text field cut to its bound


def _preset(name: str | None) -> Preset:
    if name and name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    return PRESETS[name] if name else Preset("", {})


def _converted(row: dict, preset: Preset) -> dict:
    """The preset's status names as ours, its HTML fields as text."""
    status = row.get("status")
    if status is not None and str(status).strip().lower() in preset.statuses:
        row["status"] = preset.statuses[str(status).strip().lower()]
    if preset.html:
        from indexing.htmltext import html_to_text  # lxml: only for the exports that carry HTML

        for name in preset.html:
            if isinstance(row.get(name), str):
                row[name] = html_to_text(row[name])
    return row


def read_tickets(path: Path | str, mapping: Mapping[str, str] | None = None, preset: str | None = None,
                 fmt: str | None = None, required: Sequence[str] = IMPORT_REQUIRED,
                 date_format: str | None = None) -> TicketFile:
    """The tickets of one export in file order; rows that cannot be read are reported, never fatal (a file
    whose numeric dates could be read two ways is: ConfigError asking for ``date_format``)."""
    chosen = _preset(preset)
    mapping = dict(mapping or {})
    overridden = {ALIASES.get(name, name) for name in mapping}  # --map wins over the preset, aliases included
    columns = {**{f: c for f, c in chosen.columns.items() if f not in overridden}, **mapping}
    rows, bad = read_records(path, FIELDS, required, columns, fmt, line_field="_line", aliases=ALIASES)
    unit = unit_of(detect_format(Path(path), fmt))
    order, pattern = infer_order((row[f] for row in rows for f in DATE_FIELDS), date_format)
    out = TicketFile([], bad)
    for row in rows:
        try:
            ticket, cuts = to_ticket(_converted(row, chosen), order, pattern)
        except ValueError as exc:
            out.bad.append(BadRow(row["_line"], str(exc), unit))
            continue
        out.tickets.append(ticket)
        out.cut += [BadRow(row["_line"], note, unit) for note in cuts]
    out.bad.sort(key=lambda b: b.line)
    return out
