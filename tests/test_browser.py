"""The widget in a real browser: Debian's headless Chromium driven by Playwright, against a live server.

Fixtures (KB, live server, Chromium) are in tests/browser_support.py. Screenshots and the scripted
session's figures go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import AGENT_KEY

pytestmark = pytest.mark.browser

from browser_support import (  # noqa: F401  (fixtures)
    ARTIFACTS, HTML_TITLE, browser, context, kb, live, open_demo, serve, shop, type_subject)


def test_typing_shows_the_article_and_arrows_and_enter_preview_it(context, live):
    page = open_demo(context, live)
    options = type_subject(page, "reset pass")
    options.first.wait_for()
    assert options.first.locator(".kbs-title").text_content() == "Reset your password"
    subject = page.locator("#subject")
    assert (subject.get_attribute("role"), subject.get_attribute("aria-expanded")) == ("combobox", "true")

    subject.press("ArrowDown")
    assert options.first.get_attribute("aria-selected") == "true"
    assert subject.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-form.png"), full_page=True)
    subject.press("Enter")  # the article's section, inside the form (issue 18): "Open full article" leaves
    full = page.get_by_role("link", name="Open full article")
    with context.expect_page() as article:
        full.click()
    assert article.value.url.startswith("https://help.example.test/password-reset")
    assert page.locator("#thanks").is_hidden()  # Enter opened the preview, it did not submit the form

    subject.press("Escape")
    assert subject.get_attribute("aria-expanded") == "false"
    assert page.errors == []


def test_each_query_is_fetched_once_per_page(context, live):
    page = open_demo(context, live)
    asked = []
    page.on("request", lambda request: "/v1/suggest" in request.url and asked.append(request.url.split("?", 1)[1]))
    subject = page.locator("#subject")
    for text in ("reset pass", "refund", "reset pass"):
        subject.fill("")
        type_subject(page, text).first.wait_for()
        assert page.locator("[role=option] .kbs-title").first.text_content() == (
            "Reset your password" if text == "reset pass" else "Refunds: how to request one")
    # The debounce keeps keystrokes from each sending a request; the cache answers the repeated query.
    assert asked.count("q=reset+pass&k=3&locale=en") == 1 and asked.count("q=refund&k=3&locale=en") == 1
    assert page.errors == []


def test_an_html_title_renders_as_text(context, live):
    page = open_demo(context, live)
    options = type_subject(page, "script alert")
    options.first.wait_for()
    assert options.first.locator(".kbs-title").text_content() == HTML_TITLE
    assert page.locator("[role=listbox] script").count() == 0
    assert page.errors == []


def test_with_the_service_stopped_the_form_still_submits(context, live):
    page = open_demo(context, live)
    live.stop()
    # (focusing the field asks for the popular articles first: that request fails too)
    with page.expect_event("requestfailed", lambda request: "/v1/suggest" in request.url) as failed:
        type_subject(page, "reset pass")
    assert "/v1/suggest?q=reset+pass" in failed.value.url
    assert page.locator("[role=listbox]").first.is_hidden()
    page.locator("#description").fill("The reset link never arrives.")
    page.get_by_role("button", name="Submit request").click()
    assert page.locator("#thanks").text_content().startswith("Thanks! We received your request \u201creset pass\u201d")
    assert page.errors == []


def test_chat_answers_every_message_even_when_the_next_comes_first(context, live):
    page = open_demo(context, live)
    held = []
    # The first message's request is held back until the second one has been answered.
    page.route("**/v1/suggest", lambda route: held.append(route) if not held else route.continue_())
    page.get_by_role("button", name="Chat with us").click()
    chat = page.locator("#chat-input")
    for text in ("how do I get a refund", "reset my password"):
        chat.fill(text)
        chat.press("Enter")
    first_titles = page.locator("#transcript .kbs-group .kbs-card:first-of-type .kbs-title")
    first_titles.first.wait_for()
    assert first_titles.all_text_contents() == ["Reset your password"]
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_function("document.querySelectorAll('#transcript .kbs-group').length === 2")
    assert first_titles.all_text_contents() == ["Reset your password", "Refunds: how to request one"]
    assert page.errors == []


def test_a_scripted_sessions_events_land_in_sqlite_and_count(browser, live):
    from click.testing import CliRunner

    from kbsuggest.cli import main
    from kbsuggest.events.deflection import deflection_stats
    from kbsuggest.store.sqlite import SQLiteStore

    def stored() -> int:
        with sqlite3.connect(live.settings.db_path) as conn:
            exists = conn.execute("select 1 from sqlite_master where name = 'events'").fetchone()
            return conn.execute("select count(*) from events").fetchone()[0] if exists else 0

    def session(script, total):
        context = browser.new_context()
        context.route("https://help.example.test/**", lambda route: route.fulfill(body="article", content_type="text/html"))
        page = open_demo(context, live)
        script(page, context)
        page.goto("about:blank")  # pagehide: the widget sends what is left with sendBeacon
        assert page.errors == []
        # Beacons are asynchronous, and closing a Playwright context cancels them: wait for the events.
        deadline = time.monotonic() + 30
        while stored() < total and time.monotonic() < deadline:
            time.sleep(0.05)
        context.close()

    def opens_article(page, context):  # potential deflection
        type_subject(page, "reset pass").first.wait_for()
        page.locator("#subject").press("ArrowDown")
        page.locator("#subject").press("Enter")  # the preview: opening it is opening the article
        with context.expect_page():
            page.get_by_role("link", name="Open full article").click()

    def chat_solved(page, context):  # confirmed deflection
        page.get_by_role("button", name="Chat with us").click()
        page.locator("#chat-input").fill("how do I get a refund")
        page.locator("#chat-input").press("Enter")
        page.get_by_role("button", name="This solved it").first.click()
        page.get_by_text("Glad it helped!").wait_for()
        page.screenshot(path=str(ARTIFACTS / "widget-chat.png"))

    def files_ticket(text):  # no deflection
        def script(page, context):
            with page.expect_response(lambda r: "/v1/suggest?" in r.url):
                type_subject(page, text)
            page.locator("[role=status]").filter(has_text="found").or_(  # rendered: no layout shift under the click
                page.get_by_text("No matching articles")).first.wait_for(state="attached")
            page.get_by_role("button", name="Submit request").click()
            page.locator("#thanks").wait_for()
        return script

    ARTIFACTS.mkdir(exist_ok=True)
    scripts = (opens_article, chat_solved, files_ticket("sso login failing"), files_ticket("dark mode theme"))
    for n, script in enumerate(scripts, 1):
        session(script, total=2 * n)  # each session leaves two events

    db_path = live.settings.db_path
    db = SQLiteStore(db_path)
    assert [tuple(r) for r in sqlite3.connect(db_path).execute(
        "select type, count(distinct session_id), count(*) from events group by 1 order by 1")] == [
        ("article_opened", 1, 1), ("feedback", 1, 1), ("suggestions_shown", 4, 4), ("ticket_submitted", 2, 2)]

    # Right now the two deflections are pending (their window is open); an hour later they count.
    now = datetime.now(timezone.utc)
    window = timedelta(minutes=live.settings.deflection_window_minutes)
    api = __import__("httpx").get(live.url + "/v1/stats/deflection", headers={"Authorization": f"Bearer {AGENT_KEY}"})
    assert api.json()["counts"] == {"confirmed": 0, "potential": 0, "none": 2, "unengaged": 0, "pending": 2}
    later = deflection_stats(db, "default", now - timedelta(days=1), now + timedelta(days=1), window, now + window + timedelta(minutes=1))
    assert later.counts == {"confirmed": 1, "potential": 1, "none": 2, "unengaged": 0, "pending": 0}
    assert (later.confirmed_rate, later.potential_rate, later.deflection_rate) == (0.25, 0.25, 0.5)
    assert [(a.article_id, a.confirmed, a.potential) for a in later.top_articles] == [
        ("billing-refunds", 1, 0), ("password-reset", 0, 1)]
    assert [(q.query, q.sessions) for q in later.unanswered_queries] == [("dark mode theme", 1)]

    cli = CliRunner().invoke(main, ["stats", "--db", str(db_path)])
    assert cli.exit_code == 0 and "none            2" in cli.output and "dark mode theme" in cli.output
    # Kept for inspection: `kbsuggest stats --db test-artifacts/session-events.db`
    (ARTIFACTS / "session-events.db").unlink(missing_ok=True)
    with sqlite3.connect(db_path) as source, sqlite3.connect(ARTIFACTS / "session-events.db") as copy:
        source.backup(copy)
    (ARTIFACTS / "deflection-session.json").write_text(json.dumps(
        {"now": api.json(), "after_window": later.__dict__}, default=lambda o: o.__dict__, indent=2))


@pytest.mark.parametrize("allowed", [True, False])
def test_another_origin_gets_suggestions_only_when_allowed(context, kb, tmp_path, shop, allowed):
    api = serve(kb, tmp_path, cors_origins=[shop.url] if allowed else [])
    try:
        (shop.site / "contact.html").write_text(
            f'<form><input id="subject"></form><script src="{api.url}/widget.js"></script>'
            '<script>KBSuggest.attach(document.getElementById("subject"))</script>')
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(shop.url + "/contact.html")
        if allowed:
            type_subject(page, "reset pass").first.wait_for()
            assert page.locator("[role=option] .kbs-title").first.text_content() == "Reset your password"
        else:
            with page.expect_console_message(lambda m: "CORS policy" in m.text):
                type_subject(page, "reset pass")
            assert page.locator("[role=listbox]").is_hidden()
        assert errors == []
    finally:
        api.stop()
