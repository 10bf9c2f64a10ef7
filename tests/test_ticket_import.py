"""Robust ticket import: bad rows by line with a reason, bounded fields, one transaction per run;
and the mining text, redacted before it is cut."""

import csv
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

import tickets.records
import kbsuggest.store.sqlite as sqlite_store
from gaps.view import load_redacted, redacted
from kbsuggest.cli import main
from kbsuggest.domain import Ticket
from kbsuggest.errors import ConfigError
from kbsuggest.errors import StoreUnavailableError
from kbsuggest.store.sqlite import SQLiteStore
from tickets.importer import import_tickets
from tickets.reader import read_tickets

from conftest import REPO


def jsonl(path, *lines):
    path.write_bytes(b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines))
    return path


def ticket(i, **fields):
    return json.dumps({"id": i, "title": f"ticket {i}", "created_at": "2026-11-02T10:00:00Z", **fields})


def test_bad_rows_are_reported_by_line_and_the_rest_imported(tmp_path):
    source = jsonl(
        tmp_path / "t.jsonl",
        ticket(1, created_at=1762000000000),  # epoch milliseconds
        ticket(2, created_at=1e20),
        '{"id": 3, "title": "x", "created_at": Infinity}',
        "[" * 100_000,
        '{"id": 5' + "0" * 5000 + ', "title": "x", "created_at": 0}',
        ticket(6, created_at="1762000000"),  # epoch seconds, as text
        ticket(7, title={"nested": ["x"]}),
        ticket(8, created_at="2026-11-02T10:00:00+02:00"),
        ticket(9, created_at="1969-12-31"),
        ticket(10, linked_articles=["password-reset", "not an id!"]),
        '{"id": 11, "title": "x", "created_at": NaN}',
        b'{"id": 12, "title": "caf\xe9", "created_at": 0}',
        ticket(13, created_at="2100-12-31T23:59:59", linked_articles="password-reset, sso-setup-okta"),
        ticket(14, status="x" * 51),
        ticket(15, tags=list(range(101))),
        ticket(16, created_at=True),
    )
    summary = import_tickets(SQLiteStore(tmp_path / "k.db"), "default", source)
    assert [str(b) for b in summary.bad] == [
        "line 2: created_at: '1e+20' is outside 1970..2100 as epoch seconds or milliseconds",
        "line 3: created_at: 'inf' is not a finite number",
        "line 4: invalid JSON (nested too deep)",
        "line 5: invalid JSON (Exceeds the limit (4300 digits) for integer string conversion)",
        "line 7: title is a JSON object, not text",
        "line 9: created_at: '1969-12-31' is outside 1970..2100",
        "line 10: linked_articles: 'not an id!' is not an article id",
        "line 11: created_at: 'nan' is not a finite number",
        "line 12: not UTF-8 text (character 25 of the line)",
        "line 14: status is 51 characters long; at most 50",
        "line 15: tags has 101 items; at most 100",
        "line 16: created_at is true/false, not a date",
    ]
    assert (summary.inserted, summary.updated, summary.cut) == (4, 0, [])
    stored = {t.id: t for t in SQLiteStore(tmp_path / "k.db").tickets("default")}
    assert {i: (t.created_at, t.linked_articles) for i, t in stored.items()} == {
        "1": ("2025-11-01T12:26:40.000Z", ()), "6": ("2025-11-01T12:26:40.000Z", ()), "8": ("2026-11-02T08:00:00.000Z", ()),
        "13": ("2100-12-31T23:59:59.000Z", ("password-reset", "sso-setup-okta")),
    }


def test_csv_field_over_csvs_default_limit_is_cut_not_fatal(tmp_path):
    source = tmp_path / "t.csv"
    source.write_text(f"id,title,created_at,description\n1,a,2026-11-01,short\n2,b,2026-11-02,{'x' * 200_000}\n"
                      f"3,c,2026-11-03,\n")
    summary = import_tickets(SQLiteStore(tmp_path / "k.db"), "default", source)
    assert (summary.inserted, summary.bad) == (3, [])
    assert [str(c) for c in summary.cut] == ["line 3: description cut to 100,000 characters (was 200,000)"]
    assert [len(t.description) for t in SQLiteStore(tmp_path / "k.db").tickets("default")] == [5, 100_000, 0]
    assert csv.field_size_limit() == 131_072  # the process-wide limit is put back


def test_csv_field_over_our_limit_and_an_overlong_jsonl_line_are_bad_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(tickets.records, "MAX_FIELD_CHARS", 1000)
    source = tmp_path / "t.csv"
    source.write_text(f"id,title,created_at\n1,a,2026-11-01\n2,{'y' * 2000},2026-11-02\n3,c,2026-11-03\n")
    read = read_tickets(source)
    assert [t.id for t in read.tickets] == ["1", "3"]
    assert [str(b) for b in read.bad] == ["line 3: unreadable CSV (field larger than field limit (1000))"]
    monkeypatch.setattr(tickets.records, "MAX_LINE_CHARS", 1000)
    lines = jsonl(tmp_path / "t.jsonl", ticket(1), ticket(2, description="z" * 3000), ticket(3))
    read = read_tickets(lines)
    assert [t.id for t in read.tickets] == ["1", "3"]
    assert [str(b) for b in read.bad] == ["line 2: line longer than 1,000 characters"]


