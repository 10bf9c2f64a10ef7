"""Index publication through an S3-compatible bucket (KBSUGGEST_INDEX_URL), against moto's server: the object
layout and the order of the protocol, a replica with an empty index directory serving what was published, and
the failures (an upload that breaks, a corrupt version, a lost race, a bad URL)."""

from __future__ import annotations

import hashlib
import json
import os
import uuid

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from indexing.build import build_index
from kbsuggest.cli import main
from kbsuggest.embed.hashing import HashEmbedder
from kbsuggest.index import versions
from kbsuggest.index.remote import LocationError, Publication, PublicationError
from kbsuggest.kbs.load import load_suggester
from kbsuggest.kbs.registry import Registry
from kbsuggest.kbs.watch import IndexWatcher

from conftest import ADMIN, FIXTURE_KB, make_app, make_settings

boto3 = pytest.importorskip("boto3", reason="pip install 'kbsuggest[s3]'")
moto_server = pytest.importorskip("moto.server", reason="pip install 'moto[server]'")
FILES = ["CLAIM", "calibration.json", "faiss.index", "files.json", "kb.db", "manifest.json"]


@pytest.fixture(scope="module")
def endpoint():
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    for key, value in saved.items():
        os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)


@pytest.fixture
def bucket(endpoint):
    """A new bucket per test; (client, name)."""
    client = boto3.client("s3", endpoint_url=endpoint)
    name = f"kbs-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return client, name


def machine(tmp_path, endpoint, bucket, name: str, **overrides):
    """The settings of one machine: its own index directory (working copy), the shared bucket."""
    return make_settings(tmp_path / name, index_url=f"s3://{bucket[1]}/fleet", s3_endpoint_url=endpoint, **overrides)


def keys(bucket) -> list[str]:
    client, name = bucket
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", []))


def body(bucket, key: str) -> bytes:
    return bucket[0].get_object(Bucket=bucket[1], Key=key)["Body"].read()


def publish(settings) -> str:
    return build_index(FIXTURE_KB, settings, HashEmbedder()).version


def test_a_publication_uploads_the_version_then_replaces_the_pointer(tmp_path, endpoint, bucket, monkeypatch):
    settings = machine(tmp_path, endpoint, bucket, "a")
    steps = []
    monkeypatch.setattr(versions, "fault", steps.append)
    assert publish(settings) == "v000001"
    assert keys(bucket) == ["fleet/default/CURRENT"] + [f"fleet/default/versions/v000001/{f}" for f in FILES]
    assert body(bucket, "fleet/default/CURRENT") == b"v000001\n"
    assert steps == ["rename staging", "upload calibration.json", "upload faiss.index", "upload kb.db",
                     "upload manifest.json", "upload listing", "pointed remote", "rename CURRENT", "pointed"]
    # (the remote pointer after every file of the version, the local one last)
    local = settings.index_dir / "default" / "versions" / "v000001"
    listing = json.loads(body(bucket, "fleet/default/versions/v000001/files.json"))["files"]
    assert listing == {f.name: {"size": f.stat().st_size, "sha256": hashlib.sha256(f.read_bytes()).hexdigest()}
                       for f in local.iterdir()}
    assert versions.current_name(settings.index_dir / "default") == "v000001"
    assert (publish(settings), publish(settings)) == ("v000002", "v000003")
    remote = {k.split("/")[3] for k in keys(bucket) if "/versions/" in k}
    assert (remote, body(bucket, "fleet/default/CURRENT")) == ({"v000002", "v000003"}, b"v000003\n")  # KEEP = 2


