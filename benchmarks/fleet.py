"""A fleet on one machine: two `kbsuggest serve` replicas sharing PostgreSQL (a fresh database) and one index
directory, and the checks of issue 19:

- widget events sent to both replicas land once each;
- an admin PUT on replica A is served by replica B within 5 s (LISTEN/NOTIFY; polling is the fallback);
- SIGKILL of replica A in the middle of an event load loses no acknowledged event, and B keeps answering;
- 0 failed requests during a publication (`kbsuggest index`) under an open-loop 100 requests/s on both;
- load across both replicas with the project's typists (benchmarks/http_load.py): throughput and p99.

    python benchmarks/fleet.py [--seconds 20] [--embedder onnx]

tests/test_fleet.py runs the same checks, shorter, with the hash embedder.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_load import free_port, start_server, stop_server, typists_in_subprocess  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("KBSUGGEST_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_KEY, AGENT_KEY = "fleet-admin-key", "fleet-agent-key"
CLI = [sys.executable, "-c", "from kbsuggest.cli import main; main()"]


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(sql)


class Fleet:
    """Replicas of one service: a fresh PostgreSQL database, one index directory, one KB folder."""

    def __init__(self, articles: Path, embedder: str = "hash", replicas: int = 2, env: dict | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kbsuggest-fleet-"))
        self.database = f"kbsuggest_fleet_{uuid.uuid4().hex[:12]}"
        base = POSTGRES.rsplit("/", 1)[0]
        self.url = f"{base}/{self.database}"
        shutil.copytree(articles, self.dir / "kb")
        self.env = {"KBSUGGEST_DATABASE_URL": self.url, "KBSUGGEST_INDEX_DIR": str(self.dir / "index"),
                    "KBSUGGEST_ARTICLES_DIR": str(self.dir / "kb"), "KBSUGGEST_EMBEDDER": embedder,
                    "KBSUGGEST_ADMIN_API_KEYS": ADMIN_KEY, "KBSUGGEST_AGENT_API_KEYS": AGENT_KEY,
                    "KBSUGGEST_RATE_LIMIT_PER_SECOND": "0", "KBSUGGEST_MIN_SCORE": "0.01", "HF_HUB_OFFLINE": "1",
                    "KBSUGGEST_DB_PATH": str(self.dir / "unused.db"), **(env or {})}
        self.count = replicas
        self.processes: list[subprocess.Popen | None] = []
        self.ports: list[int] = []

    def __enter__(self) -> "Fleet":
        _admin_sql(f"CREATE DATABASE {self.database}")
        self.index()
        for i in range(self.count):
            port = free_port()
            self.ports.append(port)
            self.processes.append(start_server(CLI + ["serve", "--port", str(port)], port, self.replica_env(i)))
        return self

    def replica_env(self, i: int) -> dict:
        """The environment of replica ``i`` (benchmarks/fleet_s3.py gives each its own index directory)."""
        return self.env

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                stop_server(process)
        _admin_sql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        shutil.rmtree(self.dir, ignore_errors=True)

    def base(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports[i]}"

    def index(self) -> str:
        """`kbsuggest index` of the KB folder (publishes a new version and announces it); its version."""
        out = subprocess.run(CLI + ["index", str(self.dir / "kb")], env={**os.environ, **self.env},
                             capture_output=True, text=True, check=True).stdout
        return re.search(r"into KB \S+ \((v\d+),", out).group(1)  # "... into KB default (v000002, /path)"

    def kill(self, i: int) -> None:
        self.processes[i].send_signal(signal.SIGKILL)
        self.processes[i].wait()

    def events_by_session(self) -> Counter:
        import psycopg

        with psycopg.connect(self.url) as conn:
            return Counter(dict(conn.execute("SELECT session_id, count(*) FROM events GROUP BY session_id").fetchall()))


def event_batch(session: str, n: int = 3) -> dict:
    now = int(time.time() * 1000)
    shown = {"type": "suggestions_shown", "query": "reset password", "mode": "form", "at": now,
             "suggestions": [{"article_id": "password-reset", "position": 1, "score": 0.5}]}
    return {"session_id": session, "sent_at": now, "events": [shown] * n}


def events_land_once(fleet: Fleet, per_replica: int = 20) -> dict:
    sent = {}
    for i in range(fleet.count):
        with httpx.Client(base_url=fleet.base(i)) as client:
            for j in range(per_replica):
                session = f"once-{i}-{j:04d}"
                response = client.post("/v1/events", json=event_batch(session))
                sent[session] = 3 if response.status_code == 202 else 0
    stored = fleet.events_by_session()
    return {"sent_batches": len(sent), "acknowledged": sum(1 for v in sent.values() if v),
            "stored_as_sent": sum(1 for s, n in sent.items() if stored.get(s) == n), "stray": sum(stored.values()) - sum(sent.values())}


def put_visible_elsewhere(fleet: Fleet, word: str = "quokkazeppelin", timeout: float = 30) -> dict:
    """PUT an article on replica 0; seconds until replica 1 suggests it."""
    text = f"---\ntitle: Configure the {word} gadget\naudience: public\n---\nThe {word} gadget is configured here.\n"
    with httpx.Client(timeout=120) as client:
        put = client.put(f"{fleet.base(0)}/v1/admin/articles/{word}", content=text.encode(),
                         headers={"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "text/markdown"})
        put.raise_for_status()
        acknowledged = time.perf_counter()
        while time.perf_counter() - acknowledged < timeout:
            found = client.get(f"{fleet.base(1)}/v1/suggest", params={"q": f"{word} gadget"}).json()
            if any(s["article_id"] == word for s in found["suggestions"]):
                return {"version": put.json()["version"], "seconds": round(time.perf_counter() - acknowledged, 3)}
            time.sleep(0.05)
    return {"version": put.json()["version"], "seconds": None}


def open_loop(bases: list[str], rate: float, stop: threading.Event, statuses: Counter, errors: list,
              workers: int = 8) -> list[threading.Thread]:
    """One GET /v1/suggest every 1/rate s, alternating between ``bases``, handed to ``workers`` threads."""
    todo: queue.Queue = queue.Queue()
    queries = ["reset my password", "refund", "sso login fails", "webhook signature", "export csv"]

    def worker():
        with httpx.Client(timeout=30) as client:
            while (item := todo.get()) is not None:
                try:
                    r = client.get(f"{bases[item % len(bases)]}/v1/suggest", params={"q": queries[item % len(queries)]})
                    statuses[r.status_code] += 1
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))

    def ticker():
        started = time.perf_counter()
        for n in itertools.count():
            if stop.is_set():
                break
            time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            todo.put(n)
        for _ in range(workers):
            todo.put(None)

    threads = [threading.Thread(target=worker) for _ in range(workers)] + [threading.Thread(target=ticker)]
    for thread in threads:
        thread.start()
    return threads


def publication_under_load(fleet: Fleet, rate: float = 100, settle: float = 1.0) -> dict:
    stop, statuses, errors = threading.Event(), Counter(), []
    threads = open_loop([fleet.base(i) for i in range(fleet.count)], rate, stop, statuses, errors)
    time.sleep(settle)
    version = fleet.index()
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and not all(_served(fleet, i) == version for i in range(fleet.count)):
        time.sleep(0.1)
    time.sleep(settle)
    stop.set()
    for thread in threads:
        thread.join()
    return {"version": version, "served": [_served(fleet, i) for i in range(fleet.count)],
            "requests": sum(statuses.values()) + len(errors),
            "failed": sum(n for s, n in statuses.items() if s != 200) + len(errors)}


def _served(fleet: Fleet, i: int) -> str | None:
    kbs = httpx.get(f"{fleet.base(i)}/readyz").json()["kbs"]
    return next((kb["version"] for kb in kbs if kb["name"] == "default"), None)


def kill_mid_load(fleet: Fleet, seconds: float = 3.0, senders: int = 4) -> dict:
    """Event batches to replica 0 and 1 from ``senders`` threads each; replica 0 is SIGKILLed half way."""
    acknowledged, b_failures, stop = [], [], threading.Event()

    def send(i: int, k: int):
        with httpx.Client(base_url=fleet.base(i), timeout=10) as client:
            for j in itertools.count():
                if stop.is_set():
                    return
                session = f"kill-{i}-{k}-{j:05d}"
                try:
                    if client.post("/v1/events", json=event_batch(session)).status_code == 202:
                        acknowledged.append(session)
                    elif i == 1:
                        b_failures.append(session)
                except httpx.HTTPError:
                    if i == 1:
                        b_failures.append(session)
                    elif fleet.processes[0].poll() is not None:
                        return

    threads = [threading.Thread(target=send, args=(i, k)) for i in range(fleet.count) for k in range(senders)]
    for thread in threads:
        thread.start()
    time.sleep(seconds / 2)
    fleet.kill(0)
    time.sleep(seconds / 2)
    stop.set()
    for thread in threads:
        thread.join()
    stored = fleet.events_by_session()
    lost = [s for s in acknowledged if stored.get(s) != 3]
    return {"acknowledged": len(acknowledged), "acknowledged_by_a": sum(s.startswith("kill-0") for s in acknowledged),
            "lost": len(lost), "b_failures": len(b_failures), "b_ready_after": httpx.get(f"{fleet.base(1)}/readyz").status_code}


def load_both(fleet: Fleet, seconds: float, typists: int) -> dict:
    titles = ["reset my password", "refund for a double charge", "sso login fails with okta", "export to csv is empty",
              "webhook signature does not verify", "api rate limits", "invite a teammate", "change billing email"]
    results = [None] * fleet.count

    def run(i):
        results[i] = typists_in_subprocess(fleet.ports[i], titles, typists, seconds, paced=False)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(fleet.count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = sorted(x for r in results for x in r["latencies"])
    return {"requests": len(latencies), "errors": sum(r["errors"] for r in results),
            "throughput": round(sum(r["throughput"] for r in results), 1),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="Length of the load run.")
    parser.add_argument("--typists", type=int, default=8, help="Unpaced typists per replica.")
    parser.add_argument("--embedder", default="hash", help="hash (no model) or onnx (KBSUGGEST_MODELS_DIR).")
    parser.add_argument("--articles", type=Path, default=REPO / "articles", help="The KB folder to serve.")
    args = parser.parse_args()
    with Fleet(args.articles, args.embedder) as fleet:
        figures = {"events_land_once": events_land_once(fleet),
                   "put_on_a_served_by_b": put_visible_elsewhere(fleet),
                   "publication_under_100_rps": publication_under_load(fleet, settle=3.0),
                   "load_both_replicas": load_both(fleet, args.seconds, args.typists),
                   "sigkill_a_mid_load": kill_mid_load(fleet, seconds=6.0)}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
