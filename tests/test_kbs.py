"""Many KBs in one process: build with --kb, serve all, route by /v1/kbs/{kb}/, per-KB settings from kbs.toml."""

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from indexing.build import build_index
from kbsuggest.cli import main
from kbsuggest.config import KBSettings, load_kbs
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.errors import ConfigError
from kbsuggest.index.versions import list_kbs

from conftest import FIXTURE_KB, make_app, make_settings

ACME = """---
title: Reset the Acme rocket skates
audience: public
---
Hold the red button for ten seconds to reset the rocket skates.
"""
ACME_RUNBOOK = """---
title: Refurbish returned rocket skates
audience: internal
---
Agents only: inspect the skates for anvil damage before refurbishing them.
"""
GLOBEX = """---
title: Reset your Globex doomsday device password
audience: public
---
Open the volcano console and choose Reset password.
"""
KBS_TOML = """
[kbs.acme]
articles_dir = "acme"
agent_api_keys = ["acme-agent"]
admin_api_keys = ["acme-admin"]
cors_origins = ["https://help.acme.example"]
article_base_url = "https://help.acme.example/a"

[kbs.globex]
articles_dir = "globex"
agent_api_keys_env = "GLOBEX_AGENT_KEYS"
min_score = 0.02
default_locale = "de"
"""


@pytest.fixture
def agency(tmp_path, monkeypatch):
    """Three brands in one process: the default KB (the fixture KB), acme and globex."""
    for name, articles in {"acme": {"skates.md": ACME, "runbook.md": ACME_RUNBOOK}, "globex": {"device.md": GLOBEX}}.items():
        folder = tmp_path / name
        folder.mkdir()
        for file, text in articles.items():
            (folder / file).write_text(text)
    (tmp_path / "kbs.toml").write_text(KBS_TOML)
    monkeypatch.setenv("GLOBEX_AGENT_KEYS", "globex-agent")
    settings = make_settings(tmp_path, kbs_file=tmp_path / "kbs.toml")
    kbs = load_kbs(settings)
    build_index(FIXTURE_KB, settings, HashEmbedder())
    for name in ("acme", "globex"):
        build_index(kbs[name].articles_dir, settings, HashEmbedder(), kbs[name])
    return settings


def ids(response):
    return [s["article_id"] for s in response.json()["suggestions"]]


def test_the_kbs_file_gives_each_kb_its_settings(agency):
    kbs = load_kbs(agency)
    assert sorted(kbs) == ["acme", "default", "globex"]
    assert (kbs["acme"].agent_api_keys, kbs["acme"].admin_api_keys) == (["acme-agent"], ["acme-admin"])
    assert kbs["globex"].agent_api_keys == ["globex-agent"]  # read from the environment, not the file
    assert (kbs["globex"].min_score, kbs["globex"].default_locale, kbs["globex"].require_audience) == (0.02, "de", True)
    assert kbs["acme"].articles_dir == agency.kbs_file.parent / "acme"  # relative to the file
    assert list_kbs(agency.index_dir) == ["acme", "default", "globex"]


@pytest.mark.parametrize("text, message", [
    ("[kbs.Bad]\n", "kbs.Bad.name: String should match pattern"),
    ("[kbs.x]\nagent_keys = ['a']\n", "kbs.x.agent_keys: Extra inputs are not permitted"),
    ("[other]\n", "expected only [kbs.NAME] tables, found other"),
    ("[kbs.x\n", "cannot be read"),
])
def test_a_bad_kbs_file_is_a_clear_error(tmp_path, text, message):
    (tmp_path / "kbs.toml").write_text(text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(".", r"\.")):
        load_kbs(make_settings(tmp_path, kbs_file=tmp_path / "kbs.toml"))


def test_each_kb_answers_from_its_own_articles(agency):
    with TestClient(make_app(agency)) as client:
        assert ids(client.get("/v1/kbs/acme/suggest", params={"q": "reset rocket skates"}))[0] == "skates"
        assert ids(client.get("/v1/kbs/globex/suggest", params={"q": "reset doomsday password"})) == ["device"]
        assert ids(client.get("/v1/suggest", params={"q": "reset my password email"}))[0] == "password-reset"
        assert ids(client.get("/v1/kbs/default/suggest", params={"q": "reset my password email"}))[0] == "password-reset"
        posted = client.post("/v1/kbs/acme/suggest", json={"query": "my rocket skates need a reset", "k": 1})
        assert ids(posted) == ["skates"]
        assert posted.json()["suggestions"][0]["url"] == "https://help.acme.example/a/skates"


def test_an_unknown_kb_is_a_404_naming_it(agency):
    with TestClient(make_app(agency)) as client:
        response = client.get("/v1/kbs/initech/suggest", params={"q": "reset"})
        assert (response.status_code, response.json()["error"], response.json()["field"]) == (404, "unknown_kb", "kb")
        assert "'initech'" in response.json()["message"]
        bad = client.get("/v1/kbs/Not..A..Name/suggest", params={"q": "reset"})
        assert (bad.status_code, bad.json()["field"]) == (422, "kb")


