"""The shapes both indexing and serving speak: Article, Section, Chunk."""

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


@dataclass(frozen=True)
class Suggestion:
    """One article suggested for a query: exactly the shape the API returns."""

    article_id: str
    title: str
    url: str
    section: str | None  # heading of the matching section; None when it is the article's introduction
    anchor: str
    snippet: str
    score: float  # calibrated probability that the article answers the query (kbsuggest/rank/calibration.py)
    similarity: float = 0.0  # raw cosine similarity between the query and the matching chunk
