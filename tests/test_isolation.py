"""What a caller can learn stays with its KB and its audience (issue 12, item 15, and issue 13's property).

A property test over random KBs (2-4 declared in a ``kbs.toml`` written per example, each with random
article words, an internal article and its own random agent and admin keys; the KBs are built once per
test): a key of KB A is a stranger to B (401; never B's internal articles, stats or admin), an article of A
never appears in B's results whatever the query, an unknown KB is a 404 naming ``kb``, and a public query
is never completed or repaired to a word only an internal article contains.
"""

import json
import random
import shutil
import string
import tempfile
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st

from indexing.build import build_index
from kbsuggest.config import KB_NAME, KBSettings
from kbsuggest.embed.hashing import HashEmbedder

from conftest import AGENT, make_app, make_settings

NAMES = ["default", "acme", "globex", "initech"]
SHARED = ["reset", "account", "password", "export", "billing"]  # in every KB: queries that tempt across KBs


def invented(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 9))) for _ in range(n)]


@pytest.fixture(scope="module")
def brands(tmp_path_factory):
    """Four KBs of invented words, built once: name -> {"public": {id: words}, "internal": {id: words}}."""
    root, rng = tmp_path_factory.mktemp("brands"), random.Random(13)
    settings = make_settings(root, agent_api_keys=[], min_score=0.0)
    kbs = {}
    for name in NAMES:
        folder = root / name
        folder.mkdir()
        kb = {"public": {}, "internal": {}, "folder": folder}
        for i, audience in enumerate(["public", "public", "internal"]):
            words = invented(rng, 6) + rng.sample(SHARED, 2)
            article_id = f"{name}-{audience}-{i}"
            (folder / f"{article_id}.md").write_text(
                f"---\nid: {article_id}\naudience: {audience}\ntitle: {' '.join(words[:3]).title()}\n---\n"
                f"{' '.join(words)}.\n")
            kb[audience][article_id] = words
        build_index(folder, settings, HashEmbedder(), KBSettings(name=name, articles_dir=folder))
        kbs[name] = kb
    return root, settings, kbs


KEY = st.text(string.ascii_letters + string.digits + "-_", min_size=8, max_size=24)


@st.composite
def configurations(draw):
    """2-4 declared KBs, each with its own agent and admin keys (all distinct)."""
    declared = draw(st.lists(st.sampled_from(NAMES), min_size=2, max_size=4, unique=True))
    keys = draw(st.lists(KEY, min_size=2 * len(declared), max_size=2 * len(declared), unique=True))
    return {kb: {"agent": keys[2 * i], "admin": keys[2 * i + 1]} for i, kb in enumerate(declared)}


def words_of(kbs):
    return sorted({w for kb in kbs.values() for part in ("public", "internal") for ws in kb[part].values() for w in ws})


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def found(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {s["article_id"] for s in response.json()["suggestions"]}


deterministic = hsettings(max_examples=12, derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@deterministic
@given(config=configurations(), data=st.data())
def test_a_kb_never_answers_with_another_kbs_articles_or_to_another_kbs_keys(brands, tmp_path, config, data):
    root, settings, kbs = brands
    tables = "".join(f"[kbs.{kb}]\narticles_dir = {str(kbs[kb]['folder'])!r}\nmin_score = 0.0\n"
                     f"agent_api_keys = [{keys['agent']!r}]\nadmin_api_keys = [{keys['admin']!r}]\n\n"
                     for kb, keys in config.items())
    example = Path(tempfile.mkdtemp(dir=tmp_path))  # its own kbs.toml and database
    (example / "kbs.toml").write_text(tables)
    app_settings = settings.model_copy(update={"kbs_file": example / "kbs.toml", "db_path": example / "k.db"})
    vocabulary = words_of(kbs)
    with TestClient(make_app(app_settings)) as client:
        posted = data.draw(st.sampled_from(NAMES), label="events to")
        now = int(time.time() * 1000)
        client.post(f"/v1/kbs/{posted}/events", content=json.dumps({"session_id": f"s-{posted}-123", "sent_at": now,
                    "events": [{"type": "suggestions_shown", "at": now, "query": "x", "suggestions": []}]}))
        for b in NAMES:
            public, internal = set(kbs[b]["public"]), set(kbs[b]["internal"])
            words = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=4), label=f"query of {b}")
            query = " ".join(words)[: data.draw(st.integers(3, 60), label="typed")]
            paths = [f"/v1/kbs/{b}/suggest"] + (["/v1/suggest"] if b == "default" else [])
            for path in paths:
                # its own public articles only (each KB's own thresholds may show some of them)
                assert found(client.get(path, params={"q": query, "k": 10})) <= public
                assert found(client.post(path, json={"query": query, "k": 10})) <= public
                if b in config:
                    agent = bearer(config[b]["agent"])
                    assert found(client.get(path, params={"q": query, "k": 10}, headers=agent)) in (set(), public | internal)
            understood = client.app.state.registry.get(b).understand(query, include_internal=False)
            internal_only = {w for ws in kbs[b]["internal"].values() for w in ws} - {
                w for ws in kbs[b]["public"].values() for w in ws}
            assert not {w for alternatives in (understood.terms if understood else ()) for w in alternatives} & internal_only
            for a, keys in config.items():
                if a == b:
                    continue
                for kind in ("agent", "admin"):  # every key of A is a stranger to B
                    assert client.get(f"/v1/kbs/{b}/suggest", params={"q": query}, headers=bearer(keys[kind])).status_code == 401
                stats = client.get(f"/v1/kbs/{b}/stats/deflection", headers=bearer(keys["agent"]))
                assert stats.status_code == (401 if b in config else 403)  # 403: B takes no agent key at all
                assert client.post(f"/v1/kbs/{b}/admin/reindex", headers=bearer(keys["admin"])).status_code == 401
            if b in config:
                stats = client.get(f"/v1/kbs/{b}/stats/deflection", headers=bearer(config[b]["agent"])).json()
                assert stats["sessions"] == (1 if b == posted else 0)
                assert client.post(f"/v1/kbs/{b}/admin/reindex", headers=bearer(config[b]["agent"])).status_code == 403
        unknown = data.draw(st.from_regex(KB_NAME, fullmatch=True).filter(lambda n: n not in NAMES), label="unknown")
        response = client.get(f"/v1/kbs/{unknown}/suggest", params={"q": "reset"})
        assert (response.status_code, response.json()["error"], response.json()["field"]) == (404, "unknown_kb", "kb")


