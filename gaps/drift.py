"""Drift and staleness alarms: what changed around articles that used to work, and gaps that came back.

- ``rising_after_update``: an article covers tickets, and since it was last updated (its front matter's
  ``updated``) they arrive at least ``RISE`` times as fast as before it (at most 90 days each side, at
  least a week after and, since the tickets must show a "before", 30 days before): the update, or the
  product around it, broke something.
- ``reopening``: the tickets agents resolved with an article are reopened at least twice as often as the
  KB's resolved tickets are overall (the baseline is the KB's own), with ``min_tickets`` reopened at least.
- ``returned``: a gap of this run that no gap of the last run matches but one of an earlier run does
  (same tickets, ``gaps/runs.py``): it closed and came back.
Each alarm is ``{kind, title, article_id, gap, detail}``; ``kbsuggest gaps --json`` prints them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from gaps.describe import parse_day
from gaps.mine import MiningResult
from gaps.runs import same_gap
from gaps.view import RedactedTicket

RISE = 1.5  # after/before rate ratio of a rising article (trend_label calls +25% "rising"; alarms are rarer)
SPAN = timedelta(days=90)
MIN_AFTER = timedelta(days=7)
MIN_BEFORE = timedelta(days=30)  # the tickets must reach this far back before the update


def _alarm(kind: str, title: str, detail: str, article_id: str | None = None, gap: int | None = None) -> dict:
    return {"kind": kind, "title": title, "article_id": article_id, "gap": gap, "detail": detail}


def rising_after_update(result: MiningResult, created: dict[str, str], updated: dict[str, str],
                        titles: dict[str, str], min_tickets: int) -> list[dict]:
    as_of = datetime.fromisoformat(result.as_of)
    earliest = min((parse_day(s) for s in created.values() if s), default=as_of)
    by_article: dict[str, list[datetime]] = {}
    for item in result.covered_items:
        by_article.setdefault(item["article_id"], []).append(parse_day(created[item["id"]]))
    alarms = []
    for article, stamps in sorted(by_article.items()):
        if not updated.get(article):
            continue
        since = datetime.fromisoformat(str(updated[article])[:10])
        after_span, before_span = min(as_of - since, SPAN), min(since - earliest, SPAN)
        if after_span < MIN_AFTER or before_span < MIN_BEFORE:  # a rise needs a "before" the tickets show
            continue
        after = sum(since <= s <= as_of for s in stamps)
        before = sum(since - before_span <= s < since for s in stamps)
        rate_after, rate_before = after / after_span.days, before / before_span.days
        if after >= min_tickets and rate_after >= RISE * rate_before:
            alarms.append(_alarm("rising_after_update", titles.get(article, article),
                                 f"{after} tickets in the {after_span.days} days since its update on {since:%Y-%m-%d} "
                                 f"({rate_after * 30:.1f}/30 days) vs {before} in the {before_span.days} days before "
                                 f"({rate_before * 30:.1f}/30 days)", article_id=article))
    return alarms


def reopening(tickets: list[RedactedTicket], titles: dict[str, str], min_tickets: int) -> list[dict]:
    resolved = [t for t in tickets if t.resolved and t.signal == "ticket"]
    if not resolved:
        return []
    baseline = sum(t.reopens > 0 for t in resolved) / len(resolved)
    linked: dict[str, list[RedactedTicket]] = {}
    for t in resolved:
        for article in t.linked_articles:
            linked.setdefault(article, []).append(t)
    alarms = []
    for article, group in sorted(linked.items()):
        reopened = sum(t.reopens > 0 for t in group)
        if reopened >= min_tickets and reopened / len(group) >= 2 * baseline:
            alarms.append(_alarm("reopening", titles.get(article, article),
                                 f"{reopened} of the {len(group)} tickets resolved with it were reopened "
                                 f"({reopened / len(group):.0%}; {baseline:.0%} of all resolved tickets)", article_id=article))
    return alarms


def returned(result: MiningResult, history: list[dict]) -> list[dict]:
    """``history``: ``Store.gap_run_history`` read before this run was saved (newest run first)."""
    if not history:
        return []
    last = history[0]["run_id"]
    older = [h for h in history if h["run_id"] != last]
    alarms = []
    for gap in result.gaps:
        if gap.change != "new":
            continue
        match = next((h for h in older if same_gap(gap, h, set(json.loads(h["ticket_ids"])))), None)
        if match is not None:
            alarms.append(_alarm("returned", gap.title, f"was gap {match['rank']} in the run as of {match['as_of'][:10]}, "
                                 f"closed by the last run, and is back with {gap.size} items", gap=gap.rank))
    return alarms


def drift_alarms(result: MiningResult, tickets: list[RedactedTicket], updated: dict[str, str], titles: dict[str, str],
                 history: list[dict], min_tickets: int) -> list[dict]:
    created = {t.id: t.created_at for t in tickets}
    return (rising_after_update(result, created, updated, titles, min_tickets) + reopening(tickets, titles, min_tickets)
            + returned(result, history))
