"""The gap report an author can finish: three signals fused, every item accounted for, links to the help desk,
keyphrases and titles, drafts (files and a git branch), drift alarms, pages. Hash embedder, fixture KB."""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import datetime

import pytest
from click.testing import CliRunner

from gaps.describe import ctfidf_keywords, phrases, resolution_steps, suggested_title, title_style
from gaps.drafts import draft_markdown
from gaps.drift import reopening, returned, rising_after_update
from gaps.html import PAGE_GAPS, gap_pages
from gaps.job import run_gap_job
from gaps.mine import Gap, MiningResult
from gaps.publish import commit_drafts, drafts
from gaps.view import RedactedTicket
from indexing.build import build_index
from indexing.markdown import parse_article
from kbsuggest.cli import main
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.errors import ConfigError
from kbsuggest.sources import NotAnArticle
from kbsuggest.store.sqlite import SQLiteStore
from tickets.importer import import_tickets

from conftest import FIXTURES, REPO, make_settings

TICKETS = FIXTURES / "tickets" / "tallyo_tickets.jsonl"
TOPIC = {json.loads(line)["id"]: json.loads(line)["tags"][0] for line in TICKETS.read_text().splitlines()}
HASH_GAPS = dict(gap_coverage_score=0.5, gap_cluster_distance=0.8, gap_attach_score=0.3)
URL = "https://acme.zendesk.com/agent/tickets/{id}"


def event(session, type_, second, **values):
    return {"session_id": session, "type": type_, "at": f"2026-11-17T09:00:{second:02d}.000Z", "received_at": "x", **values}


def no_result(session, second, query, mode="form"):
    return event(session, "suggestions_shown", second, mode=mode, query=query, suggestions="[]")


WIDGET = [
    no_result("sess-0001", 1, "export dash"),  # a prefix of the next query of the session: dropped
    no_result("sess-0001", 2, "export dashboard to powerpoint"),
    no_result("sess-0001", 9, "export dashboard to powerpoint"),  # the same session again: once
    no_result("sess-0002", 3, "Can I export a dashboard to PowerPoint?", mode="chat"),
    # a question no ticket asked: three sessions, only widget signals
    no_result("sess-0003", 4, "calendar sync with outlook"),
    no_result("sess-0004", 5, "outlook calendar sync"),
    no_result("sess-0005", 6, "sync outlook calendar"),
    event("sess-0005", "feedback", 7, query="sync outlook calendar events", article_id="google-sheets-integration",
          position=1, helpful=0),
]


@pytest.fixture(scope="module")
def sample_kb(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("sample"), **HASH_GAPS)
    build_index(REPO / "articles", settings, HashEmbedder())
    return settings


@pytest.fixture
def mined(sample_kb, tmp_path):
    settings = sample_kb.model_copy(update={"db_path": tmp_path / "k.db", "ticket_url_template": URL})
    store = SQLiteStore(settings.db_path)
    import_tickets(store, "default", TICKETS)
    store.record_events("default", WIDGET)
    return settings, run_gap_job(settings, HashEmbedder(), store=store)


def test_a_widget_sessions_no_result_queries_join_the_gap_of_their_topic(mined):
    _, result = mined
    assert result.signals == {"ticket": 32, "still_need_help": 1, "no_result": 5}
    powerpoint = next(g for g in result.gaps if "T012" in g.ticket_ids or "T013" in g.ticket_ids)
    widget = sorted(i for i in powerpoint.ticket_ids if result.signal_of(i) != "ticket")
    assert [i.split(":")[1] for i in widget] == ["sess-0001", "sess-0002"]
    assert (powerpoint.signals, powerpoint.widget_only) == ({"ticket": 4, "still_need_help": 0, "no_result": 2}, False)
    outlook = [g for g in result.gaps if g.widget_only]
    assert [(g.signals, g.kind) for g in outlook] == [({"ticket": 0, "still_need_help": 1, "no_result": 3}, "missing")]
    # impact: 4 tickets at 1 and 2 queries at 0.25, each halving every 30 days before the newest item
    assert powerpoint.impact < 4 + 2 * 0.25 and outlook[0].impact == pytest.approx(3 * 0.25 + 0.5, abs=0.06)


