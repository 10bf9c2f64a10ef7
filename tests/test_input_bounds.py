"""Bounded input gets a clear 4xx or a one-line CLI error, never a 500 (issue 12, items 4, 6 and 14, and
their kin found by fuzzing): numbers and dates at the calendar's ends, the spec and what it promises (no
dangling ``$ref``, ``Allow`` on a 405, JSON types as JSON Schema means them), work per query, odd KB names
and KBs files.
"""

import json
import time
from collections import Counter

import pytest
from click.testing import CliRunner

from kbsuggest.cli import main
from kbsuggest.config import Settings, load_kbs
from kbsuggest.errors import ConfigError
from kbsuggest.rank import query as query_module

from conftest import AGENT, make_app, make_settings

NOW = int(time.time() * 1000)
SHOWN = {"type": "suggestions_shown", "query": "reset pass", "suggestions": []}


def events(sent_at=NOW, **event):
    """A batch of one event: a suggestions_shown with ``event``'s changes, or ``event`` itself."""
    event = {"at": NOW, **(event if "type" in event else {**SHOWN, **event})}
    return {"session_id": "a1b2c3d4e5f6", "sent_at": sent_at, "events": [event]}


# -- item 4: numbers and dates ------------------------------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    (events(sent_at=1e20), "sent_at"),
    (events(sent_at=10**20), "sent_at"),  # an integer: the 500 of the issue (1e20 as a float was a 422 already)
    (events(sent_at=2**63), "sent_at"),
    (events(sent_at=-1), "sent_at"),
    (events(sent_at=10**400), "sent_at"),
    (events(at=2**63), "events.0.suggestions_shown.at"),
    (events(at=1e300), "events.0.suggestions_shown.at"),
    (events(at="12"), "events.0.suggestions_shown.at"),  # text is no number
    (events(suggestions=[{"article_id": "a", "position": True, "score": 0.5}]), "events.0.suggestions_shown.suggestions.0.position"),
    (events(suggestions=[{"article_id": "a", "position": 1, "score": "0.5"}]), "events.0.suggestions_shown.suggestions.0.score"),
    (events(type="feedback", article_id="a", position=1, helpful=0), "events.0.feedback.helpful"),  # 0 is no boolean
    (events(type="ticket_submitted", title="x", suggestion_opened="yes"), "events.0.ticket_submitted.suggestion_opened"),
])
def test_events_out_of_bounds_are_422_naming_the_field(client, body, field):
    response = client.post("/v1/events", content=json.dumps(body), headers={"Content-Type": "text/plain"})
    assert (response.status_code, response.headers["content-type"]) == (422, "application/json")
    assert (response.json()["error"], response.json()["field"]) == ("invalid_request", field)


def test_integral_numbers_are_integers_as_json_schema_says(client):
    body = events(sent_at=float(NOW), suggestions=[{"article_id": "a", "position": 1.0, "score": 1}])
    assert client.post("/v1/events", content=json.dumps(body)).json() == {"stored": 1}


PERIODS = [("to=9999-12-31", "to"), ("to=0001-01-05", "to"), ("from=0001-01-01T00:00:00%2B14:00", "from"),
           ("to=9999-12-31T20:00:00-12:00", "to"), ("from=0001-01-01", "from"), ("to=2100-01-02", "to"),
           ("from=1969-12-31T23:59:59Z", "from")]


@pytest.mark.parametrize("query, field", PERIODS)
def test_stats_periods_at_the_calendars_ends_are_422_naming_the_field(client, query, field):
    response = client.get(f"/v1/stats/deflection?{query}", headers=AGENT)
    assert (response.status_code, response.json()["error"], response.json()["field"]) == (422, "invalid_request", field)
    assert response.json()["message"].endswith("is outside 1970-01-01 .. 2100-01-01")


def test_an_offset_bound_inside_the_calendar_is_read_in_utc(client):
    response = client.get("/v1/stats/deflection?to=2026-01-01T00:00:00-12:00", headers=AGENT)
    assert (response.status_code, response.json()["end"], response.json()["start"]) == (
        200, "2026-01-01T12:00:00.000Z", "2025-12-02T12:00:00.000Z")


@pytest.mark.parametrize("query, field", PERIODS)
def test_kbsuggest_stats_refuses_them_in_one_line(tmp_path, query, field):
    option, value = query.replace("%2B", "+").split("=", 1)
    result = CliRunner().invoke(main, ["stats", f"--{option}", value, "--db", str(tmp_path / "none.db")])
    assert (result.exit_code, result.output.count("\n")) == (1, 1)
    assert result.output.startswith(f"error: {field}: ") and result.output.endswith(
        "is outside 1970-01-01 .. 2100-01-01\n")


# -- item 6: the spec, and what it promises -----------------------------------------------------------------

