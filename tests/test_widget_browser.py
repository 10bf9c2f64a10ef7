"""The widget's parity features (issue 18) in real Chromium: highlighting, loading/empty/zero states, the inline
preview, the locale fallback, the dark scheme, keyboard and focus behaviour, tap targets, the phone layout, and
axe-core on /demo with the form's list, the chat and the preview open.

Fixtures are in tests/browser_support.py; screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

from browser_support import (  # noqa: F401  (fixtures)
    axe_violations, browser, context, kb, live, open_demo, screenshot, serve, type_subject)

OPTIONS = "#subject ~ [role=listbox] [role=option]"
EMPTY = "No matching articles — you can still submit"


def marks(locator) -> list[str]:
    return locator.locator("mark").all_text_contents()


def stored(live, sql: str) -> list[tuple]:
    with sqlite3.connect(live.settings.db_path) as conn:
        if not conn.execute("select 1 from sqlite_master where name = 'events'").fetchone():
            return []
        return [tuple(r) for r in conn.execute(sql)]


def wait_stored(live, sql: str, expected: list[tuple]) -> list[tuple]:
    deadline = time.monotonic() + 20
    while (rows := stored(live, sql)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return rows


def test_matched_words_are_marked_in_titles_and_snippets(context, live):
    page = open_demo(context, live)
    options = type_subject(page, "reset pass")
    options.first.wait_for()
    assert marks(options.first.locator(".kbs-title")) == ["Reset", "password"]  # "pass" as ranking completed it
    assert marks(options.first.locator(".kbs-snippet")) == ["password", "reset"]
    assert options.first.locator(".kbs-meta").count() == 0  # no score unless showScores
    # markup in a title stays text, with its words marked by DOM nodes
    page.locator("#subject").fill("")
    html = type_subject(page, "script alert").first
    html.wait_for()
    assert marks(html.locator(".kbs-title")) == ["script", "alert", "script"]
    assert page.locator("[role=listbox] script").count() == 0
    assert page.errors == []


def test_scores_show_only_with_show_scores(context, live):
    page = context.new_page()
    page.goto(live.url + "/demo?scores")
    first = type_subject(page, "reset pass").first
    first.wait_for()
    assert first.locator(".kbs-meta").text_content().startswith(" · match 0.")


def test_loading_shows_after_300_ms_and_the_old_list_stays(context, live):
    page = open_demo(context, live)
    held = []
    page.route("**/v1/suggest?q=refund*", lambda route: held.append(route))
    options = type_subject(page, "reset pass")
    options.first.wait_for()
    page.locator("#subject").fill("refund")
    page.get_by_text("Searching…").wait_for()
    # while the answer is held back the previous list is still there: no blinking between keystrokes
    assert options.first.locator(".kbs-title").text_content() == "Reset your password"
    screenshot(page, "widget-loading")
    held[0].continue_()
    page.wait_for_function("document.querySelector('.kbs-opt .kbs-title').textContent.startsWith('Refunds')")
    assert page.get_by_text("Searching…").count() == 0
    assert page.errors == []


def test_the_empty_state_invites_to_submit_and_calls_on_no_match(context, live):
    page = open_demo(context, live)
    type_subject(page, "dark mode theme")
    page.locator(".kbs-box", has_text=EMPTY).wait_for()
    assert page.locator("#subject ~ [role=status]").text_content() == EMPTY  # the polite live region
    assert page.locator("#human").is_visible()  # the demo's onNoMatch offers a human
    assert page.locator("#subject").get_attribute("aria-expanded") == "false"
    screenshot(page, "widget-empty")
    page.get_by_role("button", name="Submit request").click()
    page.locator("#thanks").wait_for()


def test_the_live_region_announces_the_count(context, live):
    page = open_demo(context, live)
    type_subject(page, "reset pass").first.wait_for()
    # the form shows the top 3 once the best passes its threshold
    assert page.locator("#subject ~ [role=status]").text_content() == "Articles found: 3"


def test_the_preview_shows_the_section_and_this_solved_it_is_recorded(context, live):
    page = open_demo(context, live)
    options = type_subject(page, "email never arrives reset")
    options.first.wait_for()
    options.first.click()
    preview = page.get_by_role("region", name="Reset your password")
    preview.wait_for()
    assert preview.locator(".kbs-meta").text_content() == "The reset email never arrives"
    assert preview.locator(".kbs-text").text_content() == (
        "Check your spam folder and allow no-reply@example.test.")
    assert preview.get_by_role("link", name="Open full article").get_attribute("href") == (
        "https://help.example.test/password-reset#the-reset-email-never-arrives")
    screenshot(page, "widget-preview")
    preview.get_by_role("button", name="This solved it").click()
    done = preview.get_by_text("Glad it helped!")
    done.wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Glad it helped!"  # focus kept
    sql = "select type, article_id, helpful from events where type != 'suggestions_shown' order by id"
    assert wait_stored(live, sql, [("article_opened", "password-reset", None), ("feedback", "password-reset", 1)]) == [
        ("article_opened", "password-reset", None), ("feedback", "password-reset", 1)]
    assert page.errors == []


def test_escape_closes_the_preview_and_returns_to_the_field(context, live):
    page = open_demo(context, live)
    type_subject(page, "reset pass").first.wait_for()
    page.locator("#subject").press("ArrowDown")
    page.locator("#subject").press("Enter")
    full = page.get_by_role("link", name="Open full article")
    full.wait_for()
    full.focus()
    page.keyboard.press("Escape")
    assert page.locator(".kbs-box[role=region]").is_hidden()
    assert page.evaluate("document.activeElement.id") == "subject"


def test_zero_state_shows_popular_articles_when_the_field_is_focused_and_empty(context, live):
    page = open_demo(context, live)
    page.locator("#subject").focus()
    options = page.locator(OPTIONS)
    options.first.wait_for()
    assert options.locator(".kbs-title").all_text_contents() == [
        "API rate limits", "Refunds: how to request one", "Report export downloads an empty CSV"]  # no events yet
    assert page.locator("#subject ~ .kbs-box").first.text_content() == "Popular articles"
    assert page.get_by_role("listbox").get_attribute("aria-label") == "Popular articles"
    page.locator("#subject").press_sequentially("re", delay=20)  # under 3 characters: nothing yet
    assert options.count() == 0 or page.get_by_role("listbox").is_hidden()


@pytest.mark.parametrize("asked, title, empty", [
    ("de-DE", "Passwort zurücksetzen", "Keine passenden Artikel — Sie können trotzdem absenden"),
    ("fr-CA", None, "Aucun article correspondant — vous pouvez tout de même envoyer"),  # no French article: en
])
def test_locale_falls_back_in_the_widget_and_on_the_server(context, live, asked, title, empty):
    page = context.new_page()
    page.goto(f"{live.url}/demo?locale={asked}")
    with page.expect_response(lambda r: "/v1/suggest?" in r.url) as answer:
        type_subject(page, "passwort zur" if title else "reset pass")
    assert f"locale={asked}" in answer.value.url
    assert answer.value.json()["locale"] == ("de" if title else "en")
    if title:
        assert page.locator(OPTIONS).first.locator(".kbs-title").text_content() == title
    page.locator("#subject").fill("")
    type_subject(page, "xyzzy plugh")
    page.locator(".kbs-box", has_text=empty).wait_for()  # strings of the page's language (fr), not the KB's


def test_without_strings_for_the_page_the_kb_default_locale_speaks(browser, kb, tmp_path):
    api = serve(kb, tmp_path, default_locale="de")  # a German KB; the page is Italian: no article, no strings
    try:
        page = browser.new_page()
        page.goto(f"{api.url}/demo?locale=it-IT")
        with page.expect_response(lambda r: "/v1/suggest?" in r.url) as answer:
            type_subject(page, "xyzzy plugh")
        assert answer.value.json()["locale"] == "de"
        page.locator(".kbs-box", has_text="Keine passenden Artikel").wait_for()
        page.close()
    finally:
        api.stop()


def test_strings_option_overrides_the_built_in_ones(context, live):
    page = open_demo(context, live)
    page.evaluate("""() => { const i = document.createElement('input'); i.id = 'other';
        document.querySelector('main').append(i);
        KBSuggest.attach(i, { strings: { empty: 'Nothing yet: a person will read it' }, debounce: 0 }); }""")
    page.locator("#other").press_sequentially("xyzzy plugh", delay=10)
    page.locator(".kbs-box", has_text="Nothing yet: a person will read it").wait_for()


def test_the_dark_scheme_is_readable(browser, live):
    context = browser.new_context(color_scheme="dark")
    try:
        page = open_demo(context, live)
        options = type_subject(page, "reset pass")
        options.first.wait_for()
        colours = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('.kbs-list'));
            const t = getComputedStyle(document.querySelector('.kbs-snippet')); return [s.backgroundColor, t.color]; }""")
        assert colours == ["rgb(22, 27, 34)", "rgb(230, 237, 243)"]
        screenshot(page, "widget-dark")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_a_light_widget_on_a_dark_host_page_keeps_its_own_colours(context, live):
    page = open_demo(context, live)
    page.add_style_tag(content="body,main{background:#111!important;color:#eee!important}")
    type_subject(page, "reset pass").first.wait_for()
    colours = page.evaluate("""() => [getComputedStyle(document.querySelector('.kbs-list')).backgroundColor,
        getComputedStyle(document.querySelector('.kbs-snippet')).color]""")
    assert colours == ["rgb(255, 255, 255)", "rgb(31, 35, 40)"]


