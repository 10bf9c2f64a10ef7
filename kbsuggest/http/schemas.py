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


class SuggestResponse(BaseModel):
    query: str
    suggestions: list[SuggestionOut]
    took_ms: float = Field(description="Server time spent on this suggestion, in milliseconds.")


class ErrorResponse(BaseModel):
    error: str = Field(description="Machine-readable error code.")
    message: str = Field(description="What went wrong and what to do, for a person.")
    field: str | None = Field(None, description="The request field at fault, when there is one.")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str = Field(description="`ready`, or `not_ready` while no index can be served.")
    articles: int | None = None
    chunks: int | None = None
    model: str | None = None
    index_created_at: str | None = None
    reason: str | None = Field(None, description="Why the service is not ready.")