def test_a_replica_with_an_empty_index_directory_serves_what_was_published(tmp_path, endpoint, bucket):
    writer, reader = machine(tmp_path, endpoint, bucket, "a"), machine(tmp_path, endpoint, bucket, "b", index_poll_seconds=0)
    publish(writer)
    with TestClient(make_app(reader)) as client:  # the app fetches at start, before it loads the default KB
        ready = client.get("/readyz").json()
        assert (ready["status"], ready["kbs"][0]["version"]) == ("ready", "v000001")
        top = client.get("/v1/suggest", params={"q": "reset my password email"}).json()["suggestions"][0]
        assert top["article_id"] == "password-reset"
        assert publish(writer) == "v000002"
        assert client.app.state.watcher.check() == ["default"]
        assert client.get("/readyz").json()["kbs"][0]["version"] == "v000002"
    assert versions.version_names(reader.index_dir / "default") == ["v000001", "v000002"]
    offline = machine(tmp_path, endpoint, bucket, "c")  # a job on a third machine (evaluate, gaps): fetched too
    suggester = load_suggester(offline, HashEmbedder())
    assert (suggester.snapshot.version, suggester.suggest("reset my password email")[0].article_id) == (
        "v000002", "password-reset")


def test_an_upload_that_fails_mid_version_publishes_nothing(tmp_path, endpoint, bucket, monkeypatch):
    writer, reader = machine(tmp_path, endpoint, bucket, "a"), machine(tmp_path, endpoint, bucket, "b")
    publish(writer)
    replica = Registry(reader, HashEmbedder())
    watcher = IndexWatcher(replica, None, 0)
    watcher.check()
    assert replica.get("default").snapshot.version == "v000001"

    def broken(step: str) -> None:
        if step == "upload kb.db":
            raise LocationError("uploading default/versions/v000002/kb.db at s3://… failed: SlowDown")
    monkeypatch.setattr(versions, "fault", broken)
    with pytest.raises(LocationError, match="SlowDown"):
        publish(writer)
    monkeypatch.setattr(versions, "fault", lambda step: None)
    assert keys(bucket) == ["fleet/default/CURRENT"] + [f"fleet/default/versions/v000001/{f}" for f in FILES]
    assert body(bucket, "fleet/default/CURRENT") == b"v000001\n"
    assert (versions.current_name(writer.index_dir / "default"), versions.version_names(writer.index_dir / "default")) \
        == ("v000001", ["v000001"])
    assert (watcher.check(), replica.get("default").snapshot.version) == ([], "v000001")
    assert publish(writer) == "v000002"  # the next publication goes through


def test_a_corrupt_version_at_the_location_is_refused_and_the_old_one_keeps_serving(tmp_path, endpoint, bucket):
    writer, reader = machine(tmp_path, endpoint, bucket, "a"), machine(tmp_path, endpoint, bucket, "b", index_poll_seconds=0)
    publish(writer)
    with TestClient(make_app(reader)) as client:
        publish(writer)
        key = "fleet/default/versions/v000002/faiss.index"
        bucket[0].put_object(Bucket=bucket[1], Key=key, Body=b"\x00garbage")
        assert client.app.state.watcher.check() == []
        ready = client.get("/readyz").json()
        [kb] = ready["kbs"]
        assert (ready["status"], kb["version"]) == ("ready", "v000001")
        garbage = hashlib.sha256(b"\x00garbage").hexdigest()[:12]
        expected = json.loads(body(bucket, "fleet/default/versions/v000002/files.json"))["files"]["faiss.index"]
        assert kb["error"] == (
            f"version v000002 not fetched from s3://{bucket[1]}/fleet (serving v000001): the version at the location "
            f"is corrupt: faiss.index has 8 bytes, sha256 {garbage}…; "
            f"files.json says {expected['size']} bytes, sha256 {expected['sha256'][:12]}…")
        assert client.get("/v1/suggest", params={"q": "reset my password email"}).json()["suggestions"] != []
        assert versions.version_names(reader.index_dir / "default") == ["v000001"]  # nothing partial kept
        assert publish(writer) == "v000003"  # a new publication replaces it
        assert client.app.state.watcher.check() == ["default"]
        assert client.get("/readyz").json()["kbs"][0]["error"] is None


def _staged_copy(root, source):
    """A staging directory holding a copy of the snapshot ``source`` (a writer's new version)."""
    staging = root / "versions" / f".staging-test-{uuid.uuid4().hex[:6]}"
    staging.mkdir()
    for file in source.iterdir():
        (staging / file.name).write_bytes(file.read_bytes())
    return staging


