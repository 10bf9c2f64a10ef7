"""``GET /articles/{id}?section=`` (the widget's inline preview) and ``GET /popular`` (its zero state) of a
KB. Thin: ``index/sections.py`` and ``events/popular.py`` do the work."""

# no `from __future__ import annotations`: the routes' annotations use values of build()

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kbsuggest.config import Settings
from kbsuggest.domain import ARTICLE_ID
from kbsuggest.events.popular import popular_articles
from kbsuggest.http.deps import caller_is_agent, current_suggester
from kbsuggest.http.errors import responses
from kbsuggest.http.routes.suggest import AGENT_HEADERS, PUBLIC_HEADERS
from kbsuggest.index.sections import read_section
from kbsuggest.rank.suggester import Suggester


class ArticleSection(BaseModel):
    article_id: str
    title: str
    url: str
    locale: str
    section: str | None = Field(description="The section's heading; null for the introduction.")
    anchor: str
    text: str = Field(description="The section's plain text.")


class PopularArticle(BaseModel):
    article_id: str
    title: str
    url: str
    sessions: int = Field(description="Sessions that opened it or rated it helpful in the last 30 days (0: filler).")


class PopularResponse(BaseModel):
    locale: str | None = Field(description="The locale served (the same fallback as /suggest).")
    articles: list[PopularArticle]


def build(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["articles"])
    SuggesterDep = Annotated[Suggester, Depends(current_suggester)]
    Agent = Annotated[bool, Depends(caller_is_agent)]

    @router.get("/articles/{article_id}", response_model=ArticleSection,
                responses=responses("unauthorized", "not_found", "unknown_kb", "invalid_request", "index_unavailable"))
    def article_section(
        suggester: SuggesterDep, agent: Agent,
        article_id: Annotated[str, Path(max_length=200, pattern=f"^{ARTICLE_ID}$")],
        section: Annotated[str, Query(max_length=200, description="The section's anchor (a suggestion's `anchor`); "
                                                                  "empty or absent: the introduction.")] = "",
    ):
        """One section of an article, as text: what the widget previews when a suggestion is clicked. An internal
        article is, for a caller without an agent key, a 404 exactly like a missing one."""
        found = read_section(suggester.snapshot, article_id, section, include_internal=agent)
        body = ArticleSection(article_id=found.article.id, title=found.article.title, url=found.article.url,
                              locale=found.article.locale, section=found.heading, anchor=found.anchor, text=found.text)
        return _with_headers(body, agent)

    @router.get("/popular", response_model=PopularResponse,
                responses=responses("unauthorized", "unknown_kb", "invalid_request", "index_unavailable"))
    async def popular(
        suggester: SuggesterDep, agent: Agent, request: Request,
        k: Annotated[int, Query(ge=1, le=settings.max_k)] = 3,
        locale: Annotated[str | None, Query(max_length=35)] = None,
        product: Annotated[str | None, Query(max_length=64)] = None,
    ):
        """The articles most opened or rated helpful in the last 30 days (public ones for a public caller), for the
        widget's empty field; a KB without events gets its first articles by id."""
        served = suggester.locale_for(locale, agent)
        found = await run_in_threadpool(popular_articles, request.app.state.store, suggester.snapshot, k,
                                        datetime.now(timezone.utc), locale=served, product=product,
                                        include_internal=agent)
        return _with_headers(PopularResponse(locale=served, articles=[PopularArticle(**vars(p)) for p in found]), agent)

    return router


def _with_headers(model: BaseModel, agent: bool) -> Response:
    return Response(model.model_dump_json(), media_type="application/json",
                    headers=AGENT_HEADERS if agent else PUBLIC_HEADERS)
