"""The dashboard page in real Chromium against a live server with a seeded events database: the key prompt,
the donut's numbers against ``/v1/stats/deflection``, the period picker, CSV export, axe-core, phone width.

Screenshots go to ``test-artifacts/`` (gitignored): dashboard-desktop.png, dashboard-phone.png, dashboard-prompt.png.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from conftest import AGENT, AGENT_KEY
from test_dashboard import seed_random

pytestmark = pytest.mark.browser

from browser_support import ARTIFACTS, axe_violations, browser, context, kb, screenshot, serve  # noqa: F401,E402  (fixtures)

CUSTOM = {"from": "2026-10-31", "to": "2026-11-05"}


@pytest.fixture
def seeded(kb, tmp_path):  # noqa: F811
    server = serve(kb, tmp_path)
    store = server.server.config.app.state.store
    seed_random(store)
    store.save_gap_run("default", {"as_of": "2026-11-05", "tickets": 412, "resolved": 380, "covered": 300,
                                   "uncovered": 80, "unclustered": 9, "gaps": 2},
                       [{"rank": 1, "kind": "missing", "title": "Change the invoice address", "keywords": '["invoice"]',
                         "size": 31, "impact": 31.0, "article_id": None, "ticket_ids": "[]", "change": "new"},
                        {"rank": 2, "kind": "failing", "title": "Reset your password", "keywords": '["reset"]',
                         "size": 12, "impact": 9.5, "article_id": "password-reset", "ticket_ids": "[]", "change": "growing"}])
    metrics = {"systems": {"kbsuggest": {"ranking": {"hit@3": {"micro": {"value": 0.874}}},
                                         "threshold": {"at_configured": {"threshold": 0.42, "deflection": {"micro": {"value": 0.47}}}}}}}
    store.record_evaluation("default", {"tickets": "tickets.csv", "metrics": json.dumps(metrics)})
    yield server
    server.stop()


def open_dashboard(context, server, key=AGENT_KEY):  # noqa: F811
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(server.url + "/dashboard")
    if key:
        page.locator("#key").fill(key)
        page.locator("#key-form button").click()
        page.locator("#app").wait_for()
    return page


def choose_custom(page, start, end):
    page.locator("#period").select_option("custom")
    page.locator("#from").fill(start)
    page.locator("#to").fill(end)
    page.locator("#apply").click()
    page.wait_for_function("s => document.getElementById('status').textContent.startsWith(s)", arg=start)


def test_only_the_key_prompt_shows_until_a_valid_key_is_given(context, seeded):  # noqa: F811
    page = open_dashboard(context, seeded, key=None)
    assert page.locator("#prompt").is_visible() and page.locator("#app").is_hidden()
    assert page.locator("#t-classes tbody tr").count() == 0  # no data fetched without a key
    page.locator("#key").fill("wrong-key")
    page.locator("#key-form button").click()
    page.locator("#key-error").filter(has_text="agent key").wait_for()
    assert page.locator("#app").is_hidden()
    screenshot(page, "dashboard-prompt")
    assert axe_violations(page) == []
    page.locator("#key").fill(AGENT_KEY)
    page.locator("#key-form button").click()
    page.locator("#app").wait_for()
    assert page.evaluate("sessionStorage.getItem('kbsuggest.dashboard.key.default')") == AGENT_KEY
    page.reload()  # kept for the tab: no second prompt
    page.locator("#app").wait_for()
    assert page.locator("#prompt").is_hidden() and page.errors == []


def test_donut_numbers_equal_stats_deflection_and_the_period_picker_works(context, seeded):  # noqa: F811
    page = open_dashboard(context, seeded)
    choose_custom(page, CUSTOM["from"], CUSTOM["to"])
    stats = httpx.get(seeded.url + "/v1/stats/deflection", params=CUSTOM, headers=AGENT).json()
    shown = {row.get_attribute("data-class"): int(row.locator("td").first.text_content())
             for row in page.locator("#t-classes tbody tr").all()}
    assert shown == stats["counts"] and stats["sessions"] > 200
    assert page.locator("#donut-rate").text_content() == f"{stats['deflection_rate'] * 100:.1f}%"
    segments = page.locator("#donut circle[data-class]").evaluate_all("cs => cs.map(c => c.dataset.class)")
    assert segments == [c for c in ("confirmed", "potential", "none", "unengaged") if stats["counts"][c]]
    assert str(stats["sessions"] - stats["counts"]["pending"]) in page.locator("#donut-desc").text_content()

    page.locator("#defs").wait_for(state="attached")
    page.locator("details summary").first.click()  # the definitions, a click away
    assert "rated helpful" in page.locator("#defs").text_content()
    assert "47.0%" in page.locator("#headline").text_content() and "87.4%" in page.locator("#headline").text_content()
    assert page.locator("#gaps tbody tr").count() == 2
    screenshot(page, "dashboard-desktop")
    assert axe_violations(page) == []
    page.locator("details summary").first.click()  # closed again: the top of the page for the README
    page.set_viewport_size({"width": 1000, "height": 1000})
    page.screenshot(path=str(ARTIFACTS / "dashboard-top.png"))

    now = datetime.now(timezone.utc)
    first = now.replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    page.locator("#period").select_option("last-month")
    page.wait_for_function("s => document.getElementById('status').textContent.startsWith(s)",
                           arg=last_month.date().isoformat())
    page.locator("#period").select_option("this-month")
    page.wait_for_function("s => document.getElementById('status').textContent.startsWith(s)",
                           arg=first.date().isoformat())
    assert page.errors == []


def test_csv_button_downloads_the_tables_export(context, seeded):  # noqa: F811
    page = open_dashboard(context, seeded)
    choose_custom(page, CUSTOM["from"], CUSTOM["to"])
    with page.expect_download() as download:
        page.locator("[data-csv=articles]").click()
    got = open(download.value.path(), encoding="utf-8", newline="").read()
    want = httpx.get(seeded.url + "/v1/dashboard/articles.csv", params=CUSTOM, headers=AGENT).text
    assert got == want and got.startswith("article_id,title,shown,opened,confirmed,potential,need_help\r\n")
    assert download.value.suggested_filename == "default-articles.csv"


def test_phone_width_has_no_sideways_scroll(browser, seeded):  # noqa: F811
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True)
    try:
        page = open_dashboard(phone, seeded)
        choose_custom(page, CUSTOM["from"], CUSTOM["to"])
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "dashboard-phone")
        assert axe_violations(page) == []
    finally:
        phone.close()
