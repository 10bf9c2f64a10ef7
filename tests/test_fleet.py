"""Two `kbsuggest serve` replicas sharing PostgreSQL (a fresh database) and one index directory: the checks of
benchmarks/fleet.py, shorter. Skipped with the reason when no PostgreSQL server can be reached."""

from __future__ import annotations

import pytest

from benchmarks.fleet import (Fleet, events_land_once, kill_mid_load, load_both, publication_under_load,
                              put_visible_elsewhere)

from conftest import FIXTURE_KB
from stores import POSTGRES, postgres_unreachable


@pytest.fixture(scope="module")
def fleet():
    if postgres_unreachable():
        pytest.skip(f"fleet test skipped: no PostgreSQL at {POSTGRES.split('@')[-1]} ({postgres_unreachable()})")
    with Fleet(FIXTURE_KB) as running:
        yield running


def test_events_sent_to_both_replicas_land_once_each(fleet):
    assert events_land_once(fleet, per_replica=10) == {"sent_batches": 20, "acknowledged": 20, "stored_as_sent": 20,
                                                       "stray": 0}


def test_an_admin_put_on_one_replica_is_served_by_the_other_within_5_s(fleet):
    seen = put_visible_elsewhere(fleet, timeout=5)
    assert seen["seconds"] is not None, "replica B did not serve the article within 5 s"


def test_no_request_fails_during_a_publication_and_both_replicas_serve_it(fleet):
    result = publication_under_load(fleet, rate=100, settle=0.5)
    assert (result["failed"], result["served"]) == (0, [result["version"]] * 2)


def test_load_across_both_replicas_has_no_error(fleet):
    result = load_both(fleet, seconds=1, typists=2)
    assert (result["errors"], result["requests"] > 0) == (0, True)


def test_killing_a_replica_mid_load_loses_no_acknowledged_event_and_the_other_keeps_answering(fleet):
    result = kill_mid_load(fleet, seconds=2, senders=2)  # last: it leaves one replica
    assert (result["lost"], result["b_failures"], result["b_ready_after"]) == (0, 0, 200)
    assert result["acknowledged_by_a"] > 0  # replica A was killed while it was acknowledging events
