"""Real help-desk exports read into tickets: every preset on its fixture, encodings and delimiters, and
numeric dates whose day/month order comes from the whole file (ambiguity is an error, never a guess)."""

import pytest
from click.testing import CliRunner

from kbsuggest.cli import main
from kbsuggest.cli.context import TICKET_PRESETS
from kbsuggest.errors import ConfigError
from tickets.presets import PRESETS
from tickets.reader import read_tickets

from conftest import FIXTURES

TICKETS = FIXTURES / "tickets"


def summary(read):
    return [(t.id, t.title, t.status, t.created_at, t.resolved_at, t.tags) for t in read.tickets]


@pytest.mark.parametrize("name, preset, expected", [
    ("zendesk_incremental.json", "zendesk", [
        ("9101", "Can't log in after password change", "solved", "2026-03-02T08:00:00.000Z", "2026-03-02T11:30:00.000Z",
         ("login", "password")),
        ("9102", "Invoice in euros?", "open", "2026-03-03T09:00:00.000Z", None, ())]),
    ("zendesk_ui.csv", "zendesk-csv", [  # UTF-8 with a BOM, offsets converted to UTC, tags split on spaces
        ("9201", "Export is empty", "closed", "2026-03-02T07:00:00.000Z", "2026-03-02T08:30:00.000Z", ("export", "csv")),
        ("9202", "SSO with Okta", "open", "2026-03-03T13:00:00.000Z", None, ("sso",))]),
    ("freshdesk_api.json", "freshdesk-json", [  # numeric statuses, stats.resolved_at
        ("301", "Reset link expired", "resolved", "2026-03-05T10:00:00.000Z", "2026-03-05T11:00:00.000Z", ("password",)),
        ("302", "Add a second admin", "open", "2026-03-06T10:00:00.000Z", None, ())]),
    ("intercom_conversations.json", "intercom", [  # a chat without a title: its first message, as text
        ("1911149811", "Hi, how do I connect Slack?", "closed", "2026-03-05T10:00:00.000Z", "2026-03-05T11:00:00.000Z",
         ("slack",)),
        ("1911149812", "Dark mode", "open", "2026-03-06T10:00:00.000Z", None, ())]),
    ("jira.csv", "jira", [  # cp1252, dd/MMM/yy h:mm a, Labels repeated
        ("SUP-12", "Café menu export fails", "resolved", "2026-03-04T10:21:00.000Z", "2026-03-05T09:00:00.000Z",
         ("export", "menu")),
        ("SUP-13", "VPN access", "waiting for support", "2026-03-06T14:05:00.000Z", None, ())]),
    ("salesforce_cases.csv", "salesforce", [  # UTF-16, tab-delimited, month first (3/14/2026 says so)
        ("00001026", "Refund not received", "closed", "2026-03-04T09:05:00.000Z", "2026-03-14T16:30:00.000Z", ()),
        ("00001027", "Change billing email", "new", "2026-03-12T11:00:00.000Z", None, ())]),
    ("helpscout_conversations.json", "helpscout", [
        ("349", "Webhook signature mismatch", "closed", "2026-03-07T08:00:00.000Z", "2026-03-07T12:00:00.000Z",
         ("webhooks",)),
        ("350", "Team seats", "open", "2026-03-08T08:00:00.000Z", None, ())]),
])
def test_presets_read_their_exports(name, preset, expected):
    read = read_tickets(TICKETS / name, preset=preset)
    assert summary(read) == expected
    assert read.bad == ([] if preset != "zendesk" else read.bad)


def test_a_json_page_reports_records_by_number():
    read = read_tickets(TICKETS / "zendesk_incremental.json", preset="zendesk")
    assert [str(b) for b in read.bad] == ["record 3: missing title"]


def test_the_cli_offers_every_preset_and_imports_one(tmp_path):
    assert TICKET_PRESETS == tuple(PRESETS)
    result = CliRunner().invoke(main, ["tickets", "import", str(TICKETS / "jira.csv"), "--preset", "jira"],
                                env={"KBSUGGEST_DB_PATH": str(tmp_path / "k.db")})
    assert (result.exit_code, result.output) == (0, f"imported 2 tickets (2 new, 0 updated) into {tmp_path / 'k.db'}; "
                                                    "0 bad rows\n")


def write(tmp_path, text, name="t.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_numeric_dates_take_the_order_of_the_whole_file(tmp_path):
    day_first = write(tmp_path, "id;title;created_at\n1;a;03/04/2026 10:00\n2;b;25/04/2026 10:00\n")  # ; delimited
    assert [t.created_at for t in read_tickets(day_first).tickets] == ["2026-04-03T10:00:00.000Z", "2026-04-25T10:00:00.000Z"]
    month_first = write(tmp_path, "id,title,created_at\n1,a,03/04/2026\n2,b,04/25/2026\n")
    assert [t.created_at for t in read_tickets(month_first).tickets] == ["2026-03-04T00:00:00.000Z", "2026-04-25T00:00:00.000Z"]


def test_an_ambiguous_or_mixed_file_asks_for_date_format(tmp_path):
    ambiguous = write(tmp_path, "id,title,created_at\n1,a,03/04/2026\n2,b,05/06/2026\n")
    with pytest.raises(ConfigError, match="'03/04/2026' could be day/month or month/day.*--date-format dmy or mdy"):
        read_tickets(ambiguous)
    assert read_tickets(ambiguous, date_format="mdy").tickets[0].created_at == "2026-03-04T00:00:00.000Z"
    assert read_tickets(ambiguous, date_format="%d/%m/%Y").tickets[0].created_at == "2026-04-03T00:00:00.000Z"
    mixed = write(tmp_path, "id,title,created_at\n1,a,13/04/2026\n2,b,04/13/2026\n", "m.csv")
    with pytest.raises(ConfigError, match="two orders \\('13/04/2026' is day first, '04/13/2026' month first\\)"):
        read_tickets(mixed)
    result = CliRunner().invoke(main, ["tickets", "import", str(ambiguous)], env={"KBSUGGEST_DB_PATH": str(tmp_path / "k.db")})
    assert result.exit_code == 1 and result.output.startswith("error: dates like '03/04/2026' could be")


def test_encodings(tmp_path):
    cp1252 = write(tmp_path, "id,title,created_at\n1,Caf\u00e9 \u201cmenu\u201d,2026-03-01\n", encoding="cp1252")
    assert read_tickets(cp1252).tickets[0].title == "Caf\u00e9 \u201cmenu\u201d"
    utf16 = write(tmp_path, "id\ttitle\tcreated_at\n1\tÜbersicht\t2026-03-01\n", "u.tsv", encoding="utf-16-le")
    assert read_tickets(utf16).tickets[0].title == "Übersicht"  # no BOM: told by its NUL bytes
    # real UTF-8, then a stray byte: that row is bad, the file stays UTF-8
    mixed = tmp_path / "x.csv"
    mixed.write_bytes("id,title,created_at\n1,Übersicht,2026-03-01\n".encode() + b"2,caf\xe9,2026-03-02\n")
    read = read_tickets(mixed)
    assert ([t.title for t in read.tickets], [str(b) for b in read.bad]) == (
        ["Übersicht"], ["line 3: not UTF-8 text (character 6 of the line)"])


def test_linked_articles_column_is_read_by_every_preset(tmp_path):
    export = write(tmp_path, "Issue key,Summary,Created,linked_articles\nSUP-1,Reset,04/Mar/26 10:21 AM,password-reset\n")
    assert read_tickets(export, preset="jira").tickets[0].linked_articles == ("password-reset",)
