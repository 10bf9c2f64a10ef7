"""Which tickets and widget events become training pairs, redacted; the time split; the switch rule."""

from datetime import datetime, timedelta, timezone

from kbsuggest.domain import Ticket
from kbsuggest.events.schema import EventBatch, record
from kbsuggest.store.sqlite import SQLiteStore
from learning.decide import sign_test, verdict
from learning.heldout import Scores
from learning.pairs import OPENED_WEIGHT, extract, prefixes
from learning.split import split

AUDIENCE = {"password-reset": "public", "sso-login": "public", "webhooks": "public", "runbook-refund": "internal"}
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
MS = int(T0.timestamp() * 1000)


def shown(query, *ids, at=0):
    return {"type": "suggestions_shown", "at": MS + at, "query": query,
            "suggestions": [{"article_id": a, "position": i + 1, "score": 0.5} for i, a in enumerate(ids)]}


def opened(article, at=1):
    return {"type": "article_opened", "at": MS + at, "article_id": article, "position": 1}


def feedback(article, helpful, at=2):
    return {"type": "feedback", "at": MS + at, "article_id": article, "position": 1, "helpful": helpful}


def submitted(at=3):
    return {"type": "ticket_submitted", "at": MS + at, "title": "still broken", "suggestion_opened": True}


def add(store, session, *events):
    batch = EventBatch.model_validate({"session_id": session, "sent_at": MS + 10, "events": list(events)})
    record(store, "default", batch, T0 + timedelta(hours=1))


def store_with_history(tmp_path):
    store = SQLiteStore(tmp_path / "service.db")
    store.write_tickets("default", [
        Ticket("t1", "Password reset mail for bob@example.com never arrives", "I asked twice, call +44 20 7946 0958",
               "solved", "2026-10-01T09:00:00", linked_articles=("password-reset",)),
        Ticket("t2", "Refund my double charge", "", "solved", "2026-10-02T09:00:00", linked_articles=("runbook-refund",)),
        Ticket("t3", "webhooks stopped", "", "open", "2026-10-03T09:00:00", linked_articles=("webhooks",)),
        Ticket("t4", "something else", "", "solved", "2026-10-04T09:00:00"),  # no linked article: nothing
        Ticket("t5", "old article", "", "solved", "2026-10-05T09:00:00", linked_articles=("deleted-article",)),
    ])
    add(store, "session-helpful", shown("sso fails", "password-reset", "sso-login", "webhooks"),
        feedback("sso-login", True))
    add(store, "session-opened", shown("configure webh", "webhooks", "sso-login"), opened("webhooks"))
    add(store, "session-then-ticket", shown("reset pass", "password-reset"), opened("password-reset"), submitted())
    add(store, "session-unhelpful", shown("sso again", "sso-login"), feedback("sso-login", False))
    add(store, "session-internal", shown("refund manual", "runbook-refund"), feedback("runbook-refund", True))
    return store


def test_tickets_give_title_description_and_typed_prefixes_redacted(tmp_path):
    history = extract(store_with_history(tmp_path), "default", AUDIENCE)
    t1 = [(p.kind, p.query) for p in history.pairs if p.source == "ticket:t1"]
    title = "Password reset mail for [EMAIL] never arrives"
    assert t1 == [("title", title), ("title+description", f"{title}. I asked twice, call [PHONE]"),
                  *[(f"prefix-{n}", text) for n, text in prefixes(title)]]
    assert [n for n, _ in prefixes(title)] == [30, 50, 70] and prefixes(title)[0][1] == "Password reset"
    assert {p.article_id for p in history.pairs if p.source == "ticket:t1"} == {"password-reset"}
    assert all("bob@" not in p.query and "7946" not in p.query for p in history.pairs)


def test_internal_articles_only_from_agent_traffic_and_unknown_articles_dropped(tmp_path):
    history = extract(store_with_history(tmp_path), "default", AUDIENCE)
    refund = [p for p in history.pairs if p.article_id == "runbook-refund"]
    assert {p.source for p in refund} == {"ticket:t2"} and all(p.agent for p in refund)  # a ticket, linked by an agent
    assert history.dropped == {"internal article from public traffic": 1, "article not in the KB": 1}
    assert not any(p.source in ("ticket:t4", "ticket:t5") for p in history.pairs)


