"""Soak test: a real `kbsuggest serve` under mixed suggest + events traffic at a steady rate.

    python benchmarks/soak.py                  # 10 minutes at 200 requests/s (the issue's target)
    python benchmarks/soak.py --minutes 1      # a short run while developing

It indexes a KB into a temporary directory, starts the server on a free localhost port, sends an
open-loop stream of requests (typed ticket-title prefixes on GET /v1/suggest, chat messages on POST,
and widget event batches on POST /v1/events), samples the server's RSS every second, and prints:
requests, achieved rate, errors, latency p50/p99, RSS after warm-up, at the end and at its peak.
Targets: zero errors and RSS growth under 10% from the end of warm-up (the first 10% of the run, at
most a minute) to the end. Exit status 1 when a target is missed.

The default embedder is `onnx`, the serving default (its models come from `kbsuggest models export`,
which `make run`/`make test` run); `--embedder hash` soaks the service without the model.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from http_load import free_port, kbsuggest_server, rss_mb, start_server, stop_server

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from kbsuggest.cli import main; main()"]
TITLES = [
    "I forgot my password", "SSO login failing with SAML error", "exported CSV is empty", "refund for annual plan",
    "API rate limit exceeded 429", "two factor code not accepted", "webhook signature invalid",
    "invoice address wrong", "charged twice this month", "mobile app does not sync", "change my email address",
    "Passwort vergessen", "cancel my subscription", "dashboard loads slowly", "invite a teammate",
]
ARTICLES = ["password-reset", "sso-saml-login-failing", "billing-refunds"]
MESSAGES = [f"Hi, {t.lower()} since yesterday and I need help, what should I do?" for t in TITLES]


def event_batch(rng: random.Random) -> dict:
    """A batch like the widget's: suggestions shown for a typed title, then an article opened with
    feedback, or a ticket filed. A new session id each time, so the events table grows as in production."""
    now = int(time.time() * 1000)
    title = rng.choice(TITLES)
    shown = [{"article_id": article, "position": i + 1, "score": 0.5} for i, article in enumerate(ARTICLES[:3])]
    events = [{"type": "suggestions_shown", "at": now, "mode": "form", "query": title, "suggestions": shown}]
    if rng.random() < 0.5:
        events += [{"type": "article_opened", "at": now + 1, "query": title, "article_id": ARTICLES[0], "position": 1},
                   {"type": "feedback", "at": now + 2, "query": title, "article_id": ARTICLES[0], "position": 1,
                    "helpful": rng.random() < 0.7}]
    else:
        events.append({"type": "ticket_submitted", "at": now + 1, "title": title, "suggestion_opened": False})
    return {"session_id": f"soak-{rng.getrandbits(48):012x}", "sent_at": now + 3, "events": events}


class Traffic:
    def __init__(self, port: int, seed: int = 7) -> None:
        self.port = port
        self.random = random.Random(seed)
        self.statuses: Counter = Counter()
        self.errors: Counter = Counter()
        self.latencies: list[float] = []
        self.lock = threading.Lock()

    def request(self) -> tuple[str, str, bytes | None]:
        roll = self.random.random()
        if roll < 0.2:
            return "POST", "/v1/events", json.dumps(event_batch(self.random)).encode()
        if roll < 0.3:
            return "POST", "/v1/suggest", json.dumps({"query": self.random.choice(MESSAGES)}).encode()
        title = self.random.choice(TITLES)
        return "GET", "/v1/suggest?" + urlencode({"q": title[: self.random.randint(3, len(title))]}), None

    def worker(self, todo: queue.Queue) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while (item := todo.get()) is not None:
            method, path, body = item
            started = time.perf_counter()
            try:
                conn.request(method, path, body, {"Content-Type": "application/json"} if body else {})
                response = conn.getresponse()
                response.read()
                outcome = response.status
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            took = time.perf_counter() - started
            with self.lock:
                if isinstance(outcome, int) and outcome < 400:
                    self.statuses[outcome] += 1
                    self.latencies.append(took)
                else:
                    self.errors[f"{method} {path.split('?')[0]} -> {outcome}"] += 1
        conn.close()


def start_soaked_server(args, workdir: Path) -> tuple[subprocess.Popen, int]:
    env = {"HF_HUB_OFFLINE": "1", "KBSUGGEST_INDEX_DIR": str(workdir / "index"),
           "KBSUGGEST_DB_PATH": str(workdir / "kbsuggest.db"), "KBSUGGEST_EMBEDDER": args.embedder,
           # one client sends everything: keep the limiter in the path but far above the soak's rate
           "KBSUGGEST_RATE_LIMIT_PER_SECOND": str(args.rate * 10), "KBSUGGEST_RATE_LIMIT_BURST": str(args.rate * 10)}
    subprocess.run([*CLI, "index", str(args.articles)], env={**os.environ, **env}, check=True,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    try:
        return start_server(kbsuggest_server(port), port, env), port
    except RuntimeError as exc:
        sys.exit(str(exc))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=200, help="requests per second (open loop)")
    parser.add_argument("--workers", type=int, default=16, help="client connections")
    parser.add_argument("--embedder", default="onnx", help="embedding backend of the server (onnx, hash, ...)")
    parser.add_argument("--articles", type=Path, default=REPO / "articles")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kbsuggest-soak-") as tmp:
        server, port = start_soaked_server(args, Path(tmp))
        try:
            traffic = Traffic(port)
            seconds = args.minutes * 60
            warmup = min(60.0, seconds / 10)
            todo: queue.Queue = queue.Queue()
            workers = [threading.Thread(target=traffic.worker, args=(todo,)) for _ in range(args.workers)]
            for w in workers:
                w.start()
            samples: list[tuple[float, float]] = []
            start = time.perf_counter()
            next_sample, sent, behind = start, 0, 0
            while (now := time.perf_counter()) - start < seconds:
                if now >= next_sample:
                    samples.append((now - start, rss_mb(server.pid)))
                    next_sample += 1.0
                due = int((now - start) * args.rate)
                behind = max(behind, todo.qsize())
                for _ in range(due - sent):
                    todo.put(traffic.request())
                sent = max(sent, due)
                time.sleep(0.002)
            for _ in workers:
                todo.put(None)
            for w in workers:
                w.join()
            elapsed = time.perf_counter() - start
            samples.append((elapsed, rss_mb(server.pid)))
        finally:
            stop_server(server)

    ok = sum(traffic.statuses.values())
    errors = sum(traffic.errors.values())
    baseline = next(rss for t, rss in samples if t >= warmup)
    final, peak = samples[-1][1], max(rss for _, rss in samples)
    growth = (final - baseline) / baseline * 100
    lat = sorted(traffic.latencies)
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99 = lat[int(0.99 * (len(lat) - 1))] * 1000 if lat else float("nan")
    print(f"soak: {args.minutes:g} min at {args.rate} req/s target, embedder {args.embedder}, {args.workers} connections")
    print(f"requests   {ok + errors} sent in {elapsed:.0f} s = {(ok + errors) / elapsed:.1f} req/s "
          f"(largest backlog {behind}); statuses {dict(sorted(traffic.statuses.items()))}")
    print(f"errors     {errors}" + "".join(f"\n  {n} x {kind}" for kind, n in traffic.errors.most_common(10)))
    print(f"latency    p50 {p50:.1f} ms, p99 {p99:.1f} ms (client side, localhost)")
    print(f"server RSS {baseline:.1f} MB after {warmup:.0f} s warm-up, {final:.1f} MB at the end "
          f"({growth:+.1f}%), peak {peak:.1f} MB")
    met = errors == 0 and growth < 10
    print(f"targets    zero errors: {'met' if errors == 0 else 'MISSED'}; "
          f"RSS growth < 10%: {'met' if growth < 10 else 'MISSED'} ({growth:+.1f}%)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
