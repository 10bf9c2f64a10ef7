"""Learning from history (issue 17): does `kbsuggest learn` make a KB with history answer better?

    python benchmarks/learning.py [--part stackfaq|sample|few|timing|integreat-CITY ...] [--report]
                                  [--epochs N] [--max-minutes M] [--out var/benchmarks/learning]

Each part builds a KB in a temporary directory with the base model (onnx int8), imports "resolved
tickets" into a fresh service store, runs the very `learn` job the CLI runs (newest 20 % of those tickets
held out for its own switch decision), and scores the base and the adapted model on **test** questions
the job never saw, at 30/50/70/100 % typed:
- ``stackfaq``: the 125 threads + 132 Plausible docs (distractors); half of each thread's queries (every
  other one, in file order) are the tickets, linked to their thread; the other half is the test;
- ``integreat-<city>``: each Integreat city (English) as its own KB, the same half/half split per page;
- ``sample``: articles/ with evaluation/sample_tickets.csv: its answerable tickets in time order,
  every other one a ticket, the rest the test;
- ``few``: StackFAQ with 13 tickets (~50 pairs): the failure mode, which must not switch;
- ``timing``: StackFAQ with all 1,249 queries as tickets (~5,000 pairs): time and peak RSS of `learn`.
Also: training time, model size, and single-query latency (int8, p50/p99 over test prefixes, models
alternated in one process) of the adapted model against the base. Each part runs in its own process
(its peak RSS is its own) and writes ``<out>/<part>.json``; ``--report`` prints the tables from them.
Ticket times are synthetic (a seeded shuffle, one a minute), so the held-out part is a mix of threads.
Caveat: StackFAQ and Integreat questions were written from the page, so they share its wording.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
# This script's folder goes last: first, its name would hide the `learning` package.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "benchmarks"]
sys.path.append(str(REPO / "benchmarks"))

from domain_data import DATA, INTEGREAT_CITIES, Domain, integreat, sample, stackfaq  # noqa: E402
from kbsuggest.domain import Ticket  # noqa: E402

PERCENTS = (30, 50, 70, 100)
OUT = REPO / "var" / "benchmarks" / "learning"
PARTS = ("stackfaq", "sample", "few", "timing", *(f"integreat-{c}" for c in INTEGREAT_CITIES))


def halves(tickets: list[Ticket]) -> tuple[list[Ticket], list[Ticket]]:
    """Every other ticket of each article (in the given order) to train on, the rest to test on."""
    seen: dict[str, int] = {}
    train, test = [], []
    for t in tickets:
        n = seen[t.linked_articles[0]] = seen.get(t.linked_articles[0], -1) + 1
        (train if n % 2 == 0 else test).append(t)
    return train, test


def dated(tickets: list[Ticket], seed: int = 0) -> list[Ticket]:
    """Resolved tickets with synthetic times: a seeded shuffle, one a minute."""
    from dataclasses import replace

    order = list(tickets)
    random.Random(seed).shuffle(order)
    start = dt.datetime(2026, 1, 1)
    return [replace(t, id=f"h{i}", status="solved", created_at=(start + dt.timedelta(minutes=i)).isoformat())
            for i, t in enumerate(order)]


def part_data(part: str) -> tuple[Domain, list[Ticket], list[Ticket]]:
    """(domain, history tickets, test tickets) of a part."""
    if part in ("stackfaq", "few", "timing"):
        domain = stackfaq()
        train, test = halves(domain.answerable)
        if part == "few":
            train = dated(train)[:13]
        elif part == "timing":
            train, test = domain.answerable, test[:200]
        return domain, dated(train), test
    if part == "sample":
        domain = sample()
        ordered = sorted(domain.answerable, key=lambda t: t.created_at or "")
        return domain, [replace_status(t) for t in ordered[0::2]], ordered[1::2]
    city = part.removeprefix("integreat-")
    domain = integreat(city, "en")
    train, test = halves(domain.answerable)
    return domain, dated(train), test


def replace_status(ticket: Ticket) -> Ticket:
    from dataclasses import replace

    return replace(ticket, status="solved")


def latency(suggesters: dict, texts: list[str], rounds: int = 3) -> dict[str, dict[str, float]]:
    """p50/p99 ms of one Suggester.suggest per text, the suggesters alternated text by text."""
    times: dict[str, list[float]] = {name: [] for name in suggesters}
    for s in suggesters.values():
        s.warm_up()
    for _ in range(rounds):
        for text in texts:
            for name, s in suggesters.items():
                started = time.perf_counter()
                s.suggest(text, include_internal=True)
                times[name].append((time.perf_counter() - started) * 1000)
    return {name: {"p50": statistics.median(v), "p99": sorted(v)[int(0.99 * (len(v) - 1))]} for name, v in times.items()}


def run_part(part: str, out: Path, **config) -> dict:
    """``config``: TrainConfig fields from the command line (None: `learn`'s default)."""
    from indexing.build import build_index
    from kbsuggest.config import Settings
    from kbsuggest.embed import make_embedder
    from kbsuggest.embed.models import INT8_FILE, adapted_root, models_dir
    from kbsuggest.kbs.load import load_suggester
    from kbsuggest.store import open_store
    from learning import job
    from learning.heldout import score
    from learning.pairs import Case
    from learning.train import TrainConfig

    domain, history, test = part_data(part)
    base_models = models_dir()
    with tempfile.TemporaryDirectory(prefix=f"learning-{part}-") as tmp:
        work = Path(tmp)
        os.environ["KBSUGGEST_MODELS_DIR"] = str(work / "models")  # adapted models stay in the temporary dir
        (work / "models").mkdir()
        for name in (INT8_FILE, "tokenizer.json"):
            (work / "models" / name).symlink_to(base_models / name)
        domain.write_kb(work / "kb")
        settings = Settings(index_dir=work / "index", db_path=work / "kbsuggest.db", articles_dir=work / "kb",
                            embedder="onnx")
        kb = settings.default_kb()
        started = time.perf_counter()
        build_index(settings.articles_dir, settings, make_embedder(settings), kb)
        index_seconds = time.perf_counter() - started
        store = open_store(settings)
        store.write_tickets("default", history)
        cases = [Case(t.id, t.title, t.linked_articles, "", True) for t in test]
        base = load_suggester(settings, make_embedder(settings), "default", store)
        before = score(base, cases, PERCENTS)
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        result = job.learn(settings, kb, store, TrainConfig.given(**config), say=print)
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu_seconds = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime  # the machine is shared: wall time is not ours
        adapted_embedder = make_embedder(settings, result.model, "default")
        if result.verdict.switch:
            adapted = load_suggester(settings, adapted_embedder, "default", store)
        else:
            adapted = job.aside_suggester(settings, kb, settings.articles_dir, adapted_embedder)
        after = score(adapted, cases, PERCENTS)
        texts = [c.text[:max(3, len(c.text) // 2)] for c in cases][:150]
        timing = latency({"base": base, "adapted": adapted}, texts)
        row = {
            "part": part, "kb": domain.note, "history_tickets": len(history), "test_questions": len(cases),
            "train_pairs": len(result.prepared.split.train), "held_out": result.before.n,
            "switched": result.verdict.switch, "reason": result.verdict.reason,
            "learn_held_out": {"before": result.before.figures, "after": result.after.figures},
            "test": {"before": before.figures, "after": after.figures},
            "training_seconds": round(result.training.seconds, 1), "steps": result.training.steps,
            "seconds_per_step": round(result.training.seconds_per_step, 2), "learn_seconds": round(result.seconds, 1),
            "learn_cpu_seconds": round(cpu_seconds, 1), "index_seconds": round(index_seconds, 1), "peak_rss_mb": round(job.peak_rss_mb()),
            "agreement": result.training.agreement, "latency_ms": timing,
            "model_mb": {"base": round((base_models / INT8_FILE).stat().st_size / 1e6, 1),
                         "adapted": round((adapted_root() / result.model / INT8_FILE).stat().st_size / 1e6, 1)},
            "load_average": os.getloadavg(),
        }
        store.close()
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{part}.json").write_text(json.dumps(row, indent=2) + "\n")
    return row


def report(out: Path) -> None:
    rows = [json.loads((out / f"{p}.json").read_text()) for p in PARTS if (out / f"{p}.json").is_file()]
    print("\nTest questions (never trained on), hit@3 at 30/50/70/100 % typed, base -> adapted; hit@1 and MRR full:")
    print("| part | history | pairs | test | hit@3 30% | 50% | 70% | 100% | hit@1 | MRR | switched (learn's held-out) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        b, a = r["test"]["before"], r["test"]["after"]
        cells = [f"{b[f'hit@3_{p}']:.3f} -> {a[f'hit@3_{p}']:.3f}" for p in PERCENTS]
        print(f"| {r['part']} | {r['history_tickets']} | {r['train_pairs']} | {r['test_questions']} | "
              + " | ".join(cells) + f" | {b['hit@1_100']:.3f} -> {a['hit@1_100']:.3f} | {b['mrr_100']:.3f} -> "
              f"{a['mrr_100']:.3f} | {'yes' if r['switched'] else 'no'}: {r['reason']} |")
    print("\n| part | steps | training s | s/step | learn s (CPU s) | peak RSS MB | model MB base/adapted | p50 ms base/adapted |"
          " p99 ms base/adapted | ONNX vs torch cosine | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lat = r["latency_ms"]
        print(f"| {r['part']} | {r['steps']} | {r['training_seconds']} | {r['seconds_per_step']} | {r['learn_seconds']} ({r.get('learn_cpu_seconds', '-')}) | "
              f"{r['peak_rss_mb']} | {r['model_mb']['base']}/{r['model_mb']['adapted']} | "
              f"{lat['base']['p50']:.2f}/{lat['adapted']['p50']:.2f} | {lat['base']['p99']:.2f}/{lat['adapted']['p99']:.2f} | "
              + ", ".join(f"{v:.4f}" for v in r["agreement"].values())
              + f" | {', '.join(f'{x:.1f}' for x in r['load_average'])} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", action="append", choices=PARTS, help="Parts to run (default: all).")
    parser.add_argument("--epochs", type=int, help="Passes over the pairs (default: learn's).")
    parser.add_argument("--max-minutes", type=float, help="learn's training budget (default: learn's).")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--report", action="store_true", help="Only print the tables of the parts already run.")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (DATA / "stackfaq").is_dir():
        print(f"skipped: {DATA} is absent")
        return 0
    if not args.report:
        parts = args.part or list(PARTS)
        if args.in_process:
            for part in parts:
                run_part(part, args.out, epochs=args.epochs, max_minutes=args.max_minutes)
        else:
            passed = [x for flag, v in (("--epochs", args.epochs), ("--max-minutes", args.max_minutes)) if v is not None
                      for x in (flag, str(v))]
            for part in parts:  # one process each: its peak RSS is its own
                subprocess.run([sys.executable, __file__, "--in-process", "--part", part, *passed, "--out", str(args.out)],
                               check=True)
    report(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
