"""Exact's rate limits, per division: pacing from the ``X-RateLimit-*`` headers.

Exact allows 60 calls per fixed clock minute and a daily number of calls per app and division
(5,000 for most apps), and answers 429 beyond either (the project's Exact reference, section 7).
Every response carries the remaining counts and reset times in epoch milliseconds, except a
minutely 429, which carries only the minutely ones. The limiter sleeps until the minute resets
instead of provoking a 429, and stops a division cleanly when its day (or the configured
``daily_call_budget``) is spent.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

logger = logging.getLogger("tap-exactonline")

#: A minute window never lasts longer than this; a larger computed wait means clock skew.
MAX_MINUTELY_WAIT = 61.0


class DailyLimitReachedError(Exception):
    """The division's daily call limit (Exact's or ``daily_call_budget``) is spent."""

    def __init__(self, division: int, reason: str, reset_at: float | None) -> None:
        """Describe the spent limit.

        Args:
            division: The division whose limit is spent.
            reason: Which limit (Exact's daily limit or the configured budget).
            reset_at: Epoch seconds when Exact resets the daily limit, if known.
        """
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(reset_at)) if reset_at else "unknown"
        super().__init__(f"division {division}: {reason} reached (resets {when})")
        self.division = division
        self.reason = reason
        self.reset_at = reset_at


@dataclass
class DivisionLimits:
    """What the last response told us about one division's rate limits."""

    minutely_remaining: int | None = None
    minutely_reset_at: float | None = None
    daily_limit: int | None = None
    daily_remaining: int | None = None
    daily_reset_at: float | None = None
    calls_this_run: int = 0
    exhausted: DailyLimitReachedError | None = None


@dataclass
class RateLimiter:
    """Per-division call accounting shared by all streams of one tap process.

    Attributes:
        daily_call_budget: Stop before this many calls per division per day (None: Exact's).
        minutely_reserve: Treat the minute as spent when this many calls are left.
        clock: Epoch seconds source.
        sleep: Sleep function.
    """

    daily_call_budget: int | None = None
    minutely_reserve: int = 0
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    server_clock_offset: float = 0.0
    divisions: dict[int, DivisionLimits] = field(default_factory=dict)

    def limits(self, division: int) -> DivisionLimits:
        """Return (creating) the accounting of one division.

        Args:
            division: Division code.

        Returns:
            Its mutable limits record.
        """
        return self.divisions.setdefault(division, DivisionLimits())

    def before_request(self, division: int | None) -> None:
        """Wait for the minute window if it is spent; refuse when the day is spent.

        Args:
            division: The division the next call counts against (None: not counted).

        Raises:
            DailyLimitReachedError: If the daily limit or budget is spent.
        """
        if division is None:
            return
        limits = self.limits(division)
        if limits.exhausted is not None:
            raise limits.exhausted
        self._check_daily(division, limits)
        if limits.minutely_remaining is not None and (
            limits.minutely_remaining <= self.minutely_reserve
        ):
            wait = self._seconds_until(limits.minutely_reset_at)
            if wait > 0:
                logger.info(
                    "Minutely rate limit of division %s spent; sleeping %.1f s until it resets",
                    division,
                    wait,
                )
                self.sleep(wait)
            limits.minutely_remaining = None
        limits.calls_this_run += 1

    def ensure_available(self, division: int) -> None:
        """Refuse early when a division's day is already spent (no call is made).

        Args:
            division: Division code.
        """
        limits = self.limits(division)
        if limits.exhausted is not None:
            raise limits.exhausted
        self._check_daily(division, limits)

    def observe(self, division: int | None, response: requests.Response) -> None:
        """Record the rate-limit headers of a response.

        Args:
            division: The division the call counted against.
            response: Any response, successful or not.
        """
        server_date = response.headers.get("Date")
        if server_date:
            self._observe_server_clock(server_date)
        if division is None:
            return
        limits = self.limits(division)
        headers = response.headers
        minutely_remaining = _int_header(headers, "X-RateLimit-Minutely-Remaining")
        daily_remaining = _int_header(headers, "X-RateLimit-Remaining")
        if minutely_remaining is not None:
            limits.minutely_remaining = minutely_remaining
            reset = _int_header(headers, "X-RateLimit-Minutely-Reset")
            limits.minutely_reset_at = reset / 1000 if reset is not None else None
        elif response.status_code == 429 and daily_remaining != 0:
            # A 429 without headers: assume the minute is spent and wait for the next one.
            limits.minutely_remaining = 0
            limits.minutely_reset_at = None
        if daily_remaining is not None and not (
            response.status_code == 429 and minutely_remaining == 0
        ):
            # On a minutely 429 Exact omits the daily headers or sends them as 0.
            limits.daily_remaining = daily_remaining
            limits.daily_limit = _int_header(headers, "X-RateLimit-Limit") or limits.daily_limit
            reset = _int_header(headers, "X-RateLimit-Reset")
            limits.daily_reset_at = reset / 1000 if reset else limits.daily_reset_at

    @staticmethod
    def is_daily_limit_response(response: requests.Response) -> bool:
        """Whether a 429 means the day (not the minute) is spent: retrying today is pointless.

        Args:
            response: Any response.

        Returns:
            True for a 429 whose daily remaining count is 0 and whose minute is not spent.
        """
        if response.status_code != 429:
            return False
        headers = response.headers
        minutely_remaining = _int_header(headers, "X-RateLimit-Minutely-Remaining")
        return _int_header(headers, "X-RateLimit-Remaining") == 0 and minutely_remaining != 0

    def mark_exhausted(self, error: DailyLimitReachedError) -> None:
        """Remember that a division's day is spent, so no stream calls it again this run.

        Args:
            error: The error describing the spent limit.
        """
        self.limits(error.division).exhausted = error

    def _check_daily(self, division: int, limits: DivisionLimits) -> None:
        if limits.daily_remaining is not None and limits.daily_remaining <= 0:
            self._exhaust(division, limits, "Exact's daily API limit")
        if self.daily_call_budget is None:
            return
        if limits.daily_limit is not None and limits.daily_remaining is not None:
            used_today = limits.daily_limit - limits.daily_remaining
        else:
            used_today = limits.calls_this_run
        if used_today >= self.daily_call_budget:
            self._exhaust(division, limits, f"daily_call_budget of {self.daily_call_budget} calls")

    def _exhaust(self, division: int, limits: DivisionLimits, reason: str) -> None:
        error = DailyLimitReachedError(division, reason, limits.daily_reset_at)
        limits.exhausted = error
        raise error

    def _seconds_until(self, server_epoch: float | None) -> float:
        if server_epoch is None:
            # No reset header: wait for the next clock minute (Exact's windows are fixed).
            now = self.clock() + self.server_clock_offset
            return 60.0 - (now % 60.0) + 0.5
        wait = server_epoch - (self.clock() + self.server_clock_offset) + 0.25
        return min(max(wait, 0.0), MAX_MINUTELY_WAIT)

    def _observe_server_clock(self, server_date: str) -> None:
        try:
            server_now = email.utils.parsedate_to_datetime(server_date).timestamp()
        except (TypeError, ValueError):
            return
        offset = server_now - self.clock()
        # The Date header has one-second resolution: only trust clearly different clocks.
        self.server_clock_offset = offset if abs(offset) > 2.0 else 0.0


def _int_header(headers: Any, name: str) -> int | None:
    value = headers.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return None


@dataclass
class RunReport:
    """What a run could not finish because a daily limit was reached."""

    stops: list[tuple[str, DailyLimitReachedError]] = field(default_factory=list)

    def stopped(self, stream: str, error: DailyLimitReachedError) -> None:
        """Record that a stream stopped (or was skipped) for a division.

        Args:
            stream: Stream name.
            error: The spent limit.
        """
        self.stops.append((stream, error))

    def summary(self) -> str:
        """Describe what remains for the next run.

        Returns:
            One line: per division, the spent limit and the streams not finished.
        """
        lines = []
        by_division: dict[int, list[str]] = {}
        for stream, error in self.stops:
            by_division.setdefault(error.division, []).append(stream)
        for division, streams in sorted(by_division.items()):
            first_error = next(e for _, e in self.stops if e.division == division)
            lines.append(
                f"{first_error}; not finished: {', '.join(dict.fromkeys(streams))}",
            )
        lines.append("state up to the stop was emitted; the next run resumes from it")
        return "; ".join(lines)
