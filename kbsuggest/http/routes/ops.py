"""Probes and static files: ``/healthz``, ``/readyz``, ``/widget.js``, ``/demo``."""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from kbsuggest.config import DEFAULT_KB
from kbsuggest.http.schemas import Health, KBReadiness, Readiness

WIDGET_CACHE = "public, max-age=3600"  # an hour: a new widget reaches pages quickly; ETag saves the bytes


def build() -> APIRouter:
    router = APIRouter()
    script = resources.files("kbsuggest").joinpath("static/widget.js").read_bytes()
    etag = '"' + hashlib.sha256(script).hexdigest()[:16] + '"'

    @router.get("/healthz", response_model=Health, tags=["ops"])
    async def healthz() -> Health:
        """The process is up."""
        return Health(status="ok")

    @router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}}, tags=["ops"])
    def readyz(request: Request):
        """Ready when the default KB is served and every KB that failed to load still serves a version; every KB
        with its article count, the version it serves and, if a newer one could not be loaded, why."""
        kbs = [KBReadiness(**vars(status)) for status in request.app.state.registry.status()]
        default = next((kb for kb in kbs if kb.name == DEFAULT_KB), None)
        failed = [kb for kb in kbs if kb.error and not kb.loaded]  # a stale KB still answers: the replica is up
        if default is None or not default.loaded or failed:
            reason = "; ".join(kb.error for kb in failed) or "the default KB has no index: build one with `kbsuggest index DIR`"
            return JSONResponse(Readiness(status="not_ready", reason=reason, kbs=kbs).model_dump(), 503)
        return Readiness(status="ready", articles=default.articles, chunks=default.chunks, model=default.model,
                         index_created_at=default.index_created_at, kbs=kbs)

    @router.get("/widget.js", include_in_schema=False)
    async def widget_js(if_none_match: Annotated[str | None, Header()] = None) -> Response:
        headers = {"Cache-Control": WIDGET_CACHE, "ETag": etag}
        if if_none_match == etag:
            return Response(status_code=304, headers=headers)
        return Response(script, media_type="application/javascript; charset=utf-8", headers=headers)

    @router.get("/demo", response_class=HTMLResponse, include_in_schema=False)
    def demo() -> str:
        return resources.files("kbsuggest").joinpath("static/demo.html").read_text(encoding="utf-8")

    @router.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/demo")

    return router
