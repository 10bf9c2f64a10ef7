"""Simulated typists against a running server, and starting/stopping the servers under test.

A typist picks a ticket title and sends its prefixes the way a debounced form does: after each word
(people pause between words), sometimes in the middle of a word, and the whole title, waiting the
debounce delay (250 ms) plus a little thinking time between sends. ``paced=False`` drops the waits:
every typist sends its next request as soon as the previous answer arrives (sustained throughput).
The client is raw asyncio over keep-alive connections, so it takes little of the CPU it shares with
the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

DEBOUNCE_S = 0.25


def debounced_prefixes(title: str, rng: random.Random, min_chars: int = 3) -> list[str]:
    cuts = {i for i, ch in enumerate(title) if ch == " "} | {len(title)}
    cuts |= {rng.randrange(min_chars, len(title) + 1) for _ in range(2) if len(title) > min_chars}
    return [title[:c] for c in sorted(cuts) if len(title[:c].strip()) >= min_chars]


async def _get(reader, writer, path: str) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def _typist(port: int, titles: list[str], seed: int, until: float, paced: bool, out: dict,
                  kbs: list[str] | None = None, kb_per: str = "request") -> None:
    """``kbs``: each request (``kb_per="request"``) or each title (``"title"``: one visitor typing into one
    KB's widget) goes to a random one of them, under /v1/kbs/<kb>/; every request is also logged as
    (kb, wall-clock start, latency) in ``out["log"]``."""
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            kb = rng.choice(kbs) if kbs else None
            for prefix in debounced_prefixes(rng.choice(titles), rng):
                if paced:
                    await asyncio.sleep(DEBOUNCE_S + rng.random() * 0.25)
                if time.perf_counter() >= until:
                    return
                if kbs and kb_per == "request":
                    kb = rng.choice(kbs)
                wall, started = time.time(), time.perf_counter()
                try:
                    path = (f"/v1/kbs/{kb}" if kb else "/v1") + "/suggest?q=" + quote(prefix)
                    status = await _get(reader, writer, path)
                except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                    status = 0
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                out["latencies"].append(time.perf_counter() - started)
                out["errors"] += status != 200
                if kb:
                    out["log"].append((kb, wall, out["latencies"][-1]))
    finally:
        writer.close()


def run_typists(port: int, titles: list[str], typists: int, seconds: float, paced: bool,
                kbs: list[str] | None = None, kb_per: str = "request") -> dict:
    """Latencies (s) of every request, errors and requests/s over ``seconds``. Run it in a lean process
    (``typists_in_subprocess``): a client whose heap holds torch pauses for its own garbage collections
    in the middle of requests, and those pauses would be counted as the server's latency."""
    out = {"latencies": [], "errors": 0, "log": []}

    async def main() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_typist(port, titles, seed, until, paced, out, kbs, kb_per) for seed in range(typists)))

    started = time.perf_counter()
    asyncio.run(main())
    out["throughput"] = len(out["latencies"]) / (time.perf_counter() - started)
    return out


def typists_in_subprocess(port: int, titles: list[str], typists: int, seconds: float, paced: bool,
                          kbs: list[str] | None = None, kb_per: str = "request") -> dict:
    """``run_typists`` in a fresh interpreter that imports nothing else."""
    spec = json.dumps({"port": port, "titles": titles, "typists": typists, "seconds": seconds, "paced": paced,
                       "kbs": kbs, "kb_per": kb_per})
    done = subprocess.run([sys.executable, __file__], input=spec, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(argv: list[str], port: int, env: dict, timeout: float = 180, log_path: Path | None = None,
                 ready: str = "/readyz") -> subprocess.Popen:
    """Start a server process and wait until ``ready`` answers 200. Its stderr goes to ``log_path`` or a
    temporary file (a pipe nobody reads would block a server that logs a lot), quoted if it never gets ready."""
    log = open(log_path, "w+b") if log_path else tempfile.TemporaryFile()
    process = subprocess.Popen(argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=2).status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    stop_server(process)
    log.seek(0)
    raise RuntimeError(f"the server did not become ready: {log.read().decode(errors='replace')[-2000:]}")


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status: memory is measured on Linux only")


def rss_mb(pid: int) -> float:
    """Resident memory of a process now (VmRSS), in MB."""
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process (VmHWM), in MB."""
    return _status_mb(pid, "VmHWM")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


# The kbsuggest logger with wall-clock stamps on stderr: "<time.time()> KB 'x' loaded ... in 0.12 s".
LOG_KBSUGGEST = ("import logging; h = logging.StreamHandler(); h.setFormatter(logging.Formatter('%(created).6f "
                 "%(message)s')); g = logging.getLogger('kbsuggest'); g.addHandler(h); g.setLevel(logging.INFO); ")


def kbsuggest_server(port: int, log_loads: bool = False) -> list[str]:
    """``kbsuggest serve``; ``log_loads``: with its INFO lines (KB loads and unloads) stamped on stderr."""
    code = (LOG_KBSUGGEST if log_loads else "") + "from kbsuggest.cli import main; main()"
    return [sys.executable, "-c", code, "serve", "--port", str(port)]


if __name__ == "__main__":  # typists_in_subprocess: the spec on stdin, the result on stdout
    spec = json.loads(sys.stdin.read())
    print(json.dumps(run_typists(spec["port"], spec["titles"], spec["typists"], spec["seconds"], spec["paced"],
                                 spec.get("kbs"), spec.get("kb_per", "request"))))
