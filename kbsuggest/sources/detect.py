"""Which format an export is in, when the KB or the command does not say.

A folder of Markdown is ``markdown`` (a docs site also holds HTML templates); a folder of HTML pages is
``confluence`` when its pages carry Confluence's export markup, else ``html``; a JSON export is told by
the keys of its first record. Only the first bytes of a file are read (``SNIFF_BYTES``), and nothing
here parses HTML: the markers are fixed strings that the exporting product writes.
"""

from __future__ import annotations

import json
from pathlib import Path

from kbsuggest.errors import ConfigError
from kbsuggest.sources import FORMATS

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx")
HTML_SUFFIXES = (".html", ".htm")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
SNIFF_BYTES = 64 * 1024
MAX_JSON_BYTES = 512 * 2**20  # an export file larger than this is refused (it is held whole while read)
IGNORED_DIRS = frozenset({"node_modules", "_site", "_layouts", "_includes", "_sass", "__pycache__"})
# Keys only one product's article records carry (the Help Center, Solutions, Articles and Content APIs).
RECORD_KEYS = {
    "zendesk": ("html_url", "user_segment_id", "label_names", "section_id"),
    "freshdesk": ("folder_id", "description_text", "folder_visibility"),
    "intercom": ("parent_type", "translated_content", "workspace_id", "default_locale"),
    "confluence": ("_expandable", "space"),
}
PAGE_KEYS = ("articles", "folders", "results", "data")  # where a page of records keeps them
CONFLUENCE_MARKERS = ("wiki-content", "confluence")


def files_under(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files with one of ``suffixes`` under ``root`` in path order, outside hidden and build folders."""
    return sorted(
        p for p in root.rglob("*")
        if p.suffix.lower() in suffixes and p.is_file()
        and not any(part.startswith(".") or part in IGNORED_DIRS for part in p.relative_to(root).parts[:-1])
        and not p.name.startswith(".")
    )


def _first_record(data: object, depth: int = 0) -> dict | None:
    """The first record of a page, of a list, or of the first folder of a category (Freshdesk)."""
    if isinstance(data, list):
        data = next((r for r in data if isinstance(r, dict)), None)
    if not isinstance(data, dict) or depth > 3:
        return data if isinstance(data, dict) else None
    key = next((k for k in PAGE_KEYS if isinstance(data.get(k), list) and data[k]), None)
    return _first_record(data[key], depth + 1) if key else data


def json_format(path: Path) -> str | None:
    """The product a JSON export file comes from, by its first record's keys (None: none of ours)."""
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ConfigError(f"{path.name} is over {MAX_JSON_BYTES // 2**20} MiB; split the export into pages")
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else json.loads(text.partition("\n")[0])
    except (ValueError, RecursionError):
        return None
    record = _first_record(data)
    if record is None:
        return None
    body = record.get("body")
    if isinstance(body, dict) and "storage" in body:
        return "confluence"
    for name, keys in RECORD_KEYS.items():
        if any(key in record for key in keys):
            return name
    return None


def _sniff(path: Path) -> str:
    with open(path, "rb") as handle:
        return handle.read(SNIFF_BYTES).decode("utf-8", "replace").lower()


def detect_format(path: Path) -> str:
    """The format of the export at ``path``; ConfigError naming the valid ones when it cannot be told."""
    path = Path(path)
    hint = f"pass --format (valid: {', '.join(FORMATS)})"
    if not path.exists():
        raise ConfigError(f"{str(path)!r} does not exist")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in JSON_SUFFIXES and (found := json_format(path)):
            return found
        raise ConfigError(f"cannot tell the format of {str(path)!r}; {hint}")
    if files_under(path, MARKDOWN_SUFFIXES):
        return "markdown"
    pages = files_under(path, HTML_SUFFIXES)
    if pages:
        sample = pages[:3] + [p for p in pages if p.name == "index.html"][:1]
        if any(marker in _sniff(page) for page in sample for marker in CONFLUENCE_MARKERS):
            return "confluence"
        return "html"
    for export in files_under(path, JSON_SUFFIXES):
        if found := json_format(export):
            return found
    raise ConfigError(f"found no articles in {str(path)!r} (no .md, .html or export .json files); {hint}")
