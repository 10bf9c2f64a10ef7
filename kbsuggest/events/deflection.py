"""Online deflection from widget events, with ServiceNow's contextual-search definitions.

A *session* is one browser tab (the widget's session id) that was shown suggestions. Each session
that started in the period falls in one class:

- **none**: a ticket was submitted and no article was opened (or rated helpful) more than the
  window before it; also when the visitor answered "I still need help" and rated nothing helpful;
- **confirmed**: an article was rated helpful ("This solved it") and no ticket followed within the window;
- **potential**: an article was opened, none rated, and no ticket followed within the window;
- **unengaged**: suggestions were shown, nothing opened, no ticket;
- **pending**: not a *none* yet, but the window since the last deflection signal has not elapsed,
  so a ticket may still come. Pending sessions are left out of the rates.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from kbsuggest.errors import InvalidPeriodError
from kbsuggest.store import Store
from kbsuggest.timestamps import parse_utc, utc_iso

DEFAULT_PERIOD = timedelta(days=30)
# Period bounds outside these are refused: a day after 9999-12-31 or a +14:00 offset on 0001-01-01 does
# not exist (they were a 500), and no event is dated outside them anyway.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
CLASSES = ("confirmed", "potential", "none", "unengaged", "pending")


@dataclass
class ArticleDeflection:
    article_id: str
    shown: int = 0  # sessions in which the article was suggested
    opened: int = 0
    confirmed: int = 0  # sessions it deflected with "This solved it"
    potential: int = 0  # sessions where it was opened and no ticket followed


@dataclass
class UnansweredQuery:
    query: str
    sessions: int


@dataclass
class DeflectionStats:
    start: str
    end: str
    window_minutes: int
    sessions: int
    counts: dict[str, int]
    confirmed_rate: float | None  # over decided sessions (all but pending); None when there are none
    potential_rate: float | None
    deflection_rate: float | None  # confirmed + potential
    top_articles: list[ArticleDeflection] = field(default_factory=list)
    unanswered_queries: list[UnansweredQuery] = field(default_factory=list)


def _parse(text: str, name: str, end: bool) -> datetime:
    problem = (f"{name}: {text!r} is not a date (2026-11-23) or date-time (2026-11-23T14:00:00Z)")
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # a day: "to" includes all of it
            moment = datetime.combine(date.fromisoformat(text), time(), timezone.utc)
            if not EARLIEST <= moment < LATEST:
                raise OverflowError
            return moment + timedelta(days=1 if end else 0)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        if not EARLIEST <= moment <= LATEST:
            raise OverflowError
        return moment.astimezone(timezone.utc)
    except ValueError:
        raise InvalidPeriodError(name, problem) from None
    except OverflowError:
        raise InvalidPeriodError(name, f"{name}: {text!r} is outside 1970-01-01 .. 2100-01-01") from None


def period(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """``[from, to)`` from optional ISO texts; the default is the 30 days up to now."""
    stop = _parse(end, "to", True) if end else now
    begin = _parse(start, "from", False) if start else max(EARLIEST, stop - DEFAULT_PERIOD)
    if begin >= stop:
        raise InvalidPeriodError("from", f"from: {utc_iso(begin)} is not before to ({utc_iso(stop)}); swap them")
    return begin, stop


def _norm(query: str) -> str:
    return " ".join(query.lower().split())


def _classify(events: list[dict], window: timedelta, now: datetime) -> tuple[str, set[str], set[str]]:
    """The class of one session (events in time order), with its helpful and opened article ids."""
    helpful = {e["article_id"] for e in events if e["type"] == "feedback" and e["helpful"]}
    unhelpful = any(e["type"] == "feedback" and not e["helpful"] for e in events)
    opened = {e["article_id"] for e in events if e["type"] in ("article_opened", "feedback")}
    signals = [e["at"] for e in events if e["type"] in ("article_opened", "feedback")]
    tickets = [e["at"] for e in events if e["type"] == "ticket_submitted"]
    if tickets:
        first_signal = min(signals, default=None)
        if first_signal is None or tickets[0] <= first_signal + window:
            return "none", helpful, opened
    if unhelpful and not helpful:
        return "none", helpful, opened
    if (max(signals) if signals else events[-1]["at"]) + window > now and not tickets:
        return "pending", helpful, opened
    if helpful:
        return "confirmed", helpful, opened
    return ("potential" if opened else "unengaged"), helpful, opened


def _unanswered(events: list[dict]) -> set[str]:
    """Queries that got no suggestion, minus those the visitor kept typing past (keystroke prefixes)."""
    queries = [(_norm(e["query"]), json.loads(e["suggestions"] or "[]")) for e in events if e["type"] == "suggestions_shown"]
    found = set()
    for i, (query, shown) in enumerate(queries):
        if not shown and query and not any(later.startswith(query) and later != query for later, _ in queries[i + 1:]):
            found.add(query)
    return found


def deflection_stats(store: Store, kb: str, start: datetime, end: datetime, window: timedelta,
                     now: datetime | None = None, top: int = 10) -> DeflectionStats:
    """Classify every session of KB ``kb`` whose first suggestion was shown in ``[start, end)``."""
    now = now or datetime.now(timezone.utc)
    counts = Counter({name: 0 for name in CLASSES})
    articles: dict[str, ArticleDeflection] = {}
    unanswered: Counter[str] = Counter()
    sessions: dict[str, list[dict]] = defaultdict(list)
    for row in store.session_events(kb, utc_iso(start), utc_iso(end)):
        row["at"] = parse_utc(row["at"])
        sessions[row["session_id"]].append(row)
    for events in sessions.values():
        kind, helpful, opened = _classify(events, window, now)
        counts[kind] += 1
        unanswered.update(_unanswered(events))
        shown = {s["article_id"] for e in events if e["type"] == "suggestions_shown" for s in json.loads(e["suggestions"])}
        for article_id in shown | opened:
            stats = articles.setdefault(article_id, ArticleDeflection(article_id))
            stats.shown += article_id in shown
            stats.opened += article_id in opened
            stats.confirmed += kind == "confirmed" and article_id in helpful
            stats.potential += kind == "potential" and article_id in opened
    decided = sum(counts.values()) - counts["pending"]

    def rate(n: int) -> float | None:
        return round(n / decided, 4) if decided else None

    ranked = sorted((a for a in articles.values() if a.confirmed or a.potential),
                    key=lambda a: (-a.confirmed, -a.potential, a.article_id))
    return DeflectionStats(
        start=utc_iso(start), end=utc_iso(end), window_minutes=int(window.total_seconds() // 60), sessions=len(sessions),
        counts=dict(counts), confirmed_rate=rate(counts["confirmed"]), potential_rate=rate(counts["potential"]),
        deflection_rate=rate(counts["confirmed"] + counts["potential"]), top_articles=ranked[:top],
        unanswered_queries=[UnansweredQuery(q, n) for q, n in sorted(unanswered.items(), key=lambda x: (-x[1], x[0]))[:top]],
    )
