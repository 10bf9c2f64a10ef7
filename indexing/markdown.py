"""Parse one Markdown article (YAML front matter + body) into an Article with plain-text sections.

Sections are cut at every heading, with anchors as GitHub/Docusaurus would write them (including
Docusaurus' explicit ``{#custom-id}``). Markup is stripped: link text and code are kept, images and
raw HTML/JSX are dropped, and MDX ``import``/``export`` lines and ``:::note`` fences are removed.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from indexing.frontmatter import audience_of, bounded, read_front_matter, tags_field, text_field
from kbsuggest.domain import Article, Section, validate_article_id
from kbsuggest.errors import ArticleError

_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_MDX_LINE = re.compile(r"^(?:(?:import|export)\s.*|:::.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_EXPLICIT_ID = re.compile(r"\s*\{#([\w-]+)\}\s*$")
_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def slugify(text: str) -> str:
    """github-slugger's rule: lowercase, drop punctuation (keep letters, digits, _ and -), spaces -> -."""
    return _SLUG_DROP.sub("", text.strip().lower()).replace(" ", "-")


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
    """Plain text of an inline token: text and code kept, images and inline HTML dropped."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return _SPACES.sub(" ", "".join(parts)).strip()


def _sections(tokens: list[Token], title: str) -> list[Section]:
    sections: list[Section] = []
    used: dict[str, int] = {}
    path: list[tuple[int, str]] = []  # (level, heading) of the open headings
    heading, anchor, lines = "", "", []
    row: list[str] = []

    def close() -> None:
        text = "\n".join(line for line in lines if line)
        if heading or text:
            sections.append(Section(heading, anchor, tuple(h for _, h in path), text))

    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            level = int(token.tag[1])
            raw = inline_text(tokens[i + 1])
            explicit = _EXPLICIT_ID.search(raw)
            text = _EXPLICIT_ID.sub("", raw).strip()
            if level == 1 and not sections and not lines and text == title:
                continue  # the H1 that repeats the title is not a section of its own
            close()
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, text))
            anchor = base = explicit.group(1) if explicit else slugify(text)
            while anchor in used:  # github-slugger: "a", "a", "a 1" -> a, a-1, a-1-1 (never a repeat)
                used[base] += 1
                anchor = f"{base}-{used[base]}"
            used[anchor] = 0
            heading, lines = text, []
        elif token.type == "inline" and tokens[i - 1].type != "heading_open":
            text = inline_text(token)
            if tokens[i - 1].type in ("th_open", "td_open"):
                row.append(text)
            elif text:
                lines.append(text)
        elif token.type in ("fence", "code_block"):
            lines.append(token.content.strip())
        elif token.type == "tr_close":
            lines.append(" | ".join(cell for cell in row if cell))
            row = []
    close()
    return sections


def article_id_from_path(relative: str) -> str:
    """A stable id for an article without one: its path without the extension, slugified.

    NFKC first: macOS writes file names decomposed (u + combining diaeresis), which slugify would cut.
    """
    stem = unicodedata.normalize("NFKC", relative).rsplit(".", 1)[0]
    return "-".join(filter(None, (slugify(part) for part in re.split(r"[/\\]", stem)))) or "article"


def parse_article(
    text: str, relative_path: str, *, default_locale: str = "en", base_url: str = "", require_audience: bool = False
) -> Article:
    """Parse Markdown source into an Article; raise ArticleError naming the path and the reason.

    ``require_audience``: an article whose front matter has no ``audience`` is internal (with a warning),
    not public.
    """
    try:
        front = read_front_matter(text)
        audience = audience_of(front, require_audience)
        article_id = validate_article_id(text_field(front, "id") or article_id_from_path(relative_path))
        tokens = _MD.parse(_drop_mdx_lines(front.body))
        first_h1 = next(
            (inline_text(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h1"),
            "",
        )
        title = bounded("title", text_field(front, "title") or first_h1)
        if not title:
            raise ValueError("no title: add 'title' to the front matter or start with a '# Heading'")
        sections = _sections(tokens, title)
        if not sections:
            raise ValueError("the article has no text")
        return Article(
            id=article_id,
            title=title,
            url=text_field(front, "url") or (f"{base_url.rstrip('/')}/{article_id}" if base_url else ""),
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
