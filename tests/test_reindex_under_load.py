"""Zero-downtime updates: ~100 requests/s against a real server while 5 reindexes and 50 single-article
updates run. Every request must succeed, and every update must be visible as soon as its PUT returns.
"""

import itertools
import queue
import threading
import time
from collections import Counter
from contextlib import contextmanager

import httpx
import uvicorn

from conftest import ADMIN_KEY, AGENT_KEY, make_admin_app

RATE = 100  # requests per second
WORDS = ["quokka", "zeppelin", "marzipan", "kaleidoscope", "fjord", "gazebo", "obelisk", "trombone", "walrus", "yodel"]
UPDATES, REINDEXES = 50, 5
QUERIES = [("GET", {"q": "reset my password email"}, None), ("GET", {"q": "refund"}, AGENT_KEY),
           ("POST", {"query": "How do I verify webhook signatures?"}, None), ("GET", {"q": "sso login fails"}, None)]


@contextmanager
def serving(app):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def article(word: str, version: int) -> str:
    return f"---\ntitle: Configure the {word} gadget\n---\nThe {word} gadget release {version} is out.\n"


def load(base: str, stop: threading.Event, statuses: Counter, errors: list) -> None:
    """An open-loop generator: one request every 1/RATE s, handed to 8 workers."""
    todo: queue.Queue = queue.Queue()

    def worker():
        with httpx.Client(base_url=base, timeout=30) as client:
            while (item := todo.get()) is not None:
                method, params, key = QUERIES[item % len(QUERIES)]
                headers = {"Authorization": f"Bearer {key}"} if key else {}
                try:
                    if method == "GET":
                        response = client.get("/v1/suggest", params=params, headers=headers)
                    else:
                        response = client.post("/v1/suggest", json=params, headers=headers)
                    statuses[response.status_code] += 1
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))

    workers = [threading.Thread(target=worker) for _ in range(8)]
    for w in workers:
        w.start()
    start = time.perf_counter()
    for i in itertools.count():
        if stop.is_set():
            break
        time.sleep(max(0.0, start + i / RATE - time.perf_counter()))
        todo.put(i)
    for _ in workers:
        todo.put(None)
    for w in workers:
        w.join()


def test_reindex_and_updates_under_load(tmp_path):
    app = make_admin_app(tmp_path, rate_limit_per_second=10_000, rate_limit_burst=10_000)
    statuses: Counter = Counter()
    errors: list[str] = []
    admin_statuses: Counter = Counter()
    stale: list[str] = []
    stop = threading.Event()
    with serving(app) as base:
        generator = threading.Thread(target=load, args=(base, stop, statuses, errors))
        generator.start()
        started = time.perf_counter()
        admin = httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {ADMIN_KEY}"})

        def reindexes():
            for _ in range(REINDEXES):
                admin_statuses[admin.post("/v1/admin/reindex").status_code] += 1

        reindexer = threading.Thread(target=reindexes)
        reindexer.start()
        for n in range(UPDATES):
            word, version = WORDS[n % len(WORDS)], n // len(WORDS)
            admin_statuses[admin.put(f"/v1/admin/articles/{word}", content=article(word, version)).status_code] += 1
            top = httpx.get(f"{base}/v1/suggest", params={"q": f"{word} gadget"}).json()["suggestions"][0]
            if (top["article_id"], top["snippet"]) != (word, f"The {word} gadget release {version} is out."):
                stale.append(f"{word} v{version}: {top['article_id']} {top['snippet']!r}")
        reindexer.join()
        stop.set()
        generator.join()
        seconds = time.perf_counter() - started
        finals = [httpx.get(f"{base}/v1/suggest", params={"q": f"{w} gadget"}).json()["suggestions"][0]["snippet"]
                  for w in WORDS]
        ready = httpx.get(f"{base}/readyz").json()
        admin.close()

    total = sum(statuses.values()) + len(errors)
    print(f"\n{total} requests in {seconds:.1f} s ({total / seconds:.0f}/s) during {REINDEXES} reindexes and "
          f"{UPDATES} updates: statuses {dict(statuses)}, {len(errors)} failed; admin {dict(admin_statuses)}")
    assert errors == []
    assert set(statuses) == {200}
    assert admin_statuses == Counter({200: UPDATES + REINDEXES})
    assert stale == []
    last = {WORDS[n % len(WORDS)]: n // len(WORDS) for n in range(UPDATES)}  # each word's final version
    assert finals == [f"The {w} gadget release {last[w]} is out." for w in WORDS]
    assert ready["articles"] == 10 + len(WORDS)
