"""Offline evaluation: prefixes, exact metrics on a hand-checkable case, the CLI end to end on the
sample KB (hash embedder) with the project's sample tickets."""

import json

import pytest
from click.testing import CliRunner

from evaluation.metrics import system_metrics
from evaluation.replay import debounced_lengths, replay, typed_length
from kbsuggest.domain import Ticket
from tickets.reader import read_tickets
from indexing.build import build_index
from kbsuggest.cli import main
from kbsuggest.config import Settings
from kbsuggest.index.format import read_calibration
from kbsuggest.index.versions import kb_dir, resolve
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.kbs.load import load_suggester

from conftest import REPO

SAMPLE_TICKETS = REPO / "evaluation" / "sample_tickets.csv"


def test_typed_length_rounds_half_up_and_keeps_three_characters():
    assert [typed_length(14, p) for p in (30, 50, 70, 100)] == [4, 7, 10, 14]
    assert [typed_length(9, p) for p in (30, 50, 70, 100)] == [3, 5, 6, 9]  # 9 × 0.3 = 2.7 -> 3; 4.5 -> 5
    assert typed_length(5, 30) == 3 and typed_length(2, 30) == 2


def test_debounced_lengths_word_ends_every_n_and_shares():
    # word end at 5, a pause after 6 more characters (11), the whole title, and 30/50/70% (4, 7, 10)
    assert debounced_lengths("reset password", every=6) == [4, 5, 7, 10, 11, 14]
    assert debounced_lengths("export csv", every=6) == [3, 5, 6, 7, 10]
    assert debounced_lengths("ab", every=6) == [2]


class FakeRanker:
    """Hand-written rankings, so every metric below can be checked with pencil and paper."""
    name = "fake"

    @staticmethod
    def _one(text: str):
        text = text.strip()
        if text.startswith("reset p"):
            return [("pw", 0.8), ("x", 0.3)]
        if text.startswith("res"):
            return [("x", 0.5), ("y", 0.4), ("z", 0.3), ("pw", 0.2)]  # pw 4th: not in the top 3
        if text == "export csv":
            return [("x", 0.6), ("csv", 0.55)]
        if text.startswith("exp"):
            return [("csv", 0.35)]
        return [("x", 0.45 if text == "dark mode" else 0.25)]

    def rank(self, texts, k):
        return [self._one(t)[:k] for t in texts]


TINY = [Ticket("A", "reset password", linked_articles=("pw",)), Ticket("B", "export csv", linked_articles=("csv",)),
        Ticket("C", "dark mode"), Ticket("D", "reset pwd", linked_articles=("pw",))]


def test_exact_metrics_on_a_hand_checkable_case():
    traces = replay(TINY, [FakeRanker()], every=6)["fake"]
    assert traces[0].ranks == [3, 3, 0, 0, 0, 0] and traces[3].lengths == [3, 5, 6, 9]
    m = system_metrics(TINY, traces, configured=0.4, target_precision=0.9, max_false_rate=0.0)
    value = {k: (v["micro"]["value"], v["macro"]["value"]) for k, v in m["ranking"].items()}
    assert value == {
        "hit@1": (0.6667, 0.5), "hit@3": (1.0, 1.0), "mrr": (0.8333, 0.75),
        "hit@3_30": (0.3333, 0.5), "hit@3_50": (0.6667, 0.75), "hit@3_70": (0.6667, 0.75), "hit@3_100": (1.0, 1.0),
    }
    assert m["tickets"] == {"answerable": 3, "unanswerable": 1}
    assert m["chars_to_first_hit"]["values"] == [3, 7, 9] and m["chars_to_first_hit"]["median"] == 7.0
    t = m["threshold"]
    # At 0.4: A deflected (0.8 at "reset p"), B only at 0.35 early, D only on the full title.
    assert t["at_configured"]["deflection"]["micro"]["value"] == 0.3333
    assert t["at_configured"]["deflection"]["macro"]["value"] == 0.25  # pw 1/2, csv 0/1
    assert t["at_configured"]["false_suggestion"]["value"] == 1.0  # "dark mode" shows x at 0.45
    assert t["at_configured"]["precision"] == 0.75  # 3 of the 4 tickets shown something had the answer
    # 0.6 is the lowest threshold hiding "dark mode" while keeping every answer shown: precision 1.0. The form
    # shows the top 3 once the best reaches the threshold, so csv (0.55) is shown under x (0.6) on "export csv".
    assert t["recommended"] == 0.6
    assert system_metrics(TINY, traces, None, target_precision=0.75)["threshold"]["recommended"] == 0.35
    assert system_metrics(TINY, traces, None, 0.75, max_false_rate=0.0)["threshold"]["recommended"] == 0.6
    assert t["at_recommended"]["false_suggestion"]["value"] == 0.0
    lo, hi = t["at_configured"]["deflection"]["micro"]["ci"]
    assert 0.0 <= lo <= 0.3333 <= hi <= 1.0


