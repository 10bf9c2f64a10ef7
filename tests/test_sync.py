"""`kbsuggest sync zendesk|freshdesk` against a local server replaying the APIs' documented answers: the built
snapshot holds exactly the articles, urls, locales and audiences the API gave (drafts out, restricted
internal), a second sync re-embeds nothing, and every failure exits 1 with one line and publishes nothing."""

import base64
import json
import socket
import sqlite3

import pytest
from click.testing import CliRunner

from indexing.sync import http
from kbsuggest.cli import main
from kbsuggest.index.versions import current_name, kb_dir, version_names

from conftest import FIXTURES, snapshot_dir, make_settings
from sync_server import ReplayServer

ZENDESK = FIXTURES / "sources" / "zendesk_api"
FRESHDESK = FIXTURES / "sources" / "freshdesk_api"
HC = "/api/v2/help_center"
ZENDESK_ROUTES = {f"{HC}/locales.json": "locales.json", f"{HC}/en-us/articles.json": "en-us-1.json",
                  f"{HC}/en-us/articles.json?page[after]=aWQ6MzYwMDAy": "en-us-2.json",
                  f"{HC}/de/articles.json": "de-1.json", f"{HC}/de/articles.json?page=2": "de-2.json"}
SOLUTIONS = "/api/v2/solutions"
FRESHDESK_ROUTES = {
    f"{SOLUTIONS}/categories": "categories.json", f"{SOLUTIONS}/categories/6000201/folders": "folders-6000201.json",
    f"{SOLUTIONS}/folders/7000101/articles": (
        "articles-7000101-1.json", {"Link": f'<{{base}}{SOLUTIONS}/folders/7000101/articles?page=2&per_page=100>; rel="next"'}),
    f"{SOLUTIONS}/folders/7000101/articles?page=2": "articles-7000101-2.json",
    f"{SOLUTIONS}/folders/7000102/articles": "articles-7000102.json"}
HC_URL = "https://tallyo.zendesk.com/hc"
EXPECTED = [  # id, url, locale, audience, product, tags
    ("360001", f"{HC_URL}/en-us/articles/360001-Reset-your-password", "en-us", "public", "Accounts", "password,login,Sign-in"),
    ("360001-de", f"{HC_URL}/de/articles/360001-Passwort-zur%C3%BCcksetzen", "de", "public", "Konten", "passwort,Anmeldung"),
    ("360002", f"{HC_URL}/en-us/articles/360002-Unlock-an-account-agents", "en-us", "internal", "Accounts", "runbook,Agent runbooks"),
    ("360004", f"{HC_URL}/en-us/articles/360004-Billing-FAQ", "en-us", "public", "Billing", "billing,Invoices"),
    ("360004-de", f"{HC_URL}/de/articles/360004-Rechnungen-FAQ", "de", "internal", "Abrechnung", "Rechnungen"),  # a segment
    ("360006", f"{HC_URL}/en-us/articles/360006-Partner-price-list", "en-us", "internal", "Billing", "partners,Invoices"),  # segments
]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("ZD_TOKEN", "s3cret-token")
    monkeypatch.setenv("ZD_EMAIL", "ops@tallyo.test")
    monkeypatch.setenv("KBSUGGEST_SYNC_DIR", str(tmp_path / "sync"))
    monkeypatch.setenv("KBSUGGEST_DB_PATH", str(tmp_path / "kbsuggest.db"))
    waits = []
    monkeypatch.setattr(http, "sleep", waits.append)
    return waits


def run(tmp_path, *args):
    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path / "index"), "--embedder", "hash", "sync", *args])
    return result.exit_code, result.output


def zendesk(tmp_path, server, *extra):
    return run(tmp_path, "zendesk", "--subdomain", "tallyo", "--token-env", "ZD_TOKEN", "--email-env", "ZD_EMAIL",
               "--base-url", server.base, *extra)


def articles(tmp_path, index="index"):
    directory = snapshot_dir(make_settings(tmp_path, index_dir=tmp_path / index))
    with sqlite3.connect(directory / "kb.db") as db:
        rows = db.execute("select id, url, locale, audience, product, tags from articles order by id").fetchall()
    return [row[:5] + (",".join(json.loads(row[5])),) for row in rows]


