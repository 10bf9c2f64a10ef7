"""Ticket import (CSV/JSONL, presets, upsert by id, bad rows) and PII redaction."""

import json

import pytest
from click.testing import CliRunner

from kbsuggest.cli import main
from kbsuggest.errors import ConfigError
from gaps.redact import redact
from gaps.view import load_redacted
from kbsuggest.store.sqlite import SQLiteStore
from tickets.importer import import_tickets
from kbsuggest.db import open_db

from conftest import FIXTURES

TICKETS = FIXTURES / "tickets"


def rows(db_path):
    db = open_db(db_path)
    try:
        return {r["id"]: r for r in db.query("select * from tickets")}
    finally:
        db.conn.close()


def test_freshdesk_csv_preset_reports_bad_rows_by_line(tmp_path):
    summary = import_tickets(SQLiteStore(tmp_path / "k.db"), "default", TICKETS / "freshdesk_export.csv", preset="freshdesk")
    assert (summary.inserted, summary.updated) == (2, 0)
    assert [str(b) for b in summary.bad] == ["line 4: missing title", "line 5: created_at: unreadable date 'not a date'"]
    stored = rows(tmp_path / "k.db")
    assert stored["101"]["status"] == "closed" and stored["101"]["created_at"] == "2026-11-02T10:00:00.000Z"
    assert json.loads(stored["101"]["tags"]) == ["ui", "theme"]


def test_zendesk_jsonl_preset_and_idempotent_upsert(tmp_path):
    db_path = tmp_path / "k.db"
    first = import_tickets(SQLiteStore(db_path), "default", TICKETS / "zendesk_export.jsonl", preset="zendesk")
    assert (first.inserted, first.updated, [str(b) for b in first.bad]) == (2, 0, ["line 3: invalid JSON (Expecting value)"])
    again = import_tickets(SQLiteStore(db_path), "default", TICKETS / "zendesk_export.jsonl", preset="zendesk")
    assert (again.inserted, again.updated) == (0, 2)
    stored = rows(db_path)
    assert len(stored) == 2 and stored["9001"]["resolved_at"] == "2026-11-01T09:30:00.000Z"
    assert [t.resolved for t in load_redacted(SQLiteStore(db_path), "default")] == [True, False]


def test_column_mapping_from_the_cli(tmp_path):
    source = tmp_path / "t.csv"
    source.write_text("ref,subject,opened\nA1,Mail me at bob@example.org about dark mode,2026-10-01\n")
    env = {"KBSUGGEST_DB_PATH": str(tmp_path / "k.db")}
    result = CliRunner().invoke(main, ["tickets", "import", str(source), "--map", "id=ref", "--map", "title=subject",
                                       "--map", "created_at=opened"], env=env)
    assert result.output == f"imported 1 tickets (1 new, 0 updated) into {tmp_path / 'k.db'}; 0 bad rows\n"
    assert rows(tmp_path / "k.db")["A1"]["status"] == "open"
    assert load_redacted(SQLiteStore(tmp_path / "k.db"), "default")[0].text == "Mail me at [EMAIL] about dark mode"
    bad = CliRunner().invoke(main, ["tickets", "import", str(source), "--map", "subject"], env=env)
    assert (bad.exit_code, bad.output) == (1, "error: column mapping 'subject' must look like FIELD=COLUMN\n")
    with pytest.raises(ConfigError, match="unknown preset 'zoho'; valid: zendesk, zendesk-csv, freshdesk"):
        import_tickets(SQLiteStore(tmp_path / "k.db"), "default", source, preset="zoho")


@pytest.mark.parametrize("text, expected", [
    ("write to john.doe+x@example.co.uk now", "write to [EMAIL] now"),
    ("call +44 20 7946 0958 or (555) 123-4567", "call [PHONE] or [PHONE]"),
    ("card 4111-1111-1111-1111 declined", "card [CARD] declined"),
    ("from 192.168.10.12 and 2001:db8::8a2e:370:7334", "from [IP] and [IP]"),
    ("open https://app.example/reset?token=abc123&lang=en", "open https://app.example/reset?token=[TOKEN]&lang=en"),
    ("https://x.example/invite/AbCdEfGhIjKlMnOpQrStUv/accept", "https://x.example/invite/[TOKEN]/accept"),
    ("my key sk_live_abcdefghijklmnop leaked", "my key [TOKEN] leaked"),
    ("at 10:30:00 on 2026-10-01, order 12345, 3 dashboards", "at 10:30:00 on 2026-10-01, order 12345, 3 dashboards"),
])
def test_redaction(text, expected):
    assert redact(text) == expected
