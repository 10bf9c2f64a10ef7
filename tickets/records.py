"""Read tabular records (tickets…) from CSV or JSONL with a column mapping.

Shared by the ticket import (gap mining) and the evaluation replay, so both accept the same files
and report bad rows the same way: by line number, without stopping at the first one. Nothing in
one row can abort the file: undecodable bytes, over-long lines or fields, JSON nested too deep or
with a 5,000-digit number are that row's problem only.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kbsuggest.errors import ConfigError

FORMATS = ("csv", "jsonl")
MAX_LINE_CHARS = 16 * 2**20  # a longer JSONL line is a bad row, read in pieces and never held whole
MAX_FIELD_CHARS = 16 * 2**20  # a longer CSV field is a bad row (csv's own default limit is 131,072)
_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (kept by errors="surrogateescape")


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


def _lines(handle, problems: dict[int, str]) -> Iterator[str]:
    """The physical lines of ``handle``; a line that is not UTF-8 or too long gets an entry in
    ``problems`` (by line number) and, when too long, comes out empty."""
    number = 0
    while line := handle.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            while line and not line.endswith(("\n", "\r")):  # skip the rest of it, a piece at a time
                line = handle.readline(MAX_LINE_CHARS)
            problems[number] = f"line longer than {MAX_LINE_CHARS:,} characters"
            yield "\n"
            continue
        if bad := _UNDECODED.search(line):
            problems[number] = f"not UTF-8 text (character {bad.start() + 1} of the line)"
        yield line


def _csv_rows(handle, delimiter: str) -> Iterator[tuple[int, dict | None, str | None]]:
    problems: dict[int, str] = {}
    reader = csv.reader(_lines(handle, problems), delimiter=delimiter)
    header = None
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the reader starts afresh on the next line
            yield start, None, f"unreadable CSV ({exc})"
            continue
        spanned = [problems[n] for n in range(start, reader.line_num + 1) if n in problems]
        if header is None:
            header = [name.strip() for name in cells]
            if spanned:
                yield start, None, f"header: {spanned[0]}"
        elif spanned:
            yield start, None, spanned[0]
        elif not cells:
            continue  # a blank line
        elif len(cells) > len(header):
            yield start, None, f"{len(cells)} cells, header has {len(header)}"
        else:
            yield start, dict(zip(header, cells)), None


def _jsonl_rows(handle) -> Iterator[tuple[int, dict | None, str | None]]:
    problems: dict[int, str] = {}
    for line, text in enumerate(_lines(handle, problems), start=1):
        if line in problems:
            yield line, None, problems[line]
            continue
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield line, None, f"invalid JSON ({exc.msg})"
            continue
        except RecursionError:
            yield line, None, "invalid JSON (nested too deep)"
            continue
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            yield line, None, f"invalid JSON ({str(exc).partition(':')[0]})"
            continue
        if isinstance(record, dict):
            yield line, record, None
        else:
            yield line, None, "not a JSON object"


def _raw_rows(path: Path, fmt: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line, record, error) for each record in the file."""
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        if fmt == "jsonl":
            yield from _jsonl_rows(handle)
            return
        limit = csv.field_size_limit(MAX_FIELD_CHARS)
        try:
            yield from _csv_rows(handle, "\t" if path.suffix.lower() == ".tsv" else ",")
        finally:
            csv.field_size_limit(limit)  # the limit is process-wide


def _columns(fields: Sequence[str], mapping: Mapping[str, str], aliases: Mapping[str, str]) -> dict[str, list[str]]:
    """For each field, the columns to read it from, in order: the mapped one, else its own name and
    its aliases' names (the first one with a value wins)."""
    unknown = sorted(set(mapping) - set(fields) - set(aliases))
    if unknown:
        raise ConfigError(f"cannot map unknown field(s) {', '.join(unknown)}; fields: {', '.join(fields)}")
    mapped: dict[str, str] = {}
    for name, column in mapping.items():
        field = aliases.get(name, name)
        if field in mapped:
            raise ConfigError(f"field {field} is mapped twice (directly and through an alias); map it once")
        mapped[field] = column
    return {f: [mapped[f]] if f in mapped else [f, *(a for a, target in aliases.items() if target == f)]
            for f in fields}


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


def read_records(
    path: Path | str, fields: Sequence[str], required: Sequence[str], mapping: Mapping[str, str] | None = None,
    fmt: str | None = None, line_field: str | None = None, aliases: Mapping[str, str] | None = None,
) -> tuple[list[dict], list[BadRow]]:
    """Records with our ``fields`` (taken from the mapped columns; missing -> None), and the bad rows.

    A row is bad when a ``required`` field is missing or blank, or the line cannot be parsed.
    ``aliases`` maps other field names to ours (``{"body": "description"}``): they may be mapped, and
    an unmapped field is also read from its aliases' columns.
    With ``line_field``, each record also carries its line there (for checks the caller makes later).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{str(path)!r} does not exist or is not a file")
    columns = _columns(fields, dict(mapping or {}), dict(aliases or {}))
    fmt = detect_format(path, fmt)
    rows, bad = [], []
    for line, record, error in _raw_rows(path, fmt):
        if error:
            bad.append(BadRow(line, error))
            continue
        row = {}
        for field, names in columns.items():
            values = [_stripped(record.get(name)) for name in names]
            row[field] = next((v for v in values if v not in (None, "")), values[0])
        missing = [f for f in required if row.get(f) in (None, "")]
        if missing:
            bad.append(BadRow(line, f"missing {', '.join(missing)}"))
            continue
        if line_field:
            row[line_field] = line
        rows.append(row)
    return rows, bad
