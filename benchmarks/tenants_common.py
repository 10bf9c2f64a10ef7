"""Shared pieces of benchmarks/tenants.py: paths, workers in fresh subprocesses, timing, KB builds.

A worker is a function ``spec -> dict`` run as ``python <module> --worker NAME JSON`` in a fresh
interpreter, so its memory figures count only what it loaded (as benchmarks/latency.py does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
STACKFAQ = REPO.parent / "shared" / "data" / "stackfaq"
ARTICLES = REPO / "articles"  # the sample KB every synthetic article is a variant of


def in_subprocess(script: str, name: str, spec: dict) -> dict:
    """Run worker ``name`` of ``script`` in a fresh interpreter; its result is its last line of output."""
    done = subprocess.run([sys.executable, script, "--worker", name, json.dumps(spec)], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the {name} worker failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def built_once(work: Path, script: str, spec: dict) -> dict:
    """The ``build`` worker's result, kept in ``work``: a kept work directory (``--work``) builds once."""
    record = Path(work) / f"{Path(script).stem}-build.json"
    if record.exists() and json.loads(record.read_text())["spec"] == spec:
        return json.loads(record.read_text())["result"]
    result = in_subprocess(script, "build", spec)
    record.write_text(json.dumps({"spec": spec, "result": result}))
    return result


def worker_main(workers: dict) -> None:
    """``python <module> --worker NAME JSON``: print the worker's result as one JSON line."""
    if len(sys.argv) != 4 or sys.argv[1] != "--worker":
        sys.exit(f"usage: {sys.argv[0]} --worker {{{','.join(workers)}}} JSON (run benchmarks/tenants.py instead)")
    print(json.dumps(workers[sys.argv[2]](json.loads(sys.argv[3]))))


def ms(values_s, q: float) -> float:
    """Percentile ``q`` of durations in seconds, in milliseconds."""
    return float(np.percentile(np.asarray(values_s) * 1000, q)) if len(values_s) else float("nan")


class Timer:
    """Wall-clock and this thread's CPU time of a block: on a shared machine the CPU time tells our own
    cost apart from the time the scheduler gave to other processes."""

    def __enter__(self) -> "Timer":
        self._wall, self._cpu = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, time.thread_time() - self._cpu


def onnx_int8():
    """The served query embedder (onnx int8 from KBSUGGEST_MODELS_DIR), or exit naming what is missing."""
    from kbsuggest.embed import create_embedder
    from kbsuggest.embed.models import default_onnx_model

    if not default_onnx_model().is_file():
        sys.exit(f"no ONNX model at {default_onnx_model()}: set KBSUGGEST_MODELS_DIR (e.g. /work/main/models) "
                 f"or run `kbsuggest models export`")
    return create_embedder("onnx", default_onnx_model())


def near_duplicates():
    """Near-duplicate vectors around real int8 embeddings of the sample KB (benchmarks/synth.py)."""
    from synth import NearDuplicateEmbedder

    return NearDuplicateEmbedder(onnx_int8())


def build(source: Path, index_dir: Path, name: str, embedder, *, require_audience: bool = True) -> dict:
    """Build and publish KB ``name``; its size, index type and build time."""
    from indexing.build import build_index
    from kbsuggest.config import KBSettings, Settings

    summary = build_index(source, Settings(index_dir=index_dir), embedder,
                          kb=KBSettings(name=name, require_audience=require_audience))
    return {"articles": summary.articles, "chunks": summary.chunks, "seconds": summary.seconds,
            "index_type": index_type(index_dir, name)}


def index_type(index_dir: Path, name: str) -> str:
    from kbsuggest.index.format import read_manifest
    from kbsuggest.index.versions import kb_dir, resolve

    return read_manifest(resolve(kb_dir(index_dir, name))).index_type


def serving_registry(index_dir: str, **settings):
    """A Registry as the server makes it (process policy on: one FAISS thread, loaded KBs frozen out of the
    cycle collector), with the onnx int8 embedder answering one query on one thread."""
    from kbsuggest.config import Settings
    from kbsuggest.kbs.registry import Registry

    onnx_int8()  # exits with a clear message when the model is missing
    return Registry(Settings(index_dir=Path(index_dir), embedder="onnx", onnx_threads=1, **settings), serving=True)
