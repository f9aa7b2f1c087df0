"""An opt-in log of every record version the API served, for chaos tests (admin `served`).

A chaos test must prove that every version a client was sent reached the warehouse, or was
superseded before a rerun. A version is a row as stored when served: (entity, division, key,
Timestamp), since every create and update draws a new Timestamp. The log keeps each version's
canonical record (see `records.py`) once, with the labels of the runs that were sent it, and
each served `sync/Deleted` entry. It is off unless an admin call turns it on, so serving pays
one `is None` test per page and the throughput benchmark is unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from exact_sandbox.catalog import (
    DELETED,
    DIVISIONS,
    SALES_INVOICE_LINES,
    SALES_INVOICES,
    Entity,
    Kind,
)
from exact_sandbox.records import stored_rows
from exact_sandbox.store import Store


@dataclass
class ServedVersion:
    """One version the API sent, with the runs it was sent in."""

    record_json: str
    runs: set[str] = field(default_factory=set)


class ServedLog:
    """Versions and deletions served since the log was turned on, by run label."""

    def __init__(self) -> None:
        """Start empty, labelling runs with "" until told otherwise."""
        self.run = ""
        self._versions: dict[tuple[str, int, str, int], ServedVersion] = {}
        self._deletions: dict[tuple[int, str, int], ServedVersion] = {}

    def record_page(
        self, store: Store, entity: Entity, kind: Kind, division: int, paging_values: list[Any]
    ) -> None:
        """Log the rows of one page, given the paging column of each served row.

        Sync pages page by Timestamp (unique within a division, across entities); standard
        and bulk pages by the entity's key. The sales-invoice sync feed serves headers and
        lines, so both tables are looked up.
        """
        if entity.view_of is not None or not paging_values:
            return
        column = "Timestamp" if kind is Kind.SYNC else entity.key
        sources: tuple[Entity, ...] = (entity,)
        if entity is SALES_INVOICES and kind is Kind.SYNC:
            sources = (SALES_INVOICES, SALES_INVOICE_LINES)
        for source in sources:
            for record in stored_rows(store, source, division, column, paging_values):
                self._add(source, division, record)

    def _add(self, entity: Entity, division: int, record: dict[str, Any]) -> None:
        if entity is DELETED:
            key = (int(record["Division"]), str(record["EntityKey"]), int(record["Timestamp"]))
            entry = self._deletions.setdefault(key, ServedVersion(json.dumps(record)))
        else:
            own_division = int(record["Division"]) if entity is DIVISIONS else division
            version = (entity.name, own_division, str(record[entity.key]), record["Timestamp"])
            entry = self._versions.setdefault(version, ServedVersion(json.dumps(record)))
        entry.runs.add(self.run)

    def versions(self, entity_name: str, division: int) -> list[dict[str, Any]]:
        """Every served version of one entity and division: key, Timestamp, runs, record."""
        if entity_name == DELETED.name:
            return [
                {
                    "key": key,
                    "timestamp": timestamp,
                    "runs": sorted(entry.runs),
                    "record": json.loads(entry.record_json),
                }
                for (code, key, timestamp), entry in sorted(self._deletions.items())
                if code == division
            ]
        return [
            {
                "key": key,
                "timestamp": timestamp,
                "runs": sorted(entry.runs),
                "record": json.loads(entry.record_json),
            }
            for (name, code, key, timestamp), entry in sorted(self._versions.items())
            if name == entity_name and code == division
        ]

    def summary(self) -> dict[str, Any]:
        """How much the log holds, and the current run label."""
        return {
            "enabled": True,
            "run": self.run,
            "versions": len(self._versions),
            "deletions": len(self._deletions),
        }
