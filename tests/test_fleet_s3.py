"""Two `kbsuggest serve` replicas, each with its own empty index directory, publishing through one S3 bucket
(moto's server): the publication checks of tests/test_fleet.py (the same test functions, run on this module's
fleet) and benchmarks/fleet_s3.py, shorter."""

from __future__ import annotations

import pytest

from conftest import FIXTURE_KB
from stores import POSTGRES, postgres_unreachable

pytest.importorskip("moto.server", reason="pip install 'moto[server]'")
from benchmarks.fleet_s3 import S3Fleet, s3_server  # noqa: E402
from test_fleet import (test_an_admin_put_on_one_replica_is_served_by_the_other_within_5_s,  # noqa: E402,F401
                        test_no_request_fails_during_a_publication_and_both_replicas_serve_it)


@pytest.fixture(scope="module")
def fleet():
    if postgres_unreachable():
        pytest.skip(f"fleet test skipped: no PostgreSQL at {POSTGRES.split('@')[-1]} ({postgres_unreachable()})")
    with s3_server() as (endpoint, bucket), S3Fleet(FIXTURE_KB, endpoint, bucket) as running:
        yield running
