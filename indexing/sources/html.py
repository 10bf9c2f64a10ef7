"""``html``: a folder of HTML pages (a crawled or exported site), one article per page.

Each page's main content (``indexing/maincontent.py``) is read into sections; the title is its ``<h1>``,
else ``og:title`` or ``<title>``; the url its canonical link (``<link rel=canonical>``, ``og:url``), else
``base_url``/id; the locale ``<html lang>``. A page's audience is ``<meta name="audience">`` when it has
one, else public (internal, with a warning, where the KB requires an audience). Redirect pages (``<meta
http-equiv=refresh>``) and pages without text are left out with that reason. The id is the page's path
(``help/reset-password/index.html`` is ``help-reset-password``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from indexing.frontmatter import shown
from indexing.maincontent import canonical_url, main_content, meta, page_locale, page_title, redirect_target
from indexing.markdown import article_id_from_path
from indexing.htmltext import parse_page
from indexing.sources.common import read_bytes, record_article
from kbsuggest.domain import AUDIENCES, Article
from kbsuggest.errors import ArticleError, ConfigError
from kbsuggest.sources import NotAnArticle, Overlay, Skipped, SourceOptions
from kbsuggest.sources.detect import HTML_SUFFIXES, files_under


def page_id(relative: str) -> str:
    stem = relative.rsplit(".", 1)[0]
    if stem == "index" or stem.endswith("/index"):  # a folder's page is named by the folder
        stem = stem[:-len("index")].rstrip("/") or "index"
    return article_id_from_path(stem + ".html")


def audience_of(doc, relative: str, options: SourceOptions) -> tuple[str, tuple[str, ...]]:
    declared = meta(doc, "audience").lower()
    if declared:
        if declared not in AUDIENCES:
            raise ArticleError(relative, f"<meta name=\"audience\"> must be one of {', '.join(AUDIENCES)}, "
                                         f"got {shown(declared)}")
        return declared, ()
    if options.require_audience:
        return "internal", ("no <meta name=\"audience\"> and this KB requires one: indexed as internal",)
    return "public", ()


def parse_html_page(data: bytes, relative: str, options: SourceOptions, *, main=None, title: str = "",
                    article_id: str = "") -> Article:
    """One page; ``main``/``title``/``article_id`` when the caller (Confluence) found them its own way."""
    doc = parse_page(data)
    if doc is None:
        raise NotAnArticle(relative, "no text")
    target = redirect_target(doc)
    if target is not None:
        raise NotAnArticle(relative, f"redirect (to {shown(target)})")
    main = main if main is not None else main_content(doc)
    audience, warnings = audience_of(doc, relative, options)
    title = title or page_title(doc, main)
    if not title:
        raise ArticleError(relative, "no title: the page has no <h1> and no <title>")
    return record_article(
        where=relative, article_id=article_id or page_id(relative), title=title, body=data.decode("utf-8", "replace"),
        url=canonical_url(doc, options.base_url), locale=page_locale(doc), audience=audience, options=options,
        warnings=warnings, root=main, page=True)


def read_pages(path: Path, options: SourceOptions, overlay: Overlay | None, parse, what: str) -> Iterator[Article | Skipped]:
    """Every .html page under ``path`` through ``parse(data, relative, options)``, in path order."""
    if overlay:
        raise ConfigError(f"the admin API writes Markdown articles; this KB is read from {what}")
    if not path.is_dir():
        raise ConfigError(f"{str(path)!r} is not a directory of HTML pages")
    for page in files_under(path, HTML_SUFFIXES):
        relative = page.relative_to(path).as_posix()
        try:
            yield parse(read_bytes(page, relative), relative, options)
        except ArticleError as exc:
            yield Skipped(exc.path, exc.reason, isinstance(exc, NotAnArticle))


class HTMLSource:
    name = "html"

    def read(self, path: Path, options: SourceOptions, overlay: Overlay | None = None) -> Iterator[Article | Skipped]:
        return read_pages(Path(path), options, overlay, parse_html_page, "HTML pages")


SOURCE = HTMLSource()
