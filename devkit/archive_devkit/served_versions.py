"""Invariant: every record version a sandbox served is in the warehouse (or was superseded).

The sandboxes' opt-in `served` log names every version they sent (entity, division, key,
Timestamp, canonical record) and the runs that were sent it. A version is in the warehouse
when some row of its table (history, not only `__current`) equals it on every compared field
(the same comparison as `record_reconcile`). A version sent only to runs that were killed may
have been changed or deleted before the rerun read it again: then the sandbox's later version
must be in the table, or, for a deleted record, a tombstone. Served `sync/Deleted` entries
must each have a tombstone in one of the tables of their entity type.

Account versions are required in `customers` when Status was 'C' and in `suppliers` when
IsSupplier was set (the sandbox's role views): a first load leaves other accounts out. So an
account version a killed run was sent is also accounted for when the account left the table's
role before the rerun.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from exact_sandbox.catalog import ENTITIES_BY_NAME

from archive_devkit.entities import ROLE_TABLES, STREAM_ENTITIES
from archive_devkit.record_reconcile import Compared, RecordSource, TableComparison
from archive_devkit.sandboxes import SandboxAdmin
from archive_devkit.warehouse_rows import column_types, existing_relations, read_rows

MAX_LINES = 20


#: Which account versions each account table must hold (the sandbox's role views).
def _is_customer(record: dict[str, Any]) -> bool:
    return record.get("Status") == "C"


def _is_supplier(record: dict[str, Any]) -> bool:
    return bool(record.get("IsSupplier"))


IN_ROLE: dict[str, Callable[[dict[str, Any]], bool]] = {
    "customers": _is_customer,
    "suppliers": _is_supplier,
}


@dataclass
class ServedCheck:
    """The outcome: versions checked, those superseded after a kill, and failure lines."""

    versions: int = 0
    superseded: int = 0
    deletions: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, line: str) -> None:
        """Keep the first `MAX_LINES` failure lines; count the rest."""
        if len(self.failures) < MAX_LINES:
            self.failures.append(line)
        elif len(self.failures) == MAX_LINES:
            self.failures.append("... more served versions are missing")


@dataclass
class History:
    """Every row of one table per (division, record id): compared values, and tombstones."""

    versions: dict[tuple[str, str], list[tuple[Any, ...]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    tombstones: set[tuple[str, str]] = field(default_factory=set)


def read_history(
    cursor: Any, table: str, compared: list[Compared], types: dict[str, str]
) -> History:
    """All rows of `table`, live versions and tombstones apart."""
    history = History()
    columns = ["_division_id", "_record_id", "_deleted_at", *[c.column for c in compared]]
    for row in read_rows(cursor, table, columns, types):
        where = (str(row[0]), str(row[1]))
        if row[2] is not None:
            history.tombstones.add(where)
        else:
            history.versions[where].append(row[3:])
    return history


def holds(compared: list[Compared], record: dict[str, Any], rows: list[tuple[Any, ...]]) -> bool:
    """Whether one of `rows` equals `record` on every compared field."""
    return any(
        all(c.equal(record.get(c.name), value) for c, value in zip(compared, row, strict=True))
        for row in rows
    )


class ServedVersionCheck:
    """Walks every table's history against the versions its sandbox served."""

    def __init__(
        self, sandboxes: Mapping[str, SandboxAdmin], completed_runs: set[str], source: RecordSource
    ) -> None:
        """`completed_runs`: labels of the runs that ended by themselves with success."""
        self.completed_runs = completed_runs
        self.source = source
        self.result = ServedCheck()
        self._served: dict[tuple[int, str], list[dict[str, Any]]] = {}
        self.tombstones: dict[str, set[tuple[str, str]]] = {}

    def served(self, division: int, entity: str) -> list[dict[str, Any]]:
        """The served versions of one entity (fetched once)."""
        if (division, entity) not in self._served:
            sandbox = self.source.by_division[division]
            self._served[(division, entity)] = sandbox.served(division, entity)
        return self._served[(division, entity)]

    def check_table(self, cursor: Any, table: str, types: dict[str, str]) -> None:
        """Every served version this table must hold."""
        comparison = TableComparison(table, self.source, types)
        history = read_history(cursor, table, comparison.compared, types) if types else History()
        self.tombstones[table] = history.tombstones
        in_role = IN_ROLE.get(table)
        for division in comparison.divisions:
            for version in self.served(division, comparison.entity):
                record = version["record"]
                if in_role is not None and not in_role(record):
                    continue
                self.result.versions += 1
                self.check_version(table, comparison, history, division, version)

    def check_version(
        self,
        table: str,
        comparison: TableComparison,
        history: History,
        division: int,
        version: dict[str, Any],
    ) -> None:
        """One version: held, superseded after a kill, or missing."""
        where = (str(division), str(version["key"]))
        compared = comparison.compared
        if holds(compared, version["record"], history.versions.get(where, [])):
            return
        runs = set(version["runs"])
        if not runs & self.completed_runs:
            current = self.source.table(division, comparison.entity).records.get(where[1])
            if current is None and where in history.tombstones:
                self.result.superseded += 1
                return
            # An unchanged record cannot pass here: it equals the version just missed.
            if current is not None and holds(compared, current, history.versions.get(where, [])):
                self.result.superseded += 1
                return
            # An account that left this table's role before the rerun belongs elsewhere now
            # (a first load leaves it out; its later version is checked in its own table).
            in_role = IN_ROLE.get(table)
            if current is not None and in_role is not None and not in_role(current):
                self.result.superseded += 1
                return
        self.result.fail(
            f"served version missing: {table} {division} {where[1]} Timestamp "
            f"{version['timestamp']} (served in {', '.join(sorted(runs))})"
        )

    def check_deletions(self) -> None:
        """Every served delete-log entry has a tombstone in a table of its entity type."""
        tables_of_type: dict[int, list[str]] = defaultdict(list)
        for table, entity in STREAM_ENTITIES.items():
            stored = ROLE_TABLES[table][0] if table in ROLE_TABLES else entity
            kind = ENTITIES_BY_NAME[stored].deleted_entity_type
            if kind is not None:
                tables_of_type[kind].append(table)
        for division in sorted(self.source.by_division):
            for entry in self.served(division, "Deleted"):
                where = (str(division), str(entry["key"]))
                tables = tables_of_type.get(int(entry["record"]["EntityType"]), [])
                self.result.deletions += bool(tables)
                if tables and not any(
                    where in self.tombstones.get(table, set()) for table in tables
                ):
                    self.result.fail(
                        f"served deletion without a tombstone: {division} {where[1]} "
                        f"(EntityType {entry['record']['EntityType']}, tables {', '.join(tables)})"
                    )


def check_served_versions(
    cursor: Any, sandboxes: Mapping[str, SandboxAdmin], completed_runs: set[str]
) -> ServedCheck:
    """Run the invariant over every table and every sandbox."""
    source = RecordSource(sandboxes)
    check = ServedVersionCheck(sandboxes, completed_runs, source)
    relations = existing_relations(cursor)
    for table in STREAM_ENTITIES:
        types = column_types(cursor, table) if table in relations else {}
        check.check_table(cursor, table, types)
    check.check_deletions()
    return check.result
