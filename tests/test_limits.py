"""Limits: body size (413), per-client token bucket (429 + Retry-After), request timeout (504)."""

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from kbsuggest.http.limits import RateLimit, RequestTimeout

from conftest import make_app, make_settings


@pytest.fixture
def limited(tmp_path, built_settings):
    settings = built_settings.model_copy(update={"rate_limit_per_second": 0.001, "rate_limit_burst": 3,
                                                 "max_body_bytes": 2048, "db_path": tmp_path / "k.db"})
    with TestClient(make_app(settings)) as client:
        yield client


def test_rate_limit_is_429_with_retry_after(limited):
    statuses = [limited.get("/v1/suggest", params={"q": "password"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # a burst of 3, then one token per 1,000 s
    refused = limited.post("/v1/suggest", json={"query": "password"})
    assert (refused.status_code, refused.headers["Retry-After"], refused.json()["error"]) == (429, "1000", "rate_limited")
    assert [limited.get("/readyz").status_code for _ in range(5)] == [200] * 5  # probes are never limited


def test_token_bucket_refills_per_client():
    bucket = RateLimit(app=None, rate=2.0, burst=2)
    assert [bucket.take("a", 0.0), bucket.take("a", 0.0)] == [0.0, 0.0]
    assert bucket.take("a", 0.0) == 0.5  # empty: the next token comes in 1/rate seconds
    assert bucket.take("b", 0.0) == 0.0  # another client has its own bucket
    assert bucket.take("a", 0.5) == 0.0  # refilled by time
    assert bucket.take("a", 0.5) == 0.5


def test_bucket_memory_is_bounded(monkeypatch):
    monkeypatch.setattr("kbsuggest.http.limits.MAX_CLIENTS", 100)
    bucket = RateLimit(app=None, rate=1.0, burst=1)
    for i in range(1000):
        bucket.take(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(bucket.buckets) == 100


def test_body_over_the_limit_is_413(limited):
    response = limited.post("/v1/suggest", content=json.dumps({"query": "x" * 3000}),
                           headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["error"]) == (413, "body_too_large")


def test_chunked_body_over_the_limit_is_413(limited):
    chunks = (b"x" * 1000 for _ in range(5))  # no Content-Length: sent chunked
    response = limited.post("/v1/suggest", content=chunks, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["error"]) == (413, "body_too_large")


def test_chunked_body_under_the_limit_passes(limited):
    chunks = iter([b'{"query": "reset my ', b'password email"}'])
    response = limited.post("/v1/suggest", content=chunks, headers={"Content-Type": "application/json"})
    assert response.json()["suggestions"][0]["article_id"] == "password-reset"


def run_asgi(app, path):
    """Call an ASGI app once; return (status, JSON body)."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": [], "method": "GET"}
    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body)


async def slow_app(scope, receive, send):
    await asyncio.sleep(0.5)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b'{"ok": true}'})


def test_slow_request_is_504_and_admin_is_exempt():
    assert run_asgi(RequestTimeout(slow_app, 0.01), "/v1/suggest") == (
        504, {"error": "timeout", "message": "the request took over 0.01 s; try again", "field": None})
    assert run_asgi(RequestTimeout(slow_app, 0.01), "/v1/admin/reindex") == (200, {"ok": True})
    assert run_asgi(RequestTimeout(slow_app, 5), "/v1/suggest") == (200, {"ok": True})


def test_openapi_documents_the_limits(tmp_path):
    paths = make_app(make_settings(tmp_path, rate_limit_per_second=5)).openapi()["paths"]
    assert {"413", "429", "504"} <= set(paths["/v1/suggest"]["post"]["responses"])
    assert "413" not in paths["/v1/suggest"]["get"]["responses"]
    assert "429" not in paths["/readyz"]["get"]["responses"]
    assert "504" not in paths["/v1/admin/reindex"]["post"]["responses"]
