import pytest

from kbsuggest.errors import ConfigError
from tickets.records import parse_mapping, read_records
from kbsuggest.db import open_db

FIELDS = ("id", "title", "body")


def test_csv_with_mapping_and_bad_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('ticket,subject,text\n1,Reset password,"multi\nline"\n2,,empty title\n3,SSO fails,x,extra\n4,Refund,ok\n')
    rows, bad = read_records(path, FIELDS, ["id", "title"], parse_mapping(["id=ticket", "title=subject", "body=text"]))
    assert rows == [{"id": "1", "title": "Reset password", "body": "multi\nline"},
                    {"id": "4", "title": "Refund", "body": "ok"}]
    assert [str(b) for b in bad] == ["line 4: missing title", "line 5: 4 cells, header has 3"]


def test_jsonl_bad_lines_reported(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 1, "title": "A"}\n\n{oops\n[1]\n{"id": 2}\n')
    rows, bad = read_records(path, FIELDS, ["id", "title"])
    assert rows == [{"id": 1, "title": "A", "body": None}]
    assert [str(b) for b in bad] == [
        "line 3: invalid JSON (Expecting property name enclosed in double quotes)",
        "line 4: not a JSON object", "line 5: missing title"]


@pytest.mark.parametrize("name, args, message", [
    ("t.txt", {}, "cannot tell the format"),
    ("t.csv", {"mapping": {"nope": "x"}}, "cannot map unknown field(s) nope"),
    ("t.csv", {"fmt": "xml"}, "unknown format 'xml'"),
])
def test_clear_errors(tmp_path, name, args, message):
    (tmp_path / name).write_text("id,title\n")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_records(tmp_path / name, FIELDS, ["id"], **args)


def test_bad_mapping_syntax():
    with pytest.raises(ConfigError, match="must look like FIELD=COLUMN"):
        parse_mapping(["title"])


def test_named_migrations_apply_once_per_component(tmp_path):
    calls = []
    first = [("a-001", lambda db: calls.append("a1") or db["a"].create({"id": int}, pk="id"))]
    open_db(tmp_path / "s.db", first, wal=True).conn.close()
    second = first + [("a-002", lambda db: calls.append("a2") or db["a"].add_column("x", str))]
    other = [("b-001", lambda db: calls.append("b1") or db["b"].create({"id": int}, pk="id"))]
    open_db(tmp_path / "s.db", second, wal=True).conn.close()
    db = open_db(tmp_path / "s.db", other, wal=True)
    assert calls == ["a1", "a2", "b1"]
    assert set(db.table_names()) == {"_migrations", "a", "b"}
