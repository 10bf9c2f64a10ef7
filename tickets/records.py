"""Read tabular records (tickets…) from CSV or JSONL with a column mapping.

Shared by the ticket import (gap mining) and the evaluation replay, so both accept the same files
and report bad rows the same way: by line number, without stopping at the first one.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kbsuggest.errors import ConfigError

FORMATS = ("csv", "jsonl")


@dataclass(frozen=True)
class BadRow:
    line: int  # 1-based line of the file where the record starts (CSV header is line 1)
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix in ("csv", "tsv"):
        return "csv"
    raise ConfigError(f"cannot tell the format of {str(path)!r} from its extension; pass --format csv or jsonl")


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["title=subject", "id=ticket_id"]`` -> ``{"title": "subject", "id": "ticket_id"}``."""
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ConfigError(f"column mapping {pair!r} must look like FIELD=COLUMN")
        mapping[field.strip()] = column.strip()
    return mapping


def _raw_rows(path: Path, fmt: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line, record, error) for each record in the file."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        if fmt == "csv":
            reader = csv.DictReader(handle, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
            line = reader.line_num
            for record in reader:
                if None in record:  # more cells than header columns
                    yield line + 1, None, f"{len(record) - 1 + len(record[None])} cells, header has {len(record) - 1}"
                else:
                    yield line + 1, record, None
                line = reader.line_num
        else:
            for line, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield line, None, f"invalid JSON ({exc.msg})"
                    continue
                if isinstance(record, dict):
                    yield line, record, None
                else:
                    yield line, None, "not a JSON object"


def read_records(
    path: Path | str, fields: Sequence[str], required: Sequence[str], mapping: Mapping[str, str] | None = None,
    fmt: str | None = None, line_field: str | None = None,
) -> tuple[list[dict], list[BadRow]]:
    """Records with our ``fields`` (taken from the mapped columns; missing -> None), and the bad rows.

    A row is bad when a ``required`` field is missing or blank, or the line cannot be parsed.
    With ``line_field``, each record also carries its line there (for checks the caller makes later).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{str(path)!r} does not exist or is not a file")
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        raise ConfigError(f"cannot map unknown field(s) {', '.join(unknown)}; fields: {', '.join(fields)}")
    fmt = detect_format(path, fmt)
    rows, bad = [], []
    try:
        for line, record, error in _raw_rows(path, fmt):
            if error:
                bad.append(BadRow(line, error))
                continue
            row = {}
            for field in fields:
                value = record.get(mapping.get(field, field))
                row[field] = value.strip() if isinstance(value, str) else value
            missing = [f for f in required if row.get(f) in (None, "")]
            if missing:
                bad.append(BadRow(line, f"missing {', '.join(missing)}"))
                continue
            if line_field:
                row[line_field] = line
            rows.append(row)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{str(path)!r} is not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise ConfigError(f"{str(path)!r}: unreadable CSV ({exc})") from None
    return rows, bad
