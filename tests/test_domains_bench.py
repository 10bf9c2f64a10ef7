"""benchmarks/domains.py's protocol: a fold never fits on its held-out group; the metrics are exact."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import domain_metrics  # noqa: E402
import lodo  # noqa: E402
from domain_data import Domain, write_article  # noqa: E402
from domain_metrics import expected_calibration_error, summarize  # noqa: E402

from evaluation.replay import Trace  # noqa: E402
from kbsuggest.domain import Ticket  # noqa: E402
from kbsuggest.embed.hashing import HashEmbedder  # noqa: E402

ARTICLES = {  # per topic family: (article id suffix, title, body)
    "billing": [("refund", "Request a refund", "Refunds are paid back to the card within five days."),
                ("invoice", "Download invoices", "Invoices are PDF files on the billing page.")],
    "access": [("password", "Reset your password", "Click forgot password on the sign in page."),
               ("sso", "Single sign-on with SAML", "Connect Okta or Azure AD to sign in once.")],
    "garden": [("roses", "Prune roses in spring", "Cut the stems above an outward bud."),
               ("lawn", "Mow the lawn", "Keep the grass at five centimetres in summer.")],
}
QUERIES = {"refund": "how do I get a refund", "invoice": "download my invoice pdf",
           "password": "forgot my password", "sso": "saml single sign on",
           "roses": "when to prune roses", "lawn": "how short to mow the lawn"}


def domain(name: str, group: str, topic: str) -> Domain:
    def write(kb: Path) -> None:
        for suffix, title, body in ARTICLES[topic]:
            write_article(kb / f"{suffix}.md", f"{name}-{suffix}", title, body)

    answerable = [Ticket(f"{name}:q{i}", QUERIES[suffix], linked_articles=(f"{name}-{suffix}",))
                  for i, (suffix, _, _) in enumerate(ARTICLES[topic])]
    return Domain(name, group, "en", write, answerable, {"own": [Ticket(f"{name}:u0", "what is the weather")]},
                  fit_negatives=[Ticket(f"{name}:n0", "my card was stolen yesterday")])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    # "access" is one group in two languages (the same questions), as an Integreat city is.
    domains = [domain("billing", "billing", "billing"), domain("access-en", "access", "access"),
               domain("access-de", "access", "access"), domain("garden", "garden", "garden")]
    root = tmp_path_factory.mktemp("domains")
    return [lodo.build(d, root, HashEmbedder()) for d in domains]


def test_a_fold_never_fits_on_its_held_out_group(built, monkeypatch):
    seen: list[str] = []  # every ticket id handed to a fitting step: the calibration's rows and the threshold's replay
    rows, replay = lodo.training_rows, lodo.replay
    monkeypatch.setattr(lodo, "training_rows", lambda s, labelled, n: (seen.extend(i for i, _, _ in labelled),
                                                                       rows(s, labelled, n))[1])
    monkeypatch.setattr(lodo, "replay", lambda tickets, rankers: (seen.extend(t.id for t in tickets),
                                                                  replay(tickets, rankers))[1])
    fold = lodo.Folds(built).fit("access")
    expected = {"billing:q0", "billing:q1", "billing:n0", "garden:q0", "garden:q1", "garden:n0"}
    assert fold.train == ["billing", "garden"]
    assert fold.fit_ids == expected
    assert set(seen) == expected  # neither access-en nor access-de (a translation) was fitted on
    assert not any(i.startswith("access") for i in seen)
    assert all(not i.endswith(":u0") for i in seen)  # evaluated unanswerable queries are never fitted on


def test_the_held_out_fit_reaches_the_suggester(built):
    fold = lodo.Folds(built).fit("garden")
    garden = built[-1]
    suggester = garden.with_calibration(fold.calibration)
    assert suggester.calibration is fold.calibration
    assert garden.suggester.calibration is not fold.calibration  # the shipped one stays as it was


def test_ece_on_a_hand_made_example():
    scores = [0.05, 0.15, 0.15, 0.95, 1.0]  # bins 0, 1, 1, 9, 9 (a score of 1 falls in the last bin)
    labels = [False, True, False, True, True]
    # bin 0: 1/5 * |0 - 0.05|; bin 1: 2/5 * |0.5 - 0.15|; bin 9: 2/5 * |1 - 0.975|
    assert expected_calibration_error(scores, labels) == pytest.approx(0.01 + 0.14 + 0.01, abs=1e-12)
    assert expected_calibration_error([0.3, 0.3, 0.3], [True, False, False]) == pytest.approx(1 / 30, abs=1e-12)
    assert expected_calibration_error([], []) is None


def test_summarize_counts_only_what_the_threshold_shows():
    ticket = Ticket("t", "abcdefghij", linked_articles=("a",))  # 10 characters: 30% = 3, 50% = 5
    trace = Trace([3, 5, 10], [-1, 2, 0], [math.nan, 0.4, 0.8], [0.3, 0.6, 0.8])
    rankings = {"abc": [("b", 0.3)], "abcde": [("b", 0.6), ("c", 0.5), ("a", 0.4)], "abcdefghij": [("a", 0.8)]}
    unanswerable = Ticket("u", "zzzz")
    quiet = Trace([3, 4], [-1, -1], [math.nan, math.nan], [0.2, 0.45])
    out = summarize([ticket, unanswerable], [trace, quiet], 0.5, {"u": "own"}, {**rankings, "zzz": [("b", 0.2)],
                                                                             "zzzz": [("b", 0.45)]})
    assert (out["hit@3_30"], out["hit@3_50"], out["hit@1_100"], out["mrr_100"]) == (0.0, 0.0, 1.0, 1.0)
    assert (out["nothing_50"], out["nothing_100"]) == (0.0, 0.0)  # 0.6 was shown at 5 characters
    assert out["false"] == {"own": 0.0, "all": 0.0}
    # shown at >= 0.5: b 0.6 (wrong), c 0.5 (wrong), a 0.8 (right): bins 6, 5, 8
    assert out["ece_n"] == 3
    assert out["ece"] == pytest.approx(round((0.6 + 0.5 + 0.2) / 3, 4), abs=1e-12)
    assert summarize([ticket], [trace], 0.9, {})["nothing_100"] == 1.0
    assert domain_metrics.SHOWN == 3


def test_a_chat_is_judged_on_whole_messages_only():
    ticket = Ticket("t", "abcdefghij", linked_articles=("a",))
    trace = Trace([3, 5, 10], [-1, 2, 0], [math.nan, 0.4, 0.8], [0.3, 0.6, 0.8])
    rankings = {"abc": [("b", 0.3)], "abcde": [("b", 0.6), ("c", 0.5), ("a", 0.4)], "abcdefghij": [("a", 0.8)]}
    unanswerable = Ticket("u", "zzzz")
    early = Trace([3, 4], [-1, -1], [math.nan, math.nan], [0.55, 0.2])  # only a prefix reaches 0.5
    rankings |= {"zzz": [("b", 0.55)], "zzzz": [("b", 0.2)]}
    prefixes = summarize([ticket, unanswerable], [trace, early], 0.5, {"u": "own"}, rankings)
    whole = summarize([ticket, unanswerable], [trace, early], 0.5, {"u": "own"}, rankings, whole=True)
    assert (prefixes["false"]["all"], prefixes["ece_n"], prefixes["precision"]) == (1.0, 4, 0.25)
    # a chat never sends "zzz" or "abcde": one card shown, a at 0.8, and it answers
    assert (whole["false"]["all"], whole["ece_n"], whole["precision"], whole["mean_score"]) == (0.0, 1, 1.0, 0.8)
    assert prefixes["mean_score"] == round((0.6 + 0.5 + 0.8 + 0.55) / 4, 4)  # promises 0.61, delivers 0.25
    assert whole["ece"] == pytest.approx(0.2, abs=1e-12)
    assert whole["hit@3_50"] == prefixes["hit@3_50"] == 0.0  # a share typed is still that prefix as a message


def test_choose_pull_picks_on_the_other_groups_and_reports_held_out(tmp_path, capsys, monkeypatch):
    import choose_pull

    def run(pull: str, scores: dict[str, float]) -> Path:
        row = choose_pull.SHIPPED + " form"
        domains = {name: {"group": name.split("-")[0], "systems": {row: {k: value for k in choose_pull.TYPED}}}
                   for name, value in scores.items()}
        path = tmp_path / f"pull-{pull}.json"
        path.write_text(json.dumps({"config": {"pull": pull}, "domains": domains}))
        return path

    # a-1 and a-2 are one group: each is held out with the other, so only b decides for them
    runs = [run("0.1", {"a-1": 0.9, "a-2": 0.9, "b": 0.2}), run("0.3", {"a-1": 0.5, "a-2": 0.5, "b": 0.4})]
    monkeypatch.setattr(sys, "argv", ["choose_pull.py", *map(str, runs)])
    assert choose_pull.main() == 0
    lines = capsys.readouterr().out.splitlines()
    assert "| a-1 | 0.3 | 0.500 | 0.500 | 0.500 |" in lines and "| b | 0.1 | 0.200 | 0.200 | 0.200 |" in lines
    assert "| mean, held out | | 0.400 | 0.400 | 0.400 |" in lines
    monkeypatch.setattr(sys, "argv", ["choose_pull.py", str(runs[0])])
    assert choose_pull.main() == 1  # one run: nothing to choose between


def test_coverage_rules_judge_each_whole_query(built):
    """benchmarks/coverage_lodo.py: per rule, the answerable queries covered and the unanswerable ones left to
    gap mining, from the same whole-text rankings."""
    import coverage_lodo

    b = built[0]
    best = [s[0] for s in b.suggester.suggest_many([t.title for t in b.tickets], 1, min_score=-1.0)]
    # the refund question finds its article at cosine 0.48 and score 0.37, the invoice one at 0.83 and 0.99, the
    # weather at score 0.0001, under both thresholds (0.0049)
    assert [(s.article_id, s.similarity, s.score) for s in best] == [
        ("billing-refund", 0.4825, 0.3747), ("billing-invoice", 0.8292, 0.9945), ("billing-invoice", 0.1238, 0.0001)]
    half, every = ({"covered": x, "covered_right": x, "gap_own": 1.0, "gap_all": 1.0} for x in (0.5, 1.0))
    assert coverage_lodo.measure(b, b.suggester) == {
        "cosine >= 0.57": half, "chat": every, "form": every, "score >= 0.2": every, "score >= 0.3": every,
        "score >= 0.4": half, "score >= 0.5": half}


def test_warm_benchmark_plays_a_domains_queries_as_its_history(built):
    """benchmarks/warm_domains.py: answerable queries are resolved tickets linked to their article, unanswerable
    ones resolved with none; the figures are on learning/warm.py's held-out part of them."""
    import warm_domains
    from learning.warm import held_out

    labels, test = warm_domains.history(built[0])
    assert [(x.text, x.article_id, x.source) for x in labels] == [
        ("how do I get a refund", "billing-refund", "ticket"), ("download my invoice pdf", "billing-invoice", "ticket"),
        ("what is the weather", None, "unanswered")]
    assert [t.id for t in test] == [t.id for t, x in zip(built[0].tickets, labels) if held_out(x)]


