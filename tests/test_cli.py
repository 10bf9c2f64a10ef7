import pytest
from click.testing import CliRunner

from kbsuggest.cli import main

from conftest import FIXTURE_KB, FIXTURES


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


def test_index_suggest_info(tmp_path):
    index = str(tmp_path / "index")
    result = run("--index-dir", index, "--embedder", "hash", "index", str(FIXTURES / "broken"))
    assert result.exit_code == 0, result.output
    assert "indexed 1 articles (0 internal) as 2 chunks" in result.output
    assert "skipped 5 files" in result.output
    assert "1 not an article: 1 no text\n  left out empty-body.md: no text\n" in result.output
    assert "  skipped bad-audience.md: 'audience' must be one of public, internal, got 'everyone'" in result.output
    assert "0 warnings" in result.output

    result = run("--index-dir", index, "--embedder", "hash", "index", str(FIXTURE_KB))
    assert "indexed 10 articles (1 internal) as 29 chunks" in result.output
    again = run("--index-dir", index, "--embedder", "hash", "index", str(FIXTURE_KB))
    assert "embedded 0 articles, reused 10 unchanged" in again.output

    result = run("--index-dir", index, "--embedder", "hash", "suggest", "reset my password email")
    assert result.exit_code == 0
    rank, score, article = result.output.splitlines()[1].split()[:3]
    assert (rank, article) == ("1", "password-reset") and 0.0 < float(score) <= 1.0
    chat = run("--index-dir", index, "--embedder", "hash", "suggest", "--mode", "chat", "reset my password email")
    assert chat.output.splitlines()[1].split()[2] == "password-reset"
    assert len(chat.output.splitlines()) < len(result.output.splitlines())  # the chat shows fewer cards
    bad = run("--index-dir", index, "--embedder", "hash", "suggest", "--mode", "email", "password")
    assert bad.exit_code == 2 and "Invalid value for '--mode': 'email' is not one of 'form', 'chat'" in bad.output

    result = run("--index-dir", index, "info")
    assert "articles    10   chunks 29" in result.output
    assert "audience    public 9, internal 1" in result.output
    assert "languages   de: stop words, stems; en: stop words, stems\n" in result.output


def test_index_lists_warnings_per_file(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "runbook.md").write_text("---\naudiance: internal\n---\n# Unlock\n\nUnlock the account.\n")
    (kb / "faq.md").write_text("---\naudience: public\n---\n# FAQ\n\nAnswers.\n")
    result = run("--index-dir", str(tmp_path / "index"), "--embedder", "hash", "index", str(kb),
                 env={"KBSUGGEST_REQUIRE_AUDIENCE": "true"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("indexed 2 articles (1 internal) as 4 chunks")
    assert lines[2:6] == [
        "skipped 0 files",
        "2 warnings",
        "  warning runbook.md: unknown front-matter key 'audiance' (did you mean 'audience'?), ignored",
        "  warning runbook.md: no 'audience' and the unknown key 'audiance' may be meant as one: indexed as "
        "internal until the front matter says 'audience: public' or 'audience: internal'",
    ]


def test_errors_are_one_line_exit_1(tmp_path):
    result = run("--index-dir", str(tmp_path / "none"), "--embedder", "hash", "suggest", "password")
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert result.output.startswith("error: no index at")

    result = run("--index-dir", str(tmp_path / "i"), "--embedder", "nope", "index", str(FIXTURE_KB))
    assert (result.exit_code, result.output.strip()) == (
        1, "error: unknown embedder 'nope'; valid: hash, onnx, sentence-transformers")

    result = run("--index-dir", str(tmp_path / "i"), "--embedder", "hash", "index", str(tmp_path / "missing"))
    assert result.exit_code == 1 and "missing' does not exist" in result.output


def test_index_with_another_model_than_serving_is_an_error(tmp_path):
    index = str(tmp_path / "index")
    run("--index-dir", index, "--embedder", "hash", "index", str(FIXTURE_KB))
    result = run("--index-dir", index, "suggest", "password", env={"KBSUGGEST_EMBEDDER": "hash"})
    assert result.exit_code == 0  # the model that built it
    result = run("--index-dir", index, "--embedder", "onnx", "suggest", "password",
                 env={"KBSUGGEST_MODEL_PATH": str(tmp_path / "missing.onnx")})
    assert result.exit_code == 1 and "not found: export it" in result.output  # the embedder itself fails first
    from kbsuggest.embed.hashing import HashEmbedder
    from kbsuggest.errors import IndexMismatchError
    from kbsuggest.kbs.load import load_suggester
    from kbsuggest.config import Settings

    with pytest.raises(IndexMismatchError, match=r"built with model 'hash-256' \(dim 256\).*'hash-128' \(dim 128\)"):
        load_suggester(Settings(index_dir=tmp_path / "index", embedder="hash"), HashEmbedder(dim=128))
