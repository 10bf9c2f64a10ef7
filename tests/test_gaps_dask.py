"""Gap mining on a 2-worker Dask LocalCluster gives exactly the gaps of the local run (hash embedder)."""

import json

import pytest
from click.testing import CliRunner

pytest.importorskip("distributed")

from kbsuggest.cli import main  # noqa: E402

from test_gaps import HASH_GAPS, TICKETS, sample_kb  # noqa: E402,F401  (fixture)


def _env(settings) -> dict:
    return {"KBSUGGEST_DB_PATH": str(settings.db_path), "KBSUGGEST_INDEX_DIR": str(settings.index_dir),
            "KBSUGGEST_EMBEDDER": "hash", **{f"KBSUGGEST_{k.upper()}": str(v) for k, v in HASH_GAPS.items()}}


def _gaps(out) -> list[tuple]:
    report = json.loads((out / "gaps.json").read_text())
    return [(g["kind"], g["title"], sorted(g["ticket_ids"]), g["article_id"], g["article_score"])
            for g in report["gaps"]]


def test_two_dask_workers_find_the_same_gaps_as_the_local_run(sample_kb, tmp_path):
    runner = CliRunner()
    local_env = _env(sample_kb.model_copy(update={"db_path": tmp_path / "local.db"}))
    dask_env = _env(sample_kb.model_copy(update={"db_path": tmp_path / "dask.db"}))
    for env in (local_env, dask_env):
        assert runner.invoke(main, ["tickets", "import", str(TICKETS)], env=env).exit_code == 0
    local = runner.invoke(main, ["gaps", "--out", str(tmp_path / "local"), "--no-progress"], env=local_env)
    assert local.exit_code == 0, local.output
    dask = runner.invoke(main, ["gaps", "--out", str(tmp_path / "dask"), "--no-progress", "--workers", "2"],
                         env=dask_env)
    assert dask.exit_code == 0, dask.output
    assert _gaps(tmp_path / "dask") == _gaps(tmp_path / "local")
    assert len(_gaps(tmp_path / "local")) == 6
    assert dask.output.splitlines()[0] == local.output.splitlines()[0]


def test_bad_dask_options_are_one_line_errors(sample_kb, tmp_path):
    env = _env(sample_kb.model_copy(update={"db_path": tmp_path / "k.db"}))
    runner = CliRunner()
    result = runner.invoke(main, ["gaps", "--workers", "0", "--no-progress"], env=env)
    assert (result.exit_code, result.output) == (1, "error: --workers must be at least 1, not 0\n")
    result = runner.invoke(main, ["gaps", "--workers", "1", "--scheduler", "tcp://127.0.0.1:1", "--no-progress"], env=env)
    assert (result.exit_code, result.output) == (
        1, "error: give either a scheduler address or a number of local workers, not both\n")
