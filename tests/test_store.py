"""The service store's contract, run on both backends (the ``store`` fixture: SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from kbsuggest.domain import Ticket
from kbsuggest.errors import ConfigError, StoreUnavailableError
from kbsuggest.store import pg_schema, schema
from kbsuggest.store.postgres import PostgresStore

from stores import admin_connection, postgres_unreachable

DAY = "2026-11-02T"


def event(session, type_, at, **values):
    return {"session_id": session, "type": type_, "at": DAY + at, "received_at": DAY + at, **values}


def shown(session, at, query="reset", suggestions='[{"article_id": "a", "position": 1, "score": 0.5}]'):
    return event(session, "suggestions_shown", at, mode="form", query=query, suggestions=suggestions)


def ticket(id_, title="t", **values):
    fields = dict(description="", status="solved", created_at="2026-11-01T10:00:00.000Z", resolved_at=None,
                  tags=("x",), linked_articles=())
    return Ticket(id_, title, **{**fields, **values})


def query(store, sql: str) -> list[tuple]:
    """Rows of ``sql`` on a PostgreSQL store's own connections."""
    from psycopg.rows import tuple_row

    with store._get_pool().connection() as conn:
        conn.row_factory = tuple_row
        return conn.execute(sql).fetchall()


def module_of(store):
    import importlib

    return importlib.import_module(type(store).__module__)


def failing_after(store, monkeypatch, name: str, n: int):
    """Make the backend's row function ``name`` raise on its ``n``-th row (the earlier rows were sent)."""
    module = module_of(store)
    real, seen = getattr(module, name), [0]

    def row(*args):
        seen[0] += 1
        if seen[0] == n:
            raise RuntimeError("injected failure")
        return real(*args)
    monkeypatch.setattr(module, name, row)


# events ---------------------------------------------------------------------------------------------------
def test_events_of_sessions_that_started_in_the_period_in_session_and_time_order(store):
    assert store.record_events("default", [
        shown("s-early", "08:00:00.000Z"), shown("s-early", "09:30:00.000Z"),  # started before the period
        shown("s-b", "09:10:00.000Z"), event("s-b", "article_opened", "09:11:00.000Z", query="q", article_id="a",
                                             position=1),
        event("s-b", "feedback", "09:12:00.000Z", query="q", article_id="a", position=1, helpful=True),
        shown("s-a", "09:20:00.000Z"), event("s-a", "ticket_submitted", "09:21:00.000Z", query="help",
                                             suggestion_opened=False),
        shown("s-late", "11:00:00.000Z"),  # after the period
    ]) == 8
    store.record_events("other", [shown("s-a", "09:20:00.000Z")])  # another KB's session of the same id
    rows = store.session_events("default", DAY + "09:00:00.000Z", DAY + "10:00:00.000Z")
    assert [(r["session_id"], r["type"], r["at"][11:19]) for r in rows] == [
        ("s-a", "suggestions_shown", "09:20:00"), ("s-a", "ticket_submitted", "09:21:00"),
        ("s-b", "suggestions_shown", "09:10:00"), ("s-b", "article_opened", "09:11:00"),
        ("s-b", "feedback", "09:12:00")]
    feedback = rows[-1]
    assert {k: feedback[k] for k in ("kb", "article_id", "position", "helpful", "score", "suggestions")} == {
        "kb": "default", "article_id": "a", "position": 1, "helpful": 1, "score": None, "suggestions": None}
    assert (rows[1]["query"], rows[1]["suggestion_opened"]) == ("help", 0)


def test_an_event_batch_is_stored_whole_or_not_at_all(store, monkeypatch):
    store.record_events("default", [shown("s-kept", "09:00:00.000Z")])
    failing_after(store, monkeypatch, "_event_row", 3)
    with pytest.raises(RuntimeError, match="injected"):
        store.record_events("default", [shown("s-lost", f"09:0{i}:00.000Z") for i in range(5)])
    rows = store.session_events("default", DAY + "00:00:00.000Z", DAY + "23:00:00.000Z")
    assert [r["session_id"] for r in rows] == ["s-kept"]


def test_reading_an_empty_store_finds_nothing_and_creates_nothing(store, backend):
    assert store.session_events("default", "2026-01-01", "2027-01-01") == []
    assert store.threshold("default", "hash-256", "cal-x") is None
    assert (store.tickets("default"), store.last_gap_run("default"), store.evaluations("default")) == ([], [], [])
    if "db_path" in backend:
        assert not backend["db_path"].exists()
    else:
        assert query(store, "SELECT to_regclass('_migrations')") == [(None,)]


