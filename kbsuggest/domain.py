"""The shapes the core and the offline jobs speak: Article, Section, Chunk, Ticket."""

from __future__ import annotations

from dataclasses import dataclass

AUDIENCES = ("public", "internal")
ARTICLE_ID = r"[\w][\w.-]{0,199}"  # what an article id may look like (it also names files and URL paths)


@dataclass(frozen=True)
class Section:
    heading: str  # "" for the text before the first heading
    anchor: str  # as a Markdown renderer would write it; "" for the article top
    path: tuple[str, ...]  # headings from the outermost down to this one
    text: str  # plain text, markup stripped


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    url: str
    locale: str
    audience: str
    product: str
    tags: tuple[str, ...]
    updated: str
    sections: tuple[Section, ...]
    content_hash: str
    path: str = ""


@dataclass(frozen=True)
class Chunk:
    article_id: str
    anchor: str
    heading: str
    text: str  # what is embedded: title + heading path + section text (or a piece of it)
    body: str  # the section text of this piece alone, for snippets


RESOLVED_STATUSES = frozenset({"solved", "closed", "resolved", "done"})


@dataclass(frozen=True)
class Ticket:
    """A support ticket as read from an export (``tickets/``) or the service database: raw text, nothing
    redacted. Gap mining and the evaluation both read tickets in this shape."""

    id: str
    title: str
    description: str = ""
    status: str = ""  # lower case; the reader fills in "solved" or "open" when the export has none
    created_at: str | None = None  # ISO-8601 UTC, YYYY-MM-DDTHH:MM:SS
    resolved_at: str | None = None
    tags: tuple[str, ...] = ()
    linked_articles: tuple[str, ...] = ()  # the articles that resolved it; the evaluation's gold (any counts)
    kb: str = "default"

    @property
    def resolved(self) -> bool:
        return self.status in RESOLVED_STATUSES

    @property
    def answerable(self) -> bool:
        """Some article answers it (an evaluation ticket without one measures false suggestions)."""
        return bool(self.linked_articles)
