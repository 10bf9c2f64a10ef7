"""The service store under test on both backends: SQLite (a file per test) and PostgreSQL (a schema per test).

The PostgreSQL half needs a server (``KBSUGGEST_TEST_POSTGRES``, default the machine's 127.0.0.1:5432,
database ``test``, trust auth; ``.ci/run`` starts it); without one it is skipped with the reason.
"""

from __future__ import annotations

import functools
import os
import uuid

import pytest

POSTGRES = os.environ.get("KBSUGGEST_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgres"]


@functools.cache
def postgres_unreachable() -> str | None:
    """None when the test server answers, else why not (checked once per run)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[dev]')"
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def admin_connection():
    import psycopg

    return psycopg.connect(POSTGRES, autocommit=True)


def with_options(url: str, **params: str) -> str:
    from urllib.parse import quote

    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    return url + ("&" if "?" in url else "?") + query


@pytest.fixture
def postgres_url():
    """A database URL whose tables live in a fresh schema of the test server, dropped after the test."""
    reason = postgres_unreachable()
    if reason:
        pytest.skip(f"PostgreSQL half skipped: no server at {POSTGRES.split('@')[-1]} ({reason})")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with admin_connection() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_options(POSTGRES, options=f"-csearch_path={schema}")
    finally:
        with admin_connection() as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> dict:
    """Settings overrides that put the service store on one backend (``make_settings(tmp_path, **backend)``)."""
    if request.param == "postgres":
        return {"database_url": request.getfixturevalue("postgres_url")}
    return {"db_path": tmp_path / "kbsuggest.db"}


@pytest.fixture
def store(backend, tmp_path):
    """An empty service store on each backend."""
    from kbsuggest.config import Settings
    from kbsuggest.store import open_store

    opened = open_store(Settings(index_dir=tmp_path / "index", **backend))
    yield opened
    opened.close()


@pytest.fixture
def backend_client(backend, built_settings):
    """A client of the fixture KB's app whose service store is on each backend."""
    from fastapi.testclient import TestClient

    from conftest import make_app

    with TestClient(make_app(built_settings.model_copy(update=backend))) as client:
        yield client
