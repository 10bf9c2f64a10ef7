"""Gap mining on the project-written ticket fixture for the sample KB (articles/), hash embedder."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from indexing.build import build_index
from kbsuggest.cli import main
from kbsuggest.embed.hashing import HashEmbedder
from gaps.job import run_gap_job
from gaps.report import write_report
from kbsuggest.store.sqlite import SQLiteStore
from tickets.importer import import_tickets
from kbsuggest.db import open_db

from conftest import FIXTURES, REPO, make_settings

TICKETS = FIXTURES / "tickets" / "tallyo_tickets.jsonl"
TOPIC = {json.loads(line)["id"]: json.loads(line)["tags"][0] for line in TICKETS.read_text().splitlines()}
# The hash embedder's similarities are lower and flatter than a real model's: these tests use the explicit
# fixed-distance cut (KBSUGGEST_GAP_CLUSTER_DISTANCE) and attach score, not the automatic cut.
HASH_GAPS = dict(gap_coverage_score=0.5, gap_cluster_distance=0.8, gap_attach_score=0.3)
RAW_PII = ["maria.lopez@example.com", "+44 20 7946 0958", "it-admin@acme.example", "s3cr3tT0kenValue99",
           "4111 1111 1111 1111", "203.0.113.45"]


@pytest.fixture(scope="module")
def sample_kb(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("sample"), **HASH_GAPS)
    build_index(REPO / "articles", settings, HashEmbedder())
    return settings


def topics(gap) -> list[str]:
    return sorted({TOPIC[i] for i in gap.ticket_ids})


def test_finds_the_reserved_gap_topics_and_writes_a_report_without_pii(sample_kb, tmp_path):
    settings = sample_kb.model_copy(update={"db_path": tmp_path / "k.db"})
    runner = CliRunner()
    env = {"KBSUGGEST_DB_PATH": str(settings.db_path), "KBSUGGEST_INDEX_DIR": str(settings.index_dir),
           "KBSUGGEST_EMBEDDER": "hash", **{f"KBSUGGEST_{k.upper()}": str(v) for k, v in HASH_GAPS.items()}}
    result = runner.invoke(main, ["tickets", "import", str(TICKETS)], env=env)
    assert result.output.startswith("imported 44 tickets (44 new, 0 updated)")
    result = runner.invoke(main, ["gaps", "--out", str(tmp_path / "out"), "--no-progress"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == ("43 resolved tickets: 11 covered, 32 uncovered; mined 32 tickets, 0 still need help, "
                                             "0 no-result queries: 6 gaps, 7 unclustered (22%)")

    report = json.loads((tmp_path / "out" / "gaps.json").read_text())
    found = [(g["kind"], sorted({TOPIC[i] for i in g["ticket_ids"]})) for g in report["gaps"]]
    assert found == [
        ("missing", ["bulk-delete", "dark-mode"]), ("missing", ["scim"]), ("missing", ["powerpoint"]),
        ("missing", ["failing"]), ("missing", ["covered", "merge-workspaces"]), ("missing", ["dark-mode"]),
    ]
    assert report["gaps"][1]["keywords"][:2] == ["scim", "provisioning"]
    assert "T900" not in {i for g in report["gaps"] for i in g["ticket_ids"]}  # open tickets are not mined
    for name in ("gaps.html", "gaps.csv", "gaps.json"):
        text = (tmp_path / "out" / name).read_text()
        assert [pii for pii in RAW_PII if pii in text] == [], name
    html = (tmp_path / "out" / "gaps.html").read_text()
    assert "[EMAIL]" in html and "<svg" in html and "http://www.w3.org/2000/svg" in html
    assert [tag for tag in ("<script", "<link", "src=", "@import") if tag in html] == []  # self-contained

    # second run on the same tickets: every gap is unchanged; after the SCIM tickets are covered, it closes
    again = run_gap_job(settings, HashEmbedder())
    assert {g.change for g in again.gaps} == {"unchanged"} and again.closed == []
    db = open_db(settings.db_path)
    db.execute("update tickets set status = 'open', resolved_at = null where id in (select id from tickets where tags like '%scim%')")
    db.conn.close()
    last = run_gap_job(settings, HashEmbedder())
    write_report(last, tmp_path / "out2")
    assert [c["title"] for c in last.closed] == ["SCIM provisioning with Okta"]
    assert "Closed since the last run" in (tmp_path / "out2" / "gaps.html").read_text()


def test_failing_article_gap_when_linked_articles_disagree(sample_kb, tmp_path):
    settings = sample_kb.model_copy(update={"db_path": tmp_path / "k.db", "gap_coverage_score": 0.35})
    import_tickets(SQLiteStore(settings.db_path), "default", TICKETS)
    result = run_gap_job(settings, HashEmbedder())
    failing = [g for g in result.gaps if g.kind == "failing"]
    assert [(g.article_id, topics(g)) for g in failing] == [("scheduled-reports", ["failing"])]


def test_gaps_without_tickets_or_index_is_a_one_line_error(tmp_path):
    env = {"KBSUGGEST_DB_PATH": str(tmp_path / "k.db"), "KBSUGGEST_INDEX_DIR": str(tmp_path / "none"),
           "KBSUGGEST_EMBEDDER": "hash"}
    result = CliRunner().invoke(main, ["gaps", "--out", str(tmp_path / "out")], env=env)
    assert (result.exit_code, result.output.count("\n")) == (1, 1)
    assert "no resolved tickets" in result.output
    CliRunner().invoke(main, ["tickets", "import", str(TICKETS)], env=env)
    result = CliRunner().invoke(main, ["gaps", "--out", str(tmp_path / "out")], env=env)
    assert result.exit_code == 1 and result.output.startswith("error: no index at")


def test_serving_path_never_imports_scikit_learn():
    code = "import sys, kbsuggest.http.app, kbsuggest.cli; print(sorted(m for m in sys.modules if m.startswith('sklearn')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


@pytest.mark.model
def test_real_model_finds_the_sample_gaps(tmp_path):
    """all-MiniLM-L6-v2, default settings (the number of gaps chosen from the tickets): every reserved
    topic is one gap of its own. The fixed cut at 0.4 missed SCIM and PowerPoint (their tickets are
    worded too differently to stay within 0.4 of each other)."""
    from kbsuggest.embed import create_embedder

    settings = make_settings(tmp_path, embedder="sentence-transformers", min_score=0.3)
    embedder = create_embedder("sentence-transformers")
    build_index(REPO / "articles", settings, embedder)
    import_tickets(SQLiteStore(settings.db_path), "default", TICKETS)
    result = run_gap_job(settings, embedder)
    assert [(g.kind, topics(g), g.size) for g in result.gaps] == [
        ("missing", ["dark-mode"], 6), ("missing", ["noise", "powerpoint"], 6), ("missing", ["scim"], 5),
        ("failing", ["failing"], 3), ("missing", ["bulk-delete"], 3), ("missing", ["merge-workspaces"], 4),
    ]  # all 5 SCIM tickets (before text_bm25, one of them counted as covered by an article)
    assert (result.uncovered, result.unclustered) == (24, 0)
    assert result.gaps[3].article_id == "scheduled-reports"
    assert [g.keywords[:2] for g in result.gaps[:3]] == [["dark mode", "dark theme toggle"],
                                                        ["powerpoint", "export charts"], ["scim", "provisioning"]]


def test_coverage_searches_each_distinct_text_once_and_gives_every_ticket_its_texts_result():
    from types import SimpleNamespace

    import numpy as np

    from gaps.coverage import Coverage, check_coverage

    class Recording:  # a suggester whose best article and score are the text's own
        def __init__(self):
            self.calls = []

        def suggest_vectors(self, texts, vectors, k, **options):
            self.calls.append(list(texts))
            return [[SimpleNamespace(article_id=f"a-{t}", similarity=float(v[0]))] for t, v in zip(texts, vectors)]

    texts = ["refund", "login", "refund", "export", "login"]
    vectors = np.array([[{"refund": 0.75, "login": 0.25, "export": 0.625}[t]] for t in texts], dtype=np.float32)
    suggester = Recording()
    coverage = check_coverage(suggester, texts, vectors, threshold=0.5)
    assert suggester.calls == [["export", "login", "refund"]] * 2  # public, then with internal articles
    refund, login = Coverage("a-refund", 0.75, True, None), Coverage("a-login", 0.25, False, None)
    assert coverage == [refund, login, refund, Coverage("a-export", 0.625, True, None), login]
