"""A query-embedding cache shared by every KB of a process (typists retype, widgets re-ask).

Keyed by the understood text; an embedding depends on the text and the model only, not on the KB, so
one cache serves all KBs and its memory does not grow with their number.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from kbsuggest.embed import Embedder


class QueryCache:
    def __init__(self, embedder: Embedder, size: int) -> None:
        encode_one = getattr(embedder, "encode_one", None) or (lambda text: embedder.encode([text]))
        self._encode = lru_cache(maxsize=size)(encode_one) if size else encode_one

    def __call__(self, text: str) -> np.ndarray:
        """(1, dim) embedding of one text."""
        return self._encode(text)

    def cache_info(self):
        """Hits, misses and size (None when the cache is off)."""
        info = getattr(self._encode, "cache_info", None)
        return info() if info else None
