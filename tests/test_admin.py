"""The admin API and CLI: keys, put/delete/reindex visible at once, failures keep the old index serving."""

import shutil

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kbsuggest.cli import main
from kbsuggest.kbs.admin import Indexer

from conftest import ADMIN, ADMIN_KEY, AGENT_KEY, make_admin_app
ARTICLE = """---
title: Turn on zorbly mode
audience: {audience}
---
Zorbly mode makes every dashboard zorbly. {extra}
"""


def top(client, q, headers=None):
    found = client.get("/v1/suggest", params={"q": q, "k": 10}, headers=headers).json()["suggestions"]
    return [s["article_id"] for s in found]


@pytest.mark.parametrize("header, status", [
    (None, 401), ("Bearer wrong", 401), (f"Basic {ADMIN_KEY}", 401), (f"Bearer {AGENT_KEY}", 403),
])
def test_admin_needs_an_admin_key(admin_client, header, status):
    headers = {"Authorization": header} if header else {}
    for method, path in [("POST", "/v1/admin/reindex"), ("DELETE", "/v1/admin/articles/webhooks"),
                         ("PUT", "/v1/admin/articles/zorbly")]:
        response = admin_client.request(method, path, headers=headers, content="# x\n\ntext")
        assert response.status_code == status
        assert response.json()["error"] == {401: "unauthorized", 403: "forbidden"}[status]
    assert top(admin_client, "verify webhook signatures")[0] == "webhooks"  # nothing changed


def test_put_is_visible_at_once_and_written_to_the_kb(admin_client, tmp_path):
    response = admin_client.put("/v1/admin/articles/zorbly", headers=ADMIN,
                          content=ARTICLE.format(audience="public", extra=""))
    assert response.status_code == 200
    body = response.json()
    assert (body["action"], body["article_id"], body["articles"], body["embedded"]) == ("put", "zorbly", 11, 1)
    assert top(admin_client, "zorbly mode")[0] == "zorbly"
    assert (tmp_path / "kb" / "zorbly.md").read_text() == ARTICLE.format(audience="public", extra="")
    assert admin_client.get("/readyz").json()["articles"] == 11


def test_put_replaces_the_file_that_holds_the_id(admin_client, tmp_path):
    text = (tmp_path / "kb" / "billing" / "refunds.md").read_text().replace("Refund", "Zorbly refund")
    assert admin_client.put("/v1/admin/articles/billing-refunds", headers=ADMIN, content=text).status_code == 200
    assert (tmp_path / "kb" / "billing" / "refunds.md").read_text() == text
    assert not (tmp_path / "kb" / "billing-refunds.md").exists()


def test_put_internal_article_stays_internal(admin_client):
    admin_client.put("/v1/admin/articles/zorbly", headers=ADMIN, content=ARTICLE.format(audience="internal", extra=""))
    assert "zorbly" not in top(admin_client, "zorbly mode")
    assert top(admin_client, "zorbly mode", {"Authorization": f"Bearer {AGENT_KEY}"})[0] == "zorbly"


@pytest.mark.parametrize("path, content, field", [
    ("zorbly", "---\ntitle: [unclosed\n---\ntext", "body"),   # invalid front matter
    ("zorbly", "no title, no heading", "body"),
    ("zorbly", "---\nid: other\ntitle: T\n---\ntext", "body"),  # id does not match the path
    ("zorbly", b"# Title\n\n\xff\xfe", "body"),                # not UTF-8
    ("bad%20id", "# T\n\ntext", "article_id"),
])
def test_invalid_article_is_422_and_nothing_is_written(admin_client, tmp_path, path, content, field):
    before = sorted(p.name for p in (tmp_path / "kb").rglob("*"))
    response = admin_client.put(f"/v1/admin/articles/{path}", headers=ADMIN, content=content)
    assert (response.status_code, response.json()["field"]) == (422, field)
    assert sorted(p.name for p in (tmp_path / "kb").rglob("*")) == before
    assert admin_client.get("/readyz").json()["articles"] == 10


