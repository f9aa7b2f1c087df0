"""Exact's API limits: calls per clock minute and per day, per app and division; error blocks.

Exact counts 60 calls per fixed clock minute and 5,000 per day for each app and company
(division); a minutely hit gets a 429 with an empty body and only the minutely headers. More
than 10 client errors (400/401/403/404) on one endpoint within an hour block the app for an hour.
All windows follow the sandbox clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from exact_sandbox.clock import Clock, next_minute_ms, next_utc_midnight_ms

CLIENT_ERROR_STATUSES = frozenset({400, 401, 403, 404})
ERROR_BUDGET = 10
BLOCK_SECONDS = 3600.0


@dataclass
class Limits:
    """The configured limits (settable by CLI and admin API)."""

    minutely: int = 60
    daily: int = 5000


@dataclass
class Window:
    """Call counts of one (client, division) in the current minute and day."""

    minute: int = -1
    minute_calls: int = 0
    day: int = -1
    day_calls: int = 0


@dataclass
class Decision:
    """Whether a call may proceed, and the headers to send either way."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)


class RateLimiter:
    """Counts calls and client errors against the sandbox clock."""

    def __init__(self, clock: Clock, limits: Limits) -> None:
        """Start with empty windows."""
        self.clock = clock
        self.limits = limits
        self._windows: dict[tuple[str, int], Window] = {}
        self._errors: dict[tuple[str, int, str], deque[float]] = {}
        self._blocked_until: dict[str, float] = {}

    def check(self, client_id: str, division: int) -> Decision:
        """Count one call if allowed; answer the X-RateLimit headers Exact sends."""
        now = self.clock.now()
        window = self._windows.setdefault((client_id, division), Window())
        minute, day = int(now // 60), int(now // 86_400)
        if window.minute != minute:
            window.minute, window.minute_calls = minute, 0
        if window.day != day:
            window.day, window.day_calls = day, 0
        minutely_reset = str(next_minute_ms(now))
        daily_reset = str(next_utc_midnight_ms(now))
        if window.day_calls >= self.limits.daily:
            return Decision(
                allowed=False,
                headers={
                    "X-RateLimit-Limit": str(self.limits.daily),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": daily_reset,
                },
            )
        if window.minute_calls >= self.limits.minutely:
            # Exact sends only the minutely headers on a minutely-limit hit.
            return Decision(
                allowed=False,
                headers={
                    "X-RateLimit-Minutely-Limit": str(self.limits.minutely),
                    "X-RateLimit-Minutely-Remaining": "0",
                    "X-RateLimit-Minutely-Reset": minutely_reset,
                },
            )
        window.minute_calls += 1
        window.day_calls += 1
        return Decision(
            allowed=True,
            headers={
                "X-RateLimit-Limit": str(self.limits.daily),
                "X-RateLimit-Remaining": str(self.limits.daily - window.day_calls),
                "X-RateLimit-Reset": daily_reset,
                "X-RateLimit-Minutely-Limit": str(self.limits.minutely),
                "X-RateLimit-Minutely-Remaining": str(self.limits.minutely - window.minute_calls),
                "X-RateLimit-Minutely-Reset": minutely_reset,
            },
        )

    def record_error(self, client_id: str, division: int, endpoint: str, status: int) -> None:
        """Count a client error; past the hourly budget the client is blocked for an hour."""
        if status not in CLIENT_ERROR_STATUSES:
            return
        now = self.clock.now()
        errors = self._errors.setdefault((client_id, division, endpoint), deque())
        errors.append(now)
        while errors and errors[0] <= now - 3600:
            errors.popleft()
        if len(errors) > ERROR_BUDGET:
            self._blocked_until[client_id] = now + BLOCK_SECONDS
            errors.clear()

    def blocked_until(self, client_id: str) -> float | None:
        """When the client's block ends, if it is blocked now."""
        until = self._blocked_until.get(client_id)
        if until is None or until <= self.clock.now():
            self._blocked_until.pop(client_id, None)
            return None
        return until

    def spend_current_minute(self) -> None:
        """Use up the current minute of every client and division (another app's burst).

        The next call in this clock minute gets Exact's minutely 429; the next minute is free.
        """
        minute = int(self.clock.now() // 60)
        for window in self._windows.values():
            if window.minute != minute:
                window.minute, window.minute_calls = minute, 0
            window.minute_calls = max(window.minute_calls, self.limits.minutely)

    def reset(self) -> None:
        """Forget every count and block (admin `limits` call)."""
        self._windows.clear()
        self._errors.clear()
        self._blocked_until.clear()
