"""Markdown tables of benchmarks/domains.py's report (the dict it also writes as JSON)."""

from __future__ import annotations

from collections.abc import Sequence

from evaluation.replay import PERCENTS

BAR_MARGIN = {30: 0.05, 50: 0.05, 100: 0.03}  # what kbsuggest must beat the strongest peer by
SHIPPED_NOTE = ("`kbsuggest shipped` is what a customer gets: the per-KB calibration `kbsuggest index` fits with no "
                "labels (learning/coldstart.py: the KB's own pseudo-queries and packaged off-topic text refit the "
                "feature weights, then give the score scale and the form and chat thresholds), here from feature "
                "weights fitted on the other domains only, so every shipped row is held out. A chat row is judged on "
                "whole messages. The `bound` rows fit the form threshold on the held-out domain's own unanswerable "
                "queries (all of them; then its project and BANKING77 ones only): not shippable, the best a label-free "
                "threshold could do at that false-suggestion rate. `per-KB, packaged weights (as indexed)` is the same on the packaged "
                "weights (`fit_calibration.py --domains`: fitted on every domain here, so no row of it is held out). `packaged "
                "calibration @{t:g}` is those weights with their threshold and no per-KB fit (one calibration and "
                "threshold for every KB, `KBSUGGEST_CALIBRATION=packaged`). `held-out fit` rows "
                "are fitted (weights, scale and threshold) on the other domains' labelled queries. Peers rank whole articles and have no threshold: they show "
                "something whenever a word matches, so their false-suggestion rate is what they show on unanswerable "
                "queries (1.0 when every query matches something). Peers: `bm25` is bm25s over whole articles with "
                "English stop words and `dense` one embedding per whole article with the same model "
                "(evaluation/baselines.py); `tantivy` is configured for type-ahead (benchmarks/peers.py: last word "
                "as a prefix, fuzzy from 5 characters, stemming and stop words in the KB's language); `txtai-hybrid` "
                "is txtai's Embeddings(hybrid=True, content=True) on the same vectors, default weights.")


def _f(value) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(_f(v) for v in row) + " |" for row in rows)]


def domain_tables(name: str, d: dict) -> list[str]:
    fold = d["fold"]
    unanswerable = ", ".join(f"{s} {n}" for s, n in d["unanswerable"].items())
    lines = [f"### {name}", "",
             f"{d['note']}; {d['articles']} articles, {d['chunks']} chunks; {d['answerable']} answerable queries"
             + (f" ({len(d['skipped'])} skipped: article not public)" if d["skipped"] else "")
             + f"; unanswerable: {unanswerable}.",
             f"Held-out fit: trained on {', '.join(fold['train'])} ({fold['fit_queries']} queries); weights "
             f"{fold['coef']}, intercept {fold['intercept']}; threshold {fold['threshold']:.3f} ({fold['threshold_note']}).",
             *(f"Per-KB cold start ({label}): slope {c.get('slope')}, offset {c.get('offset')}, thresholds "
               f"{c.get('thresholds')}, from {c.get('pseudo_queries')} pseudo-queries and {c.get('offtopic_texts')} "
               f"off-topic texts." for label, c in d.get("per_kb", {}).items()),
             ""]
    if d["peers_not_run"]:
        lines += [f"Peers not run: {'; '.join(f'{k}: {v}' for k, v in d['peers_not_run'].items())}", ""]
    header = ["system", *(f"{m}@{p}%" for m in ("hit@1", "hit@3", "MRR") for p in PERCENTS)]
    rows = [[_label(system, s), *(s[f"{m}_{p}"] for m in ("hit@1", "hit@3", "mrr") for p in PERCENTS)]
            for system, s in d["systems"].items()]
    lines += _table(header, rows) + [""]
    sources = list(d["unanswerable"])
    header = ["system", "nothing shown ≤50%", "nothing shown 100%", *(f"false: {s}" for s in sources), "false: all",
              "ECE (n shown)"]
    rows = [[_label(system, s), s["nothing_50"], s["nothing_100"], *(s["false"].get(x) for x in sources), s["false"]["all"],
             f"{s['ece']:.3f} ({s['ece_n']})" if s.get("ece") is not None else "–"]
            for system, s in d["systems"].items()]
    return lines + _table(header, rows) + [""]