def test_theme_properties_style_the_widget(context, live):
    page = open_demo(context, live)
    page.add_style_tag(content="main{--kbs-bg:#fdf6e3;--kbs-radius:0px;--kbs-font:Georgia}")
    type_subject(page, "reset pass").first.wait_for()
    style = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('.kbs-list'));
        return [s.backgroundColor, s.borderTopLeftRadius, s.fontFamily]; }""")
    assert style == ["rgb(253, 246, 227)", "0px", "Georgia"]


def test_the_list_closes_on_tab_blur_and_outside_click(context, live):
    page = open_demo(context, live)
    subject = page.locator("#subject")
    type_subject(page, "reset pass").first.wait_for()
    subject.press("Tab")
    assert subject.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.id") == "description"
    subject.fill("refund")
    page.locator(OPTIONS).first.wait_for()
    page.locator("h1").click()  # outside
    expect(page.get_by_role("listbox")).to_be_hidden()  # closes on the task after mouseup: wait for it
    subject.fill("reset pass")
    page.locator(OPTIONS).first.wait_for()
    page.evaluate("document.getElementById('subject').blur()")
    page.wait_for_function("document.getElementById('subject').getAttribute('aria-expanded') === 'false'")


def test_chat_links_are_reached_by_keyboard_and_feedback_keeps_the_focus(context, live):
    page = open_demo(context, live)
    page.get_by_role("button", name="Chat with us").click()
    chat = page.locator("#chat-input")
    chat.fill("how do I get a refund")
    chat.press("Enter")
    page.locator("#transcript .kbs-card").first.wait_for()
    reached = []
    for _ in range(8):  # backwards from the message field into the cards
        page.keyboard.press("Shift+Tab")
        reached.append(page.evaluate("[document.activeElement.tagName, document.activeElement.textContent]"))
    assert ["A", "Refunds: how to request one"] in reached
    page.locator("#transcript .kbs-card button", has_text="This solved it").first.focus()
    page.keyboard.press("Enter")
    page.get_by_text("Glad it helped!").wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Glad it helped!"


def test_tap_targets_are_at_least_44_px(context, live):
    page = open_demo(context, live)
    type_subject(page, "reset pass").first.wait_for()
    heights = [page.locator(OPTIONS).first.bounding_box()["height"]]
    page.locator(OPTIONS).first.click()
    page.get_by_role("button", name="This solved it").wait_for()
    heights += [b.bounding_box()["height"] for b in page.locator(".kbs-actions > *").all()]
    page.get_by_role("button", name="Chat with us").click()
    page.locator("#chat-input").fill("how do I get a refund")
    page.locator("#chat-input").press("Enter")
    page.locator("#transcript .kbs-card").first.wait_for()
    heights += [b.bounding_box()["height"] for b in page.locator("#transcript .kbs-card a, #transcript .kbs-card button").all()]
    heights += [page.get_by_role("button", name=n).bounding_box()["height"] for n in ("Chat with us", "Close chat", "Send")]
    assert len(heights) >= 8 and min(heights) >= 44


@pytest.mark.parametrize("width, height", [(320, 568), (375, 667), (1280, 800)])
def test_the_bubble_never_covers_the_submit_button_and_the_chat_fills_a_phone(browser, live, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = open_demo(context, live)
        submit, bubble = page.get_by_role("button", name="Submit request"), page.get_by_role("button", name="Chat with us")
        for block in ("end", "center", "start"):
            submit.evaluate(f"b => b.scrollIntoView({{block: '{block}'}})")
            s, b = submit.bounding_box(), bubble.bounding_box()
            overlap = s["x"] < b["x"] + b["width"] and b["x"] < s["x"] + s["width"] and \
                s["y"] < b["y"] + b["height"] and b["y"] < s["y"] + s["height"]
            assert not overlap, (block, s, b)
        bubble.click()
        box = page.locator("#chat").bounding_box()
        if width < 640:
            assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, width, height)
            screenshot(page, f"widget-phone-chat-{width}")
            page.get_by_role("button", name="Close chat").click()
            assert page.locator("#chat").is_hidden() and page.evaluate("document.activeElement.id") == "bubble"
        else:
            assert box["width"] < width / 2
    finally:
        context.close()


def test_axe_finds_no_serious_violations_with_form_chat_and_preview_open(context, live):
    page = open_demo(context, live)
    type_subject(page, "reset pass").first.wait_for()
    form_open = axe_violations(page)
    page.locator(OPTIONS).first.click()
    page.get_by_role("button", name="This solved it").wait_for()
    preview_open = axe_violations(page)
    page.get_by_role("button", name="Chat with us").click()
    page.locator("#chat-input").fill("how do I get a refund")
    page.locator("#chat-input").press("Enter")
    page.locator("#transcript .kbs-card").first.wait_for()
    chat_open = axe_violations(page)
    screenshot(page, "widget-axe-demo")
    assert (form_open, preview_open, chat_open) == ([], [], [])
