import json
from pathlib import Path

import pytest

from indexing.build import build_index
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, KBSuggestError
from kbsuggest.kbs.load import load_suggester
from kbsuggest.index.format import load_index, read_manifest

from conftest import FIXTURE_KB, FIXTURES, SHARED_DATA, make_settings, snapshot_dir


def test_build_writes_manifest_and_reports_counts(settings):
    summary = build_index(FIXTURE_KB, settings, HashEmbedder())
    assert (summary.articles, summary.internal, summary.embedded, summary.reused, summary.skipped) == (10, 1, 10, 0, [])
    manifest = read_manifest(snapshot_dir(settings))
    assert (manifest.model, manifest.dim, manifest.article_count, manifest.index_type) == ("hash-256", 256, 10, "flat")
    assert manifest.chunk_count == summary.chunks == 29
    assert (summary.kb, summary.version, manifest.kb) == ("default", "v000001", "default")
    assert sorted(p.name for p in snapshot_dir(settings).iterdir()) == [
        "calibration.json", "faiss.index", "kb.db", "manifest.json"]
    assert sorted(p.name for p in (settings.index_dir / "default").iterdir()) == [".lock", "CURRENT", "versions"]


def test_rebuild_reuses_unchanged_articles(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    for path in FIXTURE_KB.glob("*.md"):
        (kb / path.name).write_text(path.read_text())
    settings = make_settings(tmp_path)
    build_index(kb, settings, HashEmbedder())
    first = load_suggester(settings, HashEmbedder()).suggest("webhook signatures")
    again = build_index(kb, settings, HashEmbedder())
    assert (again.reused, again.embedded) == (8, 0)
    (kb / "webhooks.md").write_text((kb / "webhooks.md").read_text() + "\nMore text.\n")
    edited = build_index(kb, settings, HashEmbedder())
    assert (edited.reused, edited.embedded) == (7, 1)
    after = load_suggester(settings, HashEmbedder()).suggest("webhook signatures")[0]
    assert (after.article_id, after.anchor, after.snippet) == (
        first[0].article_id, first[0].anchor, "Compute an HMAC of the payload with your signing secret. More text.")


def test_other_model_reuses_nothing(settings):
    build_index(FIXTURE_KB, settings, HashEmbedder())
    summary = build_index(FIXTURE_KB, settings, HashEmbedder(dim=128))
    assert (summary.reused, summary.embedded) == (0, 10)


def test_broken_files_reported_and_rest_indexed(settings):
    summary = build_index(FIXTURES / "broken", settings, HashEmbedder())
    assert summary.articles == 1
    assert [path for path, _ in summary.skipped] == [
        "bad-audience.md", "bad-yaml.md", "not-a-mapping.md", "not-utf8.md", "zz-duplicate.md"]
    assert summary.skipped[-1][1] == "duplicate id 'fine', already used by fine.md"
    assert summary.excluded == [("empty-body.md", "no text")]  # not an article, and not an error


def test_loading_with_another_model_is_a_clear_error(built_settings):
    with pytest.raises(IndexMismatchError, match=r"built with model 'hash-256' \(dim 256\).*'hash-128' \(dim 128\)"):
        load_index(snapshot_dir(built_settings), "hash-128", 128)


def test_missing_and_corrupt_index(tmp_path, built_settings):
    with pytest.raises(IndexNotFoundError, match="no index at"):
        read_manifest(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text(snapshot_dir(built_settings).joinpath("manifest.json").read_text())
    (broken / "faiss.index").write_bytes(b"not faiss")
    with pytest.raises(IndexCorruptError, match="cannot read"):
        load_index(broken, "hash-256", 256)
    (broken / "manifest.json").write_text(json.dumps({"model": "x"}))
    with pytest.raises(IndexCorruptError, match="not a valid manifest"):
        read_manifest(broken)


def test_empty_source_is_an_error(tmp_path, settings):
    (tmp_path / "empty").mkdir()
    with pytest.raises(KBSuggestError, match="found no articles in .*empty.* pass --format"):
        build_index(tmp_path / "empty", settings, HashEmbedder())
    with pytest.raises(KBSuggestError, match="no Markdown articles to index"):
        build_index(tmp_path / "empty", settings, HashEmbedder(), fmt="markdown")


def test_failed_build_keeps_the_previous_index(tmp_path, settings):
    build_index(FIXTURE_KB, settings, HashEmbedder())
    before = read_manifest(snapshot_dir(settings))

    class Exploding(HashEmbedder):
        def encode(self, texts):
            raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError):
        build_index(FIXTURE_KB, settings, Exploding(dim=128))
    assert read_manifest(snapshot_dir(settings)) == before
    assert [p.name for p in (settings.index_dir / "default" / "versions").iterdir()] == ["v000001"]  # no staging left


@pytest.mark.skipif(not (SHARED_DATA / "plausible_docs").is_dir(), reason="../shared/data not present")
def test_plausible_docs_all_accounted_for(tmp_path):
    docs = SHARED_DATA / "plausible_docs" / "docs"
    files = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.md"))
    assert len(files) == 132
    summary = build_index(docs, make_settings(tmp_path), HashEmbedder())
    assert summary.articles + len(summary.skipped) == 132
