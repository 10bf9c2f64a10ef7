"""The admin HTTP API: reindex, put and delete articles. Thin: ``KBAdmin`` does the work.

Operations run one at a time on a worker thread (an anyio limiter of 1), so queued admin requests
hold no threads the suggest routes need; the event loop keeps serving while an index builds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kbsuggest.kbs.admin import AdminResult, ArticleNotFoundError, KBAdmin, ReindexError
from kbsuggest.http.deps import require_admin
from kbsuggest.domain import ARTICLE_ID
from kbsuggest.errors import ArticleError
from kbsuggest.http.schemas import ErrorResponse

log = logging.getLogger("kbsuggest.kbs.admin")
_create_lock = threading.Lock()


class SkippedFile(BaseModel):
    path: str
    reason: str


class AdminResponse(BaseModel):
    action: str = Field(description="`reindex`, `put` or `delete`.")
    article_id: str | None
    articles: int = Field(description="Articles in the index now serving.")
    chunks: int
    embedded: int = Field(description="Articles embedded by this build (the others kept their vectors).")
    reused: int
    skipped: list[SkippedFile] = Field(description="Files of the KB folder that could not be indexed, and why.")
    index_created_at: str
    seconds: float


def _json_error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(ErrorResponse(error=code, message=message, field=field).model_dump(), status)


def _admin(request: Request) -> tuple[KBAdmin | None, anyio.CapacityLimiter | None]:
    state = request.app.state
    with _create_lock:
        if getattr(state, "admin", None) is None and getattr(state, "indexer", None) is not None:
            state.admin = KBAdmin(state.settings, state.indexer, state)
            state.admin_limiter = anyio.CapacityLimiter(1)
    return getattr(state, "admin", None), getattr(state, "admin_limiter", None)


async def _run(request: Request, operation: Callable[[KBAdmin], AdminResult]) -> AdminResponse | JSONResponse:
    admin, limiter = _admin(request)
    if admin is None:
        return _json_error(503, "admin_unavailable",
                           "this process was started without an indexer: run it with `kbsuggest serve`")
    try:
        result = await anyio.to_thread.run_sync(operation, admin, limiter=limiter)
    except ArticleError as exc:
        return _json_error(422, "invalid_article", str(exc), "body")
    except ArticleNotFoundError as exc:
        return _json_error(404, "not_found", str(exc), "article_id")
    except ReindexError as exc:
        log.error("%s", exc)
        return _json_error(409, "reindex_failed", str(exc))
    except Exception as exc:  # never a stack trace to the caller; the old index keeps serving
        log.exception("admin operation failed")
        return _json_error(500, "reindex_failed",
                           f"unexpected {type(exc).__name__}: {exc}; the previous index is still serving")
    # an audit trail of KB changes: WARNING, so it shows without any logging configuration
    log.warning("admin %s %s: %d articles, embedded %d", result.action, result.article_id or "", result.articles,
                result.embedded)
    return AdminResponse(**{**vars(result), "skipped": [SkippedFile(path=p, reason=r) for p, r in result.skipped]})


_errors = {code: {"model": ErrorResponse} for code in (401, 403, 409, 422, 500, 503)}
ArticleId = Annotated[str, Path(pattern=f"^{ARTICLE_ID}$", description="The article's id (front matter `id`).",
                                openapi_examples={"article": {"value": "dark-mode"}})]
_EXAMPLE = "---\ntitle: Turn on dark mode\nproduct: tallyo\n---\nOpen **Settings → Appearance** and pick Dark.\n"
_markdown_body = {"requestBody": {"required": True, "description": "One Markdown article, front matter first.",
                                  "content": {"text/markdown": {"schema": {"type": "string"}, "example": _EXAMPLE}}}}

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)], responses=_errors)


@router.post("/reindex", response_model=AdminResponse)
async def reindex(request: Request):
    """Rebuild the index from the KB folder and swap it in; the old one serves until then."""
    return await _run(request, KBAdmin.reindex)


@router.put("/articles/{article_id}", response_model=AdminResponse, openapi_extra=_markdown_body)
async def put_article(request: Request, article_id: ArticleId):
    """Create or replace one article (the body is its Markdown); refused with 422 if it does not parse."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        return _json_error(422, "invalid_article", f"body: not UTF-8 text (byte {exc.start})", "body")
    return await _run(request, lambda admin: admin.put_article(article_id, text))


@router.delete("/articles/{article_id}", response_model=AdminResponse, responses={404: {"model": ErrorResponse}})
async def delete_article(request: Request, article_id: ArticleId):
    """Delete one article's file and reindex."""
    return await _run(request, lambda admin: admin.delete_article(article_id))
