"""Serving-path choices: index type by size, the model file recorded in the manifest, the query cache."""

import numpy as np
import pytest

from indexing.build import build_index
from kbsuggest.index import format as vectors
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.errors import ConfigError, IndexMismatchError
from kbsuggest.embed.onnx import OnnxEmbedder
from kbsuggest.kbs.load import load_suggester
from kbsuggest.kbs.registry import Registry
from kbsuggest.index.format import build_faiss_index, choose_index_type, load_index, read_manifest

from conftest import FIXTURE_KB, make_settings, snapshot_dir


class FileEmbedder(HashEmbedder):
    """The hash embedder posing as a backend with a weights file."""

    def __init__(self, model_file: str) -> None:
        super().__init__()
        self.model_file = model_file


def test_index_type_is_flat_up_to_the_threshold_then_hnsw():
    assert choose_index_type(vectors.FLAT_MAX_VECTORS) == "flat"
    assert choose_index_type(vectors.FLAT_MAX_VECTORS + 1) == "hnsw32"


def test_hnsw_index_finds_each_vector_itself():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((2000, 32)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    index = build_faiss_index(data, "hnsw32")
    _, rows = index.search(data[:50], 1)
    assert rows[:, 0].tolist() == list(range(50))


def test_large_index_is_hnsw_recorded_in_manifest_and_still_answers(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors, "FLAT_MAX_VECTORS", 10)
    settings = make_settings(tmp_path)
    build_index(FIXTURE_KB, settings, HashEmbedder())
    assert read_manifest(snapshot_dir(settings)).index_type == "hnsw32"
    index, _ = load_index(snapshot_dir(settings), "hash-256", 256)
    assert index.hnsw.efSearch == vectors.HNSW_EF_SEARCH
    assert load_suggester(settings, HashEmbedder()).suggest("webhook signatures")[0].article_id == "webhooks"
    snapshot = load_suggester(settings, HashEmbedder()).snapshot  # chunks read from the index's storage in place
    rows = np.array([5, 0, 3])
    assert np.array_equal(snapshot.chunk_vectors(rows), snapshot.index.reconstruct_batch(rows))
    assert not snapshot.storage.flags.writeable and not snapshot.storage.flags.owndata
    again = build_index(FIXTURE_KB, settings, HashEmbedder())  # vectors of an HNSW index are reusable
    assert (again.reused, again.embedded) == (10, 0)


def test_manifest_records_the_model_file_and_a_mismatch_is_a_clear_error(settings):
    build_index(FIXTURE_KB, settings, FileEmbedder("model-a.onnx sha256:aaaa"))
    assert read_manifest(snapshot_dir(settings)).model_file == "model-a.onnx sha256:aaaa"
    with pytest.raises(IndexMismatchError, match=r"model file 'model-a.onnx sha256:aaaa' .* 'model-b.onnx sha256:bbbb'"):
        load_suggester(settings, FileEmbedder("model-b.onnx sha256:bbbb"))
    summary = build_index(FIXTURE_KB, settings, FileEmbedder("model-b.onnx sha256:bbbb"))
    assert (summary.reused, summary.embedded) == (0, 10)  # another model file: nothing is reused


def test_query_cache_hits_on_the_normalized_query(built_settings):
    registry = Registry(built_settings, HashEmbedder())
    suggester = registry.get("default")
    first = suggester.suggest("webhook signatures")
    assert suggester.suggest("  webhook   signatures ") == first
    info = registry.query_cache.cache_info()
    assert (info.hits, info.misses) == (1, 2)  # misses: the warm-up query and the first one


def test_query_cache_can_be_switched_off(built_settings):
    registry = Registry(built_settings.model_copy(update={"query_cache_size": 0}), HashEmbedder())
    assert registry.query_cache.cache_info() is None
    assert registry.get("default").suggest("webhook signatures")[0].article_id == "webhooks"


def test_missing_onnx_file_names_the_export_command(tmp_path):
    with pytest.raises(ConfigError, match=r"not found: export it with `kbsuggest models export`"):
        OnnxEmbedder(tmp_path / "missing.onnx")


def test_a_loaded_index_is_frozen_out_of_gc_and_freed_by_refcount_alone(built_settings):
    """A serving registry freezes what it loads (no cycle-collector pauses on requests); so a replaced index
    must hold no reference cycle, or every reindex would leak it."""
    import gc
    import weakref

    registry = Registry(built_settings, HashEmbedder(), serving=True)
    suggester = registry.get("default")
    assert gc.get_freeze_count() > 0
    suggester.suggest("reset my password")
    suggester.lexical.vocabulary.repair("pasword")  # the repair memo is filled too
    parts = [weakref.ref(o) for o in (suggester, suggester.lexical, suggester.lexical.vocabulary, suggester.snapshot)]
    gc.disable()
    try:
        registry.publish("default", registry.load("default"))  # a reindex replaces it
        del suggester
        assert [ref() for ref in parts] == [None] * len(parts)
    finally:
        gc.enable()
        gc.unfreeze()
