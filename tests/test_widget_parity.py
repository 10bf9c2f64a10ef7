"""The server side of the widget's parity features (issue 18): match spans, the inline article preview,
popular articles for the zero state, and the locale fallback."""

from __future__ import annotations

import time

import pytest

from conftest import AGENT, make_app
from indexing.chunking import windows
from kbsuggest.index.sections import join_windows
from kbsuggest.rank.highlight import Highlighter
from kbsuggest.rank.locales import Locales
from kbsuggest.rank.query import Query


def marked(text: str, spans) -> list[str]:
    chars = list(text)
    return ["".join(chars[a:b]) for a, b in spans]


def test_suggestions_carry_the_spans_of_the_matched_words(client):
    top = client.get("/v1/suggest?q=reset+passw").json()["suggestions"][0]
    assert top["article_id"] == "password-reset"
    assert marked(top["title"], top["title_spans"]) == ["Reset", "password"]  # "passw" completed to password
    assert marked(top["snippet"], top["snippet_spans"]) == ["password", "reset"]


def test_spans_skip_stop_words_and_mark_a_typed_prefix():
    marks = Highlighter("how do I pass", Query("how do i pass", (("password",),), False))
    assert marks.spans("How do I reset my Passwort or password?") == [[18, 22], [30, 38]]
    # offsets are code points: an emoji before the word does not shift them by two
    assert marks.spans("🔑 password") == [[2, 10]]


def test_spans_of_accented_words_fold_like_ranking(client):
    top = client.get("/v1/suggest?q=passwort+zuru&locale=de").json()["suggestions"][0]
    assert marked(top["title"], top["title_spans"]) == ["Passwort", "zurücksetzen"]


@pytest.fixture
def unthresholded(tmp_path, built_settings):
    """The fixture KB's app showing every ranking (the hash embedder scores a German query against English
    articles near 0): the locale decides which articles rank, not whether any is shown."""
    from fastapi.testclient import TestClient

    settings = built_settings.model_copy(update={"db_path": tmp_path / "kbsuggest.db", "min_score": 0.0})
    with TestClient(make_app(settings)) as client:
        yield client


@pytest.mark.parametrize("asked, served", [("de-DE", "de"), ("de_at", "de"), ("DE", "de"), ("en-GB", "en"),
                                           ("pt-BR", "en"), (None, None)])
def test_locale_falls_back_to_the_language_then_the_kb_default(unthresholded, asked, served):
    query = "q=passwort+vergessen" + (f"&locale={asked}" if asked else "")
    body = unthresholded.get(f"/v1/suggest?{query}").json()
    assert body["locale"] == served
    found = [s["article_id"] for s in body["suggestions"]]
    if served == "de":
        assert found == ["passwort-zuruecksetzen"]  # the KB's only German article
    elif served:
        assert found[0] == "password-reset" and "passwort-zuruecksetzen" not in found


def test_a_locale_of_internal_articles_only_is_not_offered_to_the_public():
    locales = {False: Locales({"en"}, "en"), True: Locales({"en", "nl"}, "en")}
    assert (locales[False].resolve("nl-BE"), locales[True].resolve("nl-BE")) == ("en", "nl")


def test_the_chat_post_answers_with_the_fallback_locale_too(client):
    r = client.post("/v1/suggest", json={"query": "Ich habe mein Passwort vergessen", "locale": "de-CH"})
    assert r.json()["locale"] == "de" and [s["article_id"] for s in r.json()["suggestions"]] == ["passwort-zuruecksetzen"]


def test_preview_returns_the_matching_section_as_text(client):
    r = client.get("/v1/articles/password-reset?section=request-a-reset-link")
    assert r.status_code == 200 and r.headers["vary"] == "Authorization"
    assert r.json() == {
        "article_id": "password-reset", "title": "Reset your password", "url": "https://help.example.test/password-reset",
        "locale": "en", "section": "Request a reset link", "anchor": "request-a-reset-link",
        "text": "Click Forgot password on the sign-in page and enter your email. We send a reset link that expires "
                "after 60 minutes."}
    intro = client.get("/v1/kbs/default/articles/password-reset").json()
    assert (intro["section"], intro["text"]) == (None, "Forgot your password? You can reset it from the sign-in page.")


def test_an_internal_article_is_a_404_like_a_missing_one_for_the_public(client):
    internal, missing = client.get("/v1/articles/runbook-refund"), client.get("/v1/articles/no-such-article")
    assert internal.status_code == missing.status_code == 404
    assert internal.json() == {"error": "not_found", "message": "no article 'runbook-refund' in KB 'default'",
                               "field": "article_id"}
    assert missing.json()["message"] == "no article 'no-such-article' in KB 'default'"
    def same(r):
        return {k: v for k, v in r.headers.items() if k != "content-length"}
    assert same(internal) == same(missing)
    agent = client.get("/v1/articles/runbook-refund", headers=AGENT)
    assert agent.status_code == 200 and agent.headers["cache-control"] == "private, no-store"
    assert agent.json()["title"] == "Runbook: issue a manual refund"


