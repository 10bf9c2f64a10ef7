"""Training pairs from the service store: what a KB's history says answers what.

- A **resolved ticket** with ``linked_articles`` (the agent's answer) gives its title, its title with the
  start of its description (what the agent read), and the prefixes of the title a form sends at 30, 50 and
  70 % typed: each paired with every linked article of the KB. Weight 1; a ticket not (yet) resolved whose
  agent linked an article (or an export without statuses: the reader calls those open) weighs
  ``OPENED_WEIGHT``: linked, not confirmed by a resolution.
- A widget **feedback** ``helpful=true`` ("This solved it") pairs the query typed with that article. Weight 1.
- An **article_opened** with no ticket submitted later in the session is potential, not confirmed: weight
  ``OPENED_WEIGHT``. An opened article later rated not helpful gives nothing.
- The articles of the session's last suggestions list that were shown and not chosen are the pair's
  **hard negatives** (tickets have none recorded: ``negatives.py`` adds what the service would show).

Everything is redacted (``gaps.redact``) before it is cut into prefixes or kept. Internal articles are
learned from agent traffic only: tickets (linked by agents) may pair with a runbook, widget events (public
visitors) never do; a pair naming an article the KB does not have is dropped. Each source (a ticket, a
session) keeps its time, for the held-out split.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from evaluation.replay import typed_length
from gaps.redact import redact
from gaps.view import ticket_text
from kbsuggest.store import Store

OPENED_WEIGHT = 0.5  # an opened article without a later ticket: probably, not surely, the answer
PREFIX_PERCENTS = (30, 50, 70)  # the typed shares a form sends that become training queries
DESCRIPTION_CHARS = 200  # the start of a description an agent reads with the title (as gap mining)
ALL_TIME = ("1970-01-01T00:00:00", "2100-01-01T00:00:00")


@dataclass(frozen=True)
class Pair:
    query: str  # redacted
    article_id: str
    source: str  # "ticket:<id>" or "session:<id>": pairs of one source are held out together
    kind: str  # title, title+description, prefix-30/50/70, feedback, opened
    at: str  # the source's time (ticket created, session started), ISO-8601 UTC
    weight: float = 1.0
    agent: bool = False  # agent traffic: internal articles may be learned
    negatives: tuple[str, ...] = ()  # articles shown and not chosen


@dataclass
class Case:
    """One held-out question: the text as the customer typed it and every article that answers it."""
    source: str
    text: str
    gold: tuple[str, ...]
    at: str
    agent: bool


@dataclass
class History:
    pairs: list[Pair] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)  # one per source: what evaluation replays
    dropped: Counter = field(default_factory=Counter)  # reason -> pairs left out

    def counts(self) -> Counter:
        return Counter(p.kind for p in self.pairs)


def prefixes(title: str) -> list[tuple[int, str]]:
    """(percent, prefix) of ``title`` as a form sends it, each distinct and shorter than the title."""
    out, seen = [], {title}
    for percent in PREFIX_PERCENTS:
        text = title[:typed_length(len(title), percent)].rstrip()
        if len(text) >= 3 and text not in seen:
            seen.add(text)
            out.append((percent, text))
    return out


def _keep(history: History, article_id: str, audience: dict[str, str], agent: bool) -> bool:
    if article_id not in audience:
        history.dropped["article not in the KB"] += 1
        return False
    if audience[article_id] == "internal" and not agent:
        history.dropped["internal article from public traffic"] += 1
        return False
    return True


def ticket_pairs(history: History, store: Store, kb: str, audience: dict[str, str]) -> None:
    for ticket in store.tickets(kb):
        if not ticket.linked_articles:
            continue
        gold = tuple(a for a in ticket.linked_articles if _keep(history, a, audience, agent=True))
        title = redact(ticket.title).strip()
        if not gold or len(title) < 3:
            continue
        source, at = f"ticket:{ticket.id}", ticket.created_at or ticket.resolved_at or ""
        texts = [("title", title)]
        described = ticket_text(title, redact(ticket.description), DESCRIPTION_CHARS)
        if described != title:
            texts.append(("title+description", described))
        texts += [(f"prefix-{percent}", text) for percent, text in prefixes(title)]
        weight = 1.0 if ticket.resolved else OPENED_WEIGHT
        history.pairs += [Pair(text, article, source, kind, at, weight, True) for kind, text in texts for article in gold]
        history.cases.append(Case(source, title, gold, at, True))


def _session_pairs(history: History, session: str, events: list[dict], audience: dict[str, str]) -> None:
    shown: list[tuple[str, list[str]]] = []  # (query, articles) of each suggestions list, in order
    ticket_after = max((i for i, e in enumerate(events) if e["type"] == "ticket_submitted"), default=-1)
    rated = {(e["article_id"], bool(e["helpful"])) for e in events if e["type"] == "feedback"}
    chosen: dict[str, tuple[str, float, str, tuple[str, ...]]] = {}  # article -> (query, weight, kind, negatives)
    for i, event in enumerate(events):
        if event["type"] == "suggestions_shown":
            listed = [s["article_id"] for s in json.loads(event["suggestions"] or "[]")]
            shown.append((event["query"] or "", listed))
            continue
        article = event["article_id"]
        if event["type"] not in ("feedback", "article_opened") or not article:
            continue
        confirmed = event["type"] == "feedback"
        if confirmed and not event["helpful"]:
            continue
        if not confirmed and ((article, False) in rated or i < ticket_after or article in chosen):
            continue  # rated unhelpful, or a ticket followed: not a deflection
        last = next(((q, listed) for q, listed in reversed(shown) if article in listed), ("", []))
        query = redact(event["query"] or last[0]).strip()
        if len(query) < 3:
            continue
        negatives = tuple(a for a in last[1] if a != article and audience.get(a) == "public")
        chosen[article] = (query, 1.0 if confirmed else OPENED_WEIGHT, "feedback" if confirmed else "opened",
                           negatives)
    at = events[0]["at"]
    for article, (query, weight, kind, negatives) in chosen.items():
        if _keep(history, article, audience, agent=False):
            history.pairs.append(Pair(query, article, f"session:{session}", kind, at, weight, False, negatives))
            history.cases.append(Case(f"session:{session}", query, (article,), at, False))


def event_pairs(history: History, store: Store, kb: str, audience: dict[str, str]) -> None:
    sessions: dict[str, list[dict]] = {}
    for row in store.session_events(kb, *ALL_TIME):  # in session and time order
        sessions.setdefault(row["session_id"], []).append(row)
    for session, events in sessions.items():
        _session_pairs(history, session, events, audience)


def extract(store: Store, kb: str, audience: dict[str, str]) -> History:
    """Every training pair of KB ``kb``'s history; ``audience``: article id -> public/internal of the KB."""
    history = History()
    ticket_pairs(history, store, kb, audience)
    event_pairs(history, store, kb, audience)
    return history
