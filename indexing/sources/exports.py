"""A help-centre JSON export on disk: one file or a folder of them, each a page as the API returns it.

A page is an object holding its records under one key (``articles``, ``data``, ``results``...) beside
its paging (``next_page``, ``count``, ``meta.has_more``, ``pages.next``, ``_links.next``) and, for
Zendesk, sideloaded ``sections``/``categories``; a file may also be a bare list of records, or JSON Lines
with a page or a record per line. Pages are read in file-name order (``page-1.json``, ``page-2.json``).
The paging tells whether pages are missing: when every page points at a next one (the last page was
never fetched), or the pages hold fewer records than the export's ``count``, that is reported, so the
article count is the export's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kbsuggest.domain import Article
from kbsuggest.errors import ArticleError, ConfigError
from kbsuggest.sources import NotAnArticle, Overlay, Skipped, SourceOptions
from kbsuggest.sources.detect import JSON_SUFFIXES, MAX_JSON_BYTES, files_under


@dataclass
class Export:
    records: list[tuple[str, object]] = field(default_factory=list)  # (where, record) in export order
    sideloads: dict[str, dict[object, dict]] = field(default_factory=dict)  # "sections" -> id -> object
    problems: list[Skipped] = field(default_factory=list)


def _next_page(page: dict) -> object:
    """The link or cursor to the page after this one, if the API says there is one."""
    meta, links, pages = page.get("meta"), page.get("links"), page.get("pages")
    if isinstance(meta, dict) and meta.get("has_more"):
        return meta.get("after_cursor") or True
    for holder in (page, links if isinstance(links, dict) else {}, page.get("_links") or {}):
        if isinstance(holder, dict) and (holder.get("next_page") or holder.get("next")):
            return holder.get("next_page") or holder.get("next")
    return pages.get("next") if isinstance(pages, dict) else None


def _pages(path: Path, relative: str) -> Iterator[tuple[str, object]]:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ConfigError(f"{relative} is over {MAX_JSON_BYTES // 2**20} MiB; split the export into pages")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        yield relative, _loads(text, relative)
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield f"{relative}:{number}", _loads(line, f"{relative} line {number}")


def _loads(text: str, where: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{where} is not JSON ({str(exc)[:80]})") from None


def read_export(source: Path, record_keys: tuple[str, ...], sideload_keys: tuple[str, ...] = ()) -> Export:
    """The records (found under the first of ``record_keys`` a page has) of every page of ``source``."""
    source = Path(source)
    if source.is_dir():
        files = [(p, p.relative_to(source).as_posix()) for p in files_under(source, JSON_SUFFIXES)]
    elif source.is_file():
        files = [(source, source.name)]
    else:
        raise ConfigError(f"{str(source)!r} does not exist")
    if not files:
        raise ConfigError(f"no .json export files in {str(source)!r}")
    export, declared, last_where, paged, ends = Export(), 0, "", 0, 0
    for path, relative in files:
        for where, page in _pages(path, relative):
            key = next((k for k in record_keys if isinstance(page, dict) and isinstance(page.get(k), list)), None)
            records = page if isinstance(page, list) else page[key] if key else [page]
            export.records += [(f"{where}#{i}", record) for i, record in enumerate(records, 1)]
            if isinstance(page, dict):
                if isinstance(page.get("count") or page.get("total_count"), int):
                    declared = max(declared, page.get("count") or page.get("total_count"))
                links = page.get("_links")
                if isinstance(links, dict) and isinstance(links.get("base"), str):  # Confluence: the site's address
                    export.sideloads.setdefault("_links", {})["base"] = links
                for name in sideload_keys:
                    for item in page.get(name) or ():
                        if isinstance(item, dict) and "id" in item:
                            export.sideloads.setdefault(name, {})[item["id"]] = item
                            if isinstance(item.get("locale"), str):  # a locale's own names (Zendesk sections)
                                export.sideloads[name][(item["locale"].lower(), item["id"])] = item
                last_where, paged, ends = where, paged + 1, ends + (not _next_page(page))
    if paged and not ends:  # every page points at a next one: the last was never fetched
        export.problems.append(Skipped(last_where, "every page of the export points at a next page "
                                                   "(next_page): the last pages are missing, fetch them all"))
    elif declared > len(export.records):
        export.problems.append(Skipped(last_where, f"the export says it has {declared} records but its pages "
                                                   f"hold {len(export.records)}: pages are missing"))
    return export


def read_records(path: Path, options: SourceOptions, overlay: Overlay | None, keys: tuple[str, ...],
                 parse, sideload_keys: tuple[str, ...] = ()) -> Iterator[Article | Skipped]:
    """What every JSON source does with its export: each record parsed, each problem reported."""
    if overlay:
        raise ConfigError("the admin API writes Markdown articles; this KB is read from a help-centre export")
    export = read_export(path, keys, sideload_keys)
    yield from export.problems
    for where, record in export.records:
        try:
            yield from parse(record, where, options, export.sideloads)
        except ArticleError as exc:
            yield Skipped(exc.path, exc.reason, isinstance(exc, NotAnArticle))
