"""The sandbox clock and Exact's date conventions.

All time-based behaviour (token lifetimes, rate-limit windows, Deleted retention, Modified
stamps) reads this clock, so a virtual clock moved forward by the admin API makes a 30-day
refresh-token expiry testable in seconds while time keeps flowing for a sleeping client.

Exact serialises dates as `/Date(ms)/` where ms is the Europe/Amsterdam wall-clock time encoded
as if it were UTC ("This is in the CET time and not GMT"); `$filter` datetime literals are that
same wall-clock time without an offset.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MS_PER_DAY = 86_400_000
ClockMode = Literal["real", "virtual"]


class ClockError(ValueError):
    """Raised when a real clock is asked to move."""


class Clock:
    """Real time plus an offset that only moves forward (virtual mode)."""

    def __init__(self, mode: ClockMode = "real") -> None:
        """Start at real time; `mode="virtual"` allows `advance`."""
        self.mode: ClockMode = mode
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Sandbox time as UTC epoch seconds."""
        return time.time() + self._offset

    def now_utc(self) -> datetime:
        """Sandbox time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float) -> float:
        """Move a virtual clock forward and answer the new time; a real clock refuses."""
        if self.mode != "virtual":
            raise ClockError("the clock is real; start the sandbox with --clock virtual")
        if seconds < 0:
            raise ClockError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()


def wall_ms(moment_utc: datetime) -> int:
    """Encode an aware datetime as Exact does: Amsterdam wall-clock time read as UTC, in ms."""
    local = moment_utc.astimezone(AMSTERDAM).replace(tzinfo=UTC)
    return int(local.timestamp() * 1000)


def wall_ms_from_epoch(epoch_seconds: float) -> int:
    """`wall_ms` for a UTC epoch in seconds."""
    return wall_ms(datetime.fromtimestamp(epoch_seconds, tz=UTC))


def wall_ms_to_iso(ms: int) -> str:
    """The wall-clock ISO text of an Exact ms value (for Atom XML and admin answers)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def wall_ms_to_utc_instant(ms: int) -> str:
    """The UTC instant of Exact wall-clock milliseconds, as ISO text with milliseconds and `Z`.

    The wall-clock reading is placed in Europe/Amsterdam with zoneinfo. In the hour a change to
    winter time repeats, the reading is taken as the first of the two instants (zoneinfo's
    `fold=0`); in the hour a change to summer time skips, with the offset before the change.
    Exact's `/Date(ms)/` carries nothing that could tell them apart.
    """
    wall_clock = datetime(1970, 1, 1) + timedelta(milliseconds=ms)
    try:
        instant = wall_clock.replace(tzinfo=AMSTERDAM).astimezone(UTC)
    except (OverflowError, ValueError):
        instant = wall_clock.replace(tzinfo=UTC)  # Exact's year-1 "no date" cannot shift
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_wall_datetime(text: str) -> int:
    """Parse a `datetime'...'` literal (wall-clock, no offset) into Exact ms.

    Raises:
        ValueError: when the text is not an ISO date or date-time.
    """
    cleaned = text.strip()
    if cleaned.endswith("Z"):
        # Exact takes no offset; a trailing Z is a common client mistake we tolerate as wall time.
        cleaned = cleaned[:-1]
    parsed = datetime.fromisoformat(cleaned)
    if parsed.tzinfo is not None:
        parsed = parsed.replace(tzinfo=None)
    return int(parsed.replace(tzinfo=UTC).timestamp() * 1000)


def months_before(moment_utc: datetime, months: int) -> datetime:
    """The same wall-clock moment `months` calendar months earlier (day clamped to month end)."""
    year, month = moment_utc.year, moment_utc.month - months
    while month <= 0:
        month += 12
        year -= 1
    day = min(moment_utc.day, _days_in_month(year, month))
    return moment_utc.replace(year=year, month=month, day=day)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def next_utc_midnight_ms(epoch_seconds: float) -> int:
    """Epoch ms of the next 00:00 UTC (Exact's daily rate-limit reset)."""
    day_start = int(epoch_seconds // 86_400) * 86_400
    return (day_start + 86_400) * 1000


def next_minute_ms(epoch_seconds: float) -> int:
    """Epoch ms of the next clock-minute boundary (Exact's minutely reset)."""
    return (int(epoch_seconds // 60) * 60 + 60) * 1000
