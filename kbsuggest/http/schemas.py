"""Request and response bodies of the HTTP API (what OpenAPI documents at /docs)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SuggestionOut(BaseModel):
    article_id: str = Field(description="Stable id of the article (front matter `id`).")
    title: str
    url: str
    section: str | None = Field(description="Heading of the best-matching section; null for the introduction.")
    anchor: str = Field(description="Anchor of that section in the article page; empty for the top.")
    snippet: str = Field(description="The start of the matching section's text.")
    score: float = Field(description="Calibrated probability (0-1) that the article answers the query.")
    similarity: float = Field(description="Raw cosine similarity between the query and the matching section.")
    title_spans: list[list[int]] = Field(default_factory=list, description=(
        "`[start, end)` offsets (Unicode code points) of the words of `title` the query matched, to highlight."))
    snippet_spans: list[list[int]] = Field(default_factory=list, description="The same for `snippet`.")


class SuggestResponse(BaseModel):
    query: str
    locale: str | None = Field(None, description=(
        "The locale served: the one asked for, else its language (`de-DE` -> `de`), else the KB's default; "
        "null when none was asked for."))
    suggestions: list[SuggestionOut]
    took_ms: float = Field(description="Server time spent on this suggestion, in milliseconds.")


class ErrorResponse(BaseModel):
    error: str = Field(description="Machine-readable error code.")
    message: str = Field(description="What went wrong and what to do, for a person.")
    field: str | None = Field(None, description="The request field at fault, when there is one.")


class Health(BaseModel):
    status: str


class KBReadiness(BaseModel):
    name: str
    loaded: bool = Field(description="Loaded in this process (KBs load on their first query).")
    articles: int | None = None
    chunks: int | None = None
    model: str | None = None
    version: str | None = Field(None, description="The index version served.")
    index_created_at: str | None = None
    error: str | None = Field(None, description="Why the KB's index could not be (re)loaded; when `loaded`, `version` is the older version still served.")


class Readiness(BaseModel):
    status: str = Field(description="`ready` when the default KB is served and no KB is left without an index (one that could not load a newer version still serves its old one), else `not_ready`.")
    articles: int | None = Field(None, description="The default KB's articles (as the other fields below).")
    chunks: int | None = None
    model: str | None = None
    index_created_at: str | None = None
    reason: str | None = Field(None, description="Why the service is not ready.")
    kbs: list[KBReadiness] = Field(default_factory=list, description="Every KB this process answers for.")


class SkippedFile(BaseModel):
    path: str
    reason: str


class AdminResponse(BaseModel):
    action: str = Field(description="`reindex`, `put` or `delete`.")
    kb: str
    article_id: str | None
    articles: int = Field(description="Articles in the index now serving.")
    chunks: int
    embedded: int = Field(description="Articles embedded by this build (the others kept their vectors).")
    reused: int
    skipped: list[SkippedFile] = Field(description="Files of the KB folder that could not be indexed, and why.")
    version: str = Field(description="The index version now serving.")
    index_created_at: str
    seconds: float
