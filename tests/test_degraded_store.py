"""A service database that is corrupt, unreadable, read-only or full (issue 12, item 5): the server starts
and suggests; what needs the database answers 503 JSON with the reason (never a path); the CLI prints one
line and exits 1. And an index damaged where it is read first (manifest, CURRENT) is a degraded start too.

Tests run as root, so "unreadable" is a directory where the file should be; read-only and full are SQLite's
own refusals (``PRAGMA query_only``, ``PRAGMA max_page_count``) on the store's connection.
"""

import json
import time

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import kbsuggest.store.sqlite
from kbsuggest.cli import main
from kbsuggest.index import versions
from kbsuggest.store.sqlite import SQLiteStore

from conftest import AGENT, ADMIN, make_admin_app, make_app, snapshot_dir

REASONS = {"garbage": "file is not a database", "directory": "unable to open database file",
           "read-only": "attempt to write a readonly database", "full": "database or disk is full"}
TICKETS = "id,title,status,created_at\n1,Reset my password,solved,2026-11-02 10:00:00\n"


def batch(query="reset pass"):
    now = int(time.time() * 1000)
    return {"session_id": "a1b2c3d4e5f6", "sent_at": now,
            "events": [{"type": "suggestions_shown", "at": now, "query": query, "suggestions": []}]}


@pytest.fixture(params=list(REASONS))
def broken(request, tmp_path, built_settings, monkeypatch):
    """Settings over the fixture KB's index whose service database is broken in one way."""
    kind, db = request.param, tmp_path / "kbsuggest.db"
    if kind == "garbage":
        db.write_bytes(b"\x00garbage" * 1000)
    elif kind == "directory":
        db.mkdir()
    else:
        SQLiteStore(db).check()  # a sound database, then refused by SQLite itself
        real = kbsuggest.store.sqlite.open_db

        def refusing(*args, **options):
            conn = real(*args, **options)
            if kind == "read-only":
                conn.execute("PRAGMA query_only = ON")
            else:
                conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
            return conn
        monkeypatch.setattr(kbsuggest.store.sqlite, "open_db", refusing)
    return kind, built_settings.model_copy(update={"db_path": db})


def unavailable(response, kind):
    assert (response.status_code, response.headers["content-type"]) == (503, "application/json")
    assert response.json() == {"error": "store_unavailable", "field": None,
                               "message": f"the service database is unavailable: {REASONS[kind]}"}


def test_the_server_starts_and_suggests_and_the_store_answers_503_json(broken):
    kind, settings = broken
    with TestClient(make_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["status"] == "ready"
        found = client.get("/v1/suggest", params={"q": "reset my password email"})
        assert (found.status_code, found.json()["suggestions"][0]["article_id"]) == (200, "password-reset")
        if kind == "full":  # a full database takes no more events, and keeps those it had
            assert client.post("/v1/events", json=batch()).status_code == 202
            while (response := client.post("/v1/events", json=batch("x" * 2000))).status_code == 202:
                pass
            unavailable(response, kind)
            assert client.get("/v1/stats/deflection", headers=AGENT).json()["sessions"] == 1
        else:
            unavailable(client.post("/v1/events", json=batch()), kind)
            stats = client.get("/v1/stats/deflection", headers=AGENT)
            if kind == "read-only":  # reading still works
                assert (stats.status_code, stats.json()["sessions"]) == (200, 0)
            else:
                unavailable(stats, kind)


def cli(settings, *args):
    env = {"KBSUGGEST_DB_PATH": str(settings.db_path), "KBSUGGEST_INDEX_DIR": str(settings.index_dir),
           "KBSUGGEST_EMBEDDER": "hash"}
    return CliRunner().invoke(main, list(args), env=env)


def test_every_cli_command_of_the_store_is_one_line_exit_1(broken, tmp_path):
    kind, settings = broken
    more = range(2, 200) if kind == "full" else ()  # enough to fill the database
    (tmp_path / "tickets.csv").write_text(TICKETS + "".join(f"{i},{'Long ticket ' * 300},solved,2026-11-02\n" for i in more))
    commands = {"stats": ["stats"], "import": ["tickets", "import", str(tmp_path / "tickets.csv")],
                "gaps": ["gaps", "--out", str(tmp_path / "gaps"), "--no-progress"], "compare": ["evaluate", "--compare"]}
    expected = f"error: the service database is unavailable: {REASONS[kind]}\n"
    for name, args in commands.items():
        result = cli(settings, *args)
        if kind in ("read-only", "full") and name != "import":
            continue  # reads work: those commands report on what is there
        assert (name, result.exit_code, result.output) == (name, 1, expected)


# -- the index: a damaged file read first is a degraded start, and recovery never drops versions ------------

DAMAGE = {
    "manifest is a directory": lambda d: ((d / "manifest.json").unlink(), (d / "manifest.json").mkdir()),
    "manifest is a JSON list": lambda d: (d / "manifest.json").write_text("[1, 2]"),
    "CURRENT is not UTF-8": lambda d: (d.parent.parent / "CURRENT").write_bytes(b"\xff\xfe\x00"),
    "CURRENT is a directory": lambda d: ((d.parent.parent / "CURRENT").unlink(), (d.parent.parent / "CURRENT").mkdir()),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_manifest_or_pointer_is_a_degraded_start(tmp_path, damage):
    app = make_admin_app(tmp_path)
    settings = app.state.settings
    DAMAGE[damage](snapshot_dir(settings))
    root = versions.kb_dir(settings.index_dir, "default")
    kept = versions.version_names(root)
    with TestClient(app, raise_server_exceptions=False) as client:  # startup recovery included
        response = client.get("/v1/suggest", params={"q": "password"})
        assert (response.status_code, response.json()["error"]) == (503, "index_unavailable")
        assert str(tmp_path) not in response.text
        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (503, "not_ready")
        assert client.get("/healthz").status_code == 200
        assert versions.version_names(root) == kept  # a pointer that cannot be read may name any of them
        if damage.startswith("CURRENT is not"):  # a reindex writes a sound pointer again
            assert client.post("/v1/admin/reindex", headers=ADMIN).status_code == 200
            assert client.get("/readyz").json()["status"] == "ready"


def test_store_messages_never_carry_the_database_path(tmp_path, built_settings):
    """The path of the database is the operator's business: not in a public 503."""
    settings = built_settings.model_copy(update={"db_path": tmp_path / "not-a-dir" / "kbsuggest.db"})
    (tmp_path / "not-a-dir").write_text("a file where the directory should be")
    with TestClient(make_app(settings), raise_server_exceptions=False) as client:
        response = client.post("/v1/events", content=json.dumps(batch()))
        assert (response.status_code, response.json()["error"]) == (503, "store_unavailable")
        assert str(tmp_path) not in response.text and "not-a-dir" not in response.text