def test_every_uncovered_item_is_in_a_gap_or_the_appendix_and_every_ticket_in_items_csv(mined, tmp_path):
    settings, result = mined
    in_gaps = [i for g in result.gaps if g.kind == "missing" for i in g.ticket_ids]
    appendix = [u["id"] for u in result.unclustered_items]
    covered = {c["id"] for c in result.covered_items}
    resolved = {i for i, topic in TOPIC.items() if i != "T900"}
    tickets = {i for i in in_gaps + appendix if result.signal_of(i) == "ticket"}
    assert len(in_gaps) + len(appendix) == len(set(in_gaps + appendix)) == result.mined == 38
    assert tickets == resolved - covered and len(covered) == result.covered == 11
    assert all(u["nearest_gap"] in {g.rank for g in result.gaps} for u in result.unclustered_items)
    from gaps.report import write_report

    write_report(result, tmp_path / "out", settings)
    rows = list(csv.DictReader(open(tmp_path / "out" / "items.csv", encoding="utf-8")))
    assert sorted(r["id"] for r in rows if r["signal"] == "ticket") == sorted(resolved)
    assert {r["outcome"] for r in rows} == {"missing gap", "unclustered", "covered"}
    first = next(r for r in rows if r["id"] == "T012")
    assert first["url"] == "https://acme.zendesk.com/agent/tickets/T012"
    appendix_html = (tmp_path / "out" / "unclustered.html").read_text()
    assert appendix_html.count("<tr><td>") == result.unclustered and 'href="https://acme.zendesk.com/agent/tickets/T039"' in appendix_html
    assert 'href="gaps.html#gap-' in appendix_html
    page = (tmp_path / "out" / "gaps.html").read_text()
    assert "widget signals only" in page and "no-result queries" in page
    assert [tag for tag in ("<script", "<link", "src=", "@import") if tag in page] == []


def test_the_sample_gaps_scim_and_powerpoint_are_found(mined):
    _, result = mined
    topics = [sorted({TOPIC[i] for i in g.ticket_ids if i in TOPIC}) for g in result.gaps]
    assert ["scim"] in topics and ["powerpoint"] in topics


def test_failing_gap_names_the_found_article_and_the_ones_agents_linked(sample_kb, tmp_path):
    settings = sample_kb.model_copy(update={"db_path": tmp_path / "k.db", "gap_coverage_score": 0.35})
    import_tickets(SQLiteStore(settings.db_path), "default", TICKETS)
    result = run_gap_job(settings, HashEmbedder())
    failing = [g for g in result.gaps if g.kind == "failing"]
    assert [(g.article_id, g.linked) for g in failing] == [("scheduled-reports", {"emails-in-spam": 3})]
    assert {c["id"] for c in result.covered_items if c["failing"]} == {"T041", "T042", "T043"}
    assert [(a["kind"], a["article_id"]) for a in result.alarms] == [("reopening", "emails-in-spam")]


def test_keyphrases_skip_placeholders_and_token_like_strings():
    text = "Key [TOKEN] and akiaiosfodnn7example leaked, nebula aws. Export to PowerPoint please; export to powerpoint"
    assert "export to powerpoint" in phrases(text)
    assert [p for p in phrases(text) if "token" in p or "akia" in p or p.startswith("to ")] == []
    assert ctfidf_keywords(["dark mode please dark mode is there a dark theme",
                            "export to powerpoint export dashboard to powerpoint"]) == [
        ["dark mode", "dark theme"], ["export dashboard", "dashboard to powerpoint"]]


def test_titles_follow_the_kbs_own_style():
    kb = ["Reset your password", "Cancel your subscription", "Export reports and dashboards", "Dashboards are slow"]
    assert [title_style(kb), title_style(["How to reset a password", "How to export"]),
            title_style(["Password reset", "Billing and invoices", "Dashboards are slow"])] == ["imperative", "how_to", "noun"]
    central = "Hi, how do I export my dashboard to PowerPoint?"
    assert [suggested_title(central, s) for s in ("imperative", "how_to", "question")] == [
        "Export your dashboard to PowerPoint", "How to export your dashboard to PowerPoint",
        "How do I export your dashboard to PowerPoint?"]


def test_resolution_steps_are_the_sentences_agents_wrote_in_several_tickets_in_their_usual_order():
    steps = resolution_steps(["Hello. Go to Settings. Click Export. Thanks!", "Go to Settings. Click Export.",
                              "Go to settings. Pick a format."])
    assert steps == ["Go to Settings.", "Click Export."]


def _gap(rank=1, **values) -> Gap:
    fields = dict(kind="missing", title="Export your dashboard to PowerPoint", keywords=["powerpoint", "export"],
                  ticket_ids=["T1", "T2", "T3"], impact=3.0, last_30_days=3, previous_30_days=0, trend="new",
                  weekly=[0] * 12, first_seen="2026-11-01", last_seen="2026-11-17",
                  examples=[{"id": "T1", "text": "Export dashboard to PowerPoint [EMAIL]", "signal": "ticket"}],
                  rank=rank, signals={"ticket": 3, "still_need_help": 0, "no_result": 0},
                  steps=["Open the dashboard.", "Choose Share > Download PNG."])
    return Gap(**{**fields, **values})