def test_an_unknown_section_is_a_404_naming_it(client):
    r = client.get("/v1/articles/password-reset?section=nope")
    assert (r.status_code, r.json()) == (404, {
        "error": "not_found", "field": "section",
        "message": "article 'password-reset' has no section 'nope'; its sections: request-a-reset-link, "
                   "the-reset-email-never-arrives"})
    assert client.get("/v1/articles/bad%20id").status_code == 422


@pytest.mark.parametrize("size, overlap", [(20, 5), (20, 0), (20, 19), (20, 30)])
def test_a_split_section_is_joined_back_exactly(size, overlap):
    words = [f"w{i}" for i in range(97)]
    pieces = [" ".join(p) for p in windows(words, size, overlap)]
    assert len(pieces) > 1 and join_windows(pieces, size, overlap) == " ".join(words)


def test_popular_without_events_is_a_fixed_order_of_public_articles(client):
    r = client.get("/v1/popular?product=billing")
    assert r.json() == {"locale": None, "articles": [
        {"article_id": "billing-refunds", "title": "Refunds: how to request one",
         "url": "https://help.example.test/refunds", "sessions": 0},
        {"article_id": "invoices", "title": "Download your invoices", "url": "https://help.example.test/invoices",
         "sessions": 0}]}  # the internal runbook of product billing is left out
    assert [a["article_id"] for a in client.get("/v1/popular?product=billing", headers=AGENT).json()["articles"]] == [
        "billing-refunds", "invoices", "runbook-refund"]


def event_batch(session, *events):
    now = int(time.time() * 1000)
    return {"session_id": session, "sent_at": now, "events": [e | {"at": now} for e in events]}


def opened(article):
    return {"type": "article_opened", "query": "q", "article_id": article, "position": 1}


def rated(article, helpful):
    return {"type": "feedback", "query": "q", "article_id": article, "position": 1, "helpful": helpful}


def test_popular_counts_sessions_that_opened_or_were_helped_in_sql(backend_client):
    client = backend_client
    sessions = {"s1aaaaaaaaaa": [opened("sso-login"), opened("sso-login"), opened("two-factor")],
                "s2aaaaaaaaaa": [opened("two-factor"), rated("two-factor", True)],
                "s3aaaaaaaaaa": [rated("two-factor", True), rated("webhooks", False)],
                "s4aaaaaaaaaa": [opened("runbook-refund"), opened("runbook-refund")],
                "s5aaaaaaaaaa": [opened("sso-login")]}
    for session, events in sessions.items():
        assert client.post("/v1/events", json=event_batch(session, *events)).status_code == 202
    assert client.app.state.store.popular_articles("default", "2000-01-01", 10) == [
        ("two-factor", 3), ("sso-login", 2), ("runbook-refund", 1)]
    body = client.get("/v1/popular?k=3&product=web").json()
    assert [(a["article_id"], a["sessions"]) for a in body["articles"]] == [
        ("two-factor", 3), ("sso-login", 2), ("export-empty-csv", 0)]  # then the fixed order fills up
    agent = client.get("/v1/popular?k=3", headers=AGENT).json()
    assert [a["article_id"] for a in agent["articles"]] == ["two-factor", "sso-login", "runbook-refund"]
    german = client.get("/v1/popular?locale=de-DE").json()
    assert (german["locale"], [a["article_id"] for a in german["articles"]]) == ("de", ["passwort-zuruecksetzen"])


def test_popular_without_a_store_still_answers(tmp_path, built_settings):
    from fastapi.testclient import TestClient

    from conftest import make_app, make_settings

    (tmp_path / "dir.db").mkdir()  # not a database: the store is unavailable
    app = make_app(make_settings(tmp_path, index_dir=built_settings.index_dir, db_path=tmp_path / "dir.db"))
    with TestClient(app) as client:
        r = client.get("/v1/popular?k=1")
    assert (r.status_code, [a["article_id"] for a in r.json()["articles"]]) == (200, ["api-rate-limits"])


def test_readme_documents_every_widget_option_and_string():
    import re

    from conftest import REPO

    script = (REPO / "kbsuggest" / "static" / "widget.js").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    options = set(re.findall(r"\bo\.(\w+)", script))
    keys = re.search(r'var KEYS = "([^"]+)"', script).group(1).split()
    assert options >= {"endpoint", "locale", "product", "showScores", "onNoMatch", "container"}
    assert [o for o in sorted(options) if f"| `{o}" not in readme] == []
    assert [k for k in keys if f"| `{k}` |" not in readme] == []
    for locale in ("en", "de", "fr", "es"):
        strings = re.search(rf'\n\s*{locale}: "([^"]+)"', script).group(1).split("|")
        assert len(strings) == len(keys) and all(text in readme for text in strings), locale
    assert len(script.encode()) <= 20 * 1024  # issue 18's budget
