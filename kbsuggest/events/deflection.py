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

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from kbsuggest.errors import InvalidPeriodError
from kbsuggest.store import Store
from kbsuggest.store.rollup import Rollup
from kbsuggest.timestamps import utc_iso

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
    need_help: int = 0  # sessions that answered "I still need help" on it


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


# The rules above, over each session's facts (``kbsuggest/store/summary.py``: times in integer microseconds,
# NULL when there is none; flags 0/1). The store evaluates them where the events are.
CLASSIFY = """CASE
  WHEN first_ticket IS NOT NULL AND (first_signal IS NULL OR first_ticket <= first_signal + %(window)s) THEN 'none'
  WHEN unhelpful = 1 AND helpful = 0 THEN 'none'
  WHEN first_ticket IS NULL AND coalesce(last_signal, last_at) + %(window)s > %(now)s THEN 'pending'
  WHEN helpful = 1 THEN 'confirmed'
  WHEN opened = 1 THEN 'potential'
  ELSE 'unengaged' END"""
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)


def rates(counts: dict[str, int]) -> dict[str, float | None]:
    """Confirmed, potential and deflection rates over the decided sessions (all but pending)."""
    decided = sum(counts.get(c, 0) for c in CLASSES) - counts.get("pending", 0)

    def rate(n: int) -> float | None:
        return round(n / decided, 4) if decided else None
    return {"confirmed_rate": rate(counts.get("confirmed", 0)), "potential_rate": rate(counts.get("potential", 0)),
            "deflection_rate": rate(counts.get("confirmed", 0) + counts.get("potential", 0))}


def rollup(store: Store, kb: str, start: datetime, end: datetime, window: timedelta, now: datetime | None = None,
           detail: bool = False, top: int = 10) -> Rollup:
    """The store's aggregates of KB ``kb``'s sessions whose first suggestion was shown in ``[start, end)``,
    classified by the rules above (``detail``: also per day, mode, locale and product)."""
    now = now or datetime.now(timezone.utc)
    return store.deflection_rollup(kb, utc_iso(start), utc_iso(end), CLASSIFY,
                                   {"window": window // _US, "now": (now - _EPOCH) // _US}, detail, top)


def summarize(figures: Rollup, start: datetime, end: datetime, window: timedelta, top: int = 10) -> DeflectionStats:
    counts = {name: figures.counts.get(name, 0) for name in CLASSES}
    articles = [ArticleDeflection(*row) for row in figures.articles if row[3] or row[4]]
    ranked = sorted(articles, key=lambda a: (-a.confirmed, -a.potential, a.article_id))
    return DeflectionStats(
        start=utc_iso(start), end=utc_iso(end), window_minutes=int(window.total_seconds() // 60),
        sessions=sum(counts.values()), counts=counts, **rates(counts), top_articles=ranked[:top],
        unanswered_queries=[UnansweredQuery(q, n) for q, n in figures.queries["unanswered"][:top]])


def deflection_stats(store: Store, kb: str, start: datetime, end: datetime, window: timedelta,
                     now: datetime | None = None, top: int = 10) -> DeflectionStats:
    """Classify every session of KB ``kb`` whose first suggestion was shown in ``[start, end)``."""
    return summarize(rollup(store, kb, start, end, window, now, top=top), start, end, window, top)
