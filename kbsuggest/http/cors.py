"""CORS per KB: a page may call a KB's API only from that KB's configured origins.

``/v1/kbs/{kb}/...`` uses KB ``kb``'s ``cors_origins``, the other ``/v1/...`` paths the default KB's; with
none configured, browsers allow same-origin calls only (no CORS headers are sent). Preflights for an
allowed origin are answered here; ``<script src>`` of ``widget.js`` needs no CORS at all.
"""

from __future__ import annotations

from collections.abc import Callable

from kbsuggest.config import DEFAULT_KB

ALLOW_METHODS = b"GET, POST"
ALLOW_HEADERS = b"content-type"
MAX_AGE = b"600"


def kb_of_path(path: str) -> str | None:
    if path.startswith("/v1/kbs/"):
        return path.split("/")[3] or None
    return DEFAULT_KB if path.startswith("/v1/") else None


class KBCors:
    def __init__(self, app, origins_of: Callable[[str], list[str]]) -> None:
        self.app, self.origins_of = app, origins_of

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers", ()))
        origin = headers.get(b"origin")
        kb = kb_of_path(scope["path"])
        if origin is None or kb is None or origin.decode("latin-1") not in self.origins_of(kb):
            return await self.app(scope, receive, send)
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"access-control-allow-origin", origin), (b"access-control-allow-methods", ALLOW_METHODS),
                (b"access-control-allow-headers", ALLOW_HEADERS), (b"access-control-max-age", MAX_AGE),
                (b"vary", b"Origin"), (b"content-length", b"0")]})
            return await send({"type": "http.response.body", "body": b""})

        async def with_cors(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"access-control-allow-origin", origin),
                                                  (b"vary", b"Origin")]}
            await send(message)

        await self.app(scope, receive, with_cors)