def test_title_cut_and_the_evaluations_old_columns_are_aliases(tmp_path):
    source = tmp_path / "t.csv"
    source.write_text(f"id,title,body,resolved_article_id\n1,{'t' * 1500},the body,password-reset\n2,Dark mode,,\n")
    read = read_tickets(source, required=("id", "title"))
    assert [(t.title[:3], len(t.title), t.description, t.linked_articles) for t in read.tickets] == [
        ("ttt", 1000, "the body", ("password-reset",)), ("Dar", 9, "", ())]
    assert [str(c) for c in read.cut] == ["line 2: title cut to 1,000 characters (was 1,500)"]
    with pytest.raises(ConfigError, match="field description is mapped twice"):
        read_tickets(source, {"body": "a", "description": "b"})
    # --map wins over the preset's column, also through an alias
    freshdesk = tmp_path / "f.csv"
    freshdesk.write_text("Ticket ID,Subject,Created time,Description,Text\n7,Hi,2026-11-01,preset,mapped\n")
    assert read_tickets(freshdesk, {"body": "Text"}, preset="freshdesk").tickets[0].description == "mapped"


def _first_import(tmp_path):
    db = tmp_path / "k.db"
    import_tickets(SQLiteStore(db), "default", jsonl(tmp_path / "first.jsonl", ticket("A", status="solved"), ticket("B")))
    before = SQLiteStore(db).tickets("default")
    assert [t.id for t in before] == ["A", "B"]
    return db, before


def test_an_import_is_all_or_nothing(tmp_path, monkeypatch):
    db, before = _first_import(tmp_path)
    second = jsonl(tmp_path / "second.jsonl", ticket("A", title="changed"), *(ticket(f"N{i}") for i in range(5)))
    written = []
    real_row = sqlite_store._ticket_row

    def failing_row(kb, t, imported_at):
        if len(written) == 3:
            raise OSError("disk full")
        written.append(t.id)
        return real_row(kb, t, imported_at)

    monkeypatch.setattr(sqlite_store, "_ticket_row", failing_row)
    with pytest.raises(StoreUnavailableError, match="disk full"):
        import_tickets(SQLiteStore(db), "default", second)
    assert written == ["A", "N0", "N1"]  # three rows were written inside the transaction, then rolled back
    assert SQLiteStore(db).tickets("default") == before


CHILD = """
import sys, time
import kbsuggest.store.sqlite as sqlite_store
from tickets.importer import import_tickets
real, count = sqlite_store._ticket_row, [0]
def slow_row(kb, t, stamp):
    count[0] += 1
    if count[0] == 500:
        print("halfway", flush=True)
        time.sleep(600)
    return real(kb, t, stamp)
sqlite_store._ticket_row = slow_row
import_tickets(sqlite_store.SQLiteStore(sys.argv[1]), "default", sys.argv[2])
"""


def test_a_killed_import_leaves_the_database_as_it_was(tmp_path):
    db, before = _first_import(tmp_path)
    big = jsonl(tmp_path / "big.jsonl", *(ticket(f"K{i}") for i in range(1000)))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(big)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "halfway\n"  # 499 rows written, uncommitted
    finally:
        child.kill()
        child.wait()
    assert SQLiteStore(db).tickets("default") == before


def test_an_import_that_imports_nothing_exits_1_and_writes_nothing(tmp_path):
    source = jsonl(tmp_path / "t.jsonl", '{"id": 1}', ticket(2, created_at="soon"))
    db = tmp_path / "k.db"
    result = CliRunner().invoke(main, ["tickets", "import", str(source)], env={"KBSUGGEST_DB_PATH": str(db)})
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"imported 0 tickets (0 new, 0 updated) into {db}; 2 bad rows",
                                          "  skipped line 1: missing title, created_at",
                                          "  skipped line 2: created_at: unreadable date 'soon'"]
    assert result.stderr == f"error: no ticket of '{source}' could be imported; the database is unchanged\n"
    assert not db.exists()


def test_cli_lists_cut_rows_and_succeeds(tmp_path):
    source = tmp_path / "t.csv"
    source.write_text(f"id,title,created_at,description\n1,a,2026-11-01,{'d' * 100_001}\n")
    db = tmp_path / "k.db"
    result = CliRunner().invoke(main, ["tickets", "import", str(source)], env={"KBSUGGEST_DB_PATH": str(db)})
    assert (result.exit_code, result.stdout.splitlines()) == (0, [
        f"imported 1 tickets (1 new, 0 updated) into {db}; 0 bad rows, 1 cut",
        "  kept line 2: description cut to 100,000 characters (was 100,001)"])


EMAIL = "maria.lopez@example.com"


def test_redaction_runs_before_the_cut():
    """Wherever the 200-character cut falls in the e-mail, no piece of it gets through, nor half a placeholder."""
    for start in range(170, 215):
        description = ("word " * 60)[:start] + f" {EMAIL} thanks"
        text = redacted(Ticket("1", "Help", description, "solved")).text
        rest = text.replace("[EMAIL]", "")
        assert [part for part in ("maria", "lopez", "example", ".com", "[") if part in rest] == [], start
        assert text.startswith("Help. word word") and len(text) <= len("Help. ") + 200, start


def test_mining_text_is_cut_at_a_word_boundary_after_redaction(tmp_path):
    description = "word " * 38 + "reach " + EMAIL + " please"  # characters 197-219: cut first, "mari" leaked
    assert redacted(Ticket("1", "Help", description, "solved")).text == "Help. " + "word " * 38 + "reach"
    source = jsonl(tmp_path / "t.jsonl", ticket(1, title="Mail bob@example.org", description=description))
    import_tickets(SQLiteStore(tmp_path / "k.db"), "default", source)
    [mined] = load_redacted(SQLiteStore(tmp_path / "k.db"), "default")
    assert (mined.title, mined.text) == ("Mail [EMAIL]", "Mail [EMAIL]. " + "word " * 38 + "reach")