def _label(system: str, s: dict) -> str:
    return f"{system} ({s['threshold']:.3f})" if system.endswith("@fitted") else system


def bar_of(domain: dict, percent: int) -> tuple[str, float, float] | None:
    """A domain's (strongest peer by hit@3 at ``percent`` typed, its hit@3, the bar); None without peers."""
    peers = {n: domain["systems"][n] for n in domain["roles"]["peers"]}
    if not peers:
        return None
    key = f"hit@3_{percent}"
    best = max(peers, key=lambda n: peers[n][key] or 0.0)
    return best, peers[best][key], round(peers[best][key] + BAR_MARGIN[percent], 4)


def bars(report: dict) -> list[list]:
    """Per domain and share typed: the strongest peer by hit@3, the bar, and kbsuggest against it."""
    rows = []
    for name, d in report["domains"].items():
        systems, roles = d["systems"], d["roles"]
        if not roles["peers"]:
            continue
        fitted, unthresholded, shipped = (systems[roles[r]] for r in ("held_out", "@0", "form"))
        for p in BAR_MARGIN:
            key = f"hit@3_{p}"
            best, value, bar = bar_of(d, p)
            rows.append([name, f"{p}%", f"{best} {value:.3f}", bar,
                         *(f"{s[key]:.3f} {'✓' if s[key] >= bar else '✗'}" for s in (fitted, unthresholded, shipped))])
    return rows


def targets(report: dict) -> list[list]:
    """Per domain, the issue's targets at shipped defaults: nothing shown, false suggestions, ECE."""
    rows = []
    for name, d in report["domains"].items():
        form, chat = (d["systems"][d["roles"][r]] for r in ("form", "chat"))
        rows.append([name, form["threshold"], chat["threshold"], form["nothing_50"], form["false"]["all"],
                     chat["false"]["all"], chat.get("precision"), chat["hit@3_100"], form.get("ece"), chat.get("ece")])
    return rows


def means(report: dict) -> list[list]:
    """hit@3 at 30/50/100% per system, averaged over the domains (each domain weighs the same)."""
    systems: dict[str, list[dict]] = {}
    for d in report["domains"].values():
        for name, s in d["systems"].items():
            systems.setdefault(name, []).append(s)
    n = len(report["domains"])
    return [[name, len(rows), *(round(sum(s[f"hit@3_{p}"] for s in rows) / len(rows), 4) for p in (30, 50, 100))]
            for name, rows in systems.items() if len(rows) == n]


def print_report(report: dict) -> None:
    config = report["config"]
    print(f"# Leave-one-domain-out suggestion quality ({config['model']}{', --quick' if config['quick'] else ''})\n")
    print(SHIPPED_NOTE.format(t=config["packaged_min_score"]) + "\n")
    for name, d in report["domains"].items():
        print("\n".join(domain_tables(name, d)))
    print("## The bar: strongest peer by hit@3 (+0.05 at 30/50%, +0.03 at 100%)\n")
    print("\n".join(_table(["domain", "typed", "strongest peer", "bar", "held-out fit @fitted", "shipped @0",
                            "shipped form"], bars(report))))
    print("\n## Targets at shipped defaults (nothing shown ≤50% ≤ 0.15; false form ≤ 0.20, chat ≤ 0.10; ECE ≤ 0.08)\n")
    print("\n".join(_table(["domain", "form threshold", "chat threshold", "nothing shown ≤50% (form)",
                            "false: all (form)", "false: all (chat)", "chat precision (cards)", "chat hit@3@100%",
                            "ECE form", "ECE chat"], targets(report))))
    print("\n## hit@3 averaged over the domains\n")
    print("\n".join(_table(["system", "domains", "hit@3@30%", "hit@3@50%", "hit@3@100%"], means(report))))
    seconds = report["seconds"]
    print(f"\ntime: {seconds['total']} s in all; embeddings: {report['embeddings']['embedded_now']} texts embedded, "
          f"{report['embeddings']['cached_before']} read from the cache")