# thresholds -----------------------------------------------------------------------------------------------
def test_thresholds_are_kept_per_kb_model_and_scale_and_replaced(store):
    store.set_threshold("default", "hash-256", "cal-a", 0.42, 0.9, run_id=7)
    store.set_threshold("default", "hash-256", "cal-b", 0.2, 0.8)
    store.set_threshold("other", "hash-256", "cal-a", 0.3, 0.8)
    store.set_threshold("default", "hash-256", "cal-a", 0.5, 0.95)
    assert [store.threshold(kb, "hash-256", scale) for kb, scale in (
        ("default", "cal-a"), ("default", "cal-b"), ("other", "cal-a"), ("other", "cal-b"))] == [0.5, 0.2, 0.3, None]


# evaluation runs ------------------------------------------------------------------------------------------
def test_evaluation_runs_by_id_in_the_order_asked_or_the_last_ones(store):
    def run(n):
        return {"tickets": f"t{n}.jsonl", "tickets_sha256": "00", "model": "hash-256", "articles_hash": "ab",
                "min_score": 0.1 * n, "settings": "{}", "metrics": f'{{"hit_at_3": {n}}}', "seconds": 1.5}
    ids = [store.record_evaluation("default", run(n)) for n in (1, 2, 3)]
    store.record_evaluation("other", run(9))
    assert [r["metrics"]["hit_at_3"] for r in store.evaluations("default", last=2)] == [2, 3]
    assert [r["id"] for r in store.evaluations("default", [ids[2], ids[0]])] == [ids[2], ids[0]]
    first = store.evaluations("default", [ids[0]])[0]
    assert (first["kb"], first["tickets"], first["min_score"], first["seconds"]) == ("default", "t1.jsonl", 0.1, 1.5)
    with pytest.raises(ConfigError, match=f"no evaluation run with id {ids[-1] + 1} for KB 'default'"):
        store.evaluations("default", [ids[0], ids[-1] + 1])


# tickets --------------------------------------------------------------------------------------------------
def test_tickets_are_upserted_by_id_per_kb_and_read_oldest_first(store):
    assert store.write_tickets("default", [ticket("B", created_at="2026-11-02T10:00:00.000Z"), ticket("A")]) == (2, 0)
    assert store.write_tickets("default", [ticket("A", "changed"), ticket("C"), ticket("C", "twice")]) == (1, 1)
    store.write_tickets("other", [ticket("A", "elsewhere")])
    got = store.tickets("default")
    assert [(t.id, t.title, t.kb) for t in got] == [("A", "changed", "default"), ("C", "twice", "default"),
                                                    ("B", "t", "default")]
    assert (got[0].tags, got[0].linked_articles, got[0].resolved_at) == (("x",), (), None)


def test_a_ticket_import_is_stored_whole_or_not_at_all(store, monkeypatch):
    store.write_tickets("default", [ticket("A")])
    failing_after(store, monkeypatch, "_ticket_row", 3)
    with pytest.raises(RuntimeError, match="injected"):
        store.write_tickets("default", [ticket("A", "changed"), ticket("B"), ticket("C"), ticket("D")])
    assert [(t.id, t.title) for t in store.tickets("default")] == [("A", "t")]


# gap-mining runs ------------------------------------------------------------------------------------------
def test_the_last_gap_run_of_each_kb(store):
    def gap(rank, title):
        return {"rank": rank, "kind": "missing", "title": title, "keywords": '["k"]', "size": 3, "impact": 1.5,
                "article_id": None, "ticket_ids": '["1", "2", "3"]', "change": "new"}
    run = {"as_of": "2026-11-02", "tickets": 9, "resolved": 8, "covered": 2, "uncovered": 6, "unclustered": 0, "gaps": 2}
    first = store.save_gap_run("default", run, [gap(1, "old")])
    second = store.save_gap_run("default", run, [gap(2, "second"), gap(1, "first")])
    store.save_gap_run("other", run, [gap(1, "elsewhere")])
    assert second > first
    assert [(g["run_id"], g["rank"], g["title"], g["impact"]) for g in store.last_gap_run("default")] == [
        (second, 1, "first", 1.5), (second, 2, "second", 1.5)]


# failures -------------------------------------------------------------------------------------------------
def test_an_unusable_sqlite_file_is_store_unavailable(tmp_path):
    from kbsuggest.store.sqlite import SQLiteStore

    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreUnavailableError, match="^the service database is unavailable: unable to open"):
        SQLiteStore(tmp_path / "dir.db").record_events("default", [shown("s", "09:00:00.000Z")])


def test_an_unreachable_server_is_store_unavailable_without_the_url_or_password():
    store = PostgresStore("postgresql://kb:s3cret-pw@127.0.0.1:9/kbsuggest", timeout=0.3)  # port 9 (discard): refused
    try:
        with pytest.raises(StoreUnavailableError) as exc:
            store.record_events("default", [shown("s", "09:00:00.000Z")])
    finally:
        store.close()
    message = str(exc.value)
    assert message.startswith("the service database is unavailable: ") and "refused" in message
    assert [s for s in ("s3cret-pw", "postgresql://") if s in message] == []


# PostgreSQL only ------------------------------------------------------------------------------------------
def test_both_backends_apply_the_same_named_migrations():
    assert [name for name, _ in pg_schema.MIGRATIONS] == [name for name, _ in schema.MIGRATIONS]


