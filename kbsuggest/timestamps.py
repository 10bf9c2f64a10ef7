"""The one timestamp format of the service database: UTC, milliseconds, ``Z``, sortable as text."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_iso(moment: datetime) -> str:
    """``2026-11-02T09:59:58.000Z``; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def utc_now() -> str:
    return utc_iso(datetime.now(timezone.utc))


def parse_utc(text: str) -> datetime:
    """The aware datetime of a stored timestamp (also reads the older formats: no Z, no milliseconds)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
