"""The report for KB authors: the HTML pages (``gaps/html.py``), gaps.csv, items.csv (every mined or covered
item and what became of it: the audit trail), gaps.json (every gap's item ids, the appendix, the covered
tickets, the drift alarms) and the summary table printed by the CLI. All text in it was redacted before
mining; text cells of the CSV files that a spreadsheet would run as a formula get a leading '
(``kbsuggest.text.csv_cell``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from gaps.html import PAGE_GAPS, appendix_pages, gap_pages, page_name, ticket_url
from gaps.mine import MiningResult
from gaps.signals import LABELS
from kbsuggest.config import GAP_SIGNALS, Settings
from kbsuggest.text import csv_cell

CSV_COLUMNS = ("rank", "kind", "change", "title", "size", *GAP_SIGNALS, "widget_only", "impact", "last_30_days",
               "previous_30_days", "trend", "first_seen", "last_seen", "keywords", "article_id", "linked",
               "internal_article")
ITEM_COLUMNS = ("id", "signal", "outcome", "gap", "nearest_gap", "similarity", "article_id", "score", "linked_articles",
                "url")


def _rows(path: Path, columns: tuple[str, ...], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: csv_cell(row.get(column)) for column in columns})


def write_csv(result: MiningResult, path: Path) -> None:
    _rows(path, CSV_COLUMNS, ({**g.to_dict(), **g.signals, "keywords": "; ".join(g.keywords),
                               "linked": "; ".join(f"{a} ({n})" for a, n in g.linked.items())} for g in result.gaps))


def item_rows(result: MiningResult, template: str | None):
    """Every item once: in a gap (missing or failing), unclustered with its nearest gap, or covered."""
    def url(item_id: str, signal: str) -> str:
        return ticket_url(template, item_id) if template and signal == "ticket" else ""
    placed = {}
    for gap in result.gaps:
        for item_id in gap.ticket_ids:
            placed.setdefault(item_id, gap)
    for item_id, gap in placed.items():
        signal = result.signal_of(item_id)
        yield {"id": item_id, "signal": signal, "outcome": f"{gap.kind} gap", "gap": gap.rank,
               "article_id": gap.article_id if gap.kind == "failing" else None, "url": url(item_id, signal)}
    for u in result.unclustered_items:
        yield {"id": u["id"], "signal": u["signal"], "outcome": "unclustered", "nearest_gap": u["nearest_gap"],
               "similarity": u["similarity"], "url": url(u["id"], u["signal"])}
    for c in result.covered_items:
        if c["id"] not in placed:
            yield {"id": c["id"], "signal": "ticket", "outcome": "covered", "article_id": c["article_id"],
                   "score": c["score"], "linked_articles": "; ".join(c["linked_articles"]), "url": url(c["id"], "ticket")}


def payload(result: MiningResult, full: bool = True) -> dict:
    """The JSON of a run; ``full=False`` (``kbsuggest gaps --json``) leaves out the per-item lists."""
    out = {"as_of": result.as_of, "run_id": result.run_id, "tickets": result.tickets, "resolved": result.resolved,
           "covered": result.covered, "uncovered": result.uncovered, "signals": result.signals,
           "unclustered": result.unclustered, "title_style": result.title_style, "alarms": result.alarms,
           "gaps": [g.to_dict() for g in result.gaps], "closed": result.closed}
    if full:
        out |= {"unclustered_items": result.unclustered_items, "covered_items": result.covered_items}
    return out


def write_report(result: MiningResult, out_dir: Path, settings: Settings | None = None) -> list[Path]:
    """Every file of the report in ``out_dir``; returns them, the first page first."""
    settings = settings or Settings()
    out_dir.mkdir(parents=True, exist_ok=True)
    template = settings.ticket_url_template
    pages = gap_pages(result, settings.gap_signal_weights, settings.gap_half_life_days, template)
    gap_page = {g.rank: page_name("gaps", 1 + (g.rank - 1) // PAGE_GAPS) for g in result.gaps}
    pages |= appendix_pages(result, template, gap_page)
    paths = []
    for name, html in pages.items():
        (out_dir / name).write_text(html, encoding="utf-8")
        paths.append(out_dir / name)
    write_csv(result, out_dir / "gaps.csv")
    _rows(out_dir / "items.csv", ITEM_COLUMNS, item_rows(result, template))
    (out_dir / "gaps.json").write_text(json.dumps(payload(result), indent=1, ensure_ascii=False), encoding="utf-8")
    return paths + [out_dir / "gaps.csv", out_dir / "items.csv", out_dir / "gaps.json"]


def summary_lines(result: MiningResult, top: int = 15) -> list[str]:
    mined = ", ".join(f"{n} {LABELS[s]}" for s, n in result.signals.items())
    lines = [f"{result.resolved} resolved tickets: {result.covered} covered, {result.uncovered} uncovered; mined {mined}: "
             f"{len(result.gaps)} gaps, {result.unclustered} unclustered ({result.unclustered_share:.0%})",
             f"{'#':>3} {'kind':<8} {'change':<9} {'items':>6} {'impact':>7} {'30d':>4} {'trend':<7} title"]
    for gap in result.gaps[:top]:
        widget = " [widget only]" if gap.widget_only else ""
        lines.append(f"{gap.rank:>3} {gap.kind:<8} {gap.change:<9} {gap.size:>6} {gap.impact:>7g} {gap.last_30_days:>4} "
                     f"{gap.trend:<7} {gap.title}{widget}")
    lines += [f"closed: {c['title']} ({c['size']} items last run)" for c in result.closed]
    lines += [f"alarm {a['kind']}: {a['title']}: {a['detail']}" for a in result.alarms]
    return lines
