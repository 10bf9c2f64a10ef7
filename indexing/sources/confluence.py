"""``confluence``: a Confluence space, as its HTML export (Space settings > Export space > HTML: a folder of
``<Title>_<id>.html`` pages) or as the REST API's pages JSON (``GET /wiki/rest/api/content?spaceKey=S&
expand=body.storage,version,metadata.labels,restrictions.read.restrictions.user,restrictions.read.restrictions.group``:
``{"results": [...], "_links": {"base": ..., "next": ...}}``) with each page's storage-format XHTML.

- HTML export: the page's ``#main-content`` -> sections, its title without the ``Space : `` prefix; a page
  without main content (the export's space index) is left out. url = ``base_url``/id.
- JSON: ``body.storage.value`` -> sections (macros keep their body text, a code macro its code; macro
  parameters, images and emoticons are dropped), ``_links.base`` + ``_links.webui`` -> url, labels ->
  tags, ``version.when`` -> updated; a page whose ``status`` is not ``current`` is left out.
- Audience: a page with read restrictions (users or groups) is internal; otherwise Confluence does not say
  whether the space is public, so the KB's rule applies (public; internal with a warning when the KB
  requires an audience).
"""

from __future__ import annotations

import html.entities
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from indexing.htmltext import inline_text, parse_fragment, parse_page
from indexing.maincontent import absolute_url
from indexing.sources.common import record_article, tag_list, text
from indexing.sources.exports import read_records
from indexing.sources.html import page_id, parse_html_page, read_pages
from kbsuggest.domain import Article
from kbsuggest.errors import ArticleError
from kbsuggest.sources import NotAnArticle, Overlay, Skipped, SourceOptions
from kbsuggest.sources.detect import HTML_SUFFIXES, files_under

DROP = frozenset({"ac:parameter", "ac:image", "ac:emoticon", "ac:placeholder", "ri:attachment", "ri:page", "ri:user"})
PRE = frozenset({"ac:plain-text-body"})
# Storage format is XHTML with HTML's named entities (&nbsp;) and undeclared ac:/ri: prefixes: wrapped in a
# root that declares both and the entities, so the XML parser keeps CDATA (code macros) as text.
_ENTITIES = "".join(f'<!ENTITY {name} "&#{code};">' for name, code in html.entities.name2codepoint.items()
                    if name not in ("amp", "lt", "gt", "quot", "apos"))
_WRAP = f'<!DOCTYPE storage [{_ENTITIES}]><storage xmlns:ac="ac" xmlns:ri="ri">{{}}</storage>'
_XML = etree.XMLParser(resolve_entities="internal", no_network=True, load_dtd=False, remove_comments=True)


def storage_root(storage: str):
    """The storage-format body as an element tree (HTML's reading of it if it is not well-formed XML)."""
    try:
        return etree.fromstring(_WRAP.format(storage).encode("utf-8"), _XML)
    except etree.XMLSyntaxError:
        return parse_fragment(storage)


def _audience(record: dict, options: SourceOptions) -> tuple[str, tuple[str, ...]]:
    read = ((record.get("restrictions") or {}).get("read") or {}).get("restrictions") or {}
    if any(((read.get(kind) or {}).get("results") or []) for kind in ("user", "group")):
        return "internal", ()
    if options.require_audience:
        return "internal", ("Confluence does not say whether the page is public and this KB requires an "
                            "audience: indexed as internal",)
    return "public", ()


def parse_record(record: object, where: str, options: SourceOptions, sideloads: dict) -> Iterator[Article]:
    if not isinstance(record, dict):
        raise ArticleError(where, "not a JSON object")
    if record.get("status", "current") != "current":
        raise NotAnArticle(where, "draft" if record.get("status") == "draft" else f"status {record.get('status')!r}")
    storage = ((record.get("body") or {}).get("storage") or {}).get("value")
    links = record.get("_links") or {}
    labels = (((record.get("metadata") or {}).get("labels") or {}).get("results")) or []
    audience, warnings = _audience(record, options)
    body = text(storage, "body.storage.value", where)
    base = links.get("base") or sideloads.get("_links", {}).get("base", {}).get("base") or ""
    webui = text(links.get("webui"), "webui", where)
    yield record_article(
        where=where, article_id=text(record.get("id"), "id", where), title=text(record.get("title"), "title", where),
        body=body, url=absolute_url(base.rstrip("/") + webui, "") if base and webui else "",
        locale="", audience=audience, options=options,
        tags=tag_list([label.get("name") for label in labels if isinstance(label, dict)], where),
        updated=text((record.get("version") or {}).get("when"), "version.when", where), warnings=warnings,
        root=storage_root(body) if body.strip() else None, drop=DROP, pre=PRE)


def parse_export_page(data: bytes, relative: str, options: SourceOptions) -> Article:
    doc = parse_page(data)
    main = doc.find(".//*[@id='main-content']") if doc is not None else None
    if main is None:
        raise NotAnArticle(relative, "no page content (the export's index of the space)")
    heading = next((h for h in (doc.find(".//*[@id='title-text']"), doc.find(".//title")) if h is not None), None)
    title = inline_text(heading) if heading is not None else ""
    space, colon, page = title.partition(" : ")
    return parse_html_page(data, relative, options, main=main, title=page if colon else title,
                           article_id=page_id(relative))


class ConfluenceSource:
    name = "confluence"

    def read(self, path: Path, options: SourceOptions, overlay: Overlay | None = None) -> Iterator[Article | Skipped]:
        path = Path(path)
        if path.is_file() or not files_under(path, HTML_SUFFIXES):
            yield from read_records(path, options, overlay, ("results",), parse_record)
            return
        yield from read_pages(path, options, overlay, parse_export_page, "a Confluence export")


SOURCE = ConfluenceSource()