def test_replicas_starting_together_migrate_once(postgres_url):
    stores = [PostgresStore(postgres_url) for _ in range(4)]
    errors = []

    def start(s):
        try:
            s.check()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    [t.start() for t in threads]
    [t.join() for t in threads]
    names = [name for name, in query(stores[0], "SELECT name FROM _migrations ORDER BY name")]
    [s.close() for s in stores]
    assert (errors, names) == ([], sorted(name for name, _ in pg_schema.MIGRATIONS))


def test_a_publication_is_heard_by_every_listener(postgres_url):
    publisher, listener = PostgresStore(postgres_url), PostgresStore(postgres_url)
    heard, stop, ready = [], threading.Event(), threading.Event()

    def on(payload):
        heard.append(payload)
        ready.set()
        if payload:
            stop.set()
    thread = threading.Thread(target=listener.listen, args=(on, stop))
    thread.start()
    assert ready.wait(10)  # connected (its first call, "", says: look now)
    publisher.announce("default", "v000002")
    thread.join(10)
    publisher.close()
    assert (thread.is_alive(), heard) == (False, ["", "default v000002"])


def test_the_skip_reason_names_the_server_when_there_is_none(monkeypatch):
    import stores

    if postgres_unreachable() is None:
        with admin_connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    monkeypatch.setattr(stores, "POSTGRES", "postgresql://postgres@127.0.0.1:9/test")
    stores.postgres_unreachable.cache_clear()
    try:
        assert "refused" in stores.postgres_unreachable()
    finally:
        stores.postgres_unreachable.cache_clear()


def test_gap_run_history_is_the_latest_runs_newest_first(store):
    def gap(rank, title):
        return {"rank": rank, "kind": "missing", "title": title, "keywords": "[]", "size": 3, "impact": 1.0,
                "article_id": None, "ticket_ids": "[]", "change": "new", "signals": '{"ticket": 3}'}
    runs = [store.save_gap_run("default", {"as_of": f"2026-11-0{i}", "gaps": 1}, [gap(1, f"run {i}")])
            for i in (1, 2, 3)]
    store.save_gap_run("other", {"as_of": "2026-11-09", "gaps": 1}, [gap(1, "elsewhere")])
    assert [(g["run_id"], g["title"], g["as_of"], g["signals"]) for g in store.gap_run_history("default", 2)] == [
        (runs[2], "run 3", "2026-11-03", '{"ticket": 3}'), (runs[1], "run 2", "2026-11-02", '{"ticket": 3}')]


def test_ticket_resolution_and_reopens_round_trip(store):
    store.write_tickets("default", [ticket("A", resolution="Go to Settings. Click Export.", reopens=2), ticket("B")])
    assert [(t.id, t.resolution, t.reopens) for t in store.tickets("default")] == [
        ("A", "Go to Settings. Click Export.", 2), ("B", "", 0)]


# widget signals for gap mining ----------------------------------------------------------------------------
def test_gap_signals_drop_prefixes_of_a_later_query_and_repeat_per_session(store):
    empty = "[]"
    store.record_events("default", [
        shown("s-1", "09:00:00.000Z", "exp", empty),  # a prefix of what s-1 typed next: dropped
        shown("s-1", "09:00:01.000Z", "export to power", empty),  # dropped too
        shown("s-1", "09:00:02.000Z", "Export to PowerPoint", empty),
        shown("s-1", "09:05:00.000Z", "export to powerpoint ", empty),  # the same text again: once per session
        shown("s-1", "09:06:00.000Z", "reset"),  # had results: no signal
        event("s-1", "feedback", "09:06:30.000Z", query="", article_id="password-reset", position=1, helpful=0),
        event("s-1", "feedback", "09:07:00.000Z", query="reset", article_id="password-reset", position=1, helpful=0),
        event("s-1", "feedback", "09:08:00.000Z", query="reset", article_id="sso-login", position=2, helpful=1),
        shown("s-2", "09:10:00.000Z", "export to powerpoint", empty),  # another session: counted again
        shown("s-2", "09:11:00.000Z", "   ", empty),  # blank: never a signal
        shown("s-3", "08:00:00.000Z", "before the period", empty),
    ])
    store.record_events("other", [shown("s-1", "09:00:03.000Z", "elsewhere", empty)])
    got = store.gap_signals("default", DAY + "09:00:00.000Z", DAY + "23:00:00.000Z")
    assert [(r["signal"], r["session_id"], r["query"].strip().lower(), r["article_id"]) for r in got] == [
        ("no_result", "s-1", "export to powerpoint", None),
        ("still_need_help", "s-1", "reset", "password-reset"),
        ("no_result", "s-2", "export to powerpoint", None),
    ]
    assert got[0]["at"] == DAY + "09:00:02.000Z"
    assert store.gap_signals("nobody", "", "9") == []