def test_widget_events_feedback_confirmed_opened_potential_negatives_shown_not_chosen(tmp_path):
    history = extract(store_with_history(tmp_path), "default", AUDIENCE)
    events = {p.source: p for p in history.pairs if p.source.startswith("session:")}
    assert set(events) == {"session:session-helpful", "session:session-opened"}  # ticket after, unhelpful: nothing
    helpful, seen = events["session:session-helpful"], events["session:session-opened"]
    assert (helpful.query, helpful.article_id, helpful.kind, helpful.weight) == ("sso fails", "sso-login", "feedback", 1.0)
    assert helpful.negatives == ("password-reset", "webhooks") and not helpful.agent
    assert (seen.query, seen.article_id, seen.kind, seen.weight) == ("configure webh", "webhooks", "opened", OPENED_WEIGHT)
    assert seen.negatives == ("sso-login",)
    assert {p.weight for p in history.pairs if p.source == "ticket:t3"} == {OPENED_WEIGHT}  # linked, not resolved


def test_newest_share_of_sources_is_held_out_whole(tmp_path):
    history = extract(store_with_history(tmp_path), "default", AUDIENCE)
    sp = split(history)
    # 5 sources (t1, t2, t3 in October, two sessions in November): the newest ceil(20 %) = 1, a session
    assert (sp.sources, sp.heldout_sources) == (5, 1)
    held = {c.source for c in sp.heldout}
    assert held == {"session:session-opened"} or held == {"session:session-helpful"}
    assert not any(p.source in held for p in sp.train)
    assert {p.source for p in sp.train} >= {"ticket:t1", "ticket:t2", "ticket:t3"}


def scores(ranks: dict[int, list[int]]) -> Scores:
    n = len(next(iter(ranks.values())))
    figures = {}
    for p, rs in ranks.items():
        figures[f"hit@1_{p}"] = sum(r == 0 for r in rs) / n
        figures[f"hit@3_{p}"] = sum(0 <= r < 3 for r in rs) / n
        figures[f"mrr_{p}"] = sum(1 / (r + 1) for r in rs if r >= 0) / n
    return Scores(figures, ranks, n)


def test_sign_test_p_values():
    assert sign_test(9, 0) == 1 / 512 and sign_test(0, 0) == 1.0
    assert round(sign_test(8, 2), 4) == 0.0547  # 8 of 10: not enough


def test_refuses_when_any_figure_is_worse_even_with_more_wins():
    before = scores({30: [1] * 20, 100: [0] * 20})
    after = scores({30: [0] * 20, 100: [0] * 19 + [1]})  # 20 wins at 30 %, one loss at 100 %
    decision = verdict(before, after)
    assert not decision.switch and decision.reason.startswith("worse on the held-out part: hit@1_100 -0.050")


def test_refuses_a_gain_too_small_to_tell_from_chance_and_switches_on_a_clear_one():
    before = scores({30: [3] * 10, 100: [0] * 10})
    small = verdict(before, scores({30: [0] * 3 + [3] * 7, 100: [0] * 10}))  # 3 wins, 0 losses, 10 questions
    assert not small.switch and (small.wins, small.losses) == (3, 0) and "p=0.12 > 0.05" in small.reason
    clear = verdict(scores({30: [3] * 12, 100: [0] * 12}), scores({30: [0] * 12, 100: [0] * 12}))
    assert clear.switch and (clear.wins, clear.losses) == (12, 0)


def test_nothing_held_out_never_switches():
    empty = Scores({}, {30: []}, 0)
    assert not verdict(empty, empty).switch


def test_batches_hold_each_article_once_and_a_cut_run_has_done_whole_passes_first():
    import random

    from learning.train import Example, plan_batches

    weighted = [(Example(f"q{i}", f"a{i % 7}", f"a{(i + 1) % 7}" if i % 3 else None), 1.0) for i in range(40)]
    batches = plan_batches(weighted, 4, 2, random.Random(0))
    for batch in batches:
        articles = [a for e in batch for a in (e.positive, e.negative) if a]
        assert len(articles) == len(set(articles))
        assert len({e.negative is None for e in batch}) == 1  # one kind of row per batch
    one = plan_batches(weighted, 4, 1, random.Random(0))
    assert batches[:len(one)] == one  # the first pass comes first, whole: a run cut by its budget did it
    anchors = [e.anchor for batch in one for e in batch]
    assert len(anchors) == len(set(anchors)) >= 36  # each example at most once a pass (a lone row is dropped)
