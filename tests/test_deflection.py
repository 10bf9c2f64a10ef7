"""Deflection classes (ServiceNow's definitions) on hand-made sessions with controlled times."""

from datetime import datetime, timedelta, timezone

import pytest

from kbsuggest.events.deflection import deflection_stats, period
from kbsuggest.errors import InvalidPeriodError
from kbsuggest.events.schema import EventBatch, record
from kbsuggest.store.sqlite import SQLiteStore

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
WINDOW = timedelta(minutes=60)
MS = int(T0.timestamp() * 1000)


def shown(query, *ids, at=0):
    return {"type": "suggestions_shown", "at": MS + at, "query": query,
            "suggestions": [{"article_id": a, "position": i + 1, "score": 0.5} for i, a in enumerate(ids)]}


def opened(article, at=0):
    return {"type": "article_opened", "at": MS + at, "query": "q", "article_id": article, "position": 1}


def feedback(article, helpful, at=0):
    return {"type": "feedback", "at": MS + at, "query": "q", "article_id": article, "position": 1, "helpful": helpful}


def ticket(at=0, was_opened=False):
    return {"type": "ticket_submitted", "at": MS + at, "title": "t", "suggestion_opened": was_opened}


def add(db, session, *events, received=T0 + timedelta(hours=3)):
    """Events dated exactly: the batch is 'sent' at T0 + 3 h and received then."""
    sent = MS + 3 * 3600 * 1000
    record(db, "default", EventBatch.model_validate({"session_id": session, "sent_at": sent, "events": list(events)}), received)


@pytest.fixture
def db(store):
    """The service store, on SQLite and on PostgreSQL."""
    return store


@pytest.fixture
def sqlite_db(tmp_path):
    """The SQLite file the CLI tests read with ``--db``."""
    store = SQLiteStore(tmp_path / "service.db")
    yield store
    store.close()


def figures(db, now=T0 + timedelta(days=1), kb="default"):
    return deflection_stats(db, kb, T0 - timedelta(days=1), T0 + timedelta(days=1), WINDOW, now)


def test_each_session_gets_servicenows_class(db):
    minute = 60_000
    add(db, "confirmed-1", shown("reset pass", "password-reset"), feedback("password-reset", True, 2 * minute))
    add(db, "potential-1", shown("refund", "billing-refunds"), opened("billing-refunds", minute))
    add(db, "none-ticket", shown("sso", "sso-login"), opened("sso-login", minute), ticket(30 * minute, True))
    add(db, "none-noopen", shown("dark mode", ), ticket(minute))
    add(db, "none-unhelpful", shown("webhooks", "webhooks"), feedback("webhooks", False, minute))
    add(db, "late-ticket", shown("invoice", "invoices"), opened("invoices", minute), ticket(90 * minute))
    add(db, "unengaged-1", shown("api limits", "api-rate-limits"))
    stats = figures(db)
    assert stats.counts == {"confirmed": 1, "potential": 2, "none": 3, "unengaged": 1, "pending": 0}
    assert (stats.sessions, stats.confirmed_rate, stats.potential_rate, stats.deflection_rate) == (7, 0.1429, 0.2857, 0.4286)
    assert [(a.article_id, a.confirmed, a.potential) for a in stats.top_articles] == [
        ("password-reset", 1, 0), ("billing-refunds", 0, 1), ("invoices", 0, 1)]


def test_sessions_inside_the_window_are_pending_and_left_out_of_rates(db):
    add(db, "recent-session", shown("reset pass", "password-reset"), opened("password-reset", 1000))
    stats = figures(db, now=T0 + timedelta(minutes=30))
    assert stats.counts["pending"] == 1 and stats.deflection_rate is None