def test_fusion_bound_counts_six_cards_and_fits_without_the_held_out_group(monkeypatch):
    import fusion_bound as fb

    features = np.array([[0.9, 0, 0, 0, 0, 0], [0.5, 0, 0, 0, 0, 0], [0.4, 0, 0, 0, 0, 0], [0.1, 0, 0, 0, 0, 0]])
    lexical = np.array([0.0, 0.0, 0.0, 2.0])  # tantivy finds only the 4th article, which kbsuggest ranks last
    weights = {"kbsuggest": np.eye(6)[0], "fused": np.eye(7)[6]}
    p = fb.Prefix(30, 3, features, lexical)
    assert fb.hits(p, weights) == {"kbsuggest": False, "kbsuggest + tantivy score": True,
                                   "kbsuggest, tantivy RRF": True, "tantivy": True, "six cards": True}
    # 0: 1/60 + 1/61 (1st, then 2nd) beats 3: 1/63 + 1/60 (4th, then 1st), then 1: 1/61 alone
    assert fb.rrf_top3([[0, 1, 2, 3], [3, 0]]) == [0, 3, 1]
    # a tie goes to the first ranking's order
    assert fb.rrf_top3([[5, 4], [4, 5]]) == [5, 4] and fb.rrf_top3([[4, 5], [5, 4]]) == [4, 5]
    assert fb.relative(lexical).tolist() == [0.0, 0.0, 0.0, 1.0] and fb.relative(np.zeros(2)).tolist() == [0.0, 0.0]
    silent = fb.Prefix(30, 0, None, np.zeros(4))  # stop words only, no lexical match: nothing anywhere
    assert not any(fb.hits(silent, weights).values())

    fitted_on: list[set[int]] = []  # the golds each fit saw: each domain below has its own gold
    real = fb.fit_listwise
    monkeypatch.setattr(fb, "fit_listwise", lambda groups, l2: (fitted_on.append({g for _, g in groups}),
                                                                real(groups, l2))[1])
    domains = {"a-en": ("a", [fb.Prefix(pc, 0, features, lexical) for pc in fb.PERCENTS]),
               "a-de": ("a", [fb.Prefix(pc, 1, features, lexical) for pc in fb.PERCENTS]),
               "b": ("b", [fb.Prefix(pc, 3, features, lexical) for pc in fb.PERCENTS])}
    results = fb.evaluate(domains)
    assert fitted_on == [{3}, {3}, {0, 1}, {0, 1}]  # group a (both languages) never fits on itself, nor b
    assert results["b"]["tantivy"] == [1.0] * len(fb.PERCENTS)
    assert results["a-en"]["six cards"] == [1.0] * len(fb.PERCENTS)  # kbsuggest's top 3 holds article 0


def test_fusion_bound_sets_each_system_against_the_domains_bar(capsys):
    import fusion_bound as fb

    def peer(h30, h50, h100):
        return {"hit@3_30": h30, "hit@3_50": h50, "hit@3_100": h100}

    report = {"domains": {"a": {"roles": {"peers": ["tantivy", "dense"]},
                                "systems": {"tantivy": peer(0.30, 0.50, 0.80), "dense": peer(0.20, 0.60, 0.90)}}}}
    assert fb.bar_of(report["domains"]["a"], 30) == ("tantivy", 0.30, 0.35)
    assert fb.bar_of(report["domains"]["a"], 100) == ("dense", 0.90, 0.93)
    # hit@3 at 30 / 50 / 70 / 100 %: the bars are 0.35 / 0.65 / - / 0.93
    results = {"a": {system: [0.36, 0.64, 0.0, 0.93] for system in fb.SYSTEMS}}
    fb.against_bar(results, report)
    lines = capsys.readouterr().out.splitlines()
    assert "| a | 30% | 0.350 | " + " | ".join(["0.360 ✓"] * len(fb.SYSTEMS)) + " |" in lines
    assert "| six cards | 1 | 0 | 1 |" in lines
