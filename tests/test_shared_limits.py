"""Fleet-wide rate limits through Redis (127.0.0.1:6379 here; skipped with the reason when unreachable), and
an API that keeps answering, on its per-process buckets, when Redis is down."""

from __future__ import annotations

import functools
import logging
import os
import uuid

import pytest
from fastapi.testclient import TestClient

from kbsuggest.http import shared_limits

from conftest import make_app, make_settings

REDIS = os.environ.get("KBSUGGEST_TEST_REDIS", "redis://127.0.0.1:6379/0")


@functools.cache
def redis_unreachable() -> str | None:
    try:
        import redis
    except ImportError:
        return "redis is not installed (pip install -e '.[dev]')"
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return str(exc)
    return None


@pytest.fixture
def prefix(monkeypatch):
    """Buckets of this test only."""
    key = f"kbsuggest-test:{uuid.uuid4().hex}:"
    monkeypatch.setattr(shared_limits, "PREFIX", key)
    return key


def replica(tmp_path, built_settings, name: str, redis_url: str) -> TestClient:
    settings = make_settings(tmp_path / name, index_dir=built_settings.index_dir, rate_limit_per_second=0.01,
                             rate_limit_burst=3, redis_url=redis_url)
    return TestClient(make_app(settings))


def statuses(client: TestClient, n: int) -> list[int]:
    return [client.get("/v1/suggest", params={"q": "reset password"}).status_code for _ in range(n)]


def test_two_replicas_share_one_bucket_per_client(tmp_path, built_settings, prefix):
    if redis_unreachable():
        pytest.skip(f"Redis half skipped: no server at {REDIS} ({redis_unreachable()})")
    with replica(tmp_path, built_settings, "a", REDIS) as a, replica(tmp_path, built_settings, "b", REDIS) as b:
        assert (statuses(a, 2), statuses(b, 1), statuses(b, 1), statuses(a, 1)) == ([200, 200], [200], [429], [429])
        refused = b.get("/v1/suggest", params={"q": "reset password"})
        assert (refused.json()["error"], int(refused.headers["retry-after"]) >= 1) == ("rate_limited", True)
    import redis

    ttl = redis.Redis.from_url(REDIS).ttl(prefix + "testclient")
    assert 0 < ttl <= 301  # a bucket expires once it would be full again (3 tokens at 0.01/s)


def test_a_redis_outage_falls_back_to_each_replicas_own_bucket(tmp_path, built_settings, prefix, caplog):
    with caplog.at_level(logging.WARNING, logger="kbsuggest"):
        with replica(tmp_path, built_settings, "a", "redis://127.0.0.1:9/0") as a:  # nothing listens on port 9
            assert statuses(a, 4) == [200, 200, 200, 429]
    warnings = [r.getMessage() for r in caplog.records if "Redis" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("rate limits are per process until Redis is back")
