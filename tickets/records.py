"""Read tabular records (tickets…) from CSV, JSON Lines or JSON pages with a column mapping.

Shared by the ticket import (gap mining) and the evaluation replay, so both accept the same files
and report bad rows the same way: by line number (by record number in a ``.json`` file), without
stopping at the first one. Nothing in one row can abort the file: undecodable bytes, over-long lines
or fields, JSON nested too deep or with a 5,000-digit number are that row's problem only.

A CSV's encoding and delimiter are detected (``tickets/encoding.py``); a column repeated in its header
(Jira's ``Labels``) is a list of its cells. A JSON file is a page as a help-desk API returns it (records
under ``tickets``, ``conversations``, ``results``... beside the paging) or a list; a JSON Lines line may be
a page too. A column name may be a path into nested JSON (``source.body``, ``stats.resolved_at``).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kbsuggest.errors import ConfigError
from tickets.encoding import detect_delimiter, detect_encoding

FORMATS = ("csv", "jsonl", "json")
# Where an export page keeps its records: Zendesk (tickets, results), Intercom (conversations), Help Scout
# (_embedded.conversations), Freshdesk and others (data, results); Zendesk's show endpoint (ticket).
PAGE_KEYS = ("tickets", "conversations", "results", "data", "cases", "issues", "_embedded.conversations")
MAX_JSON_CHARS = 512 * 2**20
MAX_LINE_CHARS = 16 * 2**20  # a longer JSONL line is a bad row, read in pieces and never held whole
MAX_FIELD_CHARS = 16 * 2**20  # a longer CSV field is a bad row (csv's own default limit is 131,072)
_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (kept by errors="surrogateescape")


@dataclass(frozen=True)
class BadRow:
    line: int  # 1-based line of the file where the record starts (CSV header is line 1)
    reason: str
    unit: str = "line"  # "record" in a .json file: the record's place in it

    def __str__(self) -> str:
        return f"{self.unit} {self.line}: {self.reason}"


def unit_of(fmt: str) -> str:
    return "record" if fmt == "json" else "line"


def lookup(record: dict, name: str) -> object:
    """``record[name]``, or the value at the dotted path ``name`` in nested objects."""
    if name in record or "." not in name:
        return record.get(name)
    value: object = record
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def page_records(data: object) -> list | None:
    """The records of an export page (None: ``data`` is a record, not a page)."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in PAGE_KEYS:
            if isinstance(found := lookup(data, key), list):
                return found
        if isinstance(data.get("ticket"), dict):
            return [data["ticket"]]
    return None


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix == "json":
        return "json"
    if suffix in ("csv", "tsv"):
        return "csv"
    raise ConfigError(f"cannot tell the format of {str(path)!r} from its extension; pass --format csv, jsonl or json")


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["title=subject", "id=ticket_id"]`` -> ``{"title": "subject", "id": "ticket_id"}``."""
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ConfigError(f"column mapping {pair!r} must look like FIELD=COLUMN")
        mapping[field.strip()] = column.strip()
    return mapping


def _lines(handle, problems: dict[int, str], encoding: str = "UTF-8") -> Iterator[str]:
    """The physical lines of ``handle``; a line that is not ``encoding`` text or too long gets an entry in
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
            problems[number] = f"not {encoding} text (character {bad.start() + 1} of the line)"
        yield line


def _row(header: list[str], cells: list[str]) -> dict:
    """A row by column name; a name the header repeats holds the list of its non-blank cells."""
    row: dict = {}
    for name, cell in zip(header, cells):
        if name in row:
            held = row[name] if isinstance(row[name], list) else [row[name]] if row[name].strip() else []
            row[name] = held + ([cell] if cell.strip() else [])
        else:
            row[name] = cell
    return row


def _csv_rows(handle, delimiter: str, encoding: str) -> Iterator[tuple[int, dict | None, str | None]]:
    problems: dict[int, str] = {}
    reader = csv.reader(_lines(handle, problems, encoding), delimiter=delimiter)
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
            yield start, _row(header, cells), None


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
        records = page_records(record)
        for item in [record] if records is None else records:
            if isinstance(item, dict):
                yield line, item, None
            else:
                yield line, None, "not a JSON object"


def _json_rows(handle) -> Iterator[tuple[int, dict | None, str | None]]:
    """The records of one JSON page, numbered from 1 (a file that is not JSON is one bad record)."""
    text = handle.read(MAX_JSON_CHARS + 1)
    if len(text) > MAX_JSON_CHARS:
        raise ConfigError(f"the JSON file is over {MAX_JSON_CHARS // 2**20} MiB; split it into pages or use JSON Lines")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        yield 1, None, f"invalid JSON ({getattr(exc, 'msg', 'nested too deep')})"
        return
    records = page_records(data)
    for number, item in enumerate([data] if records is None else records, start=1):
        yield (number, item, None) if isinstance(item, dict) else (number, None, "not a JSON object")


def _raw_rows(path: Path, fmt: str) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line, record, error) for each record in the file."""
    encoding = detect_encoding(path) if fmt == "csv" else "utf-8-sig"
    with open(path, encoding=encoding, errors="surrogateescape", newline="") as handle:
        if fmt != "csv":
            yield from (_jsonl_rows(handle) if fmt == "jsonl" else _json_rows(handle))
            return
        delimiter = detect_delimiter(handle.readline(65536), path.suffix.lower())
        handle.seek(0)
        limit = csv.field_size_limit(MAX_FIELD_CHARS)
        try:
            yield from _csv_rows(handle, delimiter, "UTF-8" if encoding.startswith("utf-8") else encoding)
        finally:
            csv.field_size_limit(limit)  # the limit is process-wide


def _columns(fields: Sequence[str], mapping: Mapping[str, "str | Sequence[str]"],
             aliases: Mapping[str, str]) -> dict[str, list[str]]:
    """For each field, the columns to read it from, in order: the mapped one(s), else its own name and
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
    return {f: ([mapped[f]] if isinstance(mapped[f], str) else list(mapped[f])) if f in mapped
            else [f, *(a for a, target in aliases.items() if target == f)] for f in fields}


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
            bad.append(BadRow(line, error, unit_of(fmt)))
            continue
        row = {}
        for field, names in columns.items():
            values = [_stripped(lookup(record, name)) for name in names]
            row[field] = next((v for v in values if v not in (None, "")), values[0])
        missing = [f for f in required if row.get(f) in (None, "")]
        if missing:
            bad.append(BadRow(line, f"missing {', '.join(missing)}", unit_of(fmt)))
            continue
        if line_field:
            row[line_field] = line
        rows.append(row)
    return rows, bad
