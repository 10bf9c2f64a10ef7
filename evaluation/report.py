"""Report writers: report.md, a self-contained report.html (inline SVG charts) and metrics.json.

Both documents render the same tables, built once from the metrics dict.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from evaluation.charts import histogram, line_chart
from evaluation.replay import PERCENTS

Table = tuple[str, list[str], list[list[str]]]  # (heading, header, rows)


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def with_ci(stat: dict | None) -> str:
    if not stat or stat.get("value") is None:
        return "—"
    return f"{fmt(stat['value'])} ({fmt(stat['ci'][0])}–{fmt(stat['ci'][1])})"


def _at(system: dict, which: str) -> tuple[str, str, str, str]:
    point = system["threshold"][f"at_{which}"]
    if point is None:
        return "—", "—", "—", "—"
    return (fmt(point["threshold"]), fmt(point["deflection"]["micro"]["value"]),
            fmt(point["false_suggestion"]["value"]), fmt(point["precision"]))


def summary_rows(metrics: dict) -> list[list[str]]:
    """One row per system: the headline table of the report and of the README."""
    rows = []
    for name, system in metrics["systems"].items():
        ranking = system["ranking"]
        rows.append([name, *(fmt(ranking[f"hit@3_{p}"]["micro"]["value"]) for p in PERCENTS),
                     fmt(ranking["hit@1"]["micro"]["value"]), fmt(ranking["mrr"]["micro"]["value"]),
                     fmt(system["chars_to_first_hit"]["median"], 0), *_at(system, "recommended")])
    return rows


SUMMARY_HEADER = ["system", *(f"hit@3 {p}%" for p in PERCENTS), "hit@1", "MRR@10", "median chars to hit",
                  "threshold", "deflection", "false sugg.", "precision"]


def tables(metrics: dict) -> list[Table]:
    config, tickets, systems = metrics["config"], metrics["tickets"], metrics["systems"]
    out: list[Table] = [
        ("Run", ["setting", "value"], [[k, fmt(v)] for k, v in {**config, **tickets}.items()]),
        (f"Summary (micro averages; deflection, false suggestions and precision at the threshold recommended "
         f"for precision ≥ {config['target_precision']} and false suggestions ≤ {config['max_false_rate']})",
         SUMMARY_HEADER, summary_rows(metrics)),
        ("At the configured threshold (cosine systems)", ["system", "threshold", "deflection", "false sugg.", "precision"],
         [[name, *_at(s, "configured")] for name, s in systems.items() if s["threshold"]["configured"] is not None]),
    ]
    detail = []
    for name, system in systems.items():
        for key, stat in system["ranking"].items():
            detail.append([name, key, with_ci(stat["micro"]), with_ci(stat["macro"])])
        for which in ("configured", "recommended"):
            point = system["threshold"][f"at_{which}"]
            if point:
                detail.append([name, f"deflection @ {which} {fmt(point['threshold'])}",
                               with_ci(point["deflection"]["micro"]), with_ci(point["deflection"]["macro"])])
                detail.append([name, f"false suggestions @ {which} {fmt(point['threshold'])}",
                               with_ci(point["false_suggestion"]), "—"])
        chars = system["chars_to_first_hit"]
        detail.append([name, f"chars to first top-3 hit (never: {chars['never']})", with_ci(chars["mean"]), "—"])
    out.append(("Every metric with its 95% bootstrap interval", ["system", "metric", "micro", "macro (per article)"], detail))
    return out


def to_markdown(table: Table) -> str:
    heading, header, rows = table
    lines = [f"## {heading}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def to_html(table: Table) -> str:
    heading, header, rows = table
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<h2>{escape(heading)}</h2><table><tr>{head}</tr>{body}</table>"


def charts(metrics: dict) -> list[str]:
    systems = metrics["systems"]
    typed = line_chart({n: [(p / 100, v) for p, v in s["typed_curve"]] for n, s in systems.items()},
                       "hit@3 vs share of the title typed", "share of the title typed", "hit@3")
    has_false = metrics["tickets"]["unanswerable"] > 0
    curves, marks = {}, {}
    for name, system in systems.items():
        points = system["threshold"]["curve"]
        key = "false_suggestion" if has_false else "threshold"
        curves[name] = sorted((p[key], p["deflection"]) for p in points)
        rec = system["threshold"]["at_recommended"]
        if rec and (not has_false or rec["false_suggestion"]["value"] is not None):
            x = rec["false_suggestion"]["value"] if has_false else rec["threshold"]
            marks[f"{name} {fmt(rec['threshold'])}"] = (x, rec["deflection"]["micro"]["value"])
    x_max = 1.0 if has_false else max([x for c in curves.values() for x, _ in c] + [1.0])
    threshold = line_chart(curves, "threshold curve", "false-suggestion rate" if has_false else "threshold",
                           "potential deflection rate", x_range=(0.0, x_max), marks=marks)
    first = systems["kbsuggest"]["chars_to_first_hit"]["values"]
    hist = histogram(first, "characters typed until the right article is in the top 3 (kbsuggest)", "characters typed")
    return [typed, threshold, hist]


STYLE = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
         "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:14px}"
         "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f4f4f4}"
         "figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figcaption{font-size:13px;max-width:520px}")


def write_reports(metrics: dict, out: Path, notes: list[str]) -> list[Path]:
    """Write the three files into ``out``; ``notes`` (bad rows, skipped tickets) go into both documents."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    built = tables(metrics)
    title = f"kbsuggest deflection evaluation: {metrics['config']['tickets']}"
    note_md = "".join(f"- {n}\n" for n in notes)
    (out / "report.md").write_text(
        f"# {title}\n\n" + "\n".join(to_markdown(t) for t in built)
        + (f"\n## Skipped input\n\n{note_md}" if notes else ""), encoding="utf-8")
    captions = ("hit@3 vs share of the title typed", "Threshold curve: deflection against false suggestions "
                "(dots: recommended thresholds)", "Characters typed until the right article is in the top 3 (kbsuggest)")
    figures = "".join(f"<figure>{svg}<figcaption>{escape(c)}</figcaption></figure>"
                      for svg, c in zip(charts(metrics), captions))
    note_html = "<h2>Skipped input</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>" if notes else ""
    (out / "report.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{figures}"
        + "".join(to_html(t) for t in built) + note_html + "</body></html>\n", encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return [out / "report.md", out / "report.html", out / "metrics.json"]


def compare_table(runs: list[dict]) -> str:
    """Runs side by side (kbsuggest's figures), one column per run, as Markdown."""
    def system(run):
        return run["metrics"]["systems"]["kbsuggest"]

    rows = [
        ("created", lambda r: r["created_at"]), ("tickets", lambda r: r["tickets"]), ("model", lambda r: r["model"]),
        ("articles hash", lambda r: r["articles_hash"][:10]), ("min_score", lambda r: fmt(r["min_score"])),
        *((f"hit@3 {p}%", lambda r, p=p: fmt(system(r)["ranking"][f"hit@3_{p}"]["micro"]["value"])) for p in PERCENTS),
        ("hit@1", lambda r: fmt(system(r)["ranking"]["hit@1"]["micro"]["value"])),
        ("MRR@10", lambda r: fmt(system(r)["ranking"]["mrr"]["micro"]["value"])),
        ("deflection @ configured", lambda r: _at(system(r), "configured")[1]),
        ("false sugg. @ configured", lambda r: _at(system(r), "configured")[2]),
        ("recommended threshold", lambda r: _at(system(r), "recommended")[0]),
        ("deflection @ recommended", lambda r: _at(system(r), "recommended")[1]),
        ("false sugg. @ recommended", lambda r: _at(system(r), "recommended")[2]),
        ("seconds", lambda r: fmt(r["seconds"], 1)),
    ]
    header = ["run"] + [f"#{r['id']}" for r in runs]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([label] + [get(r) for r in runs]) + " |" for label, get in rows]
    return "\n".join(lines)
