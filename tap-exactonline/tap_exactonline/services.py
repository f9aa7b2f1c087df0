"""What streams need from their tap: the per-process services, one of each.

A protocol, so streams depend on these services and not on the tap module (no import cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tap_exactonline.deleted_log import DeletedLog
    from tap_exactonline.exact_client import ExactClient
    from tap_exactonline.rate_limits import RateLimiter, RunReport


class TapServices(Protocol):
    """The tap's shared services (see tap.py)."""

    @property
    def config(self) -> Mapping[str, Any]:
        """The tap's settings."""
        ...  # pragma: no cover

    @property
    def message_writer(self) -> Any:
        """Writes Singer messages to stdout."""
        ...  # pragma: no cover

    @property
    def client(self) -> ExactClient:
        """HTTP to Exact, shared by every stream."""
        ...  # pragma: no cover

    @property
    def rate_limiter(self) -> RateLimiter:
        """Per-division call accounting."""
        ...  # pragma: no cover

    @property
    def deleted_log(self) -> DeletedLog:
        """``sync/Deleted``, read once per division."""
        ...  # pragma: no cover

    @property
    def run_report(self) -> RunReport:
        """Streams a daily limit stopped."""
        ...  # pragma: no cover

    @property
    def division_codes(self) -> list[int]:
        """The divisions this run syncs."""
        ...  # pragma: no cover

    @property
    def division_rows(self) -> list[dict[str, Any]]:
        """``system/Divisions`` rows, read once per run."""
        ...  # pragma: no cover

    def division_move_date(self, division: int) -> str | None:
        """When Exact last moved a division (its timestamps then reset)."""
        ...  # pragma: no cover
