"""The one error module of the HTTP API: every error body is ``{"error", "message", "field"}``, built here.

``ERRORS`` is the table of codes and their statuses; exception handlers turn the domain errors, request
validation and Starlette's HTTP errors into it, and ``send_error`` writes the same body from ASGI
middleware (limits) that runs outside FastAPI. Messages never carry a server path or a traceback.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from kbsuggest.errors import (ArticleConflictError, ArticleError, ArticleNotFoundError, ConfigError,
                              IndexUnavailableError, InvalidArticleIdError, InvalidInputError, ReindexError,
                              SectionNotFoundError, StoreUnavailableError, UnknownKBError)
from kbsuggest.http.schemas import ErrorResponse

log = logging.getLogger("kbsuggest")

ERRORS: dict[str, int] = {
    "bad_request": 400,  # a body that cannot be decoded
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "unknown_kb": 404,
    "method_not_allowed": 405,
    "conflict": 409,  # the write would change another article
    "reindex_failed": 409,
    "not_configured": 409,  # the KB cannot do this (e.g. no articles folder to write to)
    "body_too_large": 413,
    "headers_too_large": 431,  # sent by the server protocol (server.py)
    "invalid_request": 422,
    "invalid_article": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "index_unavailable": 503,
    "store_unavailable": 503,
    "admin_unavailable": 503,
    "timeout": 504,
}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_BY_STATUS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def body(code: str, message: str, field: str | None = None) -> bytes:
    return orjson.dumps({"error": code, "message": message, "field": field})


def error_response(code: str, message: str, field: str | None = None, headers: dict | None = None) -> Response:
    return Response(body(code, message, field), ERRORS[code], headers=headers, media_type="application/json")


async def send_error(send, code: str, message: str, headers: dict[str, str] | None = None) -> None:
    """The same body from raw ASGI (middleware outside the app)."""
    data = body(code, message)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": ERRORS[code], "headers": raw})
    await send({"type": "http.response.body", "body": data})


def field_name(location: tuple) -> str:
    """``("query", "q")`` -> ``q``; ``("body", "items", 0, "id")`` -> ``items.0.id``."""
    parts = [str(p) for p in location[1:]] if location and location[0] in ("query", "body", "header", "path") \
        else list(map(str, location))
    return ".".join(parts) or "body"


# domain error -> (code, field)
_DOMAIN = [
    (UnknownKBError, "unknown_kb", "kb"),
    (IndexUnavailableError, "index_unavailable", None),
    (StoreUnavailableError, "store_unavailable", None),
    (ArticleError, "invalid_article", "body"),
    (SectionNotFoundError, "not_found", "section"),
    (ArticleNotFoundError, "not_found", "article_id"),
    (InvalidArticleIdError, "invalid_request", "article_id"),
    (ArticleConflictError, "conflict", "article_id"),
    (ReindexError, "reindex_failed", None),
    (ConfigError, "not_configured", None),
]


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        field = field_name(tuple(first.get("loc", ())))
        return error_response("invalid_request", f"{field}: {first.get('msg', 'invalid value')}", field)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        code = _BY_STATUS.get(exc.status_code)
        if code is None:
            code = "internal_error" if exc.status_code >= 500 else "bad_request"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        return Response(body(code, str(exc.detail)), exc.status_code, headers=headers or None,
                        media_type="application/json")

    @app.exception_handler(InvalidInputError)
    async def _input(request: Request, exc: InvalidInputError) -> Response:
        return error_response("invalid_request", str(exc), exc.field)

    for kind, code, field in _DOMAIN:
        def handler(request: Request, exc: Exception, code: str = code, field: str | None = field) -> Response:
            if code in ("reindex_failed", "index_unavailable", "store_unavailable"):
                log.error("%s", exc)
            return error_response(code, str(exc), field)
        app.add_exception_handler(kind, handler)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response("internal_error", f"unexpected {type(exc).__name__}; the error was logged")


def allowed_methods(request: Request) -> str | None:
    """Every documented method of the resource at the request's path (RFC 9110: a 405 lists them all in
    ``Allow``; Starlette's names the first matching route's only, ``GET`` for ``/v1/suggest``)."""
    paths = request.app.openapi().get("paths", {})
    methods = {method.upper() for template, operations in paths.items()
               if compile_path(template)[0].match(request.scope["path"]) for method in operations if method in _METHODS}
    return ", ".join(sorted(methods)) or None


def responses(*codes: str) -> dict[int, dict]:
    """OpenAPI ``responses`` for these error codes."""
    return {ERRORS[c]: {"model": ErrorResponse} for c in codes}