def test_of_two_concurrent_writers_one_publishes_and_the_other_fails_cleanly(tmp_path, endpoint, bucket, monkeypatch):
    a, b = machine(tmp_path, endpoint, bucket, "a"), machine(tmp_path, endpoint, bucket, "b")
    publish(a)
    roots = [s.index_dir / "default" for s in (a, b)]
    first, second = (Publication(s, "default", r) for s, r in zip((a, b), roots))  # both begin from v000001
    source = roots[0] / "versions" / "v000001"
    name = first.install(_staged_copy(roots[0], source))
    first.commit(name)
    assert name == "v000002"
    with pytest.raises(PublicationError, match="another publication replaced v000001 at .* during this one: "
                                               "nothing published; retry"):
        second.commit(second.install(_staged_copy(roots[1], source)))
    assert body(bucket, "fleet/default/CURRENT") == b"v000002\n"
    assert {k.split("/")[3] for k in keys(bucket) if "/versions/" in k} == {"v000001", "v000002"}
    assert versions.version_names(roots[1]) == ["v000001"]
    # a name another writer claimed after this one listed the versions is never shared: nothing of it is touched
    bucket[0].put_object(Bucket=bucket[1], Key="fleet/default/versions/v000003/CLAIM", Body=b"{}")
    third = Publication(b, "default", roots[1])
    listed = third.location.children
    monkeypatch.setattr(third.location, "children", lambda prefix: [n for n in listed(prefix) if n != "v000003"])
    with pytest.raises(PublicationError, match="version v000003 is being published by another writer"):
        third.commit(third.install(_staged_copy(roots[1], roots[1] / "versions" / "v000002")))
    assert (body(bucket, "fleet/default/versions/v000003/CLAIM"), versions.version_names(roots[1])) == (
        b"{}", ["v000001", "v000002"])


def test_an_admin_write_on_one_replica_is_served_by_another(tmp_path, endpoint, bucket):
    import shutil

    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    writer = machine(tmp_path, endpoint, bucket, "a", articles_dir=tmp_path / "kb", admin_api_keys=["admin-test-key"])
    reader = machine(tmp_path, endpoint, bucket, "b", index_poll_seconds=0)
    publish(writer)
    text = "---\nid: gift-cards\ntitle: Gift cards\naudience: public\n---\n# Gift cards\n\nRedeem a gift card at checkout.\n"
    with TestClient(make_app(writer, writable=True)) as a, TestClient(make_app(reader)) as b:
        put = a.put("/v1/admin/articles/gift-cards", content=text, headers=ADMIN)
        assert (put.status_code, put.json()["version"]) == (200, "v000002"), put.text
        assert body(bucket, "fleet/default/CURRENT") == b"v000002\n"
        assert b.app.state.watcher.check() == ["default"]
        top = b.get("/v1/suggest", params={"q": "redeem gift card"}).json()["suggestions"][0]
        assert top["article_id"] == "gift-cards"


def test_a_bad_index_url_is_a_one_line_error_naming_the_setting(tmp_path):
    env = {"KBSUGGEST_INDEX_URL": "https://bucket.example/prefix", "KBSUGGEST_EMBEDDER": "hash"}
    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path), "index", str(FIXTURE_KB)], env=env)
    assert (result.exit_code, result.output) == (
        1, "error: setting index_url: Value error, must be s3://BUCKET or s3://BUCKET/PREFIX\n")
    env["KBSUGGEST_INDEX_URL"] = "s3://Bad_Bucket"
    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path), "index", str(FIXTURE_KB)], env=env)
    assert (result.exit_code, result.output.splitlines()) == (1, [
        "error: setting index_url: Value error, the bucket name must be 3-63 lowercase letters, digits, '.' or '-' "
        "(s3://BUCKET/PREFIX)"])
    env.update(KBSUGGEST_INDEX_URL="s3://kbs-bucket/prefix", KBSUGGEST_S3_ENDPOINT_URL="minio:9000")
    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path), "index", str(FIXTURE_KB)], env=env)
    assert (result.exit_code, result.output) == (
        1, "error: setting s3_endpoint_url: Value error, must be an http(s) URL, e.g. http://minio:9000\n")


