"""Article sources: each format's fixture read into exactly the articles, urls, locales and audiences it
holds; redirects, drafts and stubs left out with their reason; detection; the CLI and the admin reindex."""

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from indexing.build import build_index, read_source
from kbsuggest.cli import main
from kbsuggest.config import KBSettings, Settings
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.errors import ConfigError
from kbsuggest.sources import FORMATS
from kbsuggest.sources.detect import detect_format

from conftest import FIXTURES, REPO, SHARED_DATA, make_settings

SOURCES = FIXTURES / "sources"
BASE = "https://help.example.test"


def read(path, fmt=None, **kb):
    return read_source(path, Settings(), KBSettings(**{"name": "default", "require_audience": False, **kb}), fmt=fmt)


def rows(loaded):
    return [(a.id, a.url, a.locale, a.audience) for a in loaded.articles]


@pytest.mark.parametrize("name, fmt", [
    ("docs_site", "markdown"), ("html_site", "html"), ("zendesk", "zendesk"), ("freshdesk_articles.json", "freshdesk"),
    ("intercom_articles.json", "intercom"), ("confluence_export", "confluence"), ("confluence_pages.json", "confluence"),
    ("../kb", "markdown"),
])
def test_formats_are_detected(name, fmt):
    assert detect_format(SOURCES / name) == fmt


def test_unknown_or_undetectable_format_names_the_valid_ones(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ConfigError, match="found no articles .* pass --format \\(valid: markdown, html, zendesk"):
        detect_format(tmp_path)
    with pytest.raises(ConfigError, match="unknown source format 'word'; valid: markdown, html, zendesk, freshdesk"):
        read(tmp_path, "word")
    with pytest.raises(ValueError, match="unknown source format 'xml'"):
        KBSettings(name="x", source_format="xml")


def test_docs_site_every_page_with_text_indexed_redirects_and_stubs_apart():
    loaded = read(SOURCES / "docs_site", article_base_url=BASE)
    assert rows(loaded) == [
        ("guides-billing", f"{BASE}/help/billing/", "en", "public"),  # Jekyll .html page: permalink
        ("html-body", f"{BASE}/html-body", "en", "public"),  # a Markdown file whose body is HTML
        ("reset-password", f"{BASE}/account/reset-password", "en", "public"),  # Docusaurus slug
        ("static-legacy", "https://help.example.test/legacy-faq", "en", "public"),  # a static page: canonical link
    ]
    assert loaded.skipped == []
    assert loaded.excluded == [("draft.md", "draft"), ("old-page.md", "redirect (to '/account/reset-password')"),
                               ("static/moved.html", "redirect (to 'https://help.example.test/new')"),
                               ("stub.md", "no text")]
    reset = {a.id: a for a in loaded.articles}["reset-password"]
    assert reset.sections[0].text.splitlines() == [  # Tabs, TabItem, admonition and details keep their text
        "Forgot your password? Reset it from the sign-in page.", "Click Forgot password and enter your email address.",
        "Tap Forgot password in the app menu.", "The reset link expires after 60 minutes.", "The email never arrives",
        "Check your spam folder, then ask us to resend it."]
    billing = {a.id: a for a in loaded.articles}["guides-billing"]
    assert [(s.heading, s.anchor, s.text) for s in billing.sections] == [
        ("", "", "Download invoices from Settings › Billing."),
        ("VAT numbers", "vat", "Add your VAT number before paying.\nPast invoices are not changed.\nPlan | Billed\nPro | monthly")]
    assert {a.id: a for a in loaded.articles}["html-body"].sections[0].text == (
        "Open Reports and click Export.\nLarge exports arrive by email.")


def test_html_pages_main_content_title_canonical_locale():
    loaded = read(SOURCES / "html_site", article_base_url=BASE)
    assert rows(loaded) == [("blog", f"{BASE}/blog", "en", "public"),
                            ("guides-sso", f"{BASE}/guides-sso", "en", "internal"),  # <meta name="audience">
                            ("index", "https://hilfe.example.test/passwort", "de", "public")]
    assert loaded.excluded == [("empty.html", "no text"), ("moved.html", "redirect (to 'https://help.example.test/new')")]
    page = {a.id: a for a in loaded.articles}["index"]
    assert page.title == "Passwort zurücksetzen"  # the h1, without its permalink; nav, TOC, hidden text dropped
    assert [(s.heading, s.anchor, s.text) for s in page.sections] == [
        ("", "", "Klicken Sie auf der Anmeldeseite auf Passwort vergessen."),
        ("Keine E-Mail erhalten?", "keine-email", "Prüfen Sie den Spam-Ordner.")]
    blog = {a.id: a for a in loaded.articles}["blog"]  # no content marker: the readability pass finds the post
    assert (blog.title, len(blog.sections), blog.sections[0].text.count("\n")) == ("Release notes", 1, 1)


