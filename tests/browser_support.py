"""Shared pieces of the real-browser tests (tests/test_*browser*.py): the KB, a live server, Chromium, axe-core.

The KB is the fixture KB plus one article whose title is HTML, indexed with the hash embedder so
rankings are deterministic. Each test gets its own server (and service database) on a free port.
Screenshots go to ``test-artifacts/`` (gitignored). The fixtures are re-exported by tests/conftest.py.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from indexing.build import build_index
from kbsuggest.embed.hashing import HashEmbedder

from conftest import FIXTURE_KB, REPO, make_app, make_settings

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
# `make test` installs axe-core from npm here (Makefile target `axe`).
AXE = REPO / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
HTML_TITLE = "<script>alert(1)</script> shows in titles"
HTML_ARTICLE = f"""---
id: html-title
title: "{HTML_TITLE}"
url: https://help.example.test/html-title
---
Why markup in an article title shows as plain text.
"""

@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    """Settings of the fixture KB plus the HTML-titled article."""
    root = tmp_path_factory.mktemp("browser")
    source = root / "kb"
    shutil.copytree(FIXTURE_KB, source)
    (source / "html-title.md").write_text(HTML_ARTICLE)
    # The packaged calibration: a cold-start fit on the hash embedder's flat similarities makes scores near 0 or 1.
    settings = make_settings(root, min_score=0.01, calibration="packaged")
    build_index(source, settings, HashEmbedder())
    return settings


class LiveServer:
    """uvicorn in a background thread on a free localhost port."""

    def __init__(self, app) -> None:
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def serve(kb, tmp_path, **overrides) -> LiveServer:
    settings = make_settings(tmp_path, index_dir=kb.index_dir, min_score=0.01, **overrides)
    server = LiveServer(make_app(settings))
    server.settings = settings
    return server


@pytest.fixture
def live(kb, tmp_path):
    server = serve(kb, tmp_path)
    yield server
    server.stop()


@pytest.fixture
def shop(tmp_path):
    """Another origin (a customer's site on another port) serving a page that embeds the widget."""
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    site = tmp_path / "shop"
    site.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    httpd.site, httpd.url = site, f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context()
    # Article links point at a help centre that does not exist here: answer them locally.
    context.route("https://help.example.test/**", lambda route: route.fulfill(body="<title>article</title>article",
                                                                               content_type="text/html"))
    yield context
    context.close()


def open_demo(context, live):
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("dialog", lambda dialog: page.errors.append(f"dialog: {dialog.message}") or dialog.dismiss())
    page.goto(live.url + "/demo")
    return page


def type_subject(page, text):
    page.locator("#subject").press_sequentially(text, delay=20)
    options = page.locator("#subject ~ [role=listbox] [role=option]")
    return options




def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of the page as it is now, of the given impacts (id, impact, nodes' targets)."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make axe` (make test does)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "targets": [n["target"] for n in v["nodes"]]}
            for v in result["violations"] if v["impact"] in impacts]


def screenshot(page, name: str) -> Path:
    """Save a screenshot as a test artifact and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
