"""Admin writes fail closed (issue 12, items 1, 2 and 15): an article that may mean internal is never served
public, no write touches a file other than the one of the article it names, and files keep their mode."""

import os
import shutil

import pytest
from fastapi.testclient import TestClient

from conftest import ADMIN, AGENT, make_admin_app

# the rest of an article after its front matter's keys; a heading for a title, so that it parses without them too
BODY = "---\n# Unlock a zorbly account\n\nAgents unlock the zorbly account in the zorbly console.\n"
QUERY = {"q": "unlock zorbly account", "k": 10}


def ids(client, headers=None, query=QUERY):
    return [s["article_id"] for s in client.get("/v1/suggest", params=query, headers=headers).json()["suggestions"]]


def files(folder):
    """Every file of the KB folder: relative path -> (bytes, mode)."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mode & 0o7777)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def served(client) -> dict[str, str]:
    """Article id -> audience, as the served snapshot has them."""
    return {a.id: a.audience for a in client.app.state.registry.get("default").articles}


# -- item 1: whatever may mean internal is internal, or refused ----------------------------------------------

@pytest.mark.parametrize("text", [
    "\ufeff---\naudience: internal\n" + BODY,  # a UTF-8 BOM (Windows editors)
    "\n\n---\naudience: internal\n" + BODY,  # blank lines first
    "---\nAudience: internal\n" + BODY,
    "---\nAUDIENCE: Internal\n" + BODY,
])
def test_put_of_an_internal_article_however_written_is_served_internal(admin_client, text):
    response = admin_client.put("/v1/admin/articles/zorbly", headers=ADMIN, content=text.encode())
    assert response.status_code == 200
    assert served(admin_client)["zorbly"] == "internal"
    assert "zorbly" not in ids(admin_client)
    assert ids(admin_client, AGENT)[0] == "zorbly"


@pytest.mark.parametrize("front, key", [("audiance: internal\n", "audiance"), ("Visibility: internal\n", "Visibility")])
def test_put_with_an_unknown_key_is_422_naming_it_and_nothing_is_written(admin_client, tmp_path, front, key):
    before = files(tmp_path / "kb")
    response = admin_client.put("/v1/admin/articles/zorbly", headers=ADMIN, content=f"---\n{front}{BODY}")
    body = response.json()
    assert (response.status_code, body["error"], body["field"]) == (422, "invalid_article", "body")
    assert body["message"].startswith(f"zorbly.md: unknown front-matter key {key!r}")
    assert files(tmp_path / "kb") == before
    assert "zorbly" not in ids(admin_client, AGENT)


def test_a_kb_that_requires_an_audience_refuses_an_article_without_one(tmp_path):
    with TestClient(make_admin_app(tmp_path, require_audience=True)) as client:
        refused = client.put("/v1/admin/articles/zorbly", headers=ADMIN, content="---\n" + BODY)
        assert (refused.status_code, refused.json()["field"]) == (422, "body")
        assert "no 'audience' and this KB requires one" in refused.json()["message"]
        assert not (tmp_path / "kb" / "zorbly.md").exists()
        assert client.put("/v1/admin/articles/zorbly", headers=ADMIN,
                          content="---\naudience: public\n" + BODY).status_code == 200
        assert ids(client)[0] == "zorbly"


def test_require_audience_is_read_from_the_environment_and_on_for_kbs_of_the_kbs_file(tmp_path, monkeypatch):
    from kbsuggest.config import Settings, load_kbs

    (tmp_path / "kbs.toml").write_text("[kbs.acme]\n")
    monkeypatch.setenv("KBSUGGEST_REQUIRE_AUDIENCE", "true")
    assert Settings().default_kb().require_audience is True
    monkeypatch.delenv("KBSUGGEST_REQUIRE_AUDIENCE")
    assert load_kbs(Settings(kbs_file=tmp_path / "kbs.toml"))["acme"].require_audience is True


# -- item 2: no write changes a file that holds another article ----------------------------------------------

GUIDE = "---\nid: getting-started\ntitle: Getting started\naudience: public\n---\nWelcome aboard the zorbly.\n"


@pytest.fixture
def docusaurus(admin_client, tmp_path):
    """A KB where guide.md holds the article ``getting-started`` (file names are not ids)."""
    (tmp_path / "kb" / "guide.md").write_text(GUIDE)
    assert admin_client.post("/v1/admin/reindex", headers=ADMIN).json()["articles"] == 11
    return admin_client


def test_put_of_a_new_id_never_overwrites_the_file_of_another_article(docusaurus, tmp_path):
    kb = tmp_path / "kb"
    before = files(kb)
    text = "---\nid: guide\ntitle: The zorbly guide\naudience: public\n---\nEvery zorbly feature.\n"
    response = docusaurus.put("/v1/admin/articles/guide", headers=ADMIN, content=text)
    assert (response.status_code, response.json()["articles"]) == (200, 12)
    assert files(kb) == {**before, "guide-2.md": (text.encode(), 0o666 & ~current_umask())}  # a free name
    assert (served(docusaurus)["guide"], served(docusaurus)["getting-started"]) == ("public", "public")


def test_put_that_could_only_take_the_other_articles_file_name_is_409_naming_both(docusaurus, tmp_path):
    before = files(tmp_path / "kb")
    response = docusaurus.put("/v1/admin/articles/guide", headers=ADMIN,
                              content="---\ntitle: The guide\naudience: public\n---\nText.\n")  # id from the file name
    assert (response.status_code, response.json()["error"], response.json()["field"]) == (409, "conflict", "article_id")
    assert response.json()["message"] == ("guide.md holds another article (id 'getting-started'): add 'id: guide' to "
                                          "the front matter to store this one as guide-2.md")
    assert files(tmp_path / "kb") == before


@pytest.mark.parametrize("method", ["DELETE", "PUT"])
def test_a_file_that_now_holds_another_article_is_never_written_or_removed(admin_client, tmp_path, method):
    """webhooks.md was edited by hand to hold another id since the last reindex: writing or deleting
    ``webhooks`` through it would lose that article."""
    kb = tmp_path / "kb"
    (kb / "webhooks.md").write_text((kb / "webhooks.md").read_text().replace("id: webhooks", "id: hooks-v2"))
    before = files(kb)
    response = admin_client.request(method, "/v1/admin/articles/webhooks", headers=ADMIN,
                                    content="---\ntitle: Webhooks\naudience: public\n---\nNew text.\n")
    assert (response.status_code, response.json()["error"]) == (409, "conflict")
    assert response.json()["message"] == ("webhooks.md, the file of article 'webhooks', now holds the article "
                                          "'hooks-v2' (edited since the last reindex): reindex first, then retry")
    assert files(kb) == before
    assert ids(admin_client, query={"q": "verify webhook signatures"})[0] == "webhooks"  # still served


def test_put_is_refused_while_other_articles_changed_in_the_folder(admin_client, tmp_path):
    kb = tmp_path / "kb"
    (kb / "two-factor.md").write_text((kb / "two-factor.md").read_text() + "\nEdited by hand.\n")
    before = files(kb)
    response = admin_client.put("/v1/admin/articles/zorbly", headers=ADMIN, content="---\naudience: public\n" + BODY)
    assert (response.status_code, response.json()["error"]) == (409, "reindex_failed")
    assert "changes to other articles that are not indexed yet (two-factor): run a reindex first" in response.json()["message"]
    assert files(kb) == before
    assert admin_client.get("/readyz").json()["articles"] == 10


def test_each_write_changes_only_the_file_of_the_article_it_names(admin_client, tmp_path):
    kb = tmp_path / "kb"
    refunds = (kb / "billing" / "refunds.md").read_text().replace("Refund", "Zorbly refund")
    steps = [("PUT", "zorbly", "---\naudience: public\n" + BODY, "zorbly.md"),
             ("PUT", "billing-refunds", refunds, "billing/refunds.md"),  # replaced where it lives
             ("PUT", "ｚｏｒｂｌｙ", "---\naudience: internal\n" + BODY, "zorbly.md"),  # NFKC: the same id
             ("DELETE", "webhooks", None, "webhooks.md"),
             ("DELETE", "ｚｏｒｂｌｙ", None, "zorbly.md")]
    for method, article_id, text, path in steps:
        before = files(kb)
        response = admin_client.request(method, f"/v1/admin/articles/{article_id}", headers=ADMIN, content=text)
        assert (response.status_code, response.json()["article_id"]) == (200, article_id.replace("ｚｏｒｂｌｙ", "zorbly"))
        after = files(kb)
        assert {p: v for p, v in after.items() if p != path} == {p: v for p, v in before.items() if p != path}
        assert (after[path][0] if path in after else None) == (text.encode() if text else None)


@pytest.mark.parametrize("article_id, status, field, message", [
    ("é" * 101, 422, "article_id", "'id' '" + "é" * 60 + "…' is 202 bytes in UTF-8; the most is 200 (it names the file <id>.md)"),
    ("p\u0430ssword-reset", 409, "article_id", "id 'pаssword-reset' ('p\\u0430ssword-reset') looks like the existing "
                                                "article 'password-reset': use that id to change it, or another id"),
])
def test_ids_too_long_in_bytes_or_lookalikes_of_another_are_refused_before_any_write(admin_client, tmp_path, article_id,
                                                                                     status, field, message):
    """Item 8 through the API: a 200-code-point id of 2-byte letters was a 500 naming the KB's path."""
    before = files(tmp_path / "kb")
    response = admin_client.put(f"/v1/admin/articles/{article_id}", headers=ADMIN, content="---\naudience: public\n" + BODY)
    assert (response.status_code, response.json()["field"], response.json()["message"]) == (status, field, message)
    assert files(tmp_path / "kb") == before


