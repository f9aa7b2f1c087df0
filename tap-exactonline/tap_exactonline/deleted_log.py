"""Exact's delete log (``sync/Deleted``), read once per division per run for every stream.

Exact logs every deletion with the record's key (``EntityKey``), an entity type code and a
rowversion ``Timestamp``, and keeps the log for two months (the project's Exact reference,
section 6). Streams turn the entries of their type into tombstones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tap_exactonline.dates import exact_date_to_utc
from tap_exactonline.values import to_integer

if TYPE_CHECKING:
    from collections.abc import Callable

    from tap_exactonline.exact_client import ExactClient

DELETED_PATH = "sync/Deleted"


@dataclass(frozen=True)
class DeletedEntry:
    """One row of ``sync/Deleted``."""

    entity_type: int
    entity_key: str
    deleted_at: str | None
    timestamp: int


class DeletedLog:
    """``sync/Deleted``, read once per division per run and shared by every stream.

    Each stream keeps its own bookmark (the highest deleted-log Timestamp it has turned into
    tombstones); the log is read from the lowest of them, so an incremental run costs one
    call per division however many streams carry deletions.
    """

    def __init__(self, client: ExactClient) -> None:
        """Start with nothing read.

        Args:
            client: Reads the log.
        """
        self._client = client
        self._cache: dict[int, tuple[int, list[DeletedEntry], int]] = {}

    def entries(
        self, division: int, since: int, on_page: Callable[[], None] | None = None
    ) -> tuple[list[DeletedEntry], int]:
        """Return the deletions logged after ``since`` and the log's high-water Timestamp.

        Args:
            division: Division code.
            since: The asking stream's deleted-log bookmark.
            on_page: Called per page read (the asking stream's request metrics).

        Returns:
            The entries (possibly older ones too) and the highest Timestamp read.
        """
        cached = self._cache.get(division)
        if cached is not None and cached[0] <= since:
            return cached[1], cached[2]
        params = {
            "$select": "ID,EntityKey,EntityType,DeletedDate,Timestamp",
            "$filter": f"Timestamp gt {since}L",
        }
        url = self._client.division_url(division, DELETED_PATH)
        entries: list[DeletedEntry] = []
        high_water = since
        for row in self._client.rows(url, params, division, on_page=on_page):
            # Timestamp is Edm.Int64: a JSON string in OData v2.
            timestamp = to_integer(row["Timestamp"])
            high_water = max(high_water, timestamp)
            deleted_date = row.get("DeletedDate")
            entries.append(
                DeletedEntry(
                    entity_type=to_integer(row["EntityType"]),
                    entity_key=str(row["EntityKey"]),
                    deleted_at=exact_date_to_utc(deleted_date) if deleted_date else None,
                    timestamp=timestamp,
                ),
            )
        self._cache[division] = (since, entries, high_water)
        return entries, high_water