def test_keys_are_per_kb(agency):
    acme_agent = {"Authorization": "Bearer acme-agent"}
    with TestClient(make_app(agency)) as client:
        query = {"q": "refurbish returned skates anvil", "k": 10}
        assert "runbook" not in ids(client.get("/v1/kbs/acme/suggest", params=query))
        assert ids(client.get("/v1/kbs/acme/suggest", params=query, headers=acme_agent))[0] == "runbook"
        assert client.get("/v1/kbs/globex/suggest", params=query, headers=acme_agent).status_code == 401
        assert client.get("/v1/suggest", params=query, headers=acme_agent).status_code == 401
        assert client.get("/v1/kbs/acme/stats/deflection", headers=acme_agent).status_code == 200
        assert client.get("/v1/kbs/globex/stats/deflection", headers=acme_agent).status_code == 401
        assert client.post("/v1/kbs/globex/admin/reindex", headers={"Authorization": "Bearer acme-admin"}).status_code == 401


def test_readyz_lists_every_kb(agency):
    with TestClient(make_app(agency)) as client:
        client.get("/v1/kbs/acme/suggest", params={"q": "reset skates"})  # loads acme; globex stays lazy
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and ready["articles"] == 10
        assert [(kb["name"], kb["loaded"], kb["articles"]) for kb in ready["kbs"]] == [
            ("acme", True, 2), ("default", True, 10), ("globex", False, None)]


def test_events_and_stats_carry_their_kb(agency):
    batch = {"session_id": "acme-session-1", "sent_at": 1, "events": [
        {"type": "suggestions_shown", "at": 1, "query": "reset skates",
         "suggestions": [{"article_id": "skates", "position": 1, "score": 0.9}]}]}
    with TestClient(make_app(agency)) as client:
        assert client.post("/v1/kbs/acme/events", content=json.dumps(batch)).status_code == 202
        acme = client.get("/v1/kbs/acme/stats/deflection", headers={"Authorization": "Bearer acme-agent"}).json()
        default = client.get("/v1/stats/deflection", headers={"Authorization": "Bearer agent-test-key"}).json()
        assert (acme["sessions"], default["sessions"]) == (1, 0)
        assert client.post("/v1/kbs/initech/events", content=json.dumps(batch)).status_code == 404


def test_cors_origins_are_per_kb(agency):
    origin = {"Origin": "https://help.acme.example"}
    with TestClient(make_app(agency)) as client:
        allowed = client.get("/v1/kbs/acme/suggest", params={"q": "reset"}, headers=origin)
        assert allowed.headers["access-control-allow-origin"] == "https://help.acme.example"
        assert "access-control-allow-origin" not in client.get("/v1/kbs/globex/suggest", params={"q": "reset"},
                                                              headers=origin).headers
        preflight = client.options("/v1/kbs/acme/events", headers={**origin, "Access-Control-Request-Method": "POST"})
        assert (preflight.status_code, preflight.headers["access-control-allow-methods"]) == (200, "GET, POST")


def test_admin_changes_one_kb_and_leaves_the_others(agency):
    admin = {"Authorization": "Bearer acme-admin"}
    article = "---\ntitle: Wax the rocket skates\naudience: public\n---\nWax them weekly.\n"
    with TestClient(make_app(agency, writable=True)) as client:
        client.get("/v1/kbs/globex/suggest", params={"q": "reset"})
        globex_before = client.get("/readyz").json()["kbs"]
        response = client.put("/v1/kbs/acme/admin/articles/wax", headers=admin, content=article)
        assert (response.status_code, response.json()["kb"], response.json()["articles"]) == (200, "acme", 3)
        assert (agency.kbs_file.parent / "acme" / "wax.md").read_text() == article
        assert ids(client.get("/v1/kbs/acme/suggest", params={"q": "wax skates"}))[0] == "wax"
        assert "wax" not in ids(client.get("/v1/kbs/globex/suggest", params={"q": "wax skates", "k": 10}))
        globex_after = client.get("/readyz").json()["kbs"]
        assert [kb for kb in globex_after if kb["name"] == "globex"] == [kb for kb in globex_before if kb["name"] == "globex"]


def test_a_built_kb_no_file_declares_is_served_public_only(tmp_path):
    settings = make_settings(tmp_path)
    build_index(FIXTURE_KB, settings, HashEmbedder(), KBSettings(name="extra"))
    with TestClient(make_app(settings)) as client:
        assert ids(client.get("/v1/kbs/extra/suggest", params={"q": "reset my password email"}))[0] == "password-reset"
        agent = client.get("/v1/kbs/extra/suggest", params={"q": "refund"}, headers={"Authorization": "Bearer agent-test-key"})
        assert agent.status_code == 401  # the default KB's agent key is a stranger here


def test_the_cli_builds_and_queries_named_kbs(tmp_path):
    runner = CliRunner()
    base = ["--index-dir", str(tmp_path / "index"), "--embedder", "hash"]
    built = runner.invoke(main, [*base, "index", str(FIXTURE_KB), "--kb", "brand-a"])
    assert built.exit_code == 0, built.output
    assert "into KB brand-a (v000001" in built.output
    found = runner.invoke(main, [*base, "suggest", "reset my password email", "--kb", "brand-a"])
    assert found.output.splitlines()[1].split()[2] == "password-reset"
    info = runner.invoke(main, [*base, "info", "--kb", "brand-a"])
    assert "kb          brand-a (all built: brand-a)" in info.output
    bad = runner.invoke(main, [*base, "index", str(FIXTURE_KB), "--kb", "../x"])
    assert (bad.exit_code, bad.output.strip()) == (1, "error: --kb '../x': a KB name is 1-63 lowercase letters, digits, '-' or '_'")
    missing = runner.invoke(main, [*base, "suggest", "reset", "--kb", "brand-b"])
    assert (missing.exit_code, missing.output.strip()) == (1, "error: no index at 'brand-b': build one with `kbsuggest index DIR`")