def test_zendesk_export_exactly_as_it_says_and_restricted_never_public():
    loaded = read(SOURCES / "zendesk")
    hc = "https://tallyo.zendesk.com/hc"
    assert rows(loaded) == [
        ("360001", f"{hc}/en-us/articles/360001-Reset-your-password", "en-us", "public"),
        ("360001-de", f"{hc}/de/articles/360001-Passwort-zur%C3%BCcksetzen", "de", "public"),
        ("360002", f"{hc}/en-us/articles/360002-Unlock-an-account-agents", "en-us", "internal"),  # a user segment
        ("360004", f"{hc}/en-us/articles/360004-Billing-FAQ", "en-us", "internal"),  # says no segment: fail closed
    ]
    first = loaded.articles[0]
    assert (first.product, first.tags, first.updated) == ("Accounts", ("password", "login", "Sign-in"), "2026-02-01T10:00:00Z")
    assert [s.anchor for s in first.sections] == ["", "h_01"]
    assert loaded.articles[3].warnings == ("the record has no user_segment_id: indexed as internal (it may be restricted)",)
    assert (loaded.skipped, loaded.excluded) == ([], [("page-2.json#1", "draft"), ("page-2.json#3", "no text")])


def test_zendesk_missing_pages_are_reported(tmp_path):
    shutil.copy(SOURCES / "zendesk" / "page-1.json", tmp_path)
    loaded = read(tmp_path, "zendesk")
    assert loaded.skipped == [("page-1.json", "every page of the export points at a next page (next_page): the last "
                                              "pages are missing, fetch them all")]
    page = json.loads((SOURCES / "zendesk" / "page-1.json").read_text()) | {"next_page": None}
    (tmp_path / "page-1.json").write_text(json.dumps(page))
    assert read(tmp_path, "zendesk").skipped == [
        ("page-1.json", "the export says it has 6 records but its pages hold 3: pages are missing")]


def test_freshdesk_published_in_public_folders_only():
    loaded = read(SOURCES / "freshdesk_articles.json", article_base_url=f"{BASE}/support/solutions/articles")
    assert rows(loaded) == [("8000001", f"{BASE}/support/solutions/articles/8000001", "en", "public"),
                            ("8000003", f"{BASE}/support/solutions/articles/8000003", "en", "internal")]  # agents' folder
    assert (loaded.articles[0].product, loaded.articles[0].tags) == ("Getting started", ("email", "profile"))
    assert loaded.excluded == [("freshdesk_articles.json#1/1/2", "draft")]


def test_intercom_translations_and_articles_in_no_help_centre():
    loaded = read(SOURCES / "intercom_articles.json")
    assert rows(loaded) == [
        ("6871119", "https://intercom.help/tallyo/en/articles/6871119-connect-slack", "en", "public"),
        ("6871119-fr", "https://intercom.help/tallyo/fr/articles/6871119-connecter-slack", "fr", "public"),
        ("6871121", "", "en", "internal")]
    assert loaded.articles[0].updated == "2026-01-01T00:00:00Z"
    assert loaded.excluded == [("intercom_articles.json#1/de", "draft"), ("intercom_articles.json#2", "draft")]


