"""The shapes the core and the offline jobs speak: Article, Section, Chunk, Suggestion, Ticket; and what an
article id may be."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from kbsuggest.lookalikes import LOOKALIKES

AUDIENCES = ("public", "internal")
# An id names the file ``<id>.md`` (file names are at most 255 bytes) and a URL path: bounded in UTF-8 bytes.
MAX_ID_BYTES = 200
# Its shape: a letter, digit or _ first, then those or '.' and '-'. The code-point bound follows from the byte
# bound (a path pattern can check it); validate_article_id checks the bytes.
ARTICLE_ID = rf"[\w][\w.-]{{0,{MAX_ID_BYTES - 1}}}"


def normalize_article_id(article_id: str) -> str:
    """NFKC (fullwidth, ligatures and compatibility forms become the plain letters) without surrounding space."""
    return unicodedata.normalize("NFKC", article_id).strip()


def validate_article_id(article_id: str) -> str:
    """The normalised id, or ValueError saying what is wrong with it."""
    normal = normalize_article_id(article_id)
    shown = repr(normal if len(normal) <= 60 else normal[:60] + "…")
    size = len(normal.encode("utf-8"))
    if size > MAX_ID_BYTES:
        raise ValueError(f"'id' {shown} is {size} bytes in UTF-8; the most is {MAX_ID_BYTES} (it names the file <id>.md)")
    if not re.fullmatch(ARTICLE_ID, normal):
        raise ValueError(f"'id' {shown} may hold only letters, digits, '.', '_' and '-'")
    return normal


def id_skeleton(article_id: str) -> str:
    """What the id looks like (a UTS #39 skeleton, case-blind): two ids with one skeleton are confusable.

    ``pаssword-reset`` (Cyrillic а), ``passw0rd-reset``, ``ΡASSWORD-RESET`` (Greek Ρ) and ``Password-Reset``
    all have the skeleton of ``password-reset``. Lookalikes are mapped before casefolding (Greek Η looks like
    H, its lowercase η like n) and again after it, so the skeleton of a skeleton is itself.
    """
    text = unicodedata.normalize("NFD", normalize_article_id(article_id)).translate(LOOKALIKES)
    return unicodedata.normalize("NFD", text.casefold()).translate(LOOKALIKES)


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
    warnings: tuple[str, ...] = ()  # problems that did not stop it being indexed (an unknown front-matter key)


@dataclass(frozen=True)
class ArticleInfo:
    """What serving keeps of an article (a loaded snapshot's view of it)."""

    id: str
    title: str
    url: str
    locale: str
    audience: str
    product: str


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
    # [start, end) code-point offsets of the words the query matched (kbsuggest/rank/highlight.py); only
    # the API's path asks for them, and they are presentation: two equal rankings are equal without them
    title_spans: tuple | list = field(default=(), compare=False)
    snippet_spans: tuple | list = field(default=(), compare=False)


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
    resolution: str = ""  # what the agent wrote to resolve it (gap drafts quote its most common sentences)
    reopens: int = 0  # times it was reopened after a resolution (drift alarms)

    @property
    def resolved(self) -> bool:
        return self.status in RESOLVED_STATUSES

    @property
    def answerable(self) -> bool:
        """Some article answers it (an evaluation ticket without one measures false suggestions)."""
        return bool(self.linked_articles)