# -- item 15: admin writes keep the file's mode; a new file gets 0666 minus the umask ------------------------

def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_put_keeps_the_mode_of_the_file_it_replaces(admin_client, tmp_path, mode):
    path = tmp_path / "kb" / "billing" / "refunds.md"
    path.chmod(mode)
    text = path.read_text().replace("Refund", "Zorbly refund")
    assert admin_client.put("/v1/admin/articles/billing-refunds", headers=ADMIN, content=text).status_code == 200
    assert (path.read_text(), path.stat().st_mode & 0o7777) == (text, mode)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_article_gets_0666_minus_the_umask(admin_client, tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        assert admin_client.put("/v1/admin/articles/zorbly", headers=ADMIN,
                                content="---\naudience: public\n" + BODY).status_code == 200
    finally:
        os.umask(old)
    assert (tmp_path / "kb" / "zorbly.md").stat().st_mode & 0o7777 == mode


def test_a_kb_copied_without_its_index_still_fails_closed(tmp_path):
    """The same rules on a KB folder whose first index the admin API builds (nothing served before)."""
    app = make_admin_app(tmp_path)
    shutil.rmtree(app.state.settings.index_dir)
    with TestClient(app) as client:
        assert client.post("/v1/admin/reindex", headers=ADMIN).status_code == 200
        assert client.put("/v1/admin/articles/zorbly", headers=ADMIN,
                          content="\ufeff---\naudience: internal\n" + BODY).status_code == 200
        assert "zorbly" not in ids(client) and ids(client, AGENT)[0] == "zorbly"
