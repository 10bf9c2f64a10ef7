"""Abuse limits as small ASGI middleware: request body size, per-client rate, request time.

Each refusal is the API's JSON error body. Health probes are never rate limited; admin operations
(which may rebuild the index for longer than any query should take) have no timeout.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections import OrderedDict

from kbsuggest.config import Settings
from kbsuggest.http.errors import send_error
from kbsuggest.http.shared_limits import RedisBuckets

EXEMPT_FROM_RATE = ("/healthz", "/readyz")


def exempt_from_timeout(path: str) -> bool:
    """Admin operations (``/v1/admin/...``, ``/v1/kbs/{kb}/admin/...``) may rebuild a whole index."""
    return path.startswith("/v1/admin/") or (path.startswith("/v1/kbs/") and "/admin/" in path)
MAX_CLIENTS = 10_000  # buckets kept; the least recently seen client is forgotten first


class BodySizeLimit:
    """413 when the declared Content-Length, or a chunked body as it arrives, exceeds ``limit``."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", ())) if scope["type"] == "http" else {}
        length = headers.get(b"content-length")
        if b"transfer-encoding" not in headers or length is not None:  # the server enforces Content-Length
            if length and length.isdigit() and int(length) > self.limit:
                return await send_error(send, "body_too_large", f"the request body is over {self.limit} bytes")
            return await self.app(scope, receive, send)
        chunks, size, more = [], 0, True  # chunked: read it all (at most limit bytes), then replay it
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size, more = size + len(chunks[-1]), message.get("more_body", False)
            if size > self.limit:
                return await send_error(send, "body_too_large", f"the request body is over {self.limit} bytes")
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replayed():
            return replay.pop() if replay else await receive()

        await self.app(scope, replayed, send)


class RateLimit:
    """A token bucket per client address: ``rate`` requests per second, bursts of ``burst``.

    The client is the TCP peer, unless the peer is one of ``trusted`` proxies: then it is the right-most
    ``X-Forwarded-For`` address that is not itself a trusted proxy (a client cannot choose its bucket by
    sending the header itself). With ``redis_url`` the buckets are the fleet's (``shared_limits.py``); these
    per-process ones decide while Redis is unavailable."""

    def __init__(self, app, rate: float, burst: int, trusted: list[str] | None = None,
                 redis_url: str | None = None) -> None:
        self.app, self.rate, self.burst = app, rate, burst
        self.shared = RedisBuckets(redis_url, rate, burst) if redis_url else None
        self.trusted = [ipaddress.ip_network(t, strict=False) for t in (trusted or [])]
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)

    def take(self, client: str, now: float) -> float:
        """Take a token; return 0 if one was there, else the seconds until one will be."""
        tokens, at = self.buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self.buckets[client] = (tokens - 1 if tokens >= 1 else tokens, now)
        if len(self.buckets) > MAX_CLIENTS:
            self.buckets.popitem(last=False)
        return wait

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def client_of(self, scope) -> str:
        peer = (scope.get("client") or ("unknown",))[0]
        if not self.trusted or not self._is_trusted(peer):
            return peer
        forwarded = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
        hops = [h.strip() for value in forwarded for h in value.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return peer

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in EXEMPT_FROM_RATE:
            return await self.app(scope, receive, send)
        client = self.client_of(scope)
        wait = await self.shared.take(client) if self.shared else None
        if wait is None:
            wait = self.take(client, time.monotonic())  # no await in between: the event loop serialises this
        if wait:
            retry = max(1, math.ceil(wait))
            return await send_error(send, "rate_limited", f"too many requests: retry in {retry} s",
                                    {"Retry-After": str(retry)})
        await self.app(scope, receive, send)


class RequestTimeout:
    """504 when the response has not started after ``seconds``.

    The app runs as its own task: a synchronous route holds a worker thread that cannot be
    interrupted, so the caller is answered at once and the late response is dropped.
    """

    def __init__(self, app, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or exempt_from_timeout(scope["path"]):
            return await self.app(scope, receive, send)
        started = timed_out = False

        async def guarded_send(message):
            nonlocal started
            if timed_out:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # never "exception was never retrieved"
        done, _ = await asyncio.wait({task}, timeout=self.seconds)
        if done or started:
            return await task
        timed_out = True
        task.cancel()
        await send_error(send, "timeout", f"the request took over {self.seconds:g} s; try again")


def add_limits(app, settings: Settings) -> None:
    """Install the limits configured in ``settings``; the rate limit is outermost (cheapest refusal)."""
    if settings.request_timeout_seconds:
        app.add_middleware(RequestTimeout, seconds=settings.request_timeout_seconds)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    if settings.rate_limit_per_second:
        app.add_middleware(RateLimit, rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst,
                           trusted=settings.trusted_proxies, redis_url=settings.redis_url)
    _document(app)


def _document(app) -> None:
    """Add the responses given outside the routes to the OpenAPI spec (clients and fuzzers read it): the
    limits', and FastAPI's 400 for a body it cannot decode."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
            for path, operations in schema.get("paths", {}).items():
                for operation in operations.values():
                    responses = operation.setdefault("responses", {})
                    if "requestBody" in operation:
                        responses.setdefault("400", {"description": "Body cannot be decoded", "content": error})
                        responses.setdefault("413", {"description": "Request body too large", "content": error})
                    if path not in EXEMPT_FROM_RATE:
                        responses.setdefault("429", {"description": "Rate limited; see Retry-After", "content": error,
                                                     "headers": {"Retry-After": {"schema": {"type": "integer"}}}})
                    if not exempt_from_timeout(path):
                        responses.setdefault("504", {"description": "Request timed out", "content": error})
        return app.openapi_schema

    app.openapi = openapi
