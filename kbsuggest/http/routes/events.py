"""``POST /events`` (widget events) and ``GET /stats/deflection`` of a KB. Thin: ``kbsuggest.events`` does the work."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from kbsuggest.config import Settings
from kbsuggest.events import deflection, schema
from kbsuggest.http.deps import KBName, kb_config, require_agent
from kbsuggest.http.errors import error_response, responses
from kbsuggest.http.routes.suggest import AGENT_HEADERS

# The reporting period of /stats/deflection and /dashboard (kbsuggest.events.deflection.period reads them).
PeriodFrom = Annotated[str | None, Query(alias="from", max_length=40, description="ISO date or date-time; default: 30 days before `to`.")]
PeriodTo = Annotated[str | None, Query(alias="to", max_length=40, description="ISO date (inclusive) or date-time (exclusive); default: now.")]
EVENTS_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/EventBatch"}},
    "text/plain": {"schema": {"$ref": "#/components/schemas/EventBatch"}}}}}


def build(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["events"])

    @router.post("/events", status_code=202, openapi_extra=EVENTS_BODY,
                 responses=responses("unknown_kb", "body_too_large", "invalid_request", "store_unavailable"),
                 dependencies=[Depends(kb_config)])
    async def post_events(request: Request, kb: KBName) -> dict:
        """Store a batch of widget events. Any content type is read as JSON (``sendBeacon`` sends text/plain)."""
        limit = settings.events_max_bytes
        if int(request.headers.get("content-length") or 0) > limit:
            return error_response("body_too_large", f"body over {limit} bytes: send fewer events per batch", "body")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return error_response("body_too_large", f"body over {limit} bytes: send fewer events per batch", "body")
        try:
            batch = schema.EventBatch.model_validate_json(bytes(body))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return error_response("invalid_request", f"{where}: {first['msg']}", where)
        if len(batch.events) > settings.events_max_batch:
            return error_response("body_too_large", f"{len(batch.events)} events in one batch; at most "
                                                    f"{settings.events_max_batch}", "events")
        stored = await run_in_threadpool(schema.record, request.app.state.store, kb, batch)
        return {"stored": stored}

    @router.get("/stats/deflection", response_model=deflection.DeflectionStats, dependencies=[Depends(require_agent)],
                responses=responses("unauthorized", "forbidden", "unknown_kb", "invalid_request", "store_unavailable"))
    def deflection_stats(
        request: Request, response: Response, kb: KBName, start: PeriodFrom = None, end: PeriodTo = None):
        """Confirmed / potential / no deflection of the widget sessions that started in the period."""
        now = datetime.now(timezone.utc)
        begin, stop = deflection.period(start, end, now)
        window = timedelta(minutes=settings.deflection_window_minutes)
        response.headers.update(AGENT_HEADERS)  # what visitors typed, for this KB's agents: never in a shared cache
        return deflection.deflection_stats(request.app.state.store, kb, begin, stop, window, now)

    return router
