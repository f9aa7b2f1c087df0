"""Exact Online date handling.

Exact serialises ``Edm.DateTime`` as ``/Date(ms)/`` where ``ms`` counts milliseconds since the
epoch of the **Amsterdam wall-clock time** (CET/CEST), not of UTC (reference section 4). Filters
take the same local time, written without an offset. Both conversions are DST-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Naive on purpose: Exact's values are Amsterdam wall-clock readings.
_EPOCH = datetime(1970, 1, 1)
_PREFIX = "/Date("


_HOUR_MS = 3_600_000
_MINUTE_MS = 60_000
#: Amsterdam wall-clock hour (hours since the naive epoch) -> its UTC ``YYYY-MM-DDTHH:``, or
#: None when the hour needs the full conversion (a transition inside it, an odd offset).
_UTC_HOUR_PREFIXES: dict[int, str | None] = {}
#: About 23 years of distinct hours; cleared when full, so memory stays flat.
_MAX_CACHED_HOURS = 200_000


@lru_cache(maxsize=16_384)
def exact_date_to_utc(value: str) -> str | None:
    """Convert an Exact ``/Date(ms)/`` value to an RFC 3339 UTC timestamp.

    Repeated values (posting dates, the same Modified second) hit the cache. Other values
    take the fast path: Amsterdam's offsets are whole hours and change on the hour, so each
    wall-clock hour maps to one UTC hour (computed once per hour with zoneinfo, DST-aware);
    minutes, seconds and milliseconds carry over unchanged.

    Args:
        value: e.g. ``"/Date(1719835200000)/"`` (2024-07-01 12:00 in Amsterdam).

    Returns:
        e.g. ``"2024-07-01T10:00:00+00:00"``, the value itself when it is already an ISO
        string, or None for an unparsable value.
    """
    if value[:6] != _PREFIX or value[-2:] != ")/":
        return _convert(value)
    try:
        milliseconds = int(value[6:-2])
    except ValueError:
        return _convert(value)
    hour, within = divmod(milliseconds, _HOUR_MS)
    prefixes = _UTC_HOUR_PREFIXES
    prefix = prefixes.get(hour, "")
    if prefix == "":
        if len(prefixes) >= _MAX_CACHED_HOURS:
            prefixes.clear()
        prefix = prefixes[hour] = _utc_hour_prefix(hour)
    if prefix is None:
        return _convert(value)
    minutes, within = divmod(within, _MINUTE_MS)
    seconds, fraction = divmod(within, 1000)
    if fraction:
        # datetime.isoformat() writes microseconds.
        return f"{prefix}{minutes:02d}:{seconds:02d}.{fraction:03d}000+00:00"
    return f"{prefix}{minutes:02d}:{seconds:02d}+00:00"


def _utc_hour_prefix(hour: int) -> str | None:
    """The UTC ``YYYY-MM-DDTHH:`` of a whole Amsterdam wall-clock hour, if it has one."""
    try:
        start = _EPOCH + timedelta(hours=hour)
        first = start.replace(tzinfo=AMSTERDAM).utcoffset()
        last = (start + timedelta(milliseconds=_HOUR_MS - 1)).replace(tzinfo=AMSTERDAM)
        if first is None or first != last.utcoffset() or first % timedelta(hours=1):
            return None
        return (start - first).isoformat()[:14]
    except (OverflowError, ValueError):
        return None


def wall_clock_milliseconds(value: str) -> int | None:
    """The number in Exact's ``/Date(ms)/`` (Amsterdam wall clock read as UTC), or None.

    Exact may append an offset (``/Date(ms+0100)/``); the wall-clock reading is the same.
    """
    end = value.find(")")
    digits = value[len(_PREFIX) : end if end >= 0 else len(value)]
    for sign in "+-":
        position = digits.find(sign, 1)
        if position > 0:
            digits = digits[:position]
    try:
        return int(digits)
    except ValueError:
        return None


def _convert(value: str) -> str | None:
    """The full conversion of one value (any form Exact sends)."""
    if not value.startswith(_PREFIX):
        return value if value[:4].isdigit() else None
    milliseconds = wall_clock_milliseconds(value)
    if milliseconds is None:
        return None
    wall_clock = _EPOCH + timedelta(milliseconds=milliseconds)
    try:
        local = wall_clock.replace(tzinfo=AMSTERDAM)
        return local.astimezone(UTC).isoformat()
    except (OverflowError, ValueError):
        # Exact's "no date" sentinel (year 1) cannot be shifted by an offset.
        return wall_clock.replace(tzinfo=UTC).isoformat()


def utc_to_exact_filter_literal(moment: datetime) -> str:
    """Render a moment as an OData ``datetime'...'`` literal in Amsterdam local time.

    Milliseconds are kept: Exact's ``Modified`` has millisecond resolution, so a ``gt`` filter
    on the last value read neither skips a later row nor re-reads the last one.

    Args:
        moment: An aware datetime (naive values are taken as UTC).

    Returns:
        e.g. ``"datetime'2024-07-01T12:00:00.250'"``.
    """
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(AMSTERDAM).replace(tzinfo=None)
    return f"datetime'{local.isoformat(timespec='milliseconds')}'"


def parse_utc(value: str) -> datetime:
    """Parse an ISO 8601 string (``Z`` allowed) into an aware UTC datetime.

    Args:
        value: e.g. ``"2024-01-01T00:00:00Z"`` or ``"2024-01-01"``.

    Returns:
        The aware datetime in UTC (naive input is taken as UTC).
    """
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
