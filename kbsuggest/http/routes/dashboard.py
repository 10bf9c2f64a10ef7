"""``GET /dashboard`` (the page) and its data, ``GET /dashboard`` and ``/dashboard/{table}.csv`` of a KB (agents
only: they quote what visitors typed). Thin: ``kbsuggest.events.dashboard`` does the work."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from kbsuggest.config import Settings
from kbsuggest.errors import IndexUnavailableError
from kbsuggest.events import dashboard as board, deflection
from kbsuggest.http.deps import KBName, require_agent
from kbsuggest.http.errors import responses
from kbsuggest.http.routes.events import PeriodFrom, PeriodTo
from kbsuggest.http.routes.suggest import AGENT_HEADERS

Table = Literal[board.TABLES]  # type: ignore[valid-type]


def _titles(request: Request, kb: str):
    """Article id -> title from the KB's served snapshot (no titles when it has none)."""
    try:
        articles = request.app.state.registry.get(kb).articles
    except IndexUnavailableError:
        return lambda article_id: ""
    titles = {a.id: a.title for a in articles}
    return lambda article_id: titles.get(article_id, "")


def build(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["dashboard"])
    errors = responses("unauthorized", "forbidden", "unknown_kb", "invalid_request", "store_unavailable")
    window = timedelta(minutes=settings.deflection_window_minutes)

    def data(request: Request, kb: str, start: str | None, end: str | None, gaps: int | None = board.TOP_GAPS) -> dict:
        now = datetime.now(timezone.utc)
        begin, stop = deflection.period(start, end, now)
        figures = board.dashboard(request.app.state.store, kb, begin, stop, window, now, _titles(request, kb), gaps)
        return figures | {"kbs": request.app.state.registry.names()}

    @router.get("/dashboard", dependencies=[Depends(require_agent)], responses=errors)
    def dashboard_data(request: Request, response: Response, kb: KBName, start: PeriodFrom = None,
                       end: PeriodTo = None) -> dict:
        """The dashboard's figures for the period: the deflection of `/stats/deflection` and its breakdowns
        (weekly, form/chat, locale, product), top articles, unanswered and "still need help" queries, the
        latest gap-mining run's top gaps and the latest offline evaluation."""
        response.headers.update(AGENT_HEADERS)
        return data(request, kb, start, end)

    @router.get("/dashboard/{table}.csv", dependencies=[Depends(require_agent)], responses=errors,
                response_class=Response)
    def dashboard_csv(request: Request, kb: KBName, table: Annotated[Table, Path(description="Which table.")],
                      start: PeriodFrom = None, end: PeriodTo = None) -> Response:
        """One of the dashboard's tables as CSV (`gaps`: every gap of the latest run)."""
        text = board.csv_text(data(request, kb, start, end, gaps=None), table)
        return Response(text, media_type="text/csv; charset=utf-8", headers={
            **AGENT_HEADERS, "Content-Disposition": f'attachment; filename="{kb}-{table}.csv"'})

    return router


def page_router() -> APIRouter:
    router = APIRouter()

    @router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    def dashboard_page() -> Response:
        html = resources.files("kbsuggest").joinpath("static/dashboard.html").read_text(encoding="utf-8")
        # the page holds no data (it fetches it with the agent's key), but never frame it elsewhere
        return HTMLResponse(html, headers={"X-Frame-Options": "DENY", "Cache-Control": "no-cache"})

    return router
