"""Two `kbsuggest serve` replicas, each with its own empty index directory, publishing through one S3 bucket
(moto's server): the publication checks of benchmarks/fleet_s3.py, shorter."""

from __future__ import annotations

import pytest

from conftest import FIXTURE_KB
from stores import POSTGRES, postgres_unreachable

pytest.importorskip("moto.server", reason="pip install 'moto[server]'")
from benchmarks.fleet import publication_under_load, put_visible_elsewhere  # noqa: E402
from benchmarks.fleet_s3 import S3Fleet, s3_server  # noqa: E402


@pytest.fixture(scope="module")
def fleet():
    if postgres_unreachable():
        pytest.skip(f"fleet test skipped: no PostgreSQL at {POSTGRES.split('@')[-1]} ({postgres_unreachable()})")
    with s3_server() as (endpoint, bucket), S3Fleet(FIXTURE_KB, endpoint, bucket) as running:
        yield running


def test_an_admin_put_on_one_replica_is_served_by_the_other_within_5_s(fleet):
    seen = put_visible_elsewhere(fleet, timeout=5)
    assert seen["seconds"] is not None, "replica B did not serve the article within 5 s"


def test_no_request_fails_during_a_publication_and_both_replicas_serve_it(fleet):
    result = publication_under_load(fleet, rate=100, settle=0.5)
    assert (result["failed"], result["served"]) == (0, [result["version"]] * 2)