def test_any_linked_article_counts_as_the_right_one():
    # "res…" ranks x, y, z, pw; "reset p…" ranks pw, x: with gold {y, pw}, y counts early and pw later
    [trace] = replay([Ticket("A", "reset password", linked_articles=("y", "pw"))], [FakeRanker()])["fake"]
    assert (trace.ranks, trace.gold) == ([1, 1, 0, 0, 0, 0], [0.4, 0.4, 0.8, 0.8, 0.8, 0.8])
    [trace] = replay([Ticket("A", "reset password", linked_articles=("q", "x"))], [FakeRanker()])["fake"]
    assert trace.ranks == [0, 0, 1, 1, 1, 1]
    m = system_metrics([Ticket("A", "export csv", linked_articles=("csv", "x"))],
                       replay([Ticket("A", "export csv", linked_articles=("csv", "x"))], [FakeRanker()])["fake"],
                       configured=0.4, target_precision=0.9)
    assert m["ranking"]["hit@1"]["micro"]["value"] == 1.0  # x is first on the full title, and x is linked


def test_tickets_bad_rows_have_line_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("ref,subject,article\n1,Reset password,password-reset\n2,,refund-policy\n3,Dark mode,\n")
    read = read_tickets(path, {"id": "ref", "title": "subject", "resolved_article_id": "article"},
                        required=("id", "title"))
    assert read.tickets == [Ticket("1", "Reset password", status="open", linked_articles=("password-reset",)),
                            Ticket("3", "Dark mode", status="open")]
    assert [str(b) for b in read.bad] == ["line 3: missing title"]


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory):
    """articles/ indexed with the hash embedder; each test gets its own service database."""
    index = tmp_path_factory.mktemp("sample") / "index"
    build_index(REPO / "articles", Settings(index_dir=index, embedder="hash"), HashEmbedder())
    return index


def run(index, db, *args):
    env = {"KBSUGGEST_DB_PATH": str(db), "KBSUGGEST_MIN_SCORE": None}
    return CliRunner().invoke(main, ["--index-dir", str(index), "--embedder", "hash", "evaluate",
                                                     *map(str, args)], env=env)