def resolve(document, ref):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_every_ref_of_the_spec_resolves(client):
    spec = client.get("/openapi.json").json()
    refs = []

    def walk(node):
        if isinstance(node, dict):
            refs.extend([node["$ref"]] if "$ref" in node else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    dangling = []
    for ref in sorted(set(refs)):
        try:
            resolve(spec, ref)
        except (KeyError, TypeError):
            dangling.append(ref)
    assert dangling == []
    assert "#/components/schemas/EventBatch" in refs  # the events body is documented


@pytest.mark.parametrize("method, path, allow", [
    ("DELETE", "/v1/suggest", "GET, POST"), ("PUT", "/v1/kbs/default/suggest", "GET, POST"),
    ("PATCH", "/v1/admin/articles/webhooks", "DELETE, PUT"), ("GET", "/v1/admin/reindex", "POST"),
    ("GET", "/v1/events", "POST"), ("POST", "/healthz", "GET"), ("POST", "/widget.js", "GET"),
])
def test_a_405_lists_every_method_of_the_resource_in_allow(client, method, path, allow):
    response = client.request(method, path)
    assert (response.status_code, response.headers["allow"], response.json()["error"]) == (
        405, allow, "method_not_allowed")


@pytest.mark.parametrize("body, field", [
    ({"query": "password", "k": True}, "k"), ({"query": "password", "k": "3"}, "k"), ({"query": "password", "k": 2.5}, "k"),
    ({"query": "password", "kk": 3}, "kk"), ({"query": "password", "include_internal": True}, "include_internal"),
    ({"query": ["password"]}, "query"), ({"query": "password", "locale": 5}, "locale"),
])
def test_post_suggest_refuses_unknown_fields_and_values_of_another_type(client, body, field):
    response = client.post("/v1/suggest", json=body)
    assert (response.status_code, response.json()["error"], response.json()["field"]) == (422, "invalid_request", field)


def test_post_suggest_takes_k_as_json_schema_does(client):
    found = client.post("/v1/suggest", content='{"query": "reset my password email", "k": 1.0}',
                        headers={"Content-Type": "application/json"})
    assert [s["article_id"] for s in found.json()["suggestions"]] == ["password-reset"]


# -- item 14: bounded work per query ------------------------------------------------------------------------

def test_a_long_message_of_unknown_words_does_bounded_work(client, monkeypatch):
    counts = Counter()
    closest, fold = query_module.Vocabulary._closest, query_module.fold

    def counting_closest(self, word):
        counts["repairs"] += 1
        return closest(self, word)

    def counting_fold(text):
        counts["words"] += 1
        return fold(text)

    monkeypatch.setattr(query_module.Vocabulary, "_closest", counting_closest)
    monkeypatch.setattr(query_module, "fold", counting_fold)
    words = [f"zq{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}vx" for i in range(300)]  # unknown, 6 letters each
    message = " ".join(words)[:2000]
    response = client.post("/v1/suggest", json={"query": message})
    assert response.status_code == 200
    assert counts == {"repairs": query_module.MAX_REPAIRS, "words": query_module.MAX_WORDS}


# -- odd names and files (found looking for the same class of defect) ---------------------------------------

@pytest.mark.parametrize("kb, status, field", [
    ("nope", 404, "kb"), ("UPPER", 422, "kb"), ("%2E%2E", 422, "kb"), ("a" * 64, 422, "kb"),  # ".." raw: test_server_limits
    ("-x", 422, "kb"), ("a%00b", 422, "kb"), ("%C3%A9", 422, "kb"),
])
def test_odd_kb_names_are_a_json_4xx_naming_kb(client, kb, status, field):
    for method, path in [("GET", "suggest?q=password"), ("POST", "events"), ("GET", "stats/deflection")]:
        response = client.request(method, f"/v1/kbs/{kb}/{path}", headers=AGENT,
                                  content=json.dumps(events()) if method == "POST" else None)
        assert (response.status_code, response.json()["field"]) == (status, field)


@pytest.mark.parametrize("table, message", [
    ("articles_dir = 5", "kbs.acme.articles_dir must be a path (a string), got 5"),
    ("articles_dir = ['a']", "kbs.acme.articles_dir must be a path (a string), got ['a']"),
    ("min_score = nan", "kbs.acme.min_score: Input should be less than or equal to 1"),
    ("agent_api_keys = 'one-key'", "kbs.acme.agent_api_keys: Input should be a valid list"),
    ("require_audiance = false", "kbs.acme.require_audiance: Extra inputs are not permitted"),
])
def test_a_kbs_file_with_odd_values_is_a_config_error(tmp_path, table, message):
    (tmp_path / "kbs.toml").write_text(f"[kbs.acme]\n{table}\n")
    with pytest.raises(ConfigError) as info:
        load_kbs(Settings(kbs_file=tmp_path / "kbs.toml"))
    assert str(info.value) == f"{str(tmp_path / 'kbs.toml')!r}: {message}"


@pytest.mark.parametrize("args", [["admin", "--kb", "../x", "--url", "http://127.0.0.1:9", "reindex"],
                                  ["admin", "--kb", "../x", "reindex"], ["stats", "--kb", "../x"],
                                  ["suggest", "password", "--kb", "A/b"], ["info", "--kb", ""]])
def test_odd_kb_options_are_one_line_errors(tmp_path, args):
    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path), *args])
    kb = args[args.index("--kb") + 1]
    assert (result.exit_code, result.output) == (
        1, f"error: --kb {kb!r}: a KB name is 1-63 lowercase letters, digits, '-' or '_'\n")


def test_an_app_over_a_kbs_file_with_a_bad_table_does_not_start(tmp_path):
    (tmp_path / "kbs.toml").write_text('[kbs."../x"]\n')
    with pytest.raises(ConfigError):
        make_app(make_settings(tmp_path, kbs_file=tmp_path / "kbs.toml"))
