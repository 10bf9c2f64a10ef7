"""HTTP edge of the widget: /widget.js, POST /v1/events, GET /v1/stats/deflection, CORS."""

import json
import time

import pytest
from fastapi.testclient import TestClient

from conftest import AGENT as AUTH
from conftest import REPO, make_app, make_settings


def client_for(tmp_path, built_settings, **overrides) -> TestClient:
    return TestClient(make_app(make_settings(tmp_path, index_dir=built_settings.index_dir, **overrides)))


def batch(*events, session="a1b2c3d4e5f6"):
    now = int(time.time() * 1000)
    return {"session_id": session, "sent_at": now, "events": [e | {"at": now} for e in events]}


SHOWN = {"type": "suggestions_shown", "query": "reset pass", "mode": "form",
         "suggestions": [{"article_id": "password-reset", "position": 1, "score": 0.52}]}
HELPFUL = {"type": "feedback", "query": "reset pass", "article_id": "password-reset", "position": 1, "helpful": True}


def test_widget_js_is_small_and_cacheable(client):
    r = client.get("/widget.js")
    assert r.status_code == 200 and r.headers["content-type"] == "application/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=3600"
    assert len(r.content) <= 20 * 1024 and b"KBSuggest" in r.content  # the budget of issue 18
    assert client.get("/widget.js", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_events_are_stored_even_when_sent_as_text_plain(backend_client):
    client = backend_client
    body = json.dumps(batch(SHOWN, HELPFUL, {"type": "ticket_submitted", "title": "reset pass", "suggestion_opened": True}))
    r = client.post("/v1/events", content=body, headers={"Content-Type": "text/plain"})
    assert (r.status_code, r.json()) == (202, {"stored": 3})
    rows = client.app.state.store.session_events("default", "2000-01-01", "2100-01-01")
    assert [(r["type"], r["query"], r["article_id"], r["helpful"]) for r in rows] == [
        ("suggestions_shown", "reset pass", None, None), ("feedback", "reset pass", "password-reset", 1),
        ("ticket_submitted", "reset pass", None, None)]
    assert {r["session_id"] for r in rows} == {"a1b2c3d4e5f6"}


@pytest.mark.parametrize("body, field", [
    ({"session_id": "short", "sent_at": 1, "events": [SHOWN | {"at": 1}]}, "session_id"),
    (batch(SHOWN | {"type": "page_viewed"}), "events.0"),
    (batch(HELPFUL | {"email": "a@b.c"}), "events.0.feedback.email"),
    (batch(HELPFUL | {"position": 0}), "events.0.feedback.position"),
    (batch(), "events"),
])
def test_invalid_events_are_a_422_naming_the_field(client, body, field):
    r = client.post("/v1/events", json=body)
    assert (r.status_code, r.json()["field"]) == (422, field)


def test_oversized_batches_are_refused(client):
    r = client.post("/v1/events", json=batch(*[SHOWN] * 51))
    assert (r.status_code, r.json()["field"]) == (413, "events")
    r = client.post("/v1/events", json=batch(SHOWN | {"query": "x" * 2000}, *[SHOWN | {"query": "y" * 2000}] * 40))
    assert (r.status_code, r.json()["field"]) == (413, "body")


def test_stats_need_an_agent_key_and_count_sessions(backend_client):
    client = backend_client
    client.post("/v1/events", json=batch(SHOWN, HELPFUL))
    client.post("/v1/events", json=batch(SHOWN, {"type": "ticket_submitted", "title": "x", "suggestion_opened": False},
                                         session="ffffeeeeddddcccc"))
    assert client.get("/v1/stats/deflection").status_code == 401
    r = client.get("/v1/stats/deflection", headers=AUTH)
    assert r.status_code == 200
    # The helpful session is still inside the 60-minute window: pending, not yet confirmed.
    assert r.json()["counts"] == {"confirmed": 0, "potential": 0, "none": 1, "unengaged": 0, "pending": 1}
    r = client.get("/v1/stats/deflection?from=soon", headers=AUTH)
    assert (r.status_code, r.json()["field"]) == (422, "from")


def test_stats_are_refused_when_no_agent_key_is_configured(tmp_path, built_settings):
    with client_for(tmp_path, built_settings, agent_api_keys=[]) as c:
        assert c.get("/v1/stats/deflection").status_code == 403


def test_cors_is_same_origin_only_by_default(client):
    r = client.get("/v1/suggest?q=refund", headers={"Origin": "https://shop.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_allows_the_configured_origins(tmp_path, built_settings):
    with client_for(tmp_path, built_settings, cors_origins="https://shop.example") as c:
        pre = c.options("/v1/suggest", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "content-type"})
        assert (pre.status_code, pre.headers["access-control-allow-origin"]) == (200, "https://shop.example")
        other = c.get("/v1/suggest?q=refund", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_demo_page_loads_the_widget(client):
    html = client.get("/demo").text
    assert '<script src="/widget.js"></script>' in html and 'mode: "chat"' in html


def test_readme_documents_the_widget():
    readme = (REPO / "README.md").read_text()
    assert "KBSuggest.attach(" in readme and "/v1/stats/deflection" in readme
