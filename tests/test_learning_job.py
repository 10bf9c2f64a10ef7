"""`kbsuggest learn` end to end without torch: a fake trainer, the hash embedder (an adapted model's directory
salts it), and held-out scores chosen by the test; the refuse-to-switch rule, the lineage in the manifest,
and the `models list` / `models use` round trip."""

import datetime as dt
import shutil

import pytest
from click.testing import CliRunner

from conftest import FIXTURE_KB, make_settings, snapshot_dir
from indexing.build import build_index
from kbsuggest.cli import main
from kbsuggest.domain import Ticket
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.embed.models import adapted_models
from kbsuggest.index.format import read_manifest
from kbsuggest.kbs.load import served_model
from kbsuggest.kbs.registry import Registry
from kbsuggest.store import open_store
from learning import job
from learning.heldout import Scores
from learning.train import TrainConfig, TrainResult

TITLES = {"password-reset": "reset my password please", "sso-login": "sso login fails", "webhooks": "configure a webhook",
          "two-factor": "two factor setup", "api-rate-limits": "api rate limit hit"}
WHEN = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
NAME = "default-20261201T120000Z"


@pytest.fixture
def kb(tmp_path, monkeypatch):
    monkeypatch.setenv("KBSUGGEST_MODELS_DIR", str(tmp_path / "models"))
    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    settings = make_settings(tmp_path, articles_dir=tmp_path / "kb")
    build_index(settings.articles_dir, settings, HashEmbedder())
    store = open_store(settings)
    store.write_tickets("default", [
        Ticket(f"t{i}", f"{title} ({i})", "", "solved", f"2026-10-{i // 24 + 1:02d}T{i % 24:02d}:00:00",
               linked_articles=(article,))
        for i, (article, title) in enumerate(list(TITLES.items()) * 6)])  # 30 tickets, one an hour
    return settings, store


def fake_trainer(pairs, texts, config, out_dir, say, check_texts):
    (out_dir / "weights.txt").write_text(f"{len(pairs)} pairs\n")
    return TrainResult(3, 3, len(pairs), 1.5, 0.5, 2.0, 1.0, {"all-MiniLM-L6-v2-int8.onnx": 0.99})


def fixed_scores(monkeypatch, before_rank: int, after_rank: int) -> None:
    """Held-out scores: every question at ``before_rank`` with the served model, ``after_rank`` adapted."""
    calls = []

    def score(suggester, cases, percents=(30, 50, 100)):
        rank = before_rank if not calls else after_rank
        calls.append(suggester)
        ranks = {p: [rank] * len(cases) for p in percents}
        figures = {f"{m}_{p}": v for p in percents for m, v in
                   (("hit@1", float(rank == 0)), ("hit@3", float(0 <= rank < 3)), ("mrr", 1 / (rank + 1)))}
        return Scores(figures, ranks, len(cases))
    monkeypatch.setattr(job, "score", score)


def run_learn(settings, store):
    return job.learn(settings, settings.default_kb(), store, TrainConfig(), trainer=fake_trainer, say=lambda _: None,
                     now=WHEN)


def test_a_worse_model_is_refused_and_the_kb_keeps_its_version(kb, monkeypatch):
    settings, store = kb
    fixed_scores(monkeypatch, before_rank=0, after_rank=1)
    result = run_learn(settings, store)
    assert not result.verdict.switch and result.verdict.reason == "worse on the held-out part: hit@1_30 -1.000"
    assert snapshot_dir(settings).name == "v000001" and served_model(settings, "default") == "base"
    assert adapted_models("default") == [NAME]  # kept on disk, marked refused
    lineage = job.json.loads((settings_models(settings) / NAME / "lineage.json").read_text())
    assert lineage["verdict"] == {"switched": False, "reason": result.verdict.reason}


def settings_models(settings):
    from kbsuggest.embed.models import adapted_root

    return adapted_root()