def test_unanswered_queries_skip_keystroke_prefixes_and_count_sessions(db):
    add(db, "session-1", shown("dark", ), shown("dark mo", at=300), shown("dark mode", at=600), shown("refund", "billing-refunds", at=900))
    add(db, "session-2", shown("Dark  Mode", ))
    add(db, "session-3", shown("print dashboard", ), shown("print dashboards", "export-empty-csv", at=500))
    assert [(q.query, q.sessions) for q in figures(db).unanswered_queries] == [("dark mode", 2)]


def test_only_sessions_that_started_in_the_period_count(db):
    add(db, "old-session", shown("refund", "billing-refunds"), received=T0 - timedelta(days=3))
    add(db, "new-session", shown("refund", "billing-refunds"))
    assert figures(db).sessions == 1


def test_event_times_come_from_the_age_on_the_client_clock(db):
    # A client clock a year off: the event is dated by its age (2 s), not by its own clock.
    skewed = {"session_id": "skewed-clock", "sent_at": 2_000, "events": [shown("refund", "billing-refunds") | {"at": 0}]}
    received = T0 + timedelta(hours=1)
    record(db, "default", EventBatch.model_validate(skewed), received)
    [row] = db.session_events("default", "2026-11-01T00:00:00.000Z", "2026-11-03T00:00:00.000Z")
    assert row["at"] == "2026-11-02T09:59:58.000Z"


def test_period_parses_days_and_times_and_rejects_nonsense():
    now = T0
    assert period("2026-11-01", "2026-11-01", now) == (datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 11, 2, tzinfo=timezone.utc))
    assert period(None, None, now) == (now - timedelta(days=30), now)
    assert period("2026-11-01T10:00:00Z", None, now)[0] == datetime(2026, 11, 1, 10, tzinfo=timezone.utc)
    with pytest.raises(InvalidPeriodError, match="'yesterday' is not a date") as exc:
        period("yesterday", None, now)
    assert exc.value.field == "from"
    with pytest.raises(InvalidPeriodError, match="not before"):
        period("2026-11-03", "2026-11-01", now)


def test_stats_cli_prints_figures_and_one_line_errors(tmp_path, sqlite_db):
    db = sqlite_db
    from click.testing import CliRunner

    from kbsuggest.cli import main

    add(db, "confirmed-1", shown("reset pass", "password-reset"), feedback("password-reset", True, 1000))
    runner = CliRunner()
    ok = runner.invoke(main, ["stats", "--db", str(tmp_path / "service.db"), "--from", "2026-11-01", "--to", "2026-11-30"])
    assert ok.exit_code == 0, ok.output
    assert "confirmed       1  100.0%" in ok.output and "password-reset" in ok.output
    bad = runner.invoke(main, ["stats", "--db", str(tmp_path / "service.db"), "--from", "soon"])
    assert (bad.exit_code, bad.output.strip().splitlines()) == (1, ["error: from: 'soon' is not a date (2026-11-23) or date-time (2026-11-23T14:00:00Z)"])
    missing = runner.invoke(main, ["stats", "--db", str(tmp_path / "nope.db")])
    assert missing.exit_code == 1 and "no service database at" in missing.output


def test_stats_cli_shows_control_characters_of_customer_text_as_escapes(tmp_path, sqlite_db):
    db = sqlite_db
    from click.testing import CliRunner

    from kbsuggest.cli import main

    evil = "\x1b[31mpw\u202ereset"
    add(db, "session-1", shown("\x1b]0;owned\x07dark mode"), shown(evil, evil), feedback(evil, True, 1000))
    ok = CliRunner().invoke(main, ["stats", "--db", str(tmp_path / "service.db"), "--from", "2026-11-01",
                                   "--to", "2026-11-30"])
    assert ok.exit_code == 0, ok.output
    lines = ok.output.splitlines()
    assert lines[-4:] == ["top deflecting articles   confirmed potential opened shown",
                          "  \\x1b[31mpw\\u202ereset                    1         0      1     1",
                          "queries with no suggestion (sessions)",
                          "     1  \\x1b]0;owned\\x07dark mode"]
    assert [c for c in ok.output if c in "\x1b\x07\u202e"] == []
