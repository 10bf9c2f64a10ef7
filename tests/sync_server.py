"""A local HTTP server that replays a help desk API's documented answers from fixture files (no internet in
tests). A request is routed by its path and its paging parameters (``page``, ``page[after]``); ``{base}`` in a
fixture becomes the server's own address. ``script`` queues answers ahead of the fixtures (a 429, a 401, a body
that is not JSON), and every request is recorded with its Authorization header."""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGING = ("page", "page[after]")


def route(path_and_query: str) -> str:
    parts = urllib.parse.urlsplit(path_and_query)
    paging = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k in PAGING]
    return parts.path + ("?" + urllib.parse.urlencode(paging, safe="[]") if paging else "")


class ReplayServer:
    def __init__(self, fixtures: Path, routes: dict[str, str | tuple[str, dict]]) -> None:
        """``routes``: route -> fixture file name, or (file name, extra headers) ("{base}" expanded in them)."""
        self.fixtures, self.routes = Path(fixtures), dict(routes)
        self.script: dict[str, list[tuple[int, dict, bytes]]] = {}
        self.requests: list[tuple[str, str]] = []  # (route, Authorization)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the stdlib's name)
                key = route(self.path)
                server.requests.append((key, self.headers.get("Authorization", "")))
                status, headers, body = server.answer(key)
                self.send_response(status)
                for name, value in {"Content-Type": "application/json; charset=utf-8", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, key: str) -> tuple[int, dict, bytes]:
        if self.script.get(key):
            return self.script[key].pop(0)
        found = self.routes.get(key)
        if found is None:
            return 404, {}, b'{"error": "RecordNotFound", "description": "Not found"}'
        name, headers = found if isinstance(found, tuple) else (found, {})
        text = (self.fixtures / name).read_text(encoding="utf-8").replace("{base}", self.base)
        return 200, {k: v.replace("{base}", self.base) for k, v in headers.items()}, text.encode()

    def __enter__(self) -> "ReplayServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
