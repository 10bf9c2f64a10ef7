"""The HTML pages of the gap report: self-contained (inline CSS and SVG, no external resource), split into
pages so a run of a million tickets opens as fast as a small one.

- ``gaps.html``, ``gaps-2.html`` …: ``PAGE_GAPS`` gaps per page (the first page also has the summary, the
  signals, the drift alarms and the chart); each gap is rendered lazily by the browser
  (``content-visibility: auto``: off-screen sections are not laid out or painted).
- ``unclustered.html``, ``unclustered-2.html`` …: the appendix, ``PAGE_ROWS`` uncovered items per page,
  each with its nearest gap; the one inline script filters the rows of a page as you type (the browser's
  find-in-page works too, and ``items.csv`` holds every item).
Ticket ids link to the help desk when ``KBSUGGEST_TICKET_URL_TEMPLATE`` is set.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from gaps.drafts import draft_markdown
from gaps.mine import Gap, MiningResult
from gaps.signals import LABELS

TOP_IN_CHART = 15
PAGE_GAPS = 50
PAGE_ROWS = 5000

_CSS = """body{font:14px/1.45 system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222;padding:0 1em}
.gap{border:1px solid #ddd;border-radius:6px;padding:.8em 1.2em;margin:1.2em 0;content-visibility:auto;
contain-intrinsic-size:auto 420px}.kind{font-size:12px;padding:1px 6px;border-radius:3px;color:#fff;background:#4a7bd0}
.failing{background:#d9534f}.widget{background:#8a5bd0}.change{color:#666;font-size:12px}.chart text{font-size:12px}
.kw{color:#555}pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:12px}table{border-collapse:collapse}
td,th{padding:2px 10px;text-align:left;vertical-align:top}.alarm{background:#fff4e5;border-left:4px solid #f0ad4e;
padding:.4em .8em;margin:.4em 0}tbody.rows{content-visibility:auto;contain-intrinsic-size:auto 4000px}
.sig{font-size:12px;color:#444}nav{margin:1em 0}nav a{margin-right:.6em}"""


def ticket_url(template: str, item_id: str) -> str:
    return template.replace("{id}", quote(item_id, safe=""))


def ticket_link(item_id: str, signal: str, template: str | None) -> str:
    if signal != "ticket":
        return f'<span class="change">{escape(LABELS[signal])}</span>'
    if not template:
        return f'<span class="change">#{escape(item_id)}</span>'
    return f'<a class="change" href="{escape(ticket_url(template, item_id))}">#{escape(item_id)}</a>'


def page_name(stem: str, page: int) -> str:
    return f"{stem}.html" if page == 1 else f"{stem}-{page}.html"


def _nav(stem: str, pages: int, current: int) -> str:
    if pages <= 1:
        return ""
    links = "".join(f"<b>{p}</b>" if p == current else f'<a href="{page_name(stem, p)}">{p}</a>'
                    for p in range(1, pages + 1))
    return f'<nav aria-label="pages">Pages: {links}</nav>'


def bar_chart(gaps: list[Gap]) -> str:
    gaps = gaps[:TOP_IN_CHART]
    if not gaps:
        return ""
    width, row, label = 760, 22, 330
    biggest = max(g.impact for g in gaps) or 1
    bars = []
    for i, g in enumerate(gaps):
        length = max(2, round((width - label - 60) * g.impact / biggest))
        colour = "#d9534f" if g.kind == "failing" else "#8a5bd0" if g.widget_only else "#4a7bd0"
        bars.append(f'<text x="{label - 8}" y="{i * row + 15}" text-anchor="end">{g.rank}. {escape(g.title[:42])}</text>'
                    f'<rect x="{label}" y="{i * row + 4}" width="{length}" height="{row - 8}" fill="{colour}"/>'
                    f'<text x="{label + length + 6}" y="{i * row + 15}">{g.impact:g}</text>')
    return (f'<svg class="chart" role="img" aria-label="Top gaps by impact" width="{width}" '
            f'height="{len(gaps) * row + 4}" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>')


def sparkline(weekly: list[int], width: int = 120, height: int = 28) -> str:
    top = max(max(weekly, default=0), 1)
    step = width / max(len(weekly) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (height - 4) * v / top:.1f}" for i, v in enumerate(weekly))
    return (f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="items per week" '
            f'xmlns="http://www.w3.org/2000/svg"><polyline fill="none" stroke="#4a7bd0" stroke-width="1.5" '
            f'points="{points}"/></svg>')


def _signals(counts: dict[str, int]) -> str:
    return " · ".join(f"<b>{n}</b> {escape(LABELS[s])}" for s, n in counts.items())


def gap_html(gap: Gap, template: str | None) -> str:
    kind = "covered but failing" if gap.kind == "failing" else "missing article"
    badges = f'<span class="kind {gap.kind}">{kind}</span>'
    if gap.widget_only:
        badges += ' <span class="kind widget">widget signals only</span>'
    note = ""
    if gap.kind == "failing":
        linked = ", ".join(f"<code>{escape(a)}</code> ({n})" for a, n in gap.linked.items())
        note = (f"<p>Article found: <code>{escape(gap.article_id or '')}</code>; the articles agents linked when they "
                f"resolved these tickets: {linked}. Rewrite or retitle it.</p>")
    elif gap.internal_article:
        note = f"<p>Only the internal article <code>{escape(gap.internal_article)}</code> answers these: publish a public version.</p>"
    examples = "".join(f"<li>{escape(e['text'])} {ticket_link(e['id'], e.get('signal', 'ticket'), template)}</li>"
                       for e in gap.examples)
    steps = "".join(f"<li>{escape(s)}</li>" for s in gap.steps)
    return (f'<section class="gap" id="gap-{gap.rank}"><h2>{gap.rank}. {escape(gap.title)}</h2>'
            f'<p>{badges} <span class="change">{gap.change}</span> · impact <b>{gap.impact:g}</b> · '
            f'<span class="sig">{_signals(gap.signals)}</span></p>'
            f'<p>last 30 days {gap.last_30_days} vs {gap.previous_30_days} ({gap.trend}) {sparkline(gap.weekly)} · '
            f'seen {gap.first_seen} – {gap.last_seen}</p>{note}'
            f'<p class="kw">Keyphrases: {escape(", ".join(gap.keywords))}</p><p>What customers ask:</p><ul>{examples}</ul>'
            + (f"<p>Steps agents wrote most often:</p><ol>{steps}</ol>" if steps else "")
            + f'<details><summary>Markdown draft (internal until reviewed)</summary><pre>{escape(draft_markdown(gap))}'
              f'</pre></details></section>')


def _page(title: str, body: str, script: str = "") -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>{body}{script}</body></html>")


def _summary(result: MiningResult, weights: dict[str, float], half_life: float) -> str:
    weighting = " + ".join(f"{w:g} × {escape(LABELS[s])}" for s, w in weights.items())
    return (f"<table><tr><th>tickets</th><td>{result.tickets}</td><th>resolved</th><td>{result.resolved}</td></tr>"
            f"<tr><th>covered by an article</th><td>{result.covered}</td><th>uncovered</th><td>{result.uncovered}</td></tr>"
            f"<tr><th>mined</th><td colspan=3>{_signals(result.signals)}</td></tr>"
            f"<tr><th>gaps</th><td>{len(result.gaps)}</td><th>unclustered</th><td><a href=\"unclustered.html\">"
            f"{result.unclustered}</a> ({result.unclustered_share:.0%} of mined)</td></tr></table>"
            f"<p class=change>Impact = {weighting}, each item halving in weight every {half_life:g} days before "
            f"{escape(result.as_of[:10])} (<code>KBSUGGEST_GAP_SIGNAL_WEIGHTS</code>). Every uncovered item is in a gap "
            f"or in the <a href=\"unclustered.html\">unclustered appendix</a>; <code>items.csv</code> lists every item "
            f"with its outcome.</p>")


def _alarms(alarms: list[dict]) -> str:
    if not alarms:
        return ""
    names = {"rising_after_update": "rising since its update", "reopening": "tickets keep reopening",
             "returned": "gap came back"}
    rows = "".join(f'<div class="alarm"><b>{escape(names[a["kind"]])}</b>: {escape(a["title"])}'
                   + (f' (<code>{escape(a["article_id"])}</code>)' if a["article_id"] else "")
                   + (f' (<a href="#gap-{a["gap"]}">gap {a["gap"]}</a>)' if a["gap"] else "")
                   + f' — {escape(a["detail"])}</div>' for a in alarms)
    return f"<h2>Drift alarms</h2>{rows}"


def gap_pages(result: MiningResult, weights: dict[str, float], half_life: float, template: str | None) -> dict[str, str]:
    """``{file name: HTML}`` of the gap pages."""
    pages = max(1, -(-len(result.gaps) // PAGE_GAPS))
    closed = "".join(f"<li>{escape(c['title'])} ({c['size']} items last run)</li>" for c in result.closed)
    out = {}
    for page in range(1, pages + 1):
        chunk = result.gaps[(page - 1) * PAGE_GAPS:page * PAGE_GAPS]
        head = (f"<h1>Knowledge-base gaps</h1><p>Resolved tickets and widget signals up to {escape(result.as_of[:10])}, "
                f"ranked by impact.</p>")
        if page == 1:
            head += (_summary(result, weights, half_life) + _alarms(result.alarms) + bar_chart(result.gaps)
                     + (f"<h2>Closed since the last run</h2><ul>{closed}</ul>" if closed else ""))
        body = "".join(gap_html(g, template) for g in chunk) or "<p>No gaps: every recurring question has an article.</p>"
        nav = _nav("gaps", pages, page)
        out[page_name("gaps", page)] = _page(f"KB gaps as of {result.as_of[:10]}", head + nav + body + nav)
    return out


_FILTER = """<script>
document.getElementById('q').addEventListener('input', function (e) {
  var q = e.target.value.toLowerCase();
  document.querySelectorAll('tbody.rows tr').forEach(function (tr) {
    tr.hidden = q !== '' && tr.textContent.toLowerCase().indexOf(q) < 0;
  });
});
</script>"""


def appendix_pages(result: MiningResult, template: str | None, gap_page: dict[int, str]) -> dict[str, str]:
    """``{file name: HTML}`` of the unclustered appendix: every uncovered item outside a gap, with its nearest gap."""
    items = result.unclustered_items
    pages = max(1, -(-len(items) // PAGE_ROWS))
    out = {}
    for page in range(1, pages + 1):
        chunk = items[(page - 1) * PAGE_ROWS:page * PAGE_ROWS]
        blocks = []
        for start in range(0, len(chunk), 200):  # row groups the browser lays out only when scrolled to
            rows = "".join(
                f"<tr><td>{ticket_link(u['id'], u['signal'], template)}</td><td>{escape(u['text'])}</td><td>{u['created_at']}</td>"
                + (f'<td><a href="{gap_page[u["nearest_gap"]]}#gap-{u["nearest_gap"]}">gap {u["nearest_gap"]}</a> '
                   f'({u["similarity"]:.2f})</td></tr>' if u["nearest_gap"] else "<td>—</td></tr>")
                for u in chunk[start:start + 200])
            blocks.append(f'<tbody class="rows">{rows}</tbody>')
        nav = _nav("unclustered", pages, page)
        body = (f'<h1>Unclustered: {len(items)} uncovered items in no gap</h1><p><a href="gaps.html">Back to the gaps</a>. '
                f"Each is shown with the nearest gap and its cosine similarity to that gap's centre.</p>"
                f'<p><label>Filter this page: <input id="q" type="search" autocomplete="off"></label></p>{nav}'
                f"<table><thead><tr><th>item</th><th>text (redacted)</th><th>date</th><th>nearest gap</th></tr></thead>"
                f'{"".join(blocks)}</table>{nav}')
        out[page_name("unclustered", page)] = _page("Unclustered items", body, _FILTER)
    return out
