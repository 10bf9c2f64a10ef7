"""``kbsuggest models export``: all-MiniLM-L6-v2 (PyTorch) -> ONNX fp32 and dynamically quantized int8.

Offline only (needs the ``model`` extra: torch, transformers, onnx); the serving path imports none
of it. The exported graph takes ``input_ids``, ``attention_mask``, ``token_type_ids`` and returns
``sentence_embedding``: mean pooling over the attention mask and L2 normalization are part of the
graph, computed exactly as sentence-transformers does, so the onnx backend needs no pooling code.

Pitfalls met here (see shared notes): ``sentence-transformers[onnx]`` (optimum) downgrades
transformers, so plain ``torch.onnx.export(dynamo=False)`` is used; eager attention lets the
onnxruntime BERT optimizer fuse attention; quantizing the fused graph needs
``DefaultTensorType=FLOAT``.

The int8 file quantizes the MatMul and fused Attention weights, signed, per channel, 8-bit, and keeps
the embedding table (EmbedLayerNormalization) in fp32. Measured against fp32 on StackFAQ (1,249
queries vs whole documents, share of top-3 kept; same 2-core machine and process, variants
alternated): the former default (embeddings quantized too, 7-bit weights) 94.4%, mean query cosine
0.9930; this one 95.1%, 0.9947, at the same single-query latency and batch throughput, in a ~59 MB
file instead of ~23 MB. The same quantization of the unfused export scored 95.5% (same
cosine: the top-3 difference is chance) but costs ~0.1 ms more per query; unsigned weights (95.1%)
~0.8 ms; keeping the FFN output MatMuls of layers 0-1 in fp32 (96.0%, cosine 0.9953) ~0.25 ms.
Weights drop to 7 bits (``reduce_range``, 94.6%) on x86 CPUs without VNNI: there onnxruntime's u8*s8
kernels add pairs of products in int16 (vpmaddubsw), which 8-bit weights overflow for ~1e-5 of the
pairs on the sample KB's activations; 7-bit weights cannot.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
from pathlib import Path

from kbsuggest.errors import MissingDependencyError
from kbsuggest.embed.models import FP32_FILE, INPUTS, INT8_FILE, OUTPUT, TOKENIZER_FILE, minilm_path, models_dir

CHECK_TEXTS = ["I forgot my password", "sso login failing", "Export gives an empty CSV file",
               "Wie setze ich mein Passwort zurück?", "refund"]


def _pooled_model(source: Path):
    import torch
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class SentenceEmbedding(torch.nn.Module):
        """Transformer + sentence-transformers' mean pooling + L2 normalization."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return SentenceEmbedding().eval(), encoder.config


def _int16_pair_kernels() -> bool:
    """True on x86 CPUs without VNNI (or when that cannot be told): onnxruntime's u8*s8 kernels there
    sum two products in int16 and saturate with full 8-bit weights."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686"):
        return False  # ARM kernels widen before adding
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return True
    return re.search(r"\b(avx512_vnni|avx_vnni)\b", flags) is None


def _max_length(source: Path) -> int:
    """Where sentence-transformers truncates: ``max_seq_length`` (files of sentence-transformers < 6), else the
    tokenizer's ``model_max_length`` (what sentence-transformers 6 saves a fine-tuned model with)."""
    config = json.loads((source / "sentence_bert_config.json").read_text())
    if "max_seq_length" in config:
        return int(config["max_seq_length"])
    return int(json.loads((source / "tokenizer_config.json").read_text())["model_max_length"])


def exported(out_dir: Path | None = None) -> list[Path]:
    """The files an export writes (tokenizer, fp32, int8), in the models directory by default."""
    out_dir = Path(out_dir) if out_dir else models_dir()
    return [out_dir / TOKENIZER_FILE, out_dir / FP32_FILE, out_dir / INT8_FILE]


def export_models(out_dir: Path | None = None, force: bool = False, source: Path | None = None) -> list[Path]:
    """Write tokenizer.json, the fp32 and the int8 ONNX files into ``out_dir``; return their paths. Files
    already there are kept unless ``force`` (so ``make run`` can call it every time). ``source``: a
    sentence-transformers model directory (default: the shipped all-MiniLM-L6-v2; ``kbsuggest learn``
    passes the model it fine-tuned)."""
    targets = exported(out_dir)
    if not force and all(p.is_file() for p in targets):
        return targets
    try:
        import onnx
        import torch
    except ImportError as exc:
        raise MissingDependencyError(f"exporting needs {exc.name}: pip install 'kbsuggest[model]'") from None
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from tokenizers import Tokenizer


    import logging
    import os
    import warnings

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    warnings.filterwarnings("ignore")  # tracer and exporter chatter about constructs this model does not hit
    logging.getLogger().setLevel(logging.ERROR)  # the quantizer's "consider pre-processing" hint
    out_dir = targets[0].parent
    source = Path(source) if source else minilm_path()
    max_len = _max_length(source)
    staging = out_dir / ".export-tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        tokenizer = Tokenizer.from_file(str(source / TOKENIZER_FILE))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_len)  # what sentence-transformers does with max_seq_length
        tokenizer.save(str(staging / TOKENIZER_FILE))

        model, config = _pooled_model(source)
        sample = tokenizer.encode_batch(["a short ticket title", "another one"])
        for e in sample:
            e.pad(8)
        args = tuple(torch.tensor([getattr(e, f) for e in sample], dtype=torch.long)
                     for f in ("ids", "attention_mask", "type_ids"))
        raw = staging / "raw.onnx"
        axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS} | {OUTPUT: {0: "batch"}}
        with torch.no_grad():
            torch.onnx.export(model, args, str(raw), input_names=list(INPUTS), output_names=[OUTPUT],
                              dynamic_axes=axes, opset_version=17, dynamo=False)
        optimized = optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                                   hidden_size=config.hidden_size, opt_level=0)
        optimized.save_model_to_file(str(staging / FP32_FILE))
        # Not EmbedLayerNormalization: its quantized form (one uint8 range for the whole table) costs agreement.
        quantize_dynamic(str(staging / FP32_FILE), str(staging / INT8_FILE),
                         op_types_to_quantize=["MatMul", "Attention"], weight_type=QuantType.QInt8,
                         per_channel=True, reduce_range=_int16_pair_kernels(),
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        for target in targets:
            (staging / target.name).replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return targets


def agreement(paths: list[Path], texts: list[str], reference: Path | None = None) -> dict[str, float]:
    """Lowest cosine between sentence-transformers (model directory ``reference``, default the shipped one)
    and each ONNX file over ``texts``."""
    import numpy as np

    from kbsuggest.embed.st import SentenceTransformerEmbedder
    from kbsuggest.embed.onnx import OnnxEmbedder

    expected = SentenceTransformerEmbedder(reference).encode(texts)
    return {p.name: float(np.min(np.sum(OnnxEmbedder(p).encode(texts) * expected, axis=1))) for p in paths}
