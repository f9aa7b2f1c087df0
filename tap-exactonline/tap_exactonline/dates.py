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


@lru_cache(maxsize=16_384)
def exact_date_to_utc(value: str) -> str | None:
    """Convert an Exact ``/Date(ms)/`` value to an RFC 3339 UTC timestamp.

    Repeated values (posting dates, the same Modified second) hit the cache, which keeps this
    off the per-record hot path.

    Args:
        value: e.g. ``"/Date(1719835200000)/"`` (2024-07-01 12:00 in Amsterdam).

    Returns:
        e.g. ``"2024-07-01T10:00:00+00:00"``, the value itself when it is already an ISO
        string, or None for an unparsable value.
    """
    if not value.startswith(_PREFIX):
        return value if value[:4].isdigit() else None
    digits = value[len(_PREFIX) : value.index(")")]
    # Exact may append an offset ("/Date(ms+0100)/"); the wall-clock reading is the same.
    for sign in "+-":
        position = digits.find(sign, 1)
        if position > 0:
            digits = digits[:position]
    try:
        milliseconds = int(digits)
    except ValueError:
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