def published(tmp_path):
    return current_name(kb_dir(tmp_path / "index", "default"))


def test_zendesk_sync_builds_exactly_what_the_api_says(tmp_path, env):
    with ReplayServer(ZENDESK, ZENDESK_ROUTES) as server:
        code, output = zendesk(tmp_path, server)
    assert code == 0, output
    assert articles(tmp_path) == EXPECTED
    lines = output.splitlines()
    assert lines[0] == (f"pulled 7 records in 4 pages (5 requests): 7 new, 0 updated, 0 unchanged, 0 removed since "
                        f"the last sync; kept in {tmp_path / 'sync' / 'default' / 'zendesk'}")
    assert lines[1].startswith(f"indexed 6 articles (3 internal) as ") and "(zendesk) into KB default (v000001" in lines[1]
    assert "1 not an article: 1 draft" in lines and "  left out en-us/page-0002.json#1: draft" in lines
    auth = "Basic " + base64.b64encode(b"ops@tallyo.test/token:s3cret-token").decode()
    assert [key for key, _ in server.requests] == list(ZENDESK_ROUTES)  # locales first, then each locale's pages
    assert {header for _, header in server.requests} == {auth}
    kept = tmp_path / "sync" / "default" / "zendesk"
    assert sorted(p.relative_to(kept).as_posix() for p in kept.rglob("*.json")) == [
        "de/page-0001.json", "de/page-0002.json", "en-us/page-0001.json", "en-us/page-0002.json"]
    # the kept folder is an export `kbsuggest index --format zendesk` reads into the same articles
    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path / "again"), "--embedder", "hash", "index",
                                       str(kept), "--format", "zendesk"])
    assert (result.exit_code, articles(tmp_path, "again")) == (0, EXPECTED), result.output


def test_second_sync_reuses_unchanged_articles_and_an_edit_is_reembedded(tmp_path, env):
    with ReplayServer(ZENDESK, ZENDESK_ROUTES) as server:
        assert zendesk(tmp_path, server, "--locale", "en-us", "--locale", "de")[0] == 0
        code, output = zendesk(tmp_path, server, "--locale", "en-us", "--locale", "de")
        assert code == 0, output
        assert output.splitlines()[0].startswith("pulled 7 records in 4 pages (4 requests): 0 new, 0 updated, 7 unchanged, 0 removed")
        assert ": embedded 0 articles, reused 6 unchanged" in output
        page = json.loads((ZENDESK / "en-us-2.json").read_text().replace("{base}", server.base))
        page["articles"][1] |= {"updated_at": "2026-03-01T08:00:00Z", "body": "<p>You are billed on the 2nd.</p>"}
        server.script[f"{HC}/en-us/articles.json?page[after]=aWQ6MzYwMDAy"] = [(200, {}, json.dumps(page).encode())]
        code, output = zendesk(tmp_path, server, "--locale", "en-us", "--locale", "de")
    assert code == 0, output
    assert output.splitlines()[0].startswith("pulled 7 records in 4 pages (4 requests): 0 new, 1 updated, 6 unchanged")
    assert ": embedded 1 articles, reused 5 unchanged" in output
    assert published(tmp_path) == "v000003"


def test_rate_limit_honours_retry_after_then_succeeds(tmp_path, env):
    with ReplayServer(ZENDESK, ZENDESK_ROUTES) as server:
        server.script[f"{HC}/de/articles.json"] = [(429, {"Retry-After": "7"}, b"{}"), (429, {"Retry-After": "2"}, b"{}")]
        code, output = zendesk(tmp_path, server)
    assert (code, env, published(tmp_path)) == (0, [7.0, 2.0], "v000001"), output