def test_evaluate_writes_reports_deterministically_and_compares(sample_index, tmp_path):
    db = tmp_path / "kb.db"
    first = run(sample_index, db, SAMPLE_TICKETS, "--out", tmp_path / "one", "--quiet")
    assert first.exit_code == 0, first.output + first.stderr
    assert first.stdout.startswith("run #1: 54 tickets (44 answerable, 10 unanswerable)")
    assert run(sample_index, db, SAMPLE_TICKETS, "--out", tmp_path / "two", "--quiet").exit_code == 0
    for name in ("metrics.json", "report.md", "report.html"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    metrics = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert sorted(metrics["systems"]) == ["bm25", "dense", "kbsuggest"]
    kb = metrics["systems"]["kbsuggest"]
    # 44 of 44 on the full title with the hash embedder: "lost my phone with the authenticator app" missed
    # lost-2fa-device on the packaged weights (hashed words only match literally) and finds it once the KB's
    # cold start has refitted them towards its lexical evidence; with all-MiniLM-L6-v2 all 44 are in the top 3
    assert kb["ranking"]["hit@3_100"]["micro"]["value"] == 1.0
    # the KB's own form threshold, fitted when it was indexed
    assert kb["threshold"]["configured"] == read_calibration(resolve(kb_dir(sample_index, "default")))["thresholds"]["form"]
    html = (tmp_path / "one" / "report.html").read_text()
    assert html.count("<svg") == 3 and "<script" not in html and "http" not in html.split("<body>")[0]
    assert "| kbsuggest | 0.818 |" in (tmp_path / "one" / "report.md").read_text()

    compare = run(sample_index, db, "--compare")
    assert compare.exit_code == 0
    assert compare.stdout.splitlines()[0] == "| run | #1 | #2 |"
    assert "| hit@3 100% | 1.000 | 1.000 |" in compare.stdout
    missing = run(sample_index, db, "--compare", "--runs", "1,7")
    assert (missing.exit_code, missing.stderr.count("\n")) == (1, 1)
    assert "no evaluation run with id 7" in missing.stderr


def run_jsonl(index, tmp_path, *lines):
    """Evaluate these JSONL lines with kbsuggest alone into tmp_path/out; the run must succeed."""
    path = tmp_path / "t.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    result = run(index, tmp_path / "db", path, "--out", tmp_path / "out", "--quiet", "--no-baselines")
    assert result.exit_code == 0, result.stderr
    return result


def test_bad_rows_and_unknown_articles_are_reported_not_fatal(sample_index, tmp_path):
    result = run_jsonl(sample_index, tmp_path, '{"id": 1, "title": "forgot my password", "resolved_article_id": "password-reset"}',
                       '{"id": 2, "title": "refund", "resolved_article_id": "no-such-article"}', '{oops', '{"id": 4}')
    assert result.stderr.splitlines() == [
        "skipped line 3: invalid JSON (Expecting property name enclosed in double quotes)",
        "skipped line 4: missing title",
        "skipped ticket '2': linked article 'no-such-article' is not an article of the index (or is internal)",
    ]
    assert "line 4: missing title" in (tmp_path / "out" / "report.md").read_text()
    assert list(json.loads((tmp_path / "out" / "metrics.json").read_text())["systems"]) == ["kbsuggest"]


def test_linked_articles_are_gold_and_ones_missing_from_the_index_are_dropped(sample_index, tmp_path):
    result = run_jsonl(sample_index, tmp_path,
                       '{"id": 1, "title": "forgot my password", "linked_articles": ["no-such", "password-reset"]}',
                       '{"id": 2, "title": "refund", "linked_articles": "gone, also-gone"}',
                       '{"id": 3, "title": "is there a dark mode", "linked_articles": []}')
    assert result.stderr.splitlines() == [
        "skipped ticket '2': linked articles 'gone', 'also-gone' are not articles of the index (or are internal)"]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert {k: metrics["tickets"][k] for k in ("read", "skipped", "evaluated", "answerable", "unanswerable")} == {
        "read": 3, "skipped": 1, "evaluated": 2, "answerable": 1, "unanswerable": 1}
    assert metrics["systems"]["kbsuggest"]["ranking"]["hit@3_100"]["micro"]["value"] == 1.0


def test_tune_threshold_round_trip_survives_reindex_and_env_wins(sample_index, tmp_path, monkeypatch):
    db = tmp_path / "kb.db"
    result = run(sample_index, db, SAMPLE_TICKETS, "--out", tmp_path / "out", "--quiet", "--no-baselines",
                 "--target-precision", "0.8", "--max-false-rate", "0.5", "--tune-threshold")
    assert result.exit_code == 0, result.stderr
    recommended = json.loads((tmp_path / "out" / "metrics.json").read_text())["systems"]["kbsuggest"]["threshold"]["recommended"]
    assert f"stored min_score {recommended} for KB default, hash-256" in result.stdout
    monkeypatch.delenv("KBSUGGEST_MIN_SCORE", raising=False)
    settings = Settings(index_dir=sample_index, db_path=db, embedder="hash")
    build_index(REPO / "articles", settings, HashEmbedder())  # reindexing keeps the tuned value
    assert load_suggester(settings, HashEmbedder()).policy.min_score == recommended
    monkeypatch.setenv("KBSUGGEST_MIN_SCORE", "0.61")
    assert load_suggester(Settings(index_dir=sample_index, db_path=db, embedder="hash"), HashEmbedder()).policy.min_score == 0.61
    assert load_suggester(Settings(index_dir=sample_index, db_path=tmp_path / "other.db", embedder="hash",
                                   min_score=0.2), HashEmbedder()).policy.min_score == 0.2


def test_tune_threshold_unreachable_is_an_error(sample_index, tmp_path):
    path = tmp_path / "t.csv"  # only unanswerable tickets: no threshold has a precision
    path.write_text("id,title,resolved_article_id\n1,Is there a dark mode,\n")
    result = run(sample_index, tmp_path / "db", path, "--quiet", "--no-baselines", "--out", tmp_path / "o",
                 "--tune-threshold")
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: no threshold reaches precision 0.9 with at most 0.1 false suggestions "
                                     "on these tickets; lower --target-precision or raise --max-false-rate")


