"""Running the app under uvicorn with the limits a public endpoint needs before the app sees a request.

uvicorn's httptools protocol accepts headers of any size (a 50 MB header was answered 200) and never
times out a connection that sends half a request (3,000 such connections stayed open). ``GuardedHttp``
adds, per connection:
- a bound on the request line plus headers (``KBSUGGEST_MAX_HEADER_BYTES``): 431, JSON body, closed;
- a header deadline (``KBSUGGEST_HEADER_TIMEOUT_SECONDS``) from the connection's start or the first
  byte of each request to the end of its headers: past it the connection is closed;
- its parse errors answer with the API's JSON error body instead of text.
Idle keep-alive connections are closed after ``KBSUGGEST_KEEP_ALIVE_SECONDS`` (uvicorn's own timer).
Forwarded headers are never trusted by uvicorn itself: ``limits.RateLimit`` reads them from
``KBSUGGEST_TRUSTED_PROXIES`` only.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kbsuggest.config import Settings
from kbsuggest.http.errors import body


class HeadersTooLarge(Exception):
    pass


class GuardedHttp(HttpToolsProtocol):
    max_header_bytes = 16384
    header_timeout = 10.0

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_bytes = 0
        self._too_large = False
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._arm()

    def _count(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > self.max_header_bytes:
            self._too_large = True
            raise HeadersTooLarge()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        status, code, message = (
            (b"431 Request Header Fields Too Large", "headers_too_large",
             f"the request line and headers are over {self.max_header_bytes} bytes")
            if self._too_large else (b"400 Bad Request", "bad_request", "invalid HTTP request"))
        data = body(code, message)
        self.transport.write(b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\ncontent-length: "
                             + str(len(data)).encode() + b"\r\nconnection: close\r\n\r\n" + data)
        self.transport.close()


def protocol_for(settings: Settings) -> type[GuardedHttp]:
    return type("ConfiguredGuardedHttp", (GuardedHttp,), {
        "max_header_bytes": settings.max_header_bytes, "header_timeout": settings.header_timeout_seconds})


def server_config(app, settings: Settings, **overrides):
    """The uvicorn configuration ``run`` serves with (tests start the same one on a free port)."""
    import uvicorn

    options = dict(host=settings.host, port=settings.port, log_level="info", access_log=settings.access_log,
                   http=protocol_for(settings), proxy_headers=False, timeout_keep_alive=settings.keep_alive_seconds,
                   server_header=False)
    return uvicorn.Config(app, **{**options, **overrides})


def run(app, settings: Settings) -> None:
    import uvicorn

    uvicorn.Server(server_config(app, settings)).run()
