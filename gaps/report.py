"""The report for KB authors: gaps.html (self-contained: inline CSS and SVG, no script, no CDN),
gaps.csv, gaps.json (with every gap's ticket ids, to score the clustering against one's own labels)
and the summary table printed by the CLI. All text in it was redacted before mining; text cells of
gaps.csv that a spreadsheet would run as a formula get a leading ' (``kbsuggest.text.csv_cell``)."""

from __future__ import annotations

import csv
import json
from html import escape
from pathlib import Path

from gaps.mine import MiningResult, draft_markdown
from kbsuggest.text import csv_cell

TOP_IN_CHART = 15
CSV_COLUMNS = ("rank", "kind", "change", "title", "size", "impact", "last_30_days", "previous_30_days", "trend",
               "first_seen", "last_seen", "keywords", "article_id", "internal_article")


def bar_chart(result: MiningResult) -> str:
    gaps = result.gaps[:TOP_IN_CHART]
    if not gaps:
        return ""
    width, row, label = 760, 22, 330
    biggest = max(g.size for g in gaps)
    bars = []
    for i, g in enumerate(gaps):
        length = max(2, round((width - label - 60) * g.size / biggest))
        colour = "#d9534f" if g.kind == "failing" else "#4a7bd0"
        bars.append(f'<text x="{label - 8}" y="{i * row + 15}" text-anchor="end">{g.rank}. {escape(g.title[:42])}</text>'
                    f'<rect x="{label}" y="{i * row + 4}" width="{length}" height="{row - 8}" fill="{colour}"/>'
                    f'<text x="{label + length + 6}" y="{i * row + 15}">{g.size}</text>')
    return (f'<svg class="chart" role="img" aria-label="Top gaps by tickets" width="{width}" '
            f'height="{len(gaps) * row + 4}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>')


def sparkline(weekly: list[int], width: int = 120, height: int = 28) -> str:
    top = max(max(weekly, default=0), 1)
    step = width / max(len(weekly) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (height - 4) * v / top:.1f}" for i, v in enumerate(weekly))
    return (f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="tickets per week" '
            f'xmlns="http://www.w3.org/2000/svg"><polyline fill="none" stroke="#4a7bd0" stroke-width="1.5" '
            f'points="{points}"/></svg>')


_CSS = """body{font:14px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222;padding:0 1em}
.gap{border:1px solid #ddd;border-radius:6px;padding:.8em 1.2em;margin:1.2em 0}.kind{font-size:12px;padding:1px 6px;
border-radius:3px;color:#fff;background:#4a7bd0}.failing{background:#d9534f}.change{color:#666;font-size:12px}
.chart text{font-size:12px}.kw{color:#555}pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:12px}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left}"""


def _gap_html(gap) -> str:
    kind = "covered but failing" if gap.kind == "failing" else "missing article"
    note = ""
    if gap.kind == "failing":
        note = f"<p>Found article <code>{escape(gap.article_id or '')}</code>, yet these tickets were resolved otherwise: rewrite or retitle it.</p>"
    elif gap.internal_article:
        note = f"<p>Only the internal article <code>{escape(gap.internal_article)}</code> answers these: publish a public version.</p>"
    examples = "".join(f"<li>{escape(e['text'])} <span class=change>#{escape(str(e['id']))}</span></li>" for e in gap.examples)
    return (f'<section class="gap" id="gap-{gap.rank}"><h2>{gap.rank}. {escape(gap.title)}</h2>'
            f'<p><span class="kind {gap.kind}">{kind}</span> <span class="change">{gap.change}</span> · '
            f'<b>{gap.size}</b> tickets · impact {gap.impact} · last 30 days {gap.last_30_days} vs {gap.previous_30_days} '
            f'({gap.trend}) {sparkline(gap.weekly)} · seen {gap.first_seen} – {gap.last_seen}</p>{note}'
            f'<p class="kw">Keywords: {escape(", ".join(gap.keywords))}</p><p>Representative tickets:</p><ul>{examples}</ul>'
            f'<details><summary>Markdown draft</summary><pre>{escape(draft_markdown(gap))}</pre></details></section>')


def write_html(result: MiningResult, path: Path) -> None:
    closed = "".join(f"<li>{escape(c['title'])} ({c['size']} tickets last run)</li>" for c in result.closed)
    summary = (f"<table><tr><th>tickets</th><td>{result.tickets}</td><th>resolved</th><td>{result.resolved}</td></tr>"
               f"<tr><th>covered by an article</th><td>{result.covered}</td><th>uncovered</th><td>{result.uncovered}</td></tr>"
               f"<tr><th>gaps</th><td>{len(result.gaps)}</td><th>unclustered</th><td>{result.unclustered} "
               f"({result.unclustered_share:.0%} of uncovered)</td></tr></table>")
    body = "".join(_gap_html(g) for g in result.gaps) or "<p>No gaps: every recurring question has an article.</p>"
    path.write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>KB gaps as of {escape(result.as_of[:10])}</title>'
        f"<style>{_CSS}</style></head><body><h1>Knowledge-base gaps</h1><p>Resolved tickets up to {escape(result.as_of[:10])}, "
        f"ranked by impact (tickets weighted toward recent ones).</p>{summary}{bar_chart(result)}"
        f"{f'<h2>Closed since the last run</h2><ul>{closed}</ul>' if closed else ''}{body}</body></html>",
        encoding="utf-8")


def write_csv(result: MiningResult, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS)
        writer.writeheader()
        for gap in result.gaps:
            row = {**gap.to_dict(), "keywords": "; ".join(gap.keywords)}
            writer.writerow({column: csv_cell(row[column]) for column in CSV_COLUMNS})


def write_json(result: MiningResult, path: Path) -> None:
    payload = {"as_of": result.as_of, "run_id": result.run_id, "tickets": result.tickets, "resolved": result.resolved,
               "covered": result.covered, "uncovered": result.uncovered, "unclustered": result.unclustered,
               "gaps": [g.to_dict() for g in result.gaps], "closed": result.closed}
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")


def write_report(result: MiningResult, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "gaps.html", out_dir / "gaps.csv", out_dir / "gaps.json"]
    for writer, path in zip((write_html, write_csv, write_json), paths):
        writer(result, path)
    return paths


def summary_lines(result: MiningResult, top: int = 15) -> list[str]:
    lines = [f"{result.resolved} resolved tickets: {result.covered} covered, {result.uncovered} uncovered, "
             f"{len(result.gaps)} gaps, {result.unclustered} unclustered ({result.unclustered_share:.0%})",
             f"{'#':>3} {'kind':<8} {'change':<9} {'tickets':>7} {'30d':>4} {'trend':<7} title"]
    for gap in result.gaps[:top]:
        lines.append(f"{gap.rank:>3} {gap.kind:<8} {gap.change:<9} {gap.size:>7} {gap.last_30_days:>4} {gap.trend:<7} {gap.title}")
    lines += [f"closed: {c['title']} ({c['size']} tickets last run)" for c in result.closed]
    return lines
