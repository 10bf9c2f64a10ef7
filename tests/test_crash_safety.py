"""Crash consistency of admin writes by fault injection (issue 12, item 3): a process killed at any step of
a PUT, DELETE or reindex leaves, once a server has started over the same directories, a KB whose served
index is exactly its folder, with the write wholly applied or not at all, and no leftovers.

``kbsuggest.index.versions.fault`` is called with the name of every step of a publication. Each case runs
the operation in a forked child whose hook ends the process (``os._exit``: no cleanup, as a kill) at one
step; the parent then starts a fresh app over the same directories (its startup runs the recovery).
"""

import multiprocessing
import os
import shutil

import pytest
from fastapi.testclient import TestClient

from indexing.build import build_index, load_articles
from kbsuggest.cli.context import indexer
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.index import kbdb, versions
from kbsuggest.kbs.admin import KBAdmin
from kbsuggest.kbs.registry import Registry

from conftest import ADMIN_KEY, FIXTURE_KB, make_app, make_settings, snapshot_dir

ZORBLY = "---\ntitle: Turn on zorbly mode\naudience: public\n---\nZorbly mode makes every dashboard zorbly.\n"
REFUNDS = (FIXTURE_KB / "billing" / "refunds.md").read_text().replace("Refund", "Zorbly refund")
# operation -> (call on a KBAdmin, the file it changes, its new bytes or None for a removal)
OPERATIONS = {
    "put new": (lambda admin: admin.put_article("default", "zorbly", ZORBLY), "zorbly.md", ZORBLY),
    "put replace": (lambda admin: admin.put_article("default", "billing-refunds", REFUNDS), "billing/refunds.md", REFUNDS),
    "delete": (lambda admin: admin.delete_article("default", "webhooks"), "webhooks.md", None),
    "reindex": (lambda admin: admin.reindex("default"), "two-factor.md", None),  # after an edit by hand
}
# Every step each operation announces, in order; "build" (the snapshot is written, not yet installed) is
# injected by the test. The commit point is the CURRENT rename: a kill before it leaves the old version.
STEPS = {
    "put new": ["build", "rename staging", "rename journal.json", "rename CURRENT", "pointed", "rename zorbly.md", "applied"],
    "put replace": ["build", "rename staging", "rename journal.json", "rename CURRENT", "pointed", "rename refunds.md",
                    "applied"],
    "delete": ["build", "rename staging", "rename journal.json", "rename CURRENT", "pointed", "applied"],
    "reindex": ["build", "rename staging", "rename CURRENT", "pointed"],
}
COMMITTED = {"pointed", "rename zorbly.md", "rename refunds.md", "applied"}
HAND_EDIT = "\nEdited by hand before the reindex.\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A KB folder and its built index, copied for each case (building once keeps the cases fast)."""
    root = tmp_path_factory.mktemp("crash-template")
    shutil.copytree(FIXTURE_KB, root / "kb")
    (root / "kb" / "billing" / "refunds.md").chmod(0o640)  # a mode the write must keep
    build_index(root / "kb", make_settings(root, articles_dir=root / "kb"), HashEmbedder())
    return root


def case_settings(template, tmp_path):
    for name in ("kb", "index"):
        shutil.copytree(template / name, tmp_path / name)
    return make_settings(tmp_path, articles_dir=tmp_path / "kb", admin_api_keys=[ADMIN_KEY])


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mode & 0o7777)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_operation(settings, operation, stop_at=None, steps=None):
    """The operation on a KBAdmin of its own; the fault hook records each step and ends the process at ``stop_at``."""
    def hook(step):
        if steps is not None:
            steps.append(step)
        if step == stop_at:
            os._exit(1)

    versions.fault = hook
    admin = KBAdmin(Registry(settings, HashEmbedder()), indexer())
    build = admin.indexer.snapshot

    def snapshot_then_step(*args, **options):
        summary = build(*args, **options)
        hook("build")
        return summary

    admin.indexer = type(admin.indexer)(parse=admin.indexer.parse, snapshot=snapshot_then_step)
    OPERATIONS[operation][0](admin)


def killed_at(settings, operation, step):
    """Run the operation in a forked child killed at ``step``; return its exit code."""
    child = multiprocessing.get_context("fork").Process(target=run_operation, args=(settings, operation, step))
    child.start()
    child.join(60)
    return child.exitcode


def in_folder(settings) -> dict[str, str]:
    """What an index of the KB folder holds: article id -> "content hash, path" (as ``kbdb.article_hashes``)."""
    articles, skipped = load_articles(settings.articles_dir, settings)
    assert skipped == []
    return {a.id: f"{a.content_hash} {a.path}" for a in articles}