def test_a_draft_is_internal_and_never_indexed_until_an_author_publishes_it():
    text = draft_markdown(_gap())
    assert "audience: internal\ndraft: true\n" in text and "1. Open the dashboard.\n2. Choose Share > Download PNG." in text
    with pytest.raises(NotAnArticle, match="draft"):
        parse_article(text, "export-your-dashboard-to-powerpoint.md")
    article = parse_article(text.replace("draft: true\n", ""), "export-your-dashboard-to-powerpoint.md")
    assert (article.id, article.audience, article.title) == ("export-your-dashboard-to-powerpoint", "internal",
                                                             "Export your dashboard to PowerPoint")
    assert list(drafts([_gap(), _gap(2)], {"export-your-dashboard-to-powerpoint"})) == [
        "export-your-dashboard-to-powerpoint-2.md", "export-your-dashboard-to-powerpoint-3.md"]


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_drafts_are_committed_on_a_new_branch_without_touching_the_checked_out_one(tmp_path):
    repo = tmp_path / "kb"
    (repo / "articles").mkdir(parents=True)
    (repo / "articles" / "reset.md").write_text("---\ntitle: Reset your password\n---\nBody\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "KB")
    (repo / "articles" / "wip.md").write_text("uncommitted work")  # the author's work tree stays as it is
    head, status = _git(repo, "rev-parse", "HEAD"), _git(repo, "status", "--porcelain")
    commit, prefix = commit_drafts(drafts([_gap()], set()), repo / "articles", "gaps/drafts", "Drafts")
    assert prefix == "articles"
    assert (_git(repo, "rev-parse", "HEAD"), _git(repo, "branch", "--show-current")) == (head, "main")
    assert _git(repo, "status", "--porcelain") == status and not (repo / "articles" / "export-your-dashboard-to-powerpoint.md").exists()
    assert _git(repo, "rev-parse", "gaps/drafts") == commit and _git(repo, "rev-parse", "gaps/drafts~1") == head
    assert _git(repo, "ls-tree", "--name-only", "gaps/drafts", "articles/").splitlines() == [
        "articles/export-your-dashboard-to-powerpoint.md", "articles/reset.md"]
    with pytest.raises(ConfigError, match="already exists"):
        commit_drafts(drafts([_gap()], set()), repo / "articles", "gaps/drafts", "Drafts")
    with pytest.raises(ConfigError, match="not in one"):
        commit_drafts({}, tmp_path / "elsewhere", "x", "m")


def test_cli_drafts_to_a_folder_and_json_with_alarms(sample_kb, tmp_path):
    env = {"KBSUGGEST_DB_PATH": str(tmp_path / "k.db"), "KBSUGGEST_INDEX_DIR": str(sample_kb.index_dir),
           "KBSUGGEST_EMBEDDER": "hash", **{f"KBSUGGEST_{k.upper()}": str(v) for k, v in HASH_GAPS.items()}}
    CliRunner().invoke(main, ["tickets", "import", str(TICKETS)], env=env)
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "bulk-delete-dashboards.md").write_text("an author's own file")
    result = CliRunner().invoke(main, ["gaps", "--out", str(tmp_path / "out"), "--no-progress", "--json",
                                       "--drafts-to", str(tmp_path / "drafts")], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [a["kind"] for a in report["alarms"]] == ["reopening"] and "unclustered_items" not in report
    assert (tmp_path / "drafts" / "bulk-delete-dashboards.md").read_text() == "an author's own file"
    assert len(list((tmp_path / "drafts").glob("*.md"))) == len(report["gaps"])
    result = CliRunner().invoke(main, ["gaps", "--out", str(tmp_path / "out"), "--git-branch", "x"], env=env)
    assert (result.exit_code, result.output.count("\n")) == (1, 1) and "--drafts-to" in result.output


def _result(**values) -> MiningResult:
    return MiningResult(**{**dict(gaps=[], as_of="2026-11-30T00:00:00", tickets=0, resolved=0, covered=0, uncovered=0,
                                  unclustered=0), **values})


def test_an_article_whose_tickets_rise_after_its_update_is_an_alarm():
    created = {f"B{i}": f"2026-0{7 + i % 2}-1{i}T00:00:00" for i in range(3)}  # 3 in the 90 days before
    created |= {f"A{i}": f"2026-11-{10 + i}T00:00:00" for i in range(6)}  # 6 in the 60 days after
    covered = [{"id": i, "article_id": "export-reports"} for i in created]
    alarms = rising_after_update(_result(covered_items=covered), created, {"export-reports": "2026-10-01"},
                                 {"export-reports": "Export reports"}, 3)
    assert [(a["kind"], a["article_id"]) for a in alarms] == [("rising_after_update", "export-reports")]
    assert alarms[0]["detail"].startswith("6 tickets in the 60 days since its update on 2026-10-01")
    assert rising_after_update(_result(covered_items=covered), created, {"export-reports": "2026-11-28"}, {}, 3) == []


def test_reopened_tickets_are_measured_against_the_kbs_own_reopen_rate():
    def ticket(i, article, reopens):
        return RedactedTicket(f"T{i}", "t", "t", "2026-11-01", True, (article,), reopens=reopens)
    tickets = [ticket(i, "a", 1) for i in range(3)] + [ticket(i + 3, "b", int(i < 3)) for i in range(20)]
    assert [a["article_id"] for a in reopening(tickets, {}, 3)] == ["a"]  # b: 15% reopened, under 2 x 26%


def test_a_gap_that_closed_and_came_back_is_an_alarm():
    gap = _gap(ticket_ids=["T1", "T2", "T3"])
    history = [{"run_id": 3, "rank": 1, "kind": "missing", "article_id": None, "ticket_ids": '["X"]', "as_of": "2026-11-20"},
               {"run_id": 2, "rank": 4, "kind": "missing", "article_id": None, "ticket_ids": '["T1", "T2"]', "as_of": "2026-10-20"}]
    alarms = returned(_result(gaps=[gap]), history)
    assert [(a["kind"], a["gap"]) for a in alarms] == [("returned", 1)] and "2026-10-20" in alarms[0]["detail"]
    gap.change = "growing"  # matched the last run: not a return
    assert returned(_result(gaps=[gap]), history) == []


def test_large_reports_are_split_into_pages():
    gaps = [_gap(rank) for rank in range(1, 2 * PAGE_GAPS + 2)]
    pages = gap_pages(_result(gaps=gaps, signals={"ticket": 3}), {"ticket": 1.0}, 30.0, None)
    assert list(pages) == ["gaps.html", "gaps-2.html", "gaps-3.html"]
    assert [page.count('<section class="gap"') for page in pages.values()] == [PAGE_GAPS, PAGE_GAPS, 1]
    assert 'href="gaps-3.html"' in pages["gaps.html"] and "Impact = 1 × tickets" in pages["gaps.html"]


def test_weights_and_ticket_links_are_validated(tmp_path):
    with pytest.raises(Exception, match="unknown signal 'tickets'"):
        make_settings(tmp_path, gap_signal_weights={"tickets": 1.0})
    with pytest.raises(Exception, match=r"\{id\}"):
        make_settings(tmp_path, ticket_url_template="https://desk.example/tickets/")
    assert make_settings(tmp_path, gap_signal_weights={"no_result": 0.1}).gap_signal_weights == {
        "ticket": 1.0, "still_need_help": 0.5, "no_result": 0.1}
    assert datetime.fromisoformat("2026-11-30T00:00:00")  # as_of format the alarms read


@pytest.mark.model
def test_default_model_finds_scim_and_powerpoint_and_the_widget_queries_join_powerpoint(tmp_path):
    """The default embedder (int8 ONNX all-MiniLM-L6-v2), default settings, the sample KB and tickets: SCIM and
    PowerPoint are gaps of their own (missed before the graph's k was bounded on small sets), every uncovered
    ticket is accounted for; with the widget's sessions added, the PowerPoint session's queries join the gap
    of the PowerPoint tickets. (On 22-28 items the cut is fragile: with the widget items, PowerPoint and bulk
    delete, both about dashboards, may share one gap.)"""
    from kbsuggest.embed import make_embedder
    from kbsuggest.embed.models import INT8_FILE, models_dir

    if not (models_dir() / INT8_FILE).is_file():
        pytest.skip(f"no {INT8_FILE} in {models_dir()} (run `kbsuggest models export`)")
    settings = make_settings(tmp_path, embedder="onnx", model_path=models_dir() / INT8_FILE)
    embedder = make_embedder(settings)
    build_index(REPO / "articles", settings, embedder)
    store = SQLiteStore(settings.db_path)
    import_tickets(store, "default", TICKETS)
    result = run_gap_job(settings, embedder, store=store)
    assert sorted(sorted({TOPIC[i] for i in g.ticket_ids}) for g in result.gaps) == [
        ["bulk-delete"], ["dark-mode"], ["failing"], ["merge-workspaces"], ["noise", "powerpoint"], ["scim"]]
    in_gaps = {i for g in result.gaps if g.kind == "missing" for i in g.ticket_ids}
    uncovered = {i for i in TOPIC if i != "T900"} - {c["id"] for c in result.covered_items}
    assert uncovered == in_gaps | {u["id"] for u in result.unclustered_items}

    store.record_events("default", WIDGET)
    result = run_gap_job(settings, embedder, store=store)
    gap = next(g for g in result.gaps if "T013" in g.ticket_ids)
    assert sorted(i.split(":")[1] for i in gap.ticket_ids if result.signal_of(i) == "no_result") == ["sess-0001", "sess-0002"]
