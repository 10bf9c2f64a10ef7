"""Where a KB's articles come from: the ``ArticleSource`` protocol, the formats by name, and what each
source yields.

Every source reads one export (a folder of Markdown or HTML pages, a help-centre JSON export) into the
same ``Article`` shape, so chunking, embedding and serving never know the format. The parsers live in
``indexing/sources/<name>.py`` (they need markdown-it and lxml, offline code the core never imports); the
core owns only what configuration and the CLI need: the names (``FORMATS``, checked by ``check_format``)
and auto-detection (``kbsuggest/sources/detect.py``), which reads a few bytes and no HTML.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kbsuggest.domain import Article
from kbsuggest.errors import ArticleError, ConfigError

# name -> what it reads (shown by `kbsuggest index --help` and in errors); the parser is
# indexing/sources/<name>.py. Order: the order auto-detection and the help list them in.
FORMATS: dict[str, str] = {
    "markdown": "a folder of .md/.mdx pages (Docusaurus, MkDocs, Jekyll, Hugo), raw HTML and JSX included",
    "html": "a folder of .html pages (a crawled or exported site)",
    "zendesk": "Zendesk Guide: Help Center API 'articles' JSON pages",
    "freshdesk": "Freshdesk Solutions: solution articles JSON (or folders with their articles)",
    "intercom": "Intercom Articles: the articles API's JSON",
    "confluence": "Confluence: a space's HTML export, or pages JSON with body.storage",
}
LABELS = {"markdown": "Markdown", "html": "HTML", "zendesk": "Zendesk", "freshdesk": "Freshdesk",
          "intercom": "Intercom", "confluence": "Confluence"}

Overlay = Mapping[str, "str | None"]  # relative path -> new Markdown text (None: deleted), over the folder


@dataclass(frozen=True)
class SourceOptions:
    """What a KB's settings say about articles that do not say it themselves."""

    default_locale: str = "en"
    base_url: str = ""  # url = base_url/id for an article the source gives no url
    require_audience: bool = False  # an article that does not say its audience is internal, with a warning


@dataclass(frozen=True)
class Skipped:
    """A page or record that is not indexed, and why.

    ``expected``: it is not an article by design (a redirect, a stub with no text, a draft), reported
    apart from the errors (a file that cannot be read, a front matter that cannot be trusted).
    """

    path: str
    reason: str
    expected: bool = False


class NotAnArticle(ArticleError):
    """Raised by a parser for a page that is not an article (``Skipped.expected``): its reason is a short
    word of its own (``redirect``, ``no text``, ``draft``)."""


class ArticleSource(Protocol):
    """One export format. ``read`` yields every article of ``path`` and every page it leaves out, in a
    stable order (ids that look alike keep the first); it raises ``ConfigError`` only when ``path`` as a
    whole cannot be this format. ``overlay`` (Markdown only: the admin API) is applied over the folder."""

    name: str

    def read(self, path: Path, options: SourceOptions,
             overlay: Overlay | None = None) -> Iterator[Article | Skipped]: ...


def check_format(name: str) -> str:
    if name not in FORMATS:
        raise ConfigError(f"unknown source format {name!r}; valid: {', '.join(FORMATS)}")
    return name


def format_help() -> str:
    """The formats, one per line, for ``--help``."""
    return "\n".join(f"{name}: {text}" for name, text in FORMATS.items())
