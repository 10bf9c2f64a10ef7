"""HTTP edge of the widget: ``/widget.js``, ``POST /v1/events``, ``GET /v1/stats/deflection``, CORS.

Routes only translate; events are validated and stored by ``kbsuggest.events.schema`` and the figures
come from ``kbsuggest.events.deflection``.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from kbsuggest.events import deflection, schema as events
from kbsuggest.http.deps import require_agent
from kbsuggest.config import Settings
from kbsuggest.errors import InvalidPeriodError
from kbsuggest.http.schemas import ErrorResponse
from kbsuggest.db import open_db

WIDGET_CACHE = "public, max-age=3600"  # an hour: a new widget reaches pages quickly; ETag saves the bytes


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(ErrorResponse(error=code, message=message, field=field).model_dump(), status)


def add_cors(app: FastAPI, settings: Settings) -> None:
    """Let the configured origins' pages call the API; with none configured, browsers allow same origin only."""
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"], max_age=600)


class EventsDB:
    """The service database, opened on first use; one connection, used by one thread at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db = None
        self._lock = threading.Lock()

    def run(self, fn, *args):
        with self._lock:
            if self._db is None:
                self._db = open_db(self.settings.db_path, events.EVENTS_MIGRATIONS, wal=True)
            return fn(self._db, *args)


def widget_router(settings: Settings) -> APIRouter:
    router = APIRouter()
    store = EventsDB(settings)
    script = resources.files("kbsuggest").joinpath("static/widget.js").read_bytes()
    etag = '"' + hashlib.sha256(script).hexdigest()[:16] + '"'

    @router.get("/widget.js", include_in_schema=False)
    def widget_js(if_none_match: Annotated[str | None, Header()] = None) -> Response:
        headers = {"Cache-Control": WIDGET_CACHE, "ETag": etag}
        if if_none_match == etag:
            return Response(status_code=304, headers=headers)
        return Response(script, media_type="application/javascript; charset=utf-8", headers=headers)

    errors: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorResponse} for status in (401, 403, 413, 422)}

    @router.post("/v1/events", status_code=202, responses=errors, tags=["events"],
                 openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                     "schema": events.EventBatch.model_json_schema()}}}})
    async def post_events(request: Request) -> dict:
        """Store a batch of widget events. Any content type is read as JSON (``sendBeacon`` sends text/plain)."""
        limit = settings.events_max_bytes
        if int(request.headers.get("content-length") or 0) > limit:
            return _error(413, "too_large", f"body over {limit} bytes: send fewer events per batch", "body")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return _error(413, "too_large", f"body over {limit} bytes: send fewer events per batch", "body")
        try:
            batch = events.EventBatch.model_validate_json(bytes(body))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return _error(422, "invalid_request", f"{where}: {first['msg']}", where)
        if len(batch.events) > settings.events_max_batch:
            return _error(413, "too_large", f"{len(batch.events)} events in one batch; at most "
                                            f"{settings.events_max_batch}", "events")
        stored = await run_in_threadpool(store.run, events.record, batch)
        return {"stored": stored}

    @router.get("/v1/stats/deflection", response_model=deflection.DeflectionStats, responses=errors, tags=["events"])
    def deflection_stats(
        _agent: Annotated[None, Depends(require_agent)],
        start: Annotated[str | None, Query(alias="from", max_length=40, description="ISO date or date-time; default: 30 days before `to`.")] = None,
        end: Annotated[str | None, Query(alias="to", max_length=40, description="ISO date (inclusive) or date-time (exclusive); default: now.")] = None,
    ):
        """Confirmed / potential / no deflection of the widget sessions that started in the period."""
        now = datetime.now(timezone.utc)
        try:
            begin, stop = deflection.period(start, end, now)
        except InvalidPeriodError as exc:
            return _error(422, "invalid_request", str(exc), exc.field)
        window = timedelta(minutes=settings.deflection_window_minutes)
        return store.run(deflection.deflection_stats, begin, stop, window, now)

    return router
