"""Degraded start: without a usable index the service still starts, says why, and never shows a trace."""

import shutil
import sqlite3

import pytest
from fastapi.testclient import TestClient

from conftest import make_app, make_settings, snapshot_dir

CORRUPTIONS = {
    "missing": lambda d: shutil.rmtree(d.parent.parent),
    "garbage faiss.index": lambda d: (d / "faiss.index").write_bytes(b"\x00garbage" * 10),
    "truncated faiss.index": lambda d: (d / "faiss.index").write_bytes((d / "faiss.index").read_bytes()[:100]),
    "garbage manifest": lambda d: (d / "manifest.json").write_text("{not json"),
    "manifest of another shape": lambda d: (d / "manifest.json").write_text('{"model": 1}'),
    "garbage kb.db": lambda d: (d / "kb.db").write_bytes(b"SQLite? no" * 100),
    "missing kb.db": lambda d: (d / "kb.db").unlink(),
    "kb.db out of step with the vectors": lambda d: sqlite3.connect(d / "kb.db").execute(
        "delete from chunks where id > 5").connection.commit(),
    "wrong model": lambda d: (d / "manifest.json").write_text(
        (d / "manifest.json").read_text().replace('"hash-256"', '"other-model"')),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_broken_index_is_503_json_and_not_ready(tmp_path, built_settings, corruption):
    shutil.copytree(built_settings.index_dir, tmp_path / "index")
    settings = make_settings(tmp_path)
    CORRUPTIONS[corruption](snapshot_dir(settings))
    with TestClient(make_app(settings), raise_server_exceptions=False) as client:
        for response in (client.get("/v1/suggest", params={"q": "password"}),
                         client.post("/v1/suggest", json={"query": "password"})):
            assert response.status_code == 503
            body = response.json()
            assert body["error"] == "index_unavailable"
            assert body["message"].startswith("the index of KB 'default' cannot be loaded: ")
            assert str(tmp_path) not in body["message"]  # never a server path
            assert "Traceback" not in response.text
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (503, "not_ready")
        assert ready.json()["reason"] == body["message"].split(": ", 1)[1]
        assert client.get("/healthz").status_code == 200
