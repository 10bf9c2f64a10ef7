"""Parse one Markdown article (YAML front matter + body) into an Article with plain-text sections.

Sections are cut at every heading (``indexing/sections.py``), including Docusaurus' explicit
``{#custom-id}``. Markup is stripped: link text and code are kept, images are dropped, and MDX
``import``/``export`` lines and ``:::note`` fences are removed. Raw HTML blocks are read as HTML
(``indexing/htmltext.py``): their headings are sections, their paragraphs, lists and tables text, and a
JSX component (``<Tabs>``, ``<details>``) keeps its children's text. An ``.html`` page of a docs site
(Jekyll) is front matter over an HTML body. A redirect (``redirect_to``), a draft (``draft: true``,
``published: false``) and a page with no text are not articles (``NotAnArticle``), not errors.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from indexing.frontmatter import FrontMatter, audience_of, bounded, read_front_matter, shown, tags_field, text_field
from indexing.htmltext import inline_text as inline_text_of, parse_fragment, walk
from indexing.sections import SectionBuilder, slugify, squash
from kbsuggest.domain import Article, validate_article_id
from kbsuggest.errors import ArticleError
from kbsuggest.sources import NotAnArticle
from kbsuggest.sources.detect import HTML_SUFFIXES

_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_MDX_LINE = re.compile(r"^(?:(?:import|export)\s.*|:::.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_EXPLICIT_ID = re.compile(r"\s*\{#([\w-]+)\}\s*$")

__all__ = ["slugify", "inline_text", "article_id_from_path", "parse_article", "read_article"]


def _drop_mdx_lines(body: str) -> str:
    """Remove MDX import/export lines and admonition markers outside code fences."""
    out, in_fence = [], False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence or not _MDX_LINE.match(line):
            out.append(line)
    return "\n".join(out)


def inline_text(token: Token) -> str:
    """Plain text of an inline token: text and code kept, images and inline HTML tags dropped."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak") or (
                child.type == "html_inline" and child.content[:3].lower() == "<br"):
            parts.append(" ")
    return squash("".join(parts))


def _feed(tokens: list[Token], builder: SectionBuilder) -> None:
    """Markdown tokens -> the builder's headings and lines; raw HTML blocks are read as HTML."""
    row: list[str] = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            raw = inline_text(tokens[i + 1])
            explicit = _EXPLICIT_ID.search(raw)
            builder.heading(int(token.tag[1]), _EXPLICIT_ID.sub("", raw), explicit.group(1) if explicit else "")
        elif token.type == "inline" and tokens[i - 1].type != "heading_open":
            text = inline_text(token)
            if tokens[i - 1].type in ("th_open", "td_open"):
                row.append(text)
            else:
                builder.line(text)
        elif token.type in ("fence", "code_block"):
            builder.line(token.content.strip())
        elif token.type == "tr_close":
            builder.line(" | ".join(cell for cell in row if cell))
            row = []
        elif token.type == "html_block" and (root := parse_fragment(token.content)) is not None:
            walk(root, builder)


def article_id_from_path(relative: str) -> str:
    """A stable id for an article without one: its path without the extension, slugified.

    NFKC first: macOS writes file names decomposed (u + combining diaeresis), which slugify would cut.
    """
    stem = unicodedata.normalize("NFKC", relative).rsplit(".", 1)[0]
    return "-".join(filter(None, (slugify(part) for part in re.split(r"[/\\]", stem)))) or "article"


def _not_published(front: FrontMatter) -> str:
    """Why a page of a docs site is not an article of it ('' when it is one)."""
    site = front.site
    if site.get("redirect_to") or str(site.get("layout", "")).strip().lower() == "redirect":
        target = site.get("redirect_to")
        return f"redirect (to {shown(target)})" if isinstance(target, str) else "redirect"
    if site.get("draft") is True or site.get("published") is False:
        return "draft"
    return ""


def site_url(front: FrontMatter, relative_path: str, base_url: str) -> str:
    """The page's address from Docusaurus' ``slug`` or Jekyll's ``permalink``, under ``base_url`` (a path
    alone is not a link: '' without a base url). A relative slug is relative to the page's folder."""
    slug = front.site.get("slug") or front.site.get("permalink")
    if not isinstance(slug, str) or not slug.strip() or not base_url or ":" in slug:  # ':title' is a pattern
        return ""
    slug = slug.strip()
    if not slug.startswith("/"):
        slug = "/" + posixpath.join(posixpath.dirname(relative_path), slug)
    return bounded("url", base_url.rstrip("/") + slug)


def parse_article(
    text: str, relative_path: str, *, default_locale: str = "en", base_url: str = "", require_audience: bool = False
) -> Article:
    """Parse Markdown source (or, for an .html page of a docs site, front matter over HTML) into an Article;
    raise ArticleError naming the path and the reason, NotAnArticle for a redirect, a draft or a stub.

    ``require_audience``: an article whose front matter has no ``audience`` is internal (with a warning),
    not public.
    """
    try:
        front = read_front_matter(text)
        if reason := _not_published(front):
            raise NotAnArticle(relative_path, reason)
        audience = audience_of(front, require_audience)
        article_id = validate_article_id(text_field(front, "id") or article_id_from_path(relative_path))
        if relative_path.lower().endswith(HTML_SUFFIXES):
            root = parse_fragment(front.body)
            first_h1 = next((inline_text_of(h) for h in root.iter("h1")), "") if root is not None else ""
        else:
            tokens = _MD.parse(_drop_mdx_lines(front.body))
            first_h1 = next((inline_text(tokens[i + 1]) for i, t in enumerate(tokens)
                             if t.type == "heading_open" and t.tag == "h1"), "")
        title = bounded("title", text_field(front, "title") or _EXPLICIT_ID.sub("", first_h1).strip())
        if not title:
            raise ValueError("no title: add 'title' to the front matter or start with a '# Heading'")
        builder = SectionBuilder(title)
        if relative_path.lower().endswith(HTML_SUFFIXES):
            if root is not None:
                walk(root, builder)
        else:
            _feed(tokens, builder)
        sections = builder.sections()
        if not sections:
            raise NotAnArticle(relative_path, "no text")
        return Article(
            id=article_id,
            title=title,
            url=(text_field(front, "url") or site_url(front, relative_path, base_url)
                 or (f"{base_url.rstrip('/')}/{article_id}" if base_url else "")),
            locale=text_field(front, "locale") or default_locale,
            audience=audience,
            product=text_field(front, "product"),
            tags=tags_field(front),
            updated=text_field(front, "updated"),
            sections=tuple(sections),
            content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            path=relative_path,
            warnings=tuple(front.warnings),
        )
    except ValueError as exc:
        raise ArticleError(relative_path, str(exc)) from None


def read_article(path: Path, root: Path, **options: object) -> Article:
    relative = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(relative, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ArticleError(relative, f"cannot read: {exc.strerror}") from None
    return parse_article(text, relative, **options)
