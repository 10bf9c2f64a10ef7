"""Warm calibration: refit a KB's weights, score scale and thresholds from its own labelled history.

Labels are (text a visitor typed, the article that answered it), from the service store:
- resolved tickets with ``linked_articles`` (their title, answered by the first linked article the KB has);
- widget ``feedback`` events with ``helpful: true`` and ``article_opened`` events (their query and article);
- resolved tickets with no linked article: texts the KB did not answer (article None). They teach the fit the
  KB's own mix: how often its real traffic has no answer, which neither the cold start (half and half,
  declared) nor the labels alone can know, so the score means what it says on this KB, and the chat's
  threshold reaches its precision on the messages this KB gets.
Duplicates count once. A deterministic 30 % of the texts (by hash) is held out: the fit sees the rest
(typed at 30/50/70/100 %, with the packaged off-topic texts as unanswerable, as at cold start), and the
report compares the KB's current calibration with the new one on the held-out part; ``regression`` says
when the new one must not be published. Below ``MIN_LABELS`` answered labels the fit is refused: a few
clicks would move the thresholds by noise.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from evaluation.metrics import expected_calibration_error
from kbsuggest.errors import KBSuggestError
from kbsuggest.rank.calibration import Calibration
from kbsuggest.rank.suggester import Suggester
from kbsuggest.store import Store
from learning import fit
from learning.coldstart import add_candidates, fit_candidates, form_prefixes, offtopic_texts
from learning.pseudo import typed_prefixes

MIN_LABELS = 30
HELD_OUT = 0.3


@dataclass(frozen=True)
class Label:
    text: str
    article_id: str | None  # None: resolved with no article (the KB did not answer it)
    source: str  # ticket | feedback | opened | unanswered


def history_labels(store: Store, kb: str, known: set[str]) -> list[Label]:
    """The KB's labels, each (text, article) once, only for articles the KB has; and its resolved tickets with
    no linked article at all (one linking an article the KB no longer has is neither)."""
    found: dict[tuple[str, str | None], Label] = {}

    def add(text: str, article: str | None, source: str) -> None:
        text = " ".join((text or "").split())
        if len(text) >= 3 and (article is None or article in known):
            found.setdefault((text.lower(), article), Label(text, article, source))

    for ticket in store.tickets(kb):
        linked = [a for a in ticket.linked_articles if a in known]
        if ticket.resolved and linked:
            add(ticket.title, linked[0], "ticket")
        elif ticket.resolved and not ticket.linked_articles:
            add(ticket.title, None, "unanswered")
    for event in store.session_events(kb, "0000", "9999"):
        if event.get("type") == "feedback" and event.get("helpful") in (1, True):
            add(event.get("query", ""), event.get("article_id", ""), "feedback")
        elif event.get("type") == "article_opened":
            add(event.get("query", ""), event.get("article_id", ""), "opened")
    return list(found.values())


def held_out(label: Label) -> bool:
    return int(hashlib.sha256(label.text.lower().encode()).hexdigest()[:8], 16) % 100 < HELD_OUT * 100


def candidates_of(suggester: Suggester, base: Calibration, labels: list[Label],
                  prefixes=typed_prefixes) -> tuple[fit.Candidates, list[bool]]:
    """The labels' prefixes, then the packaged off-topic texts', with their candidates; and which texts are the
    KB's own unanswered ones (``fit_candidates``' ``unanswered``)."""
    position = {a.id: i for i, a in enumerate(suggester.articles)}
    candidates = fit.Candidates()
    answered = [x for x in labels if x.article_id is not None]
    add_candidates(candidates, suggester, base, [(prefixes(x.text), position[x.article_id]) for x in answered])
    first = len(candidates)
    add_candidates(candidates, suggester, base, [(prefixes(x.text), None) for x in labels if x.article_id is None])
    last = len(candidates)
    add_candidates(candidates, suggester, base, [(form_prefixes(t), None) for t in offtopic_texts()], offtopic=True)
    return candidates, [first <= i < last for i in range(len(candidates))]


def measure(suggester: Suggester, calibration: Calibration, labels: list[Label]) -> dict:
    """On whole texts: the right article shown in the top 3 at the form threshold (of the answered texts); the
    unanswered texts shown anything there; the precision of the cards shown at the chat threshold; the ECE
    (10 bins) of the top 3 shown at the form threshold (an unanswered text's cards are all wrong)."""
    position = {a.id: i for i, a in enumerate(suggester.articles)}
    queries = [suggester.understand(x.text) for x in labels]
    todo = [i for i, q in enumerate(queries) if q is not None]
    vectors = suggester.embedder.encode([queries[i].text.strip() for i in todo]) if todo else []
    form, chat = calibration.threshold_for("form"), calibration.threshold_for("chat")
    hits, false, cards, right, scores, labels_shown = 0, 0, 0, 0, [], []
    for row, i in enumerate(todo):
        positions, features, _ = suggester.candidate_features(queries[i], vectors[row])
        p = calibration.probability(features)
        top = np.argsort(-p, kind="stable")[:fit.SHOWN]
        gold = positions[top] == position.get(labels[i].article_id, -1)
        hits += bool((gold & (p[top] >= form)).any())
        false += labels[i].article_id is None and bool((p[top] >= form).any())
        cards += int((p[top] >= chat).sum())
        right += int((gold & (p[top] >= chat)).sum())
        shown = p[top] >= form
        scores += p[top][shown].tolist()
        labels_shown += gold[shown].tolist()
    answered = sum(x.article_id is not None for x in labels)
    unanswered = len(labels) - answered
    return {"form_threshold": round(form, 4), "chat_threshold": round(chat, 4),
            "form_recall": round(hits / answered, 4) if answered else None,
            "form_false": round(false / unanswered, 4) if unanswered else None,
            "chat_precision": round(right / cards, 4) if cards else None,
            "ece": None if not scores else round(expected_calibration_error(scores, labels_shown), 4)}


def regression(before: dict, after: dict) -> str | None:
    """Why a new fit must not replace the current one: on the held-out part, fewer texts find their article in
    the form's top 3 (what a customer sees; the fit also reorders articles now). None when it does as well."""
    was, now = before.get("form_recall"), after.get("form_recall")
    if was is not None and now is not None and now < was:
        return f"on the held-out part, form recall falls from {was:.3f} to {now:.3f}"
    return None


def warm_fit(suggester: Suggester, labels: list[Label], min_labels: int = MIN_LABELS,
             base: Calibration | None = None) -> tuple[Calibration, dict]:
    """The new calibration of ``suggester``'s KB (refitted from ``base``, default the packaged one) and the
    before/after report; refuses below ``min_labels`` answered labels."""
    answered = sum(x.article_id is not None for x in labels)
    if answered < min_labels:
        raise KBSuggestError(f"KB {suggester.snapshot.kb!r} has {answered} labels (resolved tickets with "
                             f"linked_articles, helpful feedback, opened articles), {min_labels} are needed; "
                             f"keep the cold-start calibration or lower --min-labels")
    train = [x for x in labels if not held_out(x)]
    test = [x for x in labels if held_out(x)]
    base = base or Calibration.default()
    candidates, unanswered = candidates_of(suggester, base, train)
    calibration, result = fit_candidates(base, candidates, unanswered=unanswered)
    sources = {s: sum(x.source == s for x in labels) for s in ("ticket", "feedback", "opened", "unanswered")}
    return calibration, {"labels": answered, "by_source": sources, "train": len(train), "held_out": len(test),
                         "before": measure(suggester, suggester.calibration, test),
                         "after": measure(suggester, calibration, test), **result}