@pytest.mark.parametrize("args, message", [
    ((), "error: missing TICKETS: pass a CSV or JSONL file of tickets (or --compare)"),
    (("missing.csv",), "error: 'missing.csv' does not exist or is not a file"),
    ((SAMPLE_TICKETS, "--map", "title"), "error: column mapping 'title' must look like FIELD=COLUMN"),
    ((SAMPLE_TICKETS, "--every", "0"), "error: --every must be at least 1 character, got 0"),
    (("--compare", "--runs", "x"), "error: --runs 'x' must be comma-separated run ids, e.g. --runs 3,4"),
])
def test_cli_errors_are_one_line(sample_index, tmp_path, args, message):
    result = run(sample_index, tmp_path / "db", *args)
    assert (result.exit_code, result.stderr.strip()) == (1, message)


def test_no_index_is_a_one_line_error(tmp_path):
    result = run(tmp_path / "none", tmp_path / "db", SAMPLE_TICKETS)
    assert result.exit_code == 1 and result.stderr.startswith("error: no index at")


@pytest.mark.model
def test_real_model_on_the_sample_kb_and_sample_tickets(tmp_path):
    from evaluation.evaluate import evaluate
    from kbsuggest.embed import create_embedder

    settings = Settings(index_dir=tmp_path / "index", db_path=tmp_path / "db", embedder="sentence-transformers")
    embedder = create_embedder("sentence-transformers")
    build_index(REPO / "articles", settings, embedder)
    m = evaluate(settings, SAMPLE_TICKETS, embedder=embedder, baselines=False).metrics["systems"]["kbsuggest"]
    assert m["ranking"]["hit@3_100"]["micro"]["value"] == 1.0  # every answerable sample ticket, on its full title
    assert m["ranking"]["hit@3_30"]["micro"]["value"] >= 0.7
    # the KB's own form threshold (fitted at index time for at most 20% false suggestions on off-topic text)
    # shows something for 6 of the 10 gap-topic tickets, on-topic questions no article answers: a known miss
    # of issue 14's target (README "Ranking"); the recommended one caps that at 10%
    assert m["threshold"]["at_configured"]["false_suggestion"]["value"] <= 0.6
    assert 0.3 < m["threshold"]["recommended"] < 0.9
    assert m["threshold"]["at_recommended"]["false_suggestion"]["value"] <= 0.1