@pytest.mark.parametrize("answer, message", [
    ((401, {}, b'{"error": "Couldn\'t authenticate you"}'),
     "answered 401 Unauthorized; the credentials were refused: check the token (and the email)"),
    ((403, {}, b'{"error": "Forbidden"}'), "answered 403 Forbidden; the token's user may not read this"),
    ((404, {}, b"{}"), "answered 404 Not Found; not found: check the subdomain, the locale and --base-url"),
    ((429, {"Retry-After": "3600"}, b"{}"), "Zendesk is rate limiting (429 Too Many Requests); asked to wait 3600 s (over 60 s)"),
    ((200, {}, b"<html>maintenance</html>"), "Zendesk answered with something that is not JSON"),
    ((200, {}, b'{"articles": [], "meta": {"has_more": true}, "links": {}}'), "meta.has_more is true but links.next"),
    ((200, {}, b'{"results": []}'), "no 'articles' list in the answer"),
    ((200, {}, b'{"articles": [], "meta": {"has_more": true}, "links": {"next": "/api/v2/help_center/en-us/articles.json'
               b'?page%5Bafter%5D=aWQ6MzYwMDAy"}}'), "the pages of the en-us articles never end"),
    ((302, {"Location": "https://elsewhere.example/login"}, b""), "was redirected (302) to https://elsewhere.example/login"),
])
def test_a_failed_sync_exits_1_with_one_line_and_leaves_the_served_index(tmp_path, env, answer, message):
    with ReplayServer(ZENDESK, ZENDESK_ROUTES) as server:
        assert zendesk(tmp_path, server)[0] == 0
        kept = tmp_path / "sync" / "default" / "zendesk"
        before = sorted((p.name, p.read_bytes()) for p in kept.rglob("*.json"))
        server.script[f"{HC}/en-us/articles.json?page[after]=aWQ6MzYwMDAy"] = [answer] * 4
        code, output = zendesk(tmp_path, server)
    assert (code, len(output.splitlines())) == (1, 1), output
    assert output.startswith("error: ") and server.base in output and message in output and "s3cret" not in output
    assert (published(tmp_path), articles(tmp_path)) == ("v000001", EXPECTED)
    assert version_names(kb_dir(tmp_path / "index", "default")) == ["v000001"]
    assert sorted((p.name, p.read_bytes()) for p in kept.rglob("*.json")) == before  # the last good pull is kept
    assert [p.name for p in kept.parent.iterdir() if ".staging-" in p.name] == []


def test_retries_are_bounded(tmp_path, env):
    with ReplayServer(ZENDESK, ZENDESK_ROUTES) as server:
        server.script[f"{HC}/locales.json"] = [(503, {"Retry-After": "1"}, b"{}")] * 10
        code, output = zendesk(tmp_path, server)
    assert (code, env, len(server.requests)) == (1, [1.0] * http.RETRIES, http.RETRIES + 1)
    assert "still refused after 3 retries" in output and published(tmp_path) is None


def test_missing_token_network_error_and_nothing_to_index(tmp_path, env, monkeypatch):
    monkeypatch.delenv("ZD_TOKEN")
    assert run(tmp_path, "zendesk", "--subdomain", "tallyo", "--token-env", "ZD_TOKEN") == (
        1, "error: --token-env ZD_TOKEN: the environment variable 'ZD_TOKEN' is not set (or is empty)\n")
    monkeypatch.setenv("ZD_TOKEN", "t")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, output = run(tmp_path, "zendesk", "--token-env", "ZD_TOKEN", "--base-url", f"http://127.0.0.1:{port}")
    assert code == 1 and output.startswith(f"error: cannot reach Zendesk at http://127.0.0.1:{port}/api/v2/help_center/locales.json")
    assert run(tmp_path, "zendesk", "--token-env", "ZD_TOKEN", "--base-url", "http://proxy.example.test") == (
        1, "error: --base-url 'http://proxy.example.test': plain http is only allowed to localhost; use https\n")
    assert run(tmp_path, "zendesk", "--subdomain", "Tallyo.evil", "--token-env", "ZD_TOKEN")[1].startswith(
        "error: --subdomain 'Tallyo.evil': the name before .zendesk.com")
    with ReplayServer(ZENDESK, {}) as server:  # a Help Center of one draft
        server.script[f"{HC}/en-us/articles.json"] = [(200, {}, b'{"articles": [{"id": 1, "draft": true}], "next_page": null}')]
        code, output = zendesk(tmp_path, server, "--locale", "en-us")
    assert (code, output) == (1, "error: no Zendesk articles to index in what was pulled (1 records) (1 not articles)\n")
    assert published(tmp_path) is None


