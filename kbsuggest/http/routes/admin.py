"""The admin HTTP API of a KB: reindex, put and delete articles. Thin: ``KBAdmin`` does the work.

Operations of one KB run one at a time on a worker thread (a capacity limiter of 1 per KB), so queued
admin requests hold no threads the suggest routes need, and one KB's rebuild never queues another's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from kbsuggest.domain import ARTICLE_ID
from kbsuggest.errors import KBSuggestError
from kbsuggest.http.deps import KBName, require_admin
from kbsuggest.http.errors import error_response, responses
from kbsuggest.http.schemas import AdminResponse, SkippedFile
from kbsuggest.kbs.admin import AdminResult, KBAdmin

log = logging.getLogger("kbsuggest.admin")
_limiters: dict[str, anyio.CapacityLimiter] = {}
_limiters_lock = threading.Lock()


def _limiter(kb: str) -> anyio.CapacityLimiter:
    with _limiters_lock:
        return _limiters.setdefault(kb, anyio.CapacityLimiter(1))


async def _run(request: Request, kb: str, operation: Callable[[KBAdmin], AdminResult]) -> AdminResponse | Response:
    admin: KBAdmin | None = getattr(request.app.state, "admin", None)
    if admin is None:
        return error_response("admin_unavailable", "this process was started without an indexer: run it with "
                                                   "`kbsuggest serve`")
    try:
        result = await anyio.to_thread.run_sync(operation, admin, limiter=_limiter(kb))
    except KBSuggestError:
        raise  # the error table answers (422, 404, 409...)
    except Exception as exc:  # never a stack trace to the caller; the old index keeps serving
        log.exception("admin operation failed")
        reason = (exc.strerror or exc) if isinstance(exc, OSError) else exc  # an OSError's text names a server path
        return error_response("internal_error", f"unexpected {type(exc).__name__}: {reason}; the previous index "
                                                "is still serving")
    # an audit trail of KB changes: WARNING, so it shows without any logging configuration
    log.warning("admin %s %s/%s: %d articles, embedded %d", result.action, result.kb, result.article_id or "",
                result.articles, result.embedded)
    return AdminResponse(**{**vars(result), "skipped": [SkippedFile(path=p, reason=r) for p, r in result.skipped]})


ArticleId = Annotated[str, Path(pattern=f"^{ARTICLE_ID}$", description="The article's id (front matter `id`).",
                                openapi_examples={"article": {"value": "dark-mode"}})]
_EXAMPLE = "---\ntitle: Turn on dark mode\naudience: public\n---\nOpen **Settings → Appearance** and pick Dark.\n"
_MARKDOWN_BODY = {"requestBody": {"required": True, "description": "One Markdown article, front matter first.",
                                  "content": {"text/markdown": {"schema": {"type": "string"}, "example": _EXAMPLE}}}}


def build() -> APIRouter:
    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)],
                       responses=responses("unauthorized", "forbidden", "unknown_kb", "reindex_failed",
                                           "invalid_article", "internal_error", "admin_unavailable"))

    @router.post("/reindex", response_model=AdminResponse)
    async def reindex(request: Request, kb: KBName):
        """Rebuild the index from the KB folder and swap it in; the old one serves until then."""
        return await _run(request, kb, lambda admin: admin.reindex(kb))

    @router.put("/articles/{article_id}", response_model=AdminResponse, openapi_extra=_MARKDOWN_BODY)
    async def put_article(request: Request, kb: KBName, article_id: ArticleId):
        """Create or replace one article (the body is its Markdown); 422 if it does not parse, 409 if it would
        change another article."""
        try:
            text = (await request.body()).decode("utf-8")
        except UnicodeDecodeError as exc:
            return error_response("invalid_article", f"body: not UTF-8 text (byte {exc.start})", "body")
        return await _run(request, kb, lambda admin: admin.put_article(kb, article_id, text))

    @router.delete("/articles/{article_id}", response_model=AdminResponse, responses=responses("not_found"))
    async def delete_article(request: Request, kb: KBName, article_id: ArticleId):
        """Delete one article's file and reindex."""
        return await _run(request, kb, lambda admin: admin.delete_article(kb, article_id))

    return router