def assert_consistent(settings, indexed_folder=True):
    """The invariants a started server guarantees after any crash; ``indexed_folder``: the folder holds no
    hand edit a reindex has not published yet."""
    folder, root = settings.articles_dir, versions.kb_dir(settings.index_dir, "default")
    served = kbdb.article_hashes(snapshot_dir(settings))
    if indexed_folder:
        assert served == in_folder(settings)  # the index is the folder
    leftovers = [p.relative_to(settings.index_dir.parent).as_posix() for base in (folder, root)
                 for p in base.rglob("*") if ".tmp-" in p.name or p.name.startswith(".staging-")]
    assert leftovers == []
    assert not (root / versions.JOURNAL).exists()
    assert len(versions.version_names(root)) <= versions.KEEP
    return served


@pytest.fixture(autouse=True)
def no_fault():
    yield
    versions.fault = lambda step: None


def test_every_operation_announces_the_steps_the_crash_cases_cover(template, tmp_path_factory):
    for operation, (_, path, _) in OPERATIONS.items():
        settings = case_settings(template, tmp_path_factory.mktemp("steps"))
        if operation == "reindex":
            (settings.articles_dir / path).write_text((settings.articles_dir / path).read_text() + HAND_EDIT)
        steps = []
        run_operation(settings, operation, steps=steps)
        assert steps == STEPS[operation]


@pytest.mark.parametrize("operation, step", [(op, step) for op, steps in STEPS.items() for step in steps])
def test_a_kill_at_any_step_leaves_the_write_wholly_applied_or_not_at_all(template, tmp_path, operation, step):
    settings = case_settings(template, tmp_path)
    folder, (_, path, text) = settings.articles_dir, OPERATIONS[operation]
    if operation == "reindex":
        text = (folder / path).read_text() + HAND_EDIT
        (folder / path).write_text(text)
    before, current = snapshot(folder), versions.current_name(versions.kb_dir(settings.index_dir, "default"))
    served_before = kbdb.article_hashes(snapshot_dir(settings))

    assert killed_at(settings, operation, step) == 1  # killed at that step, not before and not after

    with TestClient(make_app(settings, writable=True)) as client:  # its startup recovers
        served = assert_consistent(settings, indexed_folder=step in COMMITTED or operation != "reindex")
        assert client.get("/readyz").json()["status"] == "ready"
        assert client.get("/readyz").json()["articles"] == len(served)
        after = snapshot(folder)
        others = {p: v for p, v in after.items() if p != path}
        assert others == {p: v for p, v in before.items() if p != path}  # no other file changed
        if step in COMMITTED:  # rolled forward: the new version, and the file as sent (its mode kept)
            assert versions.current_name(versions.kb_dir(settings.index_dir, "default")) != current
            assert (after[path][0] if path in after else None) == (text.encode() if text is not None else None)
            if path in before and path in after:
                assert after[path][1] == before[path][1]
        else:  # rolled back: the old version serves and the folder is as it was
            assert versions.current_name(versions.kb_dir(settings.index_dir, "default")) == current
            assert served == served_before
            assert after == before


def test_a_crash_between_install_and_pointer_leaves_the_old_version_serving(template, tmp_path):
    settings = case_settings(template, tmp_path)
    root = versions.kb_dir(settings.index_dir, "default")
    assert killed_at(settings, "put new", "rename CURRENT") == 1
    assert len(versions.version_names(root)) == 2  # the new version was installed, never pointed at
    with TestClient(make_app(settings, writable=True)) as client:
        assert versions.version_names(root) == [versions.current_name(root)]
        assert client.get("/readyz").json()["articles"] == 10
        assert client.delete("/v1/admin/articles/zorbly", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()[
            "error"] == "not_found"  # never acknowledged, never there


def test_leftovers_of_an_earlier_crash_are_removed_at_start(template, tmp_path):
    settings = case_settings(template, tmp_path)
    root = versions.kb_dir(settings.index_dir, "default")
    current = versions.current_name(root)
    staging = root / versions.VERSIONS / ".staging-123-abcd"
    staging.mkdir()
    (staging / "faiss.index").write_bytes(b"\0" * 4096)
    (root / ".CURRENT.tmp-123").write_text("v000099\n")
    (root / ".journal.json.tmp-123").write_text("{")
    shutil.copytree(root / versions.VERSIONS / current, root / versions.VERSIONS / "v000099")  # never published
    with TestClient(make_app(settings, writable=True)) as client:
        assert sorted(p.name for p in root.iterdir()) == [".lock", "CURRENT", "versions"]
        assert versions.version_names(root) == [current]
        assert client.get("/readyz").json()["status"] == "ready"
        assert_consistent(settings)