def test_bearer_token_and_next_links_on_another_host_are_rebased(tmp_path, env):
    with ReplayServer(ZENDESK, ZENDESK_ROUTES) as server:
        page = (ZENDESK / "en-us-1.json").read_text().replace("{base}", "https://tallyo.zendesk.com")
        server.script[f"{HC}/en-us/articles.json"] = [(200, {}, page.encode())]
        code, output = run(tmp_path, "zendesk", "--token-env", "ZD_TOKEN", "--base-url", server.base + "/",
                           "--locale", "en-us")
    assert code == 0, output
    assert server.requests == [(f"{HC}/en-us/articles.json", "Bearer s3cret-token"),
                               (f"{HC}/en-us/articles.json?page[after]=aWQ6MzYwMDAy", "Bearer s3cret-token")]


def test_out_must_be_a_folder_the_sync_wrote(tmp_path, env):
    mine = tmp_path / "articles"
    mine.mkdir()
    (mine / "a.md").write_text("# A\n\nText.\n")
    with ReplayServer(ZENDESK, ZENDESK_ROUTES) as server:
        code, output = zendesk(tmp_path, server, "--out", str(mine))
    assert code == 1 and "exists and was not written by kbsuggest sync" in output
    assert [p.name for p in mine.iterdir()] == ["a.md"] and server.requests == []


def test_freshdesk_sync_categories_folders_articles(tmp_path, env, monkeypatch):
    monkeypatch.setenv("FD_KEY", "fd-key")
    monkeypatch.setenv("KBSUGGEST_ARTICLE_BASE_URL", "https://tallyo.freshdesk.com/support/solutions/articles")
    with ReplayServer(FRESHDESK, FRESHDESK_ROUTES) as server:
        code, output = run(tmp_path, "freshdesk", "--domain", "tallyo", "--api-key-env", "FD_KEY",
                           "--base-url", server.base)
        again = run(tmp_path, "freshdesk", "--domain", "tallyo", "--api-key-env", "FD_KEY", "--base-url", server.base)
    assert code == 0, output
    base = "https://tallyo.freshdesk.com/support/solutions/articles"
    assert articles(tmp_path) == [("8000001", f"{base}/8000001", "en", "public", "Getting started", "email,profile"),
                                  ("8000003", f"{base}/8000003", "en", "internal", "Getting started", "refunds")]
    assert output.splitlines()[0].startswith("pulled 3 records in 1 pages (5 requests): 3 new")
    assert [key for key, _ in server.requests[:5]] == list(FRESHDESK_ROUTES)
    assert server.requests[0][1] == "Basic " + base64.b64encode(b"fd-key:X").decode()
    assert again[0] == 0 and "embedded 0 articles, reused 2 unchanged" in again[1] and "0 new, 0 updated, 3 unchanged" in again[1]


def test_retry_after_in_seconds_or_as_a_date():
    assert [http.retry_after(v) for v in ("5", "0", None, "soon", "Wed, 21 Oct 2015 07:28:00 GMT")] == [5.0, 0.0, 1.0, 1.0, 0.0]


def test_freshdesk_failure_publishes_nothing(tmp_path, env, monkeypatch):
    monkeypatch.setenv("FD_KEY", "fd-key")
    with ReplayServer(FRESHDESK, FRESHDESK_ROUTES) as server:
        server.script[f"{SOLUTIONS}/categories/6000201/folders"] = [(200, {}, b'{"folders": []}')]
        code, output = run(tmp_path, "freshdesk", "--api-key-env", "FD_KEY", "--base-url", server.base)
        assert (code, output) == (1, f"error: GET {server.base}{SOLUTIONS}/categories/6000201/folders: not a list "
                                     f"of Freshdesk objects with ids\n")
        server.script[f"{SOLUTIONS}/categories"] = [(401, {}, b'{"code": "invalid_credentials"}')]
        code, output = run(tmp_path, "freshdesk", "--api-key-env", "FD_KEY", "--base-url", server.base)
    assert code == 1 and "Freshdesk answered 401 Unauthorized; the credentials were refused" in output
    assert published(tmp_path) is None and not (tmp_path / "sync" / "default" / "freshdesk").exists()