def test_a_better_model_switches_the_kb_and_its_manifest_records_the_lineage(kb, monkeypatch):
    settings, store = kb
    fixed_scores(monkeypatch, before_rank=3, after_rank=0)
    result = run_learn(settings, store)
    assert result.verdict.switch and result.version == "v000002"
    manifest = read_manifest(snapshot_dir(settings))
    assert (manifest.model_name, manifest.model) == (NAME, f"hash-256/{NAME}")
    lineage = manifest.lineage
    assert lineage["base_model"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert lineage["created_at"] == "2026-12-01T12:00:00+00:00"
    # 30 tickets: the newest 6 held out; each of the other 24 gives its title and 3 typed prefixes
    assert lineage["pairs"]["train"] == 96 and lineage["pairs"]["held_out_sources"] == 6
    assert lineage["pairs"]["held_out_from"] == "2026-10-02T00:00:00"
    assert lineage["pairs"]["by_kind"] == {"title": 24, "prefix-30": 24, "prefix-50": 24, "prefix-70": 24}
    assert lineage["held_out"]["before"]["hit@3_30"] == 0.0 and lineage["held_out"]["after"]["hit@3_30"] == 1.0
    assert lineage["verdict"]["switched"] is True
    # the serving registry picks the model from the published index
    registry = Registry(settings, store=store)
    assert registry.get("default").embedder.name == f"hash-256/{NAME}"
    assert registry.get("default").suggest("reset my password", include_internal=False)[0].article_id == "password-reset"


def cli(settings, *args):
    env = {"KBSUGGEST_INDEX_DIR": str(settings.index_dir), "KBSUGGEST_DB_PATH": str(settings.db_path),
           "KBSUGGEST_EMBEDDER": "hash", "KBSUGGEST_ARTICLES_DIR": str(settings.articles_dir)}
    return CliRunner().invoke(main, list(args), env=env)


def test_models_use_round_trip_and_reindex_keeps_the_model(kb, monkeypatch):
    settings, store = kb
    fixed_scores(monkeypatch, before_rank=3, after_rank=0)
    run_learn(settings, store)
    listed = cli(settings, "models", "list")
    assert listed.exit_code == 0, listed.output
    rows = listed.output.splitlines()
    assert rows[1].startswith("  base") and rows[2].startswith(f"* {NAME}") and "switched" in rows[2]

    back = cli(settings, "models", "use", "base")
    assert back.exit_code == 0, back.output
    assert back.output.startswith("KB default is served with base (hash-256) from v000003")
    assert served_model(settings, "default") == "base" and read_manifest(snapshot_dir(settings)).lineage == {}

    again = cli(settings, "models", "use", NAME)
    assert again.exit_code == 0 and served_model(settings, "default") == NAME
    assert cli(settings, "index", str(settings.articles_dir)).exit_code == 0  # a reindex keeps the KB's model
    assert read_manifest(snapshot_dir(settings)).model_name == NAME

    unknown = cli(settings, "models", "use", "nope")
    assert unknown.exit_code == 1
    assert unknown.output.strip() == (f"error: unknown model 'nope' for KB 'default'; valid: base, {NAME} "
                                      f"(see `kbsuggest models list --kb default`)")
    other = cli(settings, "models", "use", NAME, "--kb", "other")  # a model adapted to another KB
    assert other.exit_code == 1 and "unknown model" in other.output


def test_dry_run_prints_pairs_and_split_without_training(kb):
    settings, _ = kb
    result = cli(settings, "learn", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("train    title") and "'reset my password please (0)' -> password-reset" in lines[1]
    assert "history: 120 pairs from 30 tickets and widget sessions" in result.output
    assert "held out: the newest 6 sources (from 2026-10-02T00:00:00), 6 questions" in result.output
    assert adapted_models("default") == []


def test_too_little_history_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KBSUGGEST_MODELS_DIR", str(tmp_path / "models"))
    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    settings = make_settings(tmp_path, articles_dir=tmp_path / "kb")
    build_index(settings.articles_dir, settings, HashEmbedder())
    result = cli(settings, "learn")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(
        "error: not enough history to learn from in KB 'default': 0 pairs from 0 tickets")
