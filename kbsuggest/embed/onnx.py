"""The ``onnx`` embedder: all-MiniLM-L6-v2 exported to ONNX, run by onnxruntime, tokenized by ``tokenizers``.

The serving default. It never imports torch: the exported graph already contains the
sentence-transformers mean pooling and L2 normalization, so its output is the sentence embedding.
The files are build outputs of ``kbsuggest models export`` (see ``kbsuggest/embed/models.py``).

One query runs on a session with ``threads`` intra-op threads (1 by default: under concurrent
requests each request keeps one core, and a single short title gains little from a second one).
Batches (indexing, offline replay) run on a second session, created on first use, with every core.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kbsuggest.embed.models import (BASE, INPUTS, INT8_FILE, OUTPUT, TOKENIZER_FILE, default_onnx_model, file_fingerprint,
                                    identity)
from kbsuggest.errors import ConfigError, MissingDependencyError



class OnnxEmbedder:
    """Sentence embeddings from an exported ONNX graph (fp32 or int8) and the model's tokenizer.json."""

    def __init__(self, model_path: Path | None = None, batch_size: int = 64, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise MissingDependencyError(
                "the onnx backend needs onnxruntime and tokenizers: pip install kbsuggest"
            ) from exc
        path = Path(model_path) if model_path else default_onnx_model()
        if path.is_dir():
            path = path / INT8_FILE
        tokenizer_path = path.parent / TOKENIZER_FILE
        for needed in (path, tokenizer_path):
            if not needed.is_file():
                raise ConfigError(
                    f"ONNX model file {str(needed)!r} not found: export it with `kbsuggest models export` "
                    f"(needs pip install 'kbsuggest[model]'), or set KBSUGGEST_MODEL_PATH to an exported .onnx file"
                )
        self._ort = ort
        self._path = path
        self._batch_size = min(batch_size, 16)  # measured: per-text cost grows with bigger batches on 2 cores
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))  # truncation is baked in at export
        self._session = self._open(threads)
        self._batch_session = None
        self.batch_threads = 0  # intra-op threads of batches, 0 = one per core (a Dask worker sets its share)
        self._feeds = [i.name for i in self._session.get_inputs()]
        self.dim = int(self._session.get_outputs()[0].shape[-1])
        self.model_name, self.lineage = identity(path)  # an adapted model's directory names it
        self.name = f"onnx/{path.stem}" if self.model_name == BASE else f"onnx/{self.model_name}-int8"
        self.model_file = file_fingerprint(path)

    def _open(self, threads: int):
        options = self._ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0 = one per core
        options.inter_op_num_threads = 1
        options.execution_mode = self._ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        return self._ort.InferenceSession(str(self._path), options, providers=["CPUExecutionProvider"])

    def _run(self, session, encodings) -> np.ndarray:
        arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return session.run([OUTPUT], {name: arrays[name] for name in self._feeds})[0]

    def encode_one(self, text: str) -> np.ndarray:
        """One text, no padding: the hot path of a suggestion. Returns a (1, dim) array."""
        return self._run(self._session, [self._tokenizer.encode(text)])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if len(texts) == 1:
            return self.encode_one(texts[0])
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if self._batch_session is None:
            self._batch_session = self._open(self.batch_threads)
        encodings = self._tokenizer.encode_batch(texts)
        # Batches of similar lengths waste little on padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self._batch_size):
            rows = order[start:start + self._batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            batch = [encodings[i] for i in rows]
            for e in batch:
                e.pad(width)
            out[rows] = self._run(self._batch_session, batch)
        return out
