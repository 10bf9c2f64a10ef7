"""Synthesized KBs for the latency benchmark: N articles made from the sample KB, and an embedder
that builds big indexes without embedding every variant.

Variant j of a sample article gets id ``<id>-v<j>`` and the title ``<title> [<area> #<j>]``, so
every chunk text differs (the title is part of each chunk) and a real build embeds every chunk.
``NearDuplicateEmbedder`` instead embeds the text without the ``[... #j]`` marker once and adds a
small deterministic perturbation per variant (cosine ~0.95 to the original), which gives indexes of
10,000 articles with realistic vector counts and spread in seconds; the benchmark labels where it
is used.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import yaml

AREAS = ["Web app", "Mobile", "Team plan", "Enterprise", "EU region", "API", "Desktop", "Free plan",
         "Admin console", "Embedded dashboards", "Reports", "Integrations"]
MARK = re.compile(r" \[[^\]]*#\d+\]")


def synthesize_kb(source: Path, out: Path, n: int, start: int = 0) -> Path:
    """Write ``n`` articles into ``out``: the sample KB first, then its variants, round robin. ``start``
    skips the first articles of that sequence, so consecutive calls give KBs with different ids."""
    out.mkdir(parents=True, exist_ok=True)
    bases = []
    for path in sorted(Path(source).glob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---", 2)
        bases.append((yaml.safe_load(front), body))
    for i in range(start, start + n):
        meta, body = bases[i % len(bases)]
        j = i // len(bases)
        meta = dict(meta)
        if j:
            meta["id"] = f"{meta['id']}-v{j}"
            meta["title"] = f"{meta['title']} [{AREAS[j % len(AREAS)]} #{j}]"
            meta.pop("url", None)
        text = "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---" + body
        (out / f"{meta['id']}.md").write_text(text, encoding="utf-8")
    return out


class NearDuplicateEmbedder:
    """Embeds each text once without its variant marker, then perturbs it deterministically."""

    def __init__(self, inner, sigma: float = 0.016) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.model_file = getattr(inner, "model_file", "")
        self.sigma = sigma
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts) -> np.ndarray:
        keys = [MARK.sub("", t) for t in texts]
        missing = sorted(set(keys) - self._cache.keys())
        if missing:
            self._cache.update(zip(missing, self.inner.encode(missing)))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, (text, key) in enumerate(zip(texts, keys)):
            vector = self._cache[key]
            if text != key:
                seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
                vector = vector + self.sigma * np.random.default_rng(seed).standard_normal(self.dim)
            out[row] = vector / np.linalg.norm(vector)
        return out
