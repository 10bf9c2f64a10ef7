"""What the sources share: reading a page's bytes, and turning a help-centre record into an Article.

A record (a Zendesk, Freshdesk, Intercom or Confluence article) gives its fields; ``record_article``
checks them against the same bounds as front matter, reads the HTML body into sections and fills in
what the KB's settings say (url from ``base_url``/id, locale). Its content hash is over the fields it
used, so an article whose record is unchanged keeps its vectors on the next build.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from indexing.frontmatter import MAX_CHARS, MAX_TAGS, bounded
from indexing.htmltext import parse_fragment, walk
from indexing.sections import SectionBuilder, squash
from kbsuggest.domain import AUDIENCES, Article, validate_article_id
from kbsuggest.errors import ArticleError
from kbsuggest.sources import NotAnArticle, SourceOptions

MAX_PAGE_BYTES = 16 * 2**20  # one page or article body; a larger one is refused, not read


def read_bytes(path: Path, relative: str) -> bytes:
    try:
        if path.stat().st_size > MAX_PAGE_BYTES:
            raise ArticleError(relative, f"over {MAX_PAGE_BYTES // 2**20} MiB")
        return path.read_bytes()
    except OSError as exc:
        raise ArticleError(relative, f"cannot read: {exc.strerror}") from None


def text(value: object, name: str, where: str) -> str:
    """A record's text field ('' when absent); a number is taken as written."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ArticleError(where, f"{name!r} is not text")
    return str(value).strip()


def tag_list(values: object, where: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if not isinstance(values, list):
        raise ArticleError(where, "tags are not a list")
    tags = tuple(dict.fromkeys(t for t in (squash(text(v, "tag", where)) for v in values) if t))
    if len(tags) > MAX_TAGS or any(len(t) > MAX_CHARS["tag"] for t in tags):
        raise ArticleError(where, f"more than {MAX_TAGS} tags, or a tag over {MAX_CHARS['tag']} characters")
    return tags


def record_article(*, where: str, article_id: str, title: str, body: str, url: str, locale: str,
                   audience: str, options: SourceOptions, product: str = "", tags: tuple[str, ...] = (),
                   updated: str = "", warnings: tuple[str, ...] = (), root=None, page: bool = False,
                   drop: frozenset[str] = frozenset(), pre: frozenset[str] = frozenset()) -> Article:
    """An Article from a record's fields; ``body`` is HTML (or ``root``, an element already parsed:
    ``page`` when it is a whole page's main content; ``drop``/``pre`` as ``htmltext.walk`` takes them)."""
    assert audience in AUDIENCES
    try:
        article_id = validate_article_id(article_id)
        title = bounded("title", squash(title))
        if not title:
            raise ValueError("no title")
        builder = SectionBuilder(title)
        root = parse_fragment(body) if root is None else root
        if root is not None:
            walk(root, builder, page=page, drop=drop, pre=pre)
        sections = builder.sections()
        if not sections:
            raise NotAnArticle(where, "no text")
        url = bounded("url", url or (f"{options.base_url.rstrip('/')}/{article_id}" if options.base_url else ""))
        fields = dict(id=article_id, title=title, url=url, locale=bounded("locale", locale or options.default_locale),
                      audience=audience, product=bounded("product", product), tags=tags,
                      updated=bounded("updated", updated))
    except ValueError as exc:
        raise ArticleError(where, str(exc)) from None
    digest = hashlib.sha256(json.dumps([fields, body], sort_keys=True, default=list).encode()).hexdigest()
    return Article(**fields, sections=tuple(sections), content_hash=digest, path=where, warnings=warnings)
