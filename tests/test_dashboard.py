"""The dashboard's data (``GET /v1/dashboard``, ``/v1/kbs/{kb}/dashboard``, CSV exports) on both stores: the same
figures as ``/v1/stats/deflection``, agents only, periods validated, exports exact, and the per-session
summaries behind them rebuilt for databases that predate them."""

from __future__ import annotations

import random
from datetime import timedelta

from conftest import AGENT
from test_deflection_sql import T0, random_sessions

from kbsuggest.events.schema import EventBatch, record

PERIOD = {"from": "2026-10-31", "to": "2026-11-05"}
MS = int(T0.timestamp() * 1000)
MINUTE = 60_000


def add(store, session, *events, kb="default"):
    """Events dated exactly: the batch is sent (and received) at its last event."""
    last = max(e["at"] for e in events)
    record(store, kb, EventBatch.model_validate({"session_id": session, "sent_at": MS + last,
                                                 "events": [e | {"at": MS + e["at"]} for e in events]}),
           T0 + timedelta(milliseconds=last))


def shown(query, *ids, at=0, mode="form", locale=None, product=None):
    return {"type": "suggestions_shown", "at": at, "query": query, "mode": mode, "locale": locale, "product": product,
            "suggestions": [{"article_id": a, "position": i + 1, "score": 0.5} for i, a in enumerate(ids)]}


def seed_random(store, n=300):
    rng = random.Random(18)
    for s, events in enumerate(random_sessions(rng, n)):
        extra = {"mode": rng.choice(["form", "chat"]), "locale": rng.choice(["en", "de", None]),
                 "product": rng.choice(["billing", None])}
        events = [e | extra if e["type"] == "suggestions_shown" else e for e in events]
        for chunk in (events[:2], events[2:]):
            if chunk:
                add(store, f"session-{s:04d}", *chunk)


def test_dashboard_figures_are_those_of_stats_deflection(backend_client):
    seed_random(backend_client.app.state.store)
    stats = backend_client.get("/v1/stats/deflection", params=PERIOD, headers=AGENT).json()
    board = backend_client.get("/v1/dashboard", params=PERIOD, headers=AGENT).json()
    assert board["deflection"] == {k: v for k, v in stats.items() if k not in ("top_articles", "unanswered_queries")}
    assert stats["sessions"] > 200
    for table in ("weekly", "mode", "locale", "product"):  # every breakdown adds up to the same sessions per class
        for kind in ("sessions", "confirmed", "potential", "none", "unengaged", "pending"):
            total = stats["sessions"] if kind == "sessions" else stats["counts"][kind]
            assert sum(row[kind] for row in board[table]) == total, (table, kind)
    assert {r["mode"] for r in board["mode"]} == {"form", "chat"}
    assert {r["locale"] for r in board["locale"]} == {"en", "de", "(not set)"}
    by_id = {a["article_id"]: a for a in board["articles"]}
    for top in stats["top_articles"]:
        assert {k: by_id[top["article_id"]][k] for k in top} == top
    assert [[q["query"], q["sessions"]] for q in board["unanswered"][:10]] == \
        [[q["query"], q["sessions"]] for q in stats["unanswered_queries"]]
    assert board["kbs"] == ["default"] and board["gap_run"] is None and board["evaluation"] is None


def test_dashboard_tables_and_csv_exports_are_exact(client):
    store = client.app.state.store
    add(store, "session-confirmed", shown("reset pass", "password-reset", "sso-login", locale="en", product="account"),
        {"type": "feedback", "at": 2 * MINUTE, "query": "reset pass", "article_id": "password-reset", "position": 1,
         "helpful": True})
    add(store, "session-potential", shown("Refund", "refunds", mode="chat", locale="de"),
        {"type": "article_opened", "at": MINUTE, "query": "refund", "article_id": "refunds", "position": 1})
    add(store, "session-none", shown("dark", at=7 * 86_400_000), shown("dark mode", at=7 * 86_400_000 + 1),
        shown("Dark  Mode", "sso-login", at=7 * 86_400_000 + 2),
        {"type": "feedback", "at": 7 * 86_400_000 + MINUTE, "query": "Dark  Mode", "article_id": "sso-login",
         "position": 1, "helpful": False})
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    board = client.get("/v1/dashboard", params=period, headers=AGENT).json()
    assert board["deflection"]["counts"] == {"confirmed": 1, "potential": 1, "none": 1, "unengaged": 0, "pending": 0}
    assert board["deflection"]["deflection_rate"] == 0.6667
    assert [(w["week"], w["sessions"], w["deflection_rate"]) for w in board["weekly"]] == [
        ("2026-11-02", 2, 1.0), ("2026-11-09", 1, 0.0)]
    assert board["unanswered"] == [{"query": "dark mode", "sessions": 1}]  # "dark" was typed on: a prefix
    assert board["need_help"] == [{"query": "dark mode", "sessions": 1}]
    expected = {
        "articles": "article_id,title,shown,opened,confirmed,potential,need_help\r\n"
                    "sso-login,Troubleshoot SSO login failures,2,1,0,0,1\r\n"
                    "password-reset,Reset your password,1,1,1,0,0\r\nrefunds,,1,1,0,1,0\r\n",
        "locale": "locale,sessions,confirmed,potential,none,unengaged,pending,deflection_rate\r\n"
                  "(not set),1,0,0,1,0,0,0.0\r\nde,1,0,1,0,0,0,1.0\r\nen,1,1,0,0,0,0,1.0\r\n",
        "mode": "mode,sessions,confirmed,potential,none,unengaged,pending,deflection_rate\r\n"
                "form,2,1,0,1,0,0,0.5\r\nchat,1,0,1,0,0,0,1.0\r\n",
        "need_help": "query,sessions\r\ndark mode,1\r\n",
        "gaps": "rank,kind,title,size,impact,article_id,keywords,change\r\n",
    }
    for table, text in expected.items():
        response = client.get(f"/v1/dashboard/{table}.csv", params=period, headers=AGENT)
        assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.text == text, table
        assert response.headers["content-disposition"] == f'attachment; filename="default-{table}.csv"'


