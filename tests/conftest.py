"""Shared fixtures: the tiny fixture KB indexed with the deterministic hash embedder, and the one app client."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from indexing.build import build_index  # noqa: E402
import learning  # noqa: E402,F401  (the package, before a test puts benchmarks/, with its learning.py, on sys.path)
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed.hashing import HashEmbedder  # noqa: E402
from kbsuggest.index.versions import kb_dir, resolve  # noqa: E402
from kbsuggest.kbs.load import load_suggester  # noqa: E402
from kbsuggest.rank.suggester import Suggester  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_KB = FIXTURES / "kb"
REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
AGENT_KEY = "agent-test-key"
ADMIN_KEY = "admin-test-key"
AGENT = {"Authorization": f"Bearer {AGENT_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = dict(index_dir=tmp_path / "index", db_path=tmp_path / "kbsuggest.db", embedder="hash",
                  min_score=0.01, agent_api_keys=[AGENT_KEY],
                  rate_limit_per_second=0)  # tests send bursts from one client; test_limits turns it on
    values.update(overrides)
    return Settings(**values)


def snapshot_dir(settings: Settings, kb: str = "default") -> Path:
    """The directory of a KB's current index version."""
    return resolve(kb_dir(settings.index_dir, kb))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory) -> Settings:
    """Settings whose default KB is the fixture KB, built once per test session."""
    settings = make_settings(tmp_path_factory.mktemp("kb"))
    build_index(FIXTURE_KB, settings, HashEmbedder())
    return settings


@pytest.fixture(scope="session")
def suggester(built_settings: Settings) -> Suggester:
    return load_suggester(built_settings, HashEmbedder())


def make_app(settings: Settings, *, writable: bool = False):
    """The app over ``settings``; ``writable`` turns the admin API on (the CLI injects the indexer)."""
    from kbsuggest.cli.context import indexer
    from kbsuggest.http.app import create_app
    from kbsuggest.kbs.registry import Registry
    from kbsuggest.store import open_store

    store = open_store(settings)
    registry = Registry(settings, HashEmbedder(), store, serving=False)
    return create_app(settings, registry, indexer=indexer() if writable else None, store=store)


def make_admin_app(tmp_path: Path, **overrides):
    """An app serving a writable copy of the fixture KB, with the admin API on (key ADMIN_KEY)."""
    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    settings = make_settings(tmp_path, **{"articles_dir": tmp_path / "kb", "admin_api_keys": [ADMIN_KEY], **overrides})
    build_index(settings.articles_dir, settings, HashEmbedder())
    return make_app(settings, writable=True)


@pytest.fixture
def client(tmp_path, built_settings):
    """A client of the fixture KB's app (read-only index, a fresh service database per test)."""
    from fastapi.testclient import TestClient

    settings = built_settings.model_copy(update={"db_path": tmp_path / "kbsuggest.db"})
    with TestClient(make_app(settings)) as client:
        yield client


@pytest.fixture
def admin_client(tmp_path):
    from fastapi.testclient import TestClient

    with TestClient(make_admin_app(tmp_path)) as client:
        yield client


from stores import backend, backend_client, postgres_url, store  # noqa: E402,F401  (the store on SQLite and PostgreSQL)
