"""Embeddings of benchmark texts, cached on disk (benchmarks/out/cache, gitignored) so reruns are fast."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / "out" / "cache"


def cached_encode(embedder, texts: list[str], batch: int = 2048) -> np.ndarray:
    """``embedder.encode(texts)``, read from / written to a file keyed by the model and the texts."""
    key = hashlib.sha1("\x1f".join([embedder.name, *texts]).encode()).hexdigest()[:16]
    path = CACHE / f"{key}.npy"
    if path.exists():
        return np.load(path)
    parts = [embedder.encode(texts[i:i + batch]) for i in range(0, len(texts), batch)]
    vectors = np.vstack(parts) if parts else np.zeros((0, embedder.dim), np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
