"""The ``hash`` embedder: deterministic and dependency-free, for tests."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from kbsuggest.embed.vectors import normalize_rows

_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """Signed feature hashing of words and character trigrams. Deterministic across processes."""

    def __init__(self, dim: int = 256, model_path=None) -> None:
        from kbsuggest.embed.models import BASE, identity

        self.dim = dim
        # a (fake) adapted model directory salts the features, so tests can switch models without torch
        self.model_name, self.lineage = identity(model_path)
        self._salt = "" if self.model_name == BASE else self.model_name
        self.name = f"hash-{dim}" + (f"/{self._salt}" if self._salt else "")

    def _features(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        grams = [f"#{w[i:i + 3]}" for w in words for i in range(max(1, len(w) - 2))]
        return words + words + grams  # whole words count double

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b((self._salt + feature).encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.dim] += 1.0 if (value >> 63) & 1 else -1.0
        return normalize_rows(out)
