"""The month-end dashboard's data (``GET /v1/kbs/{kb}/dashboard``, the page ``/dashboard``): one store
aggregate (``deflection.rollup``, the one that ``/v1/stats/deflection`` reads, so the figures are the
same), shaped into the page's tables, plus the latest gap-mining run and offline evaluation.

Every table is a list of rows of named columns; ``TABLES`` names them and ``csv_text`` writes any of them
as CSV (the page's "Download CSV" buttons), so the page and the export never disagree.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta

from kbsuggest.events.deflection import CLASSES, rates, rollup, summarize
from kbsuggest.store import Store

TOP = 20  # rows of the article and query tables
TOP_GAPS = 5
DEFINITIONS = {
    "confirmed": "An article was rated helpful (\u201cThis solved it\u201d) and no ticket followed within the window.",
    "potential": "An article was opened, none rated, and no ticket followed within the window.",
    "none": "A ticket was submitted with no article opened more than the window before it, or the visitor "
            "answered \u201cI still need help\u201d and rated nothing helpful.",
    "unengaged": "Suggestions were shown, nothing was opened, no ticket.",
    "pending": "Not decided yet: the window since the last article opened has not elapsed, so a ticket may still "
               "come. Left out of the rates.",
    "deflection_rate": "(confirmed + potential) / decided sessions (all but pending).",
    "session": "One browser tab shown suggestions, counted in the period its first suggestion was shown.",
}
BREAKDOWN_TABLES = {"mode": "mode", "locale": "locale", "product": "product"}
TABLES = ("weekly", "mode", "locale", "product", "articles", "unanswered", "need_help", "gaps")


def _class_row(key_name: str, key: str, counts: dict[str, int]) -> dict:
    full = {c: counts.get(c, 0) for c in CLASSES}
    return {key_name: key, "sessions": sum(full.values()), **full, "deflection_rate": rates(full)["deflection_rate"]}


def _weekly(days: dict[str, dict[str, int]]) -> list[dict]:
    """Days folded into ISO weeks, named by their Monday."""
    weeks: dict[str, dict[str, int]] = {}
    for day, counts in days.items():
        monday = date.fromisoformat(day) - timedelta(days=date.fromisoformat(day).weekday())
        week = weeks.setdefault(monday.isoformat(), {})
        for kind, n in counts.items():
            week[kind] = week.get(kind, 0) + n
    return [_class_row("week", week, weeks[week]) for week in sorted(weeks)]


def _breakdown(values: dict[str, dict[str, int]], name: str) -> list[dict]:
    rows = [_class_row(name, key or "(not set)", counts) for key, counts in values.items()]
    return sorted(rows, key=lambda r: (-r["sessions"], r[name]))


def _evaluation(store: Store, kb: str) -> dict | None:
    """The latest offline evaluation's headline: kbsuggest's hit@3 and deflection at its serving threshold."""
    runs = store.evaluations(kb, last=1)
    if not runs:
        return None
    run, system = runs[-1], runs[-1]["metrics"].get("systems", {}).get("kbsuggest", {})
    threshold = system.get("threshold", {})
    point = threshold.get("at_configured") or threshold.get("at_recommended") or {}

    def value(stat: dict | None) -> float | None:
        return None if not stat or stat.get("value") is None else round(stat["value"], 4)
    return {"id": run["id"], "created_at": run["created_at"], "tickets": run["tickets"],
            "hit_at_3": value(system.get("ranking", {}).get("hit@3", {}).get("micro")),
            "deflection_estimate": value(point.get("deflection", {}).get("micro")),
            "threshold": point.get("threshold")}


def _gaps(store: Store, kb: str) -> dict | None:
    run = store.latest_gap_run(kb)
    if run is None:
        return None
    top = [{"rank": g["rank"], "kind": g["kind"], "title": g["title"], "size": g["size"],
            "impact": round(float(g["impact"] or 0), 2), "article_id": g["article_id"] or "",
            "keywords": ", ".join(json.loads(g["keywords"] or "[]")), "change": g["change"] or ""}
           for g in store.last_gap_run(kb)]
    return {"run": {k: run[k] for k in ("id", "started_at", "as_of", "tickets", "resolved", "gaps")}, "top": top}


def dashboard(store: Store, kb: str, start: datetime, end: datetime, window: timedelta, now: datetime,
              title_of: Callable[[str], str] = lambda article_id: "", gaps: int | None = TOP_GAPS) -> dict:
    """Everything the page shows for KB ``kb`` and the period ``[start, end)`` (``gaps``: how many of the
    latest run's gaps, None: all)."""
    figures = rollup(store, kb, start, end, window, now, detail=True, top=TOP)
    stats = summarize(figures, start, end, window)
    articles = sorted(figures.articles, key=lambda a: (-a[1], -a[3], a[0]))[:TOP]
    gap_run = _gaps(store, kb)
    all_gaps = gap_run["top"] if gap_run else []
    return {
        "kb": kb, "start": stats.start, "end": stats.end, "window_minutes": stats.window_minutes,
        "deflection": {k: v for k, v in asdict(stats).items() if k not in ("top_articles", "unanswered_queries")},
        "definitions": DEFINITIONS,
        "weekly": _weekly(figures.by.get("day", {})),
        **{table: _breakdown(figures.by.get(name, {}), name) for table, name in BREAKDOWN_TABLES.items()},
        "articles": [{"article_id": a, "title": title_of(a), "shown": shown, "opened": opened, "confirmed": confirmed,
                      "potential": potential, "need_help": need_help}
                     for a, shown, opened, confirmed, potential, need_help in articles],
        "unanswered": [{"query": q, "sessions": n} for q, n in figures.queries["unanswered"]],
        "need_help": [{"query": q, "sessions": n} for q, n in figures.queries["need_help"]],
        "gap_run": gap_run["run"] if gap_run else None,
        "gaps": all_gaps[:gaps],
        "gaps_total": len(all_gaps),
        "evaluation": _evaluation(store, kb),
    }


def csv_text(data: dict, table: str) -> str:
    """One of ``TABLES`` of ``dashboard()``'s data as CSV (header row of its column names; empty: header only)."""
    rows = data[table]
    out = io.StringIO()
    writer = csv.DictWriter(out, _COLUMNS[table], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


_CLASS_COLUMNS = ("sessions", *CLASSES, "deflection_rate")
_COLUMNS = {
    "weekly": ("week", *_CLASS_COLUMNS), "mode": ("mode", *_CLASS_COLUMNS), "locale": ("locale", *_CLASS_COLUMNS),
    "product": ("product", *_CLASS_COLUMNS),
    "articles": ("article_id", "title", "shown", "opened", "confirmed", "potential", "need_help"),
    "unanswered": ("query", "sessions"), "need_help": ("query", "sessions"),
    "gaps": ("rank", "kind", "title", "size", "impact", "article_id", "keywords", "change"),
}
