"""Index publication to every replica: a version published by one process is served by the others, and one
that cannot be loaded leaves the old version serving, with the reason in /readyz."""

from __future__ import annotations

import shutil
import time

from fastapi.testclient import TestClient

from indexing.build import build_index
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.kbs.registry import Registry
from kbsuggest.kbs.watch import IndexWatcher, announce
from kbsuggest.store import open_store

from conftest import FIXTURE_KB, make_app, make_settings, snapshot_dir


def shared_index(tmp_path, built_settings, **overrides):
    shutil.copytree(built_settings.index_dir, tmp_path / "index")
    return make_settings(tmp_path, **overrides)


def replica(settings) -> Registry:
    registry = Registry(settings, HashEmbedder(), open_store(settings))
    registry.get("default")
    return registry


def served(registry: Registry) -> str:
    return registry.peek("default").snapshot.version


def publish(settings) -> str:
    """What `kbsuggest index` does on any machine sharing the index directory."""
    summary = build_index(FIXTURE_KB, settings, HashEmbedder())
    store = open_store(settings)
    announce(store, "default", summary.version)
    store.close()
    return summary.version


def test_a_replica_swaps_in_the_version_another_process_published(tmp_path, built_settings):
    settings = shared_index(tmp_path, built_settings)
    other = replica(settings)
    watcher = IndexWatcher(other, None, 0)
    assert (served(other), watcher.check()) == ("v000001", [])
    before = other.peek("default")
    assert publish(settings) == "v000002"
    assert (watcher.check(), served(other), watcher.check()) == (["default"], "v000002", [])
    assert other.peek("default") is not before  # loaded aside, swapped whole


def test_a_version_that_cannot_load_leaves_the_old_one_serving_and_readyz_says_so(tmp_path, built_settings):
    settings = shared_index(tmp_path, built_settings, index_poll_seconds=0)
    with TestClient(make_app(settings)) as client:
        watcher = client.app.state.watcher
        broken = publish(settings)
        (snapshot_dir(settings) / "faiss.index").write_bytes(b"\x00garbage" * 10)
        assert watcher.check() == []
        ready = client.get("/readyz").json()
        [kb] = ready["kbs"]
        assert (ready["status"], kb["loaded"], kb["version"]) == ("ready", True, "v000001")
        assert kb["error"].startswith(f"version {broken} not loaded (serving v000001): ")
        assert client.get("/v1/suggest", params={"q": "reset my password"}).json()["suggestions"] != []
        assert watcher.check() == []  # not retried at every pass
        fixed = publish(settings)
        assert (watcher.check(), client.get("/readyz").json()["kbs"][0]) == (["default"], {
            **kb, "version": fixed, "error": None, "index_created_at": client.get("/readyz").json()["index_created_at"]})


def test_a_replica_hears_a_publication_on_postgresql(tmp_path, built_settings, postgres_url):
    settings = shared_index(tmp_path, built_settings, database_url=postgres_url, index_poll_seconds=0)
    other = replica(settings)
    watcher = IndexWatcher(other, other.store, 0)  # notifications only: no polling
    watcher.start()
    try:
        assert watcher.listening.wait(20)
        version = publish(settings)
        deadline = time.monotonic() + 20
        while served(other) != version and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop()
        other.store.close()
    assert (served(other), [t.is_alive() for t in watcher._threads]) == (version, [False, False])


def test_the_app_starts_and_stops_its_watcher(tmp_path, built_settings):
    settings = shared_index(tmp_path, built_settings, index_poll_seconds=0.01)
    with TestClient(make_app(settings)) as client:
        threads = client.app.state.watcher._threads
        assert threads[0].is_alive()  # the poller (the SQLite store has no channel to listen on)
    assert [t.is_alive() for t in threads] == [False, False]
