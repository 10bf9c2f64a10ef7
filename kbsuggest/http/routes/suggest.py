"""``GET|POST /suggest`` of a KB. Thin: the Suggester does the work."""

# no `from __future__ import annotations`: the routes' annotations use values of build()

import time
from typing import Annotated, Literal

import anyio
import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from kbsuggest.config import Settings
from kbsuggest.http.deps import caller_is_agent, current_suggester, suggest_limiter
from kbsuggest.http.errors import responses
from kbsuggest.http.schemas import SuggestResponse
from kbsuggest.jsontypes import json_int
from kbsuggest.rank.suggester import Suggester

AGENT_HEADERS = {"Cache-Control": "private, no-store", "Vary": "Authorization"}  # never in a shared cache
PUBLIC_HEADERS = {"Vary": "Authorization"}
MODE_HELP = ("The surface asking, whose threshold applies (fitted per KB): `form` (a ticket form: recall, with at most "
             "20% false suggestions on unanswerable text) or `chat` (a chat widget: precision at least 0.8).")


def answer(suggester: Suggester, query: str, k: int, locale: str | None, product: str | None, agent: bool,
           mode: str = "form") -> Response:
    """A ``SuggestResponse`` serialized by orjson: the Suggestions are already exactly its shape, and
    skipping FastAPI's re-validation of the return value saves a measurable share of a request."""
    started = time.perf_counter()
    locale = suggester.locale_for(locale, agent)  # de-DE -> de -> the KB's default
    found = suggester.suggest(query, k, locale=locale, product=product, include_internal=agent, mode=mode)
    took = (time.perf_counter() - started) * 1000
    data = {"query": query, "locale": locale, "suggestions": [vars(s) for s in found], "took_ms": round(took, 3)}
    return Response(orjson.dumps(data), media_type="application/json",
                    headers=AGENT_HEADERS if agent else PUBLIC_HEADERS)


async def answer_in_turn(request: Request, *args) -> Response:
    """``answer`` on a worker thread, at most ``suggest_concurrency`` at once, the others in arrival order: with
    every request in flight at once (the thread pool's 40), each took as long as all of them together on 2 cores
    (``benchmarks/latency.py --quick``, 50 typists: HTTP p99 15.3 / 23.7 / 18.7 ms with 40, 13.7 / 24.7 / 13.3
    with 2, p95 lower in every pair)."""
    return await anyio.to_thread.run_sync(answer, *args, limiter=suggest_limiter(request))


def build(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["suggest"])
    Locale = Annotated[str | None, Query(max_length=35, description=(
        "Articles in this locale, e.g. `de-DE`; else its language (`de`), else the KB's default locale."))]
    Product = Annotated[str | None, Query(max_length=64, description="Only articles of this product.")]
    K = Annotated[int, Query(ge=1, le=settings.max_k, description="How many articles, at most.")]
    Mode = Annotated[Literal["form", "chat"], Query(description=MODE_HELP)]
    SuggesterDep = Annotated[Suggester, Depends(current_suggester)]
    Agent = Annotated[bool, Depends(caller_is_agent)]

    class SuggestRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")  # unknown fields are refused, and "k": true (json_int)
        query: str = Field(max_length=settings.max_message_chars, description="The visitor's message or ticket title.")
        k: json_int(ge=1, le=settings.max_k) = settings.default_k
        locale: str | None = Field(None, max_length=35)
        product: str | None = Field(None, max_length=64)
        mode: Literal["form", "chat"] = Field("form", description=MODE_HELP)

    errors = responses("unauthorized", "unknown_kb", "invalid_request", "index_unavailable")

    @router.get("/suggest", response_model=SuggestResponse, responses=errors)
    async def suggest_get(request: Request, suggester: SuggesterDep, agent: Agent,
                          q: Annotated[str, Query(max_length=settings.max_query_chars,
                                                  description="The text typed so far.")],
                          k: K = settings.default_k, locale: Locale = None, product: Product = None,
                          mode: Mode = "form") -> Response:
        """The best articles for a (partly typed) ticket title, best first."""
        return await answer_in_turn(request, suggester, q, k, locale, product, agent, mode)

    @router.post("/suggest", response_model=SuggestResponse, responses=errors)
    async def suggest_post(request: Request, body: SuggestRequest, suggester: SuggesterDep, agent: Agent) -> Response:
        """The same for a whole chat message sent as JSON."""
        return await answer_in_turn(request, suggester, body.query, body.k, body.locale, body.product, agent,
                                    body.mode)

    return router