def test_delete(admin_client, tmp_path):
    response = admin_client.delete("/v1/admin/articles/webhooks", headers=ADMIN)
    assert (response.status_code, response.json()["articles"]) == (200, 9)
    assert "webhooks" not in top(admin_client, "verify webhook signatures")
    assert not (tmp_path / "kb" / "webhooks.md").exists()
    missing = admin_client.delete("/v1/admin/articles/webhooks", headers=ADMIN)
    assert (missing.status_code, missing.json()["error"], missing.json()["field"]) == (404, "not_found", "article_id")


def test_reindex_picks_up_files_edited_by_hand(admin_client, tmp_path):
    shutil.copy(tmp_path / "kb" / "webhooks.md", tmp_path / "kb" / "copy.md")
    (tmp_path / "kb" / "broken.md").write_text("---\ntitle: [\n---\n")
    body = admin_client.post("/v1/admin/reindex", headers=ADMIN).json()
    assert (body["articles"], body["embedded"], body["reused"]) == (10, 0, 10)
    assert [s["path"] for s in body["skipped"]] == ["broken.md", "webhooks.md"]  # copy.md came first with that id


def test_failed_build_keeps_the_old_index_serving(admin_client, tmp_path):
    shutil.rmtree(tmp_path / "kb")
    response = admin_client.post("/v1/admin/reindex", headers=ADMIN)
    assert response.status_code == 409
    assert response.json()["error"] == "reindex_failed"
    assert "previous index is still serving" in response.json()["message"]
    assert top(admin_client, "verify webhook signatures")[0] == "webhooks"
    assert admin_client.get("/readyz").json()["articles"] == 10


def test_unexpected_build_error_is_json_and_rolls_the_file_back(admin_client, tmp_path):
    def explode(*args, **options):
        raise OSError("disk full")

    admin = admin_client.app.state.admin
    admin.indexer = Indexer(parse=admin.indexer.parse, snapshot=explode)
    response = admin_client.put("/v1/admin/articles/zorbly", headers=ADMIN, content=ARTICLE.format(audience="public", extra=""))
    assert response.status_code == 500
    assert response.json()["message"] == "unexpected OSError: disk full; the previous index is still serving"
    assert not (tmp_path / "kb" / "zorbly.md").exists()
    assert top(admin_client, "verify webhook signatures")[0] == "webhooks"


def test_reindex_recovers_a_service_started_without_an_index(tmp_path):
    app = make_admin_app(tmp_path)
    shutil.rmtree(app.state.settings.index_dir)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 503
        assert client.post("/v1/admin/reindex", headers=ADMIN).status_code == 200
        assert client.get("/readyz").json()["status"] == "ready"
        assert top(client, "verify webhook signatures")[0] == "webhooks"


def test_without_admin_keys_the_admin_api_is_off(tmp_path):
    app = make_admin_app(tmp_path, admin_api_keys=[])
    with TestClient(app) as client:
        response = client.post("/v1/admin/reindex", headers=ADMIN)
        assert response.status_code == 401
        assert "KBSUGGEST_ADMIN_API_KEYS" in response.json()["message"]


def test_cli_put_delete_reindex_locally(tmp_path, monkeypatch):
    app = make_admin_app(tmp_path)
    settings = app.state.settings
    for name in ("index_dir", "articles_dir", "embedder"):
        monkeypatch.setenv(f"KBSUGGEST_{name.upper()}", str(getattr(settings, name)))
    source = tmp_path / "zorbly.md"
    source.write_text(ARTICLE.format(audience="public", extra=""))
    runner = CliRunner()
    result = runner.invoke(main, ["admin", "put", str(source)])
    assert (result.exit_code, result.output.split(":")[0]) == (0, "put zorbly")
    assert "11 articles" in result.output
    assert runner.invoke(main, ["suggest", "zorbly mode"]).output.splitlines()[1].split()[2] == "zorbly"
    result = runner.invoke(main, ["admin", "delete", "zorbly"])
    assert (result.exit_code, "10 articles" in result.output) == (0, True)
    result = runner.invoke(main, ["admin", "delete", "zorbly"])
    assert (result.exit_code, result.output) == (1, "error: no article with id 'zorbly' in the index; nothing deleted\n")
    assert runner.invoke(main, ["admin", "reindex"]).exit_code == 0


def test_cli_against_an_unreachable_server_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["admin", "--url", "http://127.0.0.1:9", "reindex"])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot reach 'http://127.0.0.1:9'")