def test_confluence_export_and_storage_format():
    export = read(SOURCES / "confluence_export")
    assert [(a.id, a.title, a.audience) for a in export.articles] == [("reset-password_98305", "Reset password", "public")]
    assert [s.text for s in export.articles[0].sections] == [
        "Users reset their own password from the sign-in page.", "tallyo users reset --email ana@example.test"]
    assert export.excluded == [("index.html", "no page content (the export's index of the space)")]
    api = read(SOURCES / "confluence_pages.json")
    wiki = "https://tallyo.atlassian.net/wiki/spaces/SUP/pages"
    assert rows(api) == [("98305", f"{wiki}/98305/Reset+password", "en", "public"),
                         ("98310", f"{wiki}/98310/Payroll+escalations", "en", "internal")]  # read-restricted
    assert [s.text for s in api.articles[0].sections] == [  # macro bodies and code kept, parameters and images not
        "Users reset their own password from the sign-in page.\nLinks expire after 60 minutes.",
        "tallyo users reset --email <ana@example.test>\nSee Unlock an account."]
    assert api.excluded == [("confluence_pages.json#3", "draft")]
    strict = read(SOURCES / "confluence_pages.json", require_audience=True)
    assert [a.audience for a in strict.articles] == ["internal", "internal"]


def test_an_unchanged_export_reuses_every_vector(tmp_path):
    settings = make_settings(tmp_path)
    first = build_index(SOURCES / "zendesk", settings, HashEmbedder())
    again = build_index(SOURCES / "zendesk", settings, HashEmbedder())
    assert (first.format, first.articles, first.embedded, again.embedded, again.reused) == ("zendesk", 4, 4, 0, 4)


def test_cli_index_format_and_help_and_url_warning(tmp_path):
    help_text = CliRunner().invoke(main, ["index", "--help"]).output
    assert all(f"{name}: " in help_text for name in FORMATS)
    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path / "i"), "--embedder", "hash", "index",
                                       str(SOURCES / "intercom_articles.json"), "--format", "intercom"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("indexed 3 articles (1 internal) as 7 chunks from ") and "(intercom)" in lines[0]
    assert lines[5:8] == ["2 not articles: 2 draft", "  left out intercom_articles.json#1/de: draft",
                              "  left out intercom_articles.json#2: draft"]
    assert ("warning: 1 articles have no url (6871121): the widget shows them without a link; give the source a "
            "url or set article_base_url (KBSUGGEST_ARTICLE_BASE_URL)") in lines


def test_admin_reindex_reads_the_kbs_source_and_put_is_markdown_only(tmp_path):
    from fastapi.testclient import TestClient

    from conftest import ADMIN, ADMIN_KEY, make_app
    shutil.copytree(SOURCES / "zendesk", tmp_path / "export")
    settings = make_settings(tmp_path, articles_dir=tmp_path / "export", admin_api_keys=[ADMIN_KEY],
                             source_format="zendesk")
    build_index(settings.articles_dir, settings, HashEmbedder())
    with TestClient(make_app(settings, writable=True)) as client:
        r = client.post("/v1/admin/reindex", headers=ADMIN)
        assert (r.status_code, r.json()["articles"], r.json()["reused"]) == (200, 4, 4)
        r = client.put("/v1/admin/articles/new-one", headers=ADMIN,
                       content="---\naudience: public\n---\n# New\n\nText.\n")
        assert r.status_code == 409 and "the admin API writes Markdown articles" in r.json()["message"]


@pytest.mark.skipif(not shutil.which("node"), reason="node not installed")
def test_widget_links_only_to_a_url_the_article_has():
    source = (REPO / "kbsuggest" / "static" / "widget.js").read_text()
    start = source.index("function safeUrl")
    safe_url = source[start:source.index("\n}\n", start) + 3]  # a top-level function of the script
    script = ("var location = {href: 'https://shop.example/cart'};\n" + safe_url
              + "\nconsole.log(JSON.stringify([safeUrl('', ''), safeUrl(null, 'x'), safeUrl('javascript:alert(1)'),"
                " safeUrl('https://help.example/a', 'b')]));")
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == [None, None, None, "https://help.example/a#b"]


@pytest.mark.skipif(not (SHARED_DATA / "plausible_docs").is_dir(), reason="../shared/data not present")
def test_plausible_docs_lose_no_article_that_has_text():
    docs = SHARED_DATA / "plausible_docs" / "docs"
    loaded = read(docs)
    assert (len(loaded.articles), loaded.skipped, loaded.excluded) == (132, [], [])
    goals = {a.id: a for a in loaded.articles}["goal-conversions"]  # its goal types are an HTML table
    assert "Pageview goals | Measure how many people visit a specific page" in goals.sections[0].text