def test_a_writer_that_stops_after_the_commit_point_converges_from_the_bucket(tmp_path, endpoint, bucket, monkeypatch):
    writer = machine(tmp_path, endpoint, bucket, "a")
    publish(writer)

    def stopped(step: str) -> None:
        if step == "pointed remote":
            raise KeyboardInterrupt  # the process stops between the remote pointer and the local one
    monkeypatch.setattr(versions, "fault", stopped)
    with pytest.raises(KeyboardInterrupt):
        publish(writer)
    monkeypatch.setattr(versions, "fault", lambda step: None)
    root = writer.index_dir / "default"
    assert (body(bucket, "fleet/default/CURRENT"), versions.current_name(root)) == (b"v000002\n", "v000001")
    replica = Registry(writer, HashEmbedder())
    replica.get("default")
    assert (IndexWatcher(replica, None, 0).check(), replica.peek("default").snapshot.version) == (["default"], "v000002")


def test_a_replica_that_cannot_reach_the_bucket_keeps_serving_and_says_why(tmp_path, endpoint, bucket):
    import shutil

    publish(machine(tmp_path, endpoint, bucket, "a"))
    missing = f"kbs-missing-{uuid.uuid4().hex[:8]}"
    reader = make_settings(tmp_path / "b", index_url=f"s3://{missing}/fleet", s3_endpoint_url=endpoint)
    shutil.copytree(tmp_path / "a" / "index", reader.index_dir)  # what it fetched before the bucket went away
    replica = Registry(reader, HashEmbedder())
    replica.get("default")
    watcher = IndexWatcher(replica, None, 0)
    assert watcher.check() == []
    [status] = replica.status()
    assert (status.version, status.error) == (
        "v000001", f"listing / at s3://{missing}/fleet failed: NoSuchBucket (serving v000001)")
    assert replica.get("default").suggest("reset my password email")[0].article_id == "password-reset"
    bucket[0].create_bucket(Bucket=missing)  # it answers again: nothing is wrong
    assert (watcher.check(), replica.status()[0].error) == ([], None)


def test_an_admin_write_stopped_after_the_bucket_commit_is_rolled_forward_at_restart(tmp_path, endpoint, bucket,
                                                                                     monkeypatch):
    import shutil

    from kbsuggest.cli.context import indexer
    from kbsuggest.kbs.admin import KBAdmin

    class Stop(Exception):
        pass

    def stopped(step: str) -> None:
        if step == "pointed remote":
            raise Stop  # the process dies between the bucket's CURRENT and its own
    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    settings = machine(tmp_path, endpoint, bucket, "a", articles_dir=tmp_path / "kb", admin_api_keys=["admin-test-key"],
                       index_poll_seconds=0)
    build_index(settings.articles_dir, settings, HashEmbedder())
    text = "---\nid: gift-cards\ntitle: Gift cards\naudience: public\n---\n# Gift cards\n\nRedeem a gift card.\n"
    monkeypatch.setattr(versions, "fault", stopped)
    with pytest.raises(Stop):
        KBAdmin(Registry(settings, HashEmbedder()), indexer()).put_article("default", "gift-cards", text)
    monkeypatch.setattr(versions, "fault", lambda step: None)
    root = settings.index_dir / "default"
    assert (body(bucket, "fleet/default/CURRENT"), versions.current_name(root), (root / "journal.json").exists(),
            (tmp_path / "kb" / "gift-cards.md").exists()) == (b"v000002\n", "v000001", True, False)
    with TestClient(make_app(settings, writable=True)) as client:  # restart: fetch, then recovery rolls forward
        assert client.get("/readyz").json()["kbs"][0]["version"] == "v000002"
        assert (tmp_path / "kb" / "gift-cards.md").read_text() == text
        assert not (root / "journal.json").exists()
