"""Shared fixtures: the tiny fixture KB indexed with the deterministic hash embedder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from indexing.build import build_index  # noqa: E402
from kbsuggest.config import Settings  # noqa: E402
from kbsuggest.embed.hashing import HashEmbedder  # noqa: E402
from kbsuggest.rank.suggester import Suggester  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_KB = FIXTURES / "kb"
REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
AGENT_KEY = "agent-test-key"


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = dict(index_dir=tmp_path / "index", db_path=tmp_path / "kbsuggest.db", embedder="hash",
                  min_score=0.01, agent_api_keys=[AGENT_KEY],
                  rate_limit_per_second=0)  # tests send bursts from one client; test_limits turns it on
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory) -> Settings:
    """Settings whose index_dir holds the fixture KB, built once per test session."""
    settings = make_settings(tmp_path_factory.mktemp("kb"))
    build_index(FIXTURE_KB, settings, HashEmbedder())
    return settings


@pytest.fixture(scope="session")
def suggester(built_settings: Settings) -> Suggester:
    return Suggester.load(built_settings, HashEmbedder())


ADMIN_KEY = "admin-test-key"


def make_admin_app(tmp_path: Path, **overrides):
    """An app serving a writable copy of the fixture KB, with the admin API on (key ADMIN_KEY)."""
    import shutil

    from kbsuggest.http.app import create_app
    from kbsuggest.cli.context import indexer

    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    settings = make_settings(tmp_path, **{"articles_dir": tmp_path / "kb", "admin_api_keys": [ADMIN_KEY], **overrides})
    build_index(settings.articles_dir, settings, HashEmbedder())
    app = create_app(settings, Suggester.load(settings, HashEmbedder()))
    app.state.indexer = indexer()
    return app
