"""Dates of help-desk exports -> a moment, and the day/month order of numeric dates, read off the file.

Accepted: ISO 8601 (an offset is converted to UTC; none means UTC), epoch seconds or milliseconds, month
names (Jira's ``04/Mar/26 10:21 AM``, ``Mar 4, 2026``, RFC 2822), year-first ``2026/03/04``, and numeric
``3/4/2026 10:21 AM`` dates (Salesforce, Zendesk's CSV, Excel) whose order is that of the whole file:
``infer_order`` looks at every date of the file's date columns. A day over 12 in first place says day
first, in second place month first; a file where no date tells, but some date could be read both ways,
is an error asking for ``--date-format`` (never a silent guess), and so is a file that says both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from kbsuggest.errors import ConfigError

EPOCH = datetime(1970, 1, 1)
END = datetime(2101, 1, 1)  # exclusive: the last valid moment is in 2100
MILLISECONDS_FROM = 1e11  # epoch numbers from here on are milliseconds (1e11 seconds would be the year 5138)
ORDERS = ("dmy", "mdy")
NAMED_FORMATS = (
    "%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%d/%b/%y %H:%M", "%d/%b/%y", "%d %b %Y %H:%M", "%d %b %Y %H:%M:%S",
    "%d %b %Y", "%d %B %Y", "%b %d, %Y %I:%M %p", "%b %d, %Y %H:%M", "%b %d, %Y", "%B %d, %Y %I:%M %p", "%B %d, %Y",
    "%a, %d %b %Y %H:%M:%S %z", "%a %b %d %H:%M:%S %z %Y", "%Y-%m-%d %H:%M:%S %z", "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M", "%Y/%m/%d",
)
_NUMERIC = re.compile(
    r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:\s*([AaPp])\.?[Mm]\.?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def quoted(value: object, limit: int = 60) -> str:
    """``repr`` of a value for a message, at most ``limit`` characters of it."""
    text = str(value)
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def from_epoch(number: float, field: str, shown: object) -> datetime:
    if not math.isfinite(number):
        raise ValueError(f"{field}: {quoted(shown)} is not a finite number")
    seconds = number / 1000 if abs(number) >= MILLISECONDS_FROM else number
    if not 0 <= seconds < (END - EPOCH).total_seconds():
        raise ValueError(f"{field}: {quoted(shown)} is outside 1970..2100 as epoch seconds or milliseconds")
    return EPOCH + timedelta(seconds=seconds)


def _numeric(match: re.Match, order: str, field: str, text: str) -> datetime:
    first, _, second, year, hour, minute, second_s, half, zone = match.groups()
    day, month = (int(first), int(second)) if order == "dmy" else (int(second), int(first))
    year_n = int(year) + (0 if len(year) == 4 else 2000 if int(year) < 69 else 1900)
    hour_n = int(hour or 0)
    if half:
        if not 1 <= hour_n <= 12:
            raise ValueError(f"{field}: unreadable date {quoted(text)}")
        hour_n = hour_n % 12 + (12 if half.lower() == "p" else 0)
    try:
        moment = datetime(year_n, month, day, hour_n, int(minute or 0), int(second_s or 0))
    except ValueError:
        raise ValueError(f"{field}: {quoted(text)} is not a date read as {order}") from None
    if zone and zone not in ("Z", "UTC", "GMT"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def from_text(text: str, field: str, order: str | None, pattern: str | None = None) -> datetime:
    """``order``: ``dmy``/``mdy`` for numeric dates (None: the file has none that need it)."""
    if pattern:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            raise ValueError(f"{field}: {quoted(text)} does not match --date-format {pattern!r}") from None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    if match := _NUMERIC.fullmatch(text):
        if order is None:  # a single ambiguous date (infer_order saw none, e.g. a file of one row)
            raise ValueError(f"{field}: {quoted(text)} could be day/month or month/day: pass --date-format dmy or mdy")
        return _numeric(match, order, field, text)
    for fmt in NAMED_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    if _NUMBER.fullmatch(text):
        return from_epoch(float(text), field, text)
    raise ValueError(f"{field}: unreadable date {quoted(text)}")


def infer_order(values: Iterable[object], date_format: str | None = None) -> tuple[str | None, str | None]:
    """(order, strptime pattern) for a file's dates: the ``--date-format`` given (``dmy``, ``mdy`` or a
    pattern such as ``%d.%m.%Y %H:%M``), else the order its numeric dates show; ConfigError when they
    show none but need one, or show both."""
    if date_format:
        return (date_format, None) if date_format in ORDERS else (None, date_format)
    day_first = month_first = ambiguous = None
    for value in values:
        match = _NUMERIC.fullmatch(value.strip()) if isinstance(value, str) else None
        if match:
            first, second = int(match.group(1)), int(match.group(3))
            if first > 12 >= second:
                day_first = day_first or value
            elif second > 12 >= first:
                month_first = month_first or value
            elif first != second:
                ambiguous = ambiguous or value
    if day_first and month_first:
        raise ConfigError(f"the file's dates are in two orders ({day_first!r} is day first, {month_first!r} month "
                          f"first): pass --date-format dmy, mdy or a pattern such as '%d/%m/%Y %H:%M'")
    if day_first or month_first:
        return ("dmy" if day_first else "mdy"), None
    if ambiguous:
        raise ConfigError(f"dates like {ambiguous!r} could be day/month or month/day, and no date in the file "
                          f"tells which: pass --date-format dmy or mdy")
    return None, None


def to_utc(moment: datetime, field: str, value: object) -> datetime:
    if moment.tzinfo:
        try:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:  # year 1 or 9999 shifted past the calendar's end
            raise ValueError(f"{field}: {quoted(value)} is outside 1970..2100") from None
    if not EPOCH <= moment < END:
        raise ValueError(f"{field}: {quoted(value)} is outside 1970..2100")
    return moment