# -- item 15, one KB: the public vocabulary, cache headers, no paths ------------------------------------------

def internal_only(suggester):
    return set(suggester.lexical.vocabulary.words) - set(suggester.public_lexical.vocabulary.words)


def test_a_public_query_is_never_completed_or_repaired_to_an_internal_only_word(suggester):
    hidden = internal_only(suggester)
    assert {"console", "approval", "runbook"} <= hidden  # words of the internal runbook only
    for word in sorted(hidden):
        typed = [word[:n] for n in range(2, len(word) + 1)] + [word[:-1] + "x", word[1:] + "e"]  # prefixes, typos
        for text in typed:
            public = suggester.understand(f"billing {text}", include_internal=False)
            assert not {w for alternatives in public.terms for w in alternatives} & hidden, text
            assert not set(public.text.split()) & (hidden - {text})
    agent = suggester.understand("billing cons", include_internal=True)
    assert agent.text == "billing console"  # the agent's vocabulary does have it


def test_over_http_a_prefix_of_an_internal_only_word_is_answered_as_if_it_were_unknown(tmp_path, built_settings):
    settings = built_settings.model_copy(update={"min_score": 0.0, "db_path": tmp_path / "k.db"})  # every article

    def answer(text, headers=None):
        body = client.post("/v1/suggest", json={"query": text, "k": 10}, headers=headers).json()
        return [(s["article_id"], s["score"], s["similarity"]) for s in body["suggestions"]]

    with TestClient(make_app(settings)) as client:
        for typed in ("billing cons", "refund approv", "issue a manual refund runb"):
            public = answer(typed)
            assert len(public) == 9 and "runbook-refund" not in [a for a, _, _ in public]
            assert public == answer(typed + " ")  # the trailing space: no completion at all
            assert answer(typed, AGENT) != answer(typed + " ", AGENT)  # agents get the completion


def test_agent_responses_are_private_and_every_response_varies_on_authorization(client):
    for method, path, options in [("GET", "/v1/suggest", {"params": {"q": "refund"}}),
                                  ("POST", "/v1/suggest", {"json": {"query": "refund"}})]:
        agent = client.request(method, path, headers=AGENT, **options)
        assert (agent.headers["cache-control"], agent.headers["vary"]) == ("private, no-store", "Authorization")
        public = client.request(method, path, **options)
        assert ("cache-control" not in public.headers, public.headers["vary"]) == (True, "Authorization")
    stats = client.get("/v1/stats/deflection", headers=AGENT)
    assert (stats.headers["cache-control"], stats.headers["vary"]) == ("private, no-store", "Authorization")


def test_no_public_message_carries_a_server_path(tmp_path, brands):
    """A KB whose index is missing, one whose index is damaged, and the default KB's missing database
    directory: every public answer about them is free of server paths."""
    root, settings, kbs = brands
    (tmp_path / "index").mkdir()
    shutil.copytree(root / "index" / "acme", tmp_path / "index" / "acme")
    (tmp_path / "index" / "acme" / "CURRENT").write_text("v000009\n")  # names a version that is not there
    (tmp_path / "kbs.toml").write_text(f"[kbs.globex]\narticles_dir = {str(kbs['globex']['folder'])!r}\n")
    app = make_app(make_settings(tmp_path, kbs_file=tmp_path / "kbs.toml", db_path=tmp_path / "file" / "k.db"))
    (tmp_path / "file").write_text("not a directory")
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [client.get(f"/v1/kbs/{kb}/suggest", params={"q": "reset"}) for kb in ("default", "acme", "globex")]
        answers += [client.get("/readyz"), client.post("/v1/events", content=b"{}"),
                    client.post("/v1/kbs/acme/events", content=json.dumps(
                        {"session_id": "abcdefgh", "sent_at": 1, "events": [{"type": "suggestions_shown", "at": 1,
                                                                            "query": "x", "suggestions": []}]}))]
        assert [r.status_code for r in answers] == [503, 503, 503, 503, 422, 503]
        for response in answers:
            assert "/tmp" not in response.text and str(root) not in response.text, response.text
