import pytest
from fastapi.testclient import TestClient

from kbsuggest.http.schemas import SuggestResponse

from conftest import AGENT, AGENT_KEY, make_app, make_settings


def test_get_suggest_body(client):
    response = client.get("/v1/suggest", params={"q": "reset my password email"})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "reset my password email"
    assert set(body) == {"query", "locale", "suggestions", "took_ms"}
    top = body["suggestions"][0]
    assert set(top) == {"article_id", "title", "url", "section", "anchor", "snippet", "score", "similarity",
                        "title_spans", "snippet_spans"}
    assert top["article_id"] == "password-reset"
    assert 0 <= top["score"] <= 1 and top["similarity"] <= 1
    # form mode (the default): the best passes the form's threshold, so the whole top 3 is shown
    assert len(body["suggestions"]) == 3
    assert SuggestResponse.model_validate(body).model_dump() == body  # the documented schema, exactly


def test_post_suggest_for_chat_messages(client):
    response = client.post("/v1/suggest", json={"query": "How do I verify webhook signatures with the secret?", "k": 1})
    assert response.status_code == 200
    assert [s["article_id"] for s in response.json()["suggestions"]] == ["webhooks"]


def test_short_query_is_an_empty_list(client):
    response = client.get("/v1/suggest", params={"q": " ab "})
    assert (response.status_code, response.json()["suggestions"]) == (200, [])


@pytest.mark.parametrize("params, field", [
    ({"q": "x" * 257}, "q"), ({"q": "password", "k": 11}, "k"), ({"q": "password", "k": 0}, "k"), ({}, "q"),
    ({"q": "password", "k": "three"}, "k"),
])
def test_invalid_get_is_422_naming_the_field(client, params, field):
    response = client.get("/v1/suggest", params=params)
    assert response.status_code == 422
    body = response.json()
    assert (body["error"], body["field"]) == ("invalid_request", field)
    assert body["message"].startswith(f"{field}: ")


def test_256_characters_are_accepted(client):
    assert client.get("/v1/suggest", params={"q": "password " + "x" * 247}).status_code == 200


@pytest.mark.parametrize("body, field", [({"query": "x" * 2001}, "query"), ({"k": 3}, "query"), ({"query": 5}, "query")])
def test_invalid_post_is_422(client, body, field):
    response = client.post("/v1/suggest", json=body)
    assert (response.status_code, response.json()["field"]) == (422, field)


def test_malformed_json_is_422(client):
    response = client.post("/v1/suggest", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_internal_articles_need_the_agent_key(client):
    query = {"q": "issue a manual refund in the billing console", "k": 10}
    public = client.get("/v1/suggest", params=query).json()["suggestions"]
    assert "runbook-refund" not in [s["article_id"] for s in public]
    agent = client.get("/v1/suggest", params=query, headers=AGENT).json()["suggestions"]
    assert agent[0]["article_id"] == "runbook-refund"
    chat = client.post("/v1/suggest", json={"query": query["q"]}).json()["suggestions"]
    assert "runbook-refund" not in [s["article_id"] for s in chat]


@pytest.mark.parametrize("header", ["Bearer wrong", "Basic abc", "Bearer ", AGENT_KEY])
def test_wrong_key_is_401(client, header):
    response = client.get("/v1/suggest", params={"q": "refund"}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_filters(client):
    body = client.get("/v1/suggest", params={"q": "Passwort vergessen", "locale": "de"}).json()
    assert [s["article_id"] for s in body["suggestions"]] == ["passwort-zuruecksetzen"]


def test_health_ready_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert (ready["status"], ready["articles"], ready["chunks"], ready["model"]) == ("ready", 10, 29, "hash-256")
    assert client.get("/docs").status_code == 200
    assert "/v1/suggest" in client.get("/openapi.json").json()["paths"]
    assert client.get("/demo").status_code == 200


def test_without_an_index_the_service_says_why(tmp_path):
    with TestClient(make_app(make_settings(tmp_path))) as client:
        response = client.get("/v1/suggest", params={"q": "password"})
        assert response.status_code == 503
        assert response.json()["error"] == "index_unavailable"
        assert "no index at" in response.json()["message"]
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200


def test_suggestions_are_computed_at_most_suggest_concurrency_at_once(tmp_path, built_settings, monkeypatch):
    import asyncio
    import threading

    import httpx
    from fastapi.responses import Response

    from kbsuggest.http.routes import suggest as route

    settings = built_settings.model_copy(update={"db_path": tmp_path / "kbsuggest.db", "suggest_concurrency": 2})
    lock, state, release = threading.Lock(), {"now": 0, "peak": 0, "calls": 0}, threading.Event()

    def held(*args) -> Response:  # stays in flight until the test lets every request go
        with lock:
            state["now"] += 1
            state["calls"] += 1
            state["peak"] = max(state["peak"], state["now"])
        release.wait(10)
        with lock:
            state["now"] -= 1
        return Response(b"{}", media_type="application/json")

    monkeypatch.setattr(route, "answer", held)
    app = make_app(settings)

    async def burst() -> tuple[int, list[int]]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                # both prefixes share one limiter: the default KB's routes and the same under /v1/kbs/default
                sent = [c.get(f"{p}/suggest", params={"q": f"password {i}"})
                        for i, p in enumerate(["/v1", "/v1/kbs/default"] * 3)]
                sent.append(c.post("/v1/suggest", json={"query": "password"}))
                task = asyncio.gather(*sent)
                for _ in range(1000):  # until the first two are in flight
                    if state["now"] >= 2:
                        break
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.3)  # time for any request the limit would not hold back to start
                in_flight = state["now"]
                release.set()
                return in_flight, [r.status_code for r in await task]

    in_flight, statuses = asyncio.run(burst())
    assert statuses == [200] * 7
    assert (in_flight, state["peak"], state["calls"]) == (2, 2, 7)
