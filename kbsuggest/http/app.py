"""The HTTP service: ``create_app(settings)``. Routes only translate; the Suggester does the work."""


import logging
import time
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from kbsuggest import __version__
from kbsuggest.http.routes.admin import router as admin_router
from kbsuggest.http.deps import caller_is_agent
from kbsuggest.config import Settings
from kbsuggest.errors import KBSuggestError
from kbsuggest.http.limits import add_limits
from kbsuggest.http.schemas import ErrorResponse, Health, Readiness, SuggestResponse
from kbsuggest.rank.suggester import Suggester
from kbsuggest.http.routes.widget import add_cors, widget_router

log = logging.getLogger("kbsuggest")


class ServiceUnavailable(Exception):
    """Raised by routes that need the index while none is loaded."""


def _error(status: int, code: str, message: str, field: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(ErrorResponse(error=code, message=message, field=field).model_dump(), status, headers=headers)


def _field_name(location: tuple) -> str:
    """``("query", "q")`` -> ``q``; ``("body", "items", 0, "id")`` -> ``items.0.id``."""
    parts = [str(p) for p in location[1:]] if location and location[0] in ("query", "body", "header", "path") else list(map(str, location))
    return ".".join(parts) or "body"


def create_app(settings: Settings | None = None, suggester: Suggester | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if app.state.suggester is None:
            try:
                app.state.suggester = Suggester.load(settings)
            except KBSuggestError as exc:  # serve anyway: /readyz and /v1/suggest explain the problem
                app.state.load_error = str(exc)
                log.error("index not loaded: %s", exc)
        yield

    app = FastAPI(
        title="kbsuggest", version=__version__, lifespan=lifespan,
        description="Suggests help-centre articles while a customer types a ticket title or a chat message.",
    )
    app.state.settings = settings
    app.state.suggester = suggester
    app.state.load_error = None
    add_limits(app, settings)
    add_cors(app, settings)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = _field_name(tuple(first.get("loc", ())))
        return _error(422, "invalid_request", f"{field}: {first.get('msg', 'invalid value')}", field)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(request: Request, exc: ServiceUnavailable) -> JSONResponse:
        return _error(503, "index_unavailable", f"no index is loaded: {app.state.load_error}")

    async def current_suggester() -> Suggester:
        if app.state.suggester is None:
            raise ServiceUnavailable()
        return app.state.suggester

    Locale = Annotated[str | None, Query(max_length=35, description="Only articles in this locale, e.g. `en`.")]
    Product = Annotated[str | None, Query(max_length=64, description="Only articles of this product.")]
    K = Annotated[int, Query(ge=1, le=settings.max_k, description="How many articles, at most.")]

    class SuggestRequest(BaseModel):
        query: str = Field(max_length=settings.max_message_chars, description="The visitor's message or ticket title.")
        k: int = Field(settings.default_k, ge=1, le=settings.max_k)
        locale: str | None = Field(None, max_length=35)
        product: str | None = Field(None, max_length=64)

    def answer(suggester: Suggester, query: str, k: int, locale: str | None, product: str | None,
               agent: bool) -> Response:
        """A ``SuggestResponse`` serialized by orjson: the Suggestions are already exactly its shape, and
        skipping FastAPI's re-validation of the return value saves a measurable share of a request."""
        started = time.perf_counter()
        found = suggester.suggest(query, k, locale=locale, product=product, include_internal=agent)
        took = (time.perf_counter() - started) * 1000
        body = {"query": query, "suggestions": [vars(s) for s in found], "took_ms": round(took, 3)}
        return Response(orjson.dumps(body), media_type="application/json")

    errors = {401: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}

    @app.get("/v1/suggest", response_model=SuggestResponse, responses=errors, tags=["suggest"])
    def suggest_get(
        suggester: Annotated[Suggester, Depends(current_suggester)],
        agent: Annotated[bool, Depends(caller_is_agent)],
        q: Annotated[str, Query(max_length=settings.max_query_chars, description="The text typed so far.")],
        k: K = settings.default_k, locale: Locale = None, product: Product = None,
    ) -> Response:
        """The best articles for a (partly typed) ticket title, best first."""
        return answer(suggester, q, k, locale, product, agent)

    @app.post("/v1/suggest", response_model=SuggestResponse, responses=errors, tags=["suggest"])
    def suggest_post(
        body: SuggestRequest,
        suggester: Annotated[Suggester, Depends(current_suggester)],
        agent: Annotated[bool, Depends(caller_is_agent)],
    ) -> Response:
        """The same for a whole chat message sent as JSON."""
        return answer(suggester, body.query, body.k, body.locale, body.product, agent)

    @app.get("/healthz", response_model=Health, tags=["ops"])
    def healthz() -> Health:
        """The process is up."""
        return Health(status="ok")

    @app.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}}, tags=["ops"])
    def readyz():
        """Ready when an index is loaded: article and chunk counts, model name."""
        suggester = app.state.suggester
        if suggester is None:
            return JSONResponse(Readiness(status="not_ready", reason=app.state.load_error).model_dump(), 503)
        m = suggester.manifest
        return Readiness(status="ready", articles=m.article_count, chunks=m.chunk_count, model=m.model,
                         index_created_at=m.created_at)

    app.include_router(admin_router)
    app.include_router(widget_router(settings))

    @app.get("/demo", response_class=HTMLResponse, include_in_schema=False)
    def demo() -> str:
        return resources.files("kbsuggest").joinpath("static/demo.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/demo")

    return app
