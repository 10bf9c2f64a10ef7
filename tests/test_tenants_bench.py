"""Smoke tests of benchmarks/tenants.py's building blocks, with the hash embedder: KBs with their own
articles (``synthesize_kb(start=...)``), a Registry whose memory budget evicts, and the classification of
cold requests from the server's load log."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from indexing.build import build_index
from kbsuggest.config import KBSettings, Settings
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.kbs.registry import Registry

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from synth import synthesize_kb  # noqa: E402
from tenants_many import classify, kb_names  # noqa: E402

KBS, ARTICLES = 5, 40  # 40 < the 49 sample articles: no two variants of one article in a KB


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tenants")
    settings, embedder = Settings(index_dir=root / "index"), HashEmbedder()
    for i, name in enumerate(kb_names(KBS)):
        source = synthesize_kb(REPO / "articles", root / name, ARTICLES, start=i * ARTICLES)
        build_index(source, settings, embedder, kb=KBSettings(name=name))
    return root / "index"


def public_titles(suggester) -> dict[str, str]:
    return {a.id: a.title for a in suggester.articles if a.audience == "public"}


def test_kbs_hold_their_own_articles(index_dir):
    registry = Registry(Settings(index_dir=index_dir, embedder="hash"))
    ids = [{a.id for a in registry.get(kb).articles} for kb in kb_names(KBS)]
    assert [len(own) for own in ids] == [ARTICLES] * KBS
    assert len(set().union(*ids)) == KBS * ARTICLES  # no id in two KBs


def test_budget_evicts_and_every_kb_answers_its_own_article_first(index_dir):
    one_kb = Registry(Settings(index_dir=index_dir, embedder="hash")).get("kb-00").memory_bytes()
    budget_mb = math.ceil(2.5 * one_kb / 2**20)  # rounded up: rounded down, 2.5 KBs of 1.98 MB held only one
    registry = Registry(Settings(index_dir=index_dir, embedder="hash", memory_budget_mb=budget_mb, query_cache_size=0))
    assert 2 * one_kb <= budget_mb * 2**20 < KBS * one_kb  # the budget holds some of the KBs, not all
    for _ in range(2):  # the second round reloads KBs the first one evicted
        for kb in kb_names(KBS):
            suggester = registry.get(kb)
            for article_id, title in sorted(public_titles(suggester).items())[:3]:
                assert suggester.suggest(title, k=1, min_score=0)[0].article_id == article_id
            assert registry.memory_bytes() <= budget_mb * 2**20
    loaded = [s.name for s in registry.status() if s.loaded]
    assert loaded == kb_names(KBS)[KBS - len(loaded):]  # the most recently used ones
    assert 2 <= len(loaded) < KBS


def test_cold_requests_come_from_the_load_log():
    log = ["100.500000 KB 'kb-01' loaded (v000001, 200 articles) in 0.20 s",
           "101.000000 KB 'kb-01' unloaded (memory budget 1 MB)",
           "102.300000 KB 'kb-01' loaded (v000001, 200 articles) in 0.30 s",
           "a line of something else"]
    requests = [("kb-01", 100.25, 0.3),  # waited for the first load
                ("kb-01", 100.6, 0.01),  # after it: warm
                ("kb-02", 100.35, 0.1),  # another KB: warm
                ("kb-01", 102.1, 0.25)]  # waited for the load after the eviction
    kinds = classify(log, requests)
    assert (kinds["loads"], kinds["evictions"]) == (2, 1)
    assert kinds["cold"] == [0.3, 0.25]
    assert kinds["after_eviction"] == [0.25]
    assert kinds["warm"] == [0.01, 0.1]