def test_latest_gap_run_and_offline_evaluation_beside_the_online_figure(client):
    store = client.app.state.store
    store.save_gap_run("default", {"as_of": "2026-11-30", "tickets": 90, "resolved": 80, "covered": 50, "uncovered": 30,
                                   "unclustered": 4, "gaps": 6},
                       [{"rank": r, "kind": "missing", "title": f"gap {r}", "keywords": '["a", "b"]', "size": 10 - r,
                         "impact": 10.0 - r, "article_id": None, "ticket_ids": "[]", "change": "new"} for r in range(1, 7)])
    metrics = {"systems": {"kbsuggest": {"ranking": {"hit@3": {"micro": {"value": 0.81234}}},
                                         "threshold": {"at_configured": {"threshold": 0.4, "deflection": {"micro": {"value": 0.4567}}}}}}}
    store.record_evaluation("default", {"tickets": "t.csv", "metrics": __import__("json").dumps(metrics)})
    board = client.get("/v1/dashboard", params=PERIOD, headers=AGENT).json()
    assert [g["title"] for g in board["gaps"]] == [f"gap {r}" for r in range(1, 6)] and board["gaps_total"] == 6
    assert board["gaps"][0] == {"rank": 1, "kind": "missing", "title": "gap 1", "size": 9, "impact": 9.0,
                                "article_id": "", "keywords": "a, b", "change": "new"}
    assert board["gap_run"]["as_of"] == "2026-11-30" and board["gap_run"]["gaps"] == 6
    assert {k: board["evaluation"][k] for k in ("hit_at_3", "deflection_estimate", "threshold", "tickets")} == {
        "hit_at_3": 0.8123, "deflection_estimate": 0.4567, "threshold": 0.4, "tickets": "t.csv"}
    csv = client.get("/v1/dashboard/gaps.csv", params=PERIOD, headers=AGENT).text
    assert csv.count("\r\n") == 7  # the export has every gap of the run


def test_agent_key_required_with_json_errors(client, tmp_path):
    from fastapi.testclient import TestClient

    from conftest import make_app

    for path in ("/v1/dashboard", "/v1/kbs/default/dashboard", "/v1/dashboard/articles.csv"):
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = client.get(path, headers=headers)
            assert response.status_code == 401 and response.json()["error"] == "unauthorized", path
    settings = client.app.state.settings.model_copy(update={"agent_api_keys": [], "db_path": tmp_path / "k.db"})
    with TestClient(make_app(settings)) as keyless:
        response = keyless.get("/v1/dashboard", headers=AGENT)
        assert response.status_code == 403 and response.json()["error"] == "forbidden"
    page = client.get("/dashboard")  # the page itself holds no data: it asks for the key
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "sessionStorage" in page.text and "<script src=" not in page.text and "https://" not in page.text


def test_period_and_table_are_validated_naming_the_field(client):
    cases = [({"from": "yesterday"}, "from"), ({"to": "2026-13-01"}, "to"),
             ({"from": "2026-11-05", "to": "2026-11-01"}, "from")]
    for params, field in cases:
        for path in ("/v1/dashboard", "/v1/dashboard/weekly.csv"):
            response = client.get(path, params=params, headers=AGENT)
            assert response.status_code == 422 and response.json()["field"] == field, (path, params)
    response = client.get("/v1/dashboard/secrets.csv", headers=AGENT)
    assert response.status_code == 422 and response.json()["field"] == "table"
    assert client.get("/v1/kbs/nope/dashboard", headers=AGENT).status_code == 404


def test_summaries_are_built_for_events_recorded_before_them(tmp_path, client):
    """A database from before the summaries: its events are summarised (and counted per day) when the
    migrations are applied."""
    from kbsuggest.db import open_db
    from kbsuggest.events.deflection import deflection_stats
    from kbsuggest.store.schema import MIGRATIONS
    from kbsuggest.store.sqlite import SQLiteStore

    seed_random(client.app.state.store, 120)
    rows = [dict(r) for r in client.app.state.store.session_events("default", "2000-01-01", "2100-01-01")]
    names = [name for name, _ in MIGRATIONS]
    old = open_db(tmp_path / "old.db", MIGRATIONS[:names.index("events-004-session-summaries")])
    old["events"].insert_all({k: v for k, v in r.items() if k not in ("id", "locale", "product")} for r in rows)
    old.conn.close()
    upgraded = SQLiteStore(tmp_path / "old.db")
    start, end, now = T0 - timedelta(days=3), T0 + timedelta(days=3), T0 + timedelta(days=30)
    want = deflection_stats(client.app.state.store, "default", start, end, timedelta(minutes=60), now)
    assert deflection_stats(upgraded, "default", start, end, timedelta(minutes=60), now) == want
    assert want.sessions > 50
    upgraded.close()


def test_rebuild_summaries_after_a_bulk_load_gives_the_same_figures(store):
    from kbsuggest.events.deflection import deflection_stats

    seed_random(store, 150)
    start, end, now = T0 - timedelta(days=3), T0 + timedelta(days=3), T0 + timedelta(hours=20)
    before = deflection_stats(store, "default", start, end, timedelta(minutes=60), now)
    store.rebuild_summaries()
    assert deflection_stats(store, "default", start, end, timedelta(minutes=60), now) == before

