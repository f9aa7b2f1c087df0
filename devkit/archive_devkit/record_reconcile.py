"""Per record and field: every table's `__current` view against the sandboxes' live records.

For each table and division, every record the sandbox holds (`/_sandbox/records`; for customers
and suppliers the role view of Accounts) is looked up in `<table>__current` by (`_division_id`,
`_record_id`) and compared field by field (`field_values` normalises representation only).

Which fields are compared:

- every field the sandbox stores for the entity that has a column in the table. Fields no
  generator rule sets hold Exact's documented unset value (`exact_sandbox/unset.py`: 0, false,
  NULL...), stored in the row and served as stored, so they are compared like any other value;
  rows created through `mutate` hold NULL where no value was given, compared the same way;
- every field served on an endpoint the stream reads (`entities.STREAM_ENDPOINTS`) must have a
  column: figure `columns(<table>)`, one line per missing field;
- left out: stored fields that the stream's endpoint does not serve and that have no column,
  e.g. `Timestamp` of standard-endpoint streams, or `ShopOrder`, documented on the standard
  transaction-lines page only (the stored `Division` of purchase invoices is compared: the tap
  emits `Division` on every record);
- customers and suppliers also compare the tap's `is_customer`/`is_supplier` flags, which must
  be true exactly for the accounts in the sandbox's role views. Their tables may also hold
  accounts that left the role (flag false, per the tap's README); such a row must still equal
  the sandbox's account, and is not counted as extra.

Figures, per table and division: `fields(<table>)` expected = the sandbox's records, actual =
those whose `__current` row exists and equals on every compared field; `extra(<table>)`
expected 0, actual = `__current` rows that no sandbox record accounts for; `columns(<table>)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from target_snowflake_audit.naming import column_names

from archive_devkit.entities import ROLE_FLAGS, ROLE_TABLES, STREAM_ENDPOINTS, STREAM_ENTITIES
from archive_devkit.field_values import Comparator, FieldSpec, comparator, shown
from archive_devkit.reconcile import Figure
from archive_devkit.sandboxes import SandboxAdmin
from archive_devkit.warehouse_rows import column_types, existing_relations, read_rows

#: Mismatch lines kept per figure (the count says how many there were).
MAX_DETAILS = 12
PREFETCH_THREADS = 4
ROLE_VIEW_OF_FLAG = {"is_customer": "Customers", "is_supplier": "Suppliers"}


@dataclass(frozen=True)
class SourceTable:
    """One entity's live records in one division, as the sandbox answered them."""

    specs: tuple[FieldSpec, ...]
    key: str
    records: dict[str, dict[str, Any]]


class RecordSource:
    """The sandboxes' records, fetched once per (division, entity)."""

    def __init__(self, sandboxes: Mapping[str, SandboxAdmin]) -> None:
        """Index the sandboxes by the divisions they hold."""
        self.by_division = {
            division: sandbox for sandbox in sandboxes.values() for division in sandbox.divisions
        }
        self._cache: dict[tuple[int, str], SourceTable] = {}

    def prefetch(self, entities: list[str]) -> None:
        """Fetch `entities` of every division at once (each sandbox serves in its own process)."""
        pairs = [(division, entity) for division in self.by_division for entity in entities]
        with ThreadPoolExecutor(max_workers=PREFETCH_THREADS) as pool:
            for pair, table in zip(pairs, pool.map(lambda p: self._fetch(*p), pairs), strict=True):
                self._cache[pair] = table

    def _fetch(self, division: int, entity: str) -> SourceTable:
        answer = self.by_division[division].records(division, entity)
        key = str(answer["key"])
        return SourceTable(
            specs=tuple(FieldSpec.from_answer(entry) for entry in answer["fields"]),
            key=key,
            records={str(record[key]): record for record in answer["records"]},
        )

    def table(self, division: int, entity: str) -> SourceTable:
        """Every live record of `entity` in `division`, by record id (the key as text)."""
        cached = self._cache.get((division, entity))
        if cached is None:
            cached = self._cache[(division, entity)] = self._fetch(division, entity)
        return cached


@dataclass(frozen=True)
class Compared:
    """One field or derived flag as compared: sandbox name, column, equality test."""

    name: str
    column: str
    equal: Comparator


def field_columns(specs: tuple[FieldSpec, ...], role: bool) -> dict[str, str]:
    """Property -> column, by the target's documented collision rule (`naming.column_names`).

    Account tables carry both derived flags besides the stored fields: `IsSupplier` keeps
    `is_supplier` and the tap's flag `is_supplier` becomes `is_supplier__2`.
    """
    names = [spec.name for spec in specs] + (list(ROLE_FLAGS) if role else [])
    return column_names(names)


def role_flag_columns(specs: tuple[FieldSpec, ...]) -> dict[str, str]:
    """Derived flag -> its column in the account tables."""
    mapping = field_columns(specs, role=True)
    return {flag: mapping[flag] for flag in ROLE_FLAGS}


def _figure(table: str, division: int, measure: str, expected: int, actual: int) -> Figure:
    return Figure(table, str(division), measure, Decimal(expected), Decimal(actual))


def _with_details(figure: Figure, lines: list[str]) -> Figure:
    kept = lines[:MAX_DETAILS]
    if len(lines) > MAX_DETAILS:
        kept.append(f"... and {len(lines) - MAX_DETAILS} more")
    return Figure(
        figure.table, figure.division, figure.measure, figure.expected, figure.actual, tuple(kept)
    )


class TableComparison:
    """One table compared with the records of its entity in every division."""

    def __init__(self, table: str, source: RecordSource, types: dict[str, str]) -> None:
        """Work out the compared columns from the sandbox's field descriptions."""
        self.table = table
        self.source = source
        self.types = types
        self.role = ROLE_TABLES.get(table)
        self.entity = self.role[0] if self.role else STREAM_ENTITIES[table]
        self.divisions = sorted(source.by_division)
        specs = next(
            (t.specs for d in self.divisions if (t := source.table(d, self.entity)).specs), ()
        )
        mapping = field_columns(specs, role=self.role is not None)
        self.compared = [
            Compared(spec.name, mapping[spec.name], comparator(spec))
            for spec in specs
            if mapping[spec.name] in types
        ]
        reads = set(STREAM_ENDPOINTS[table])
        self.required = [spec.name for spec in specs if reads & set(spec.endpoints)]
        self.missing = [name for name in self.required if mapping[name] not in types]
        flag_test = comparator(FieldSpec("flag", "Edm.Boolean"))
        self.flags = [
            Compared(flag, mapping[flag], flag_test)
            for flag in ROLE_FLAGS
            if self.role and mapping[flag] in types
        ]

    def expected_records(self, division: int) -> dict[str, dict[str, Any]]:
        """The records the table must hold for `division`, derived flags added."""
        records = self.source.table(division, self.entity).records
        if self.role is None:
            return records
        in_role = {
            flag: set(self.source.table(division, view).records)
            for flag, view in ROLE_VIEW_OF_FLAG.items()
        }
        table_view = ROLE_VIEW_OF_FLAG[self.role[1]]
        return {
            key: {**record, **{flag: key in keys for flag, keys in in_role.items()}}
            for key, record in records.items()
            if key in self.source.table(division, table_view).records
        }

    def differences(self, record: dict[str, Any], row: tuple[Any, ...]) -> list[str]:
        """`column: sandbox X, warehouse Y` for every compared field that differs."""
        found = []
        for compared, actual in zip([*self.compared, *self.flags], row, strict=True):
            expected = record.get(compared.name)
            if not compared.equal(expected, actual):
                found.append(
                    f"{compared.column}: sandbox {shown(expected)}, warehouse {shown(actual)}"
                )
        return found

    def figures(self, cursor: Any, relations: set[str]) -> list[Figure]:
        """`fields`, `extra` and `columns` figures for every division of the table."""
        held: dict[tuple[str, str], tuple[Any, ...]] = {}
        view = f"{self.table}__current"
        if view in relations:
            columns = ["_division_id", "_record_id"]
            columns += [c.column for c in [*self.compared, *self.flags]]
            for row in read_rows(cursor, view, columns, self.types):
                held[(str(row[0]), str(row[1]))] = row[2:]
        figures: list[Figure] = []
        for division in self.divisions:
            figures.extend(self.division_figures(division, held))
        return figures

    def division_figures(
        self, division: int, held: dict[tuple[str, str], tuple[Any, ...]]
    ) -> list[Figure]:
        """The three figures of one division."""
        code = str(division)
        expected = self.expected_records(division)
        rows = {key: row for (where, key), row in held.items() if where == code}
        if not expected and not rows:
            return []
        lines, equal = [], 0
        for key, record in sorted(expected.items()):
            row = rows.get(key)
            if row is None:
                lines.append(f"{self.table} {code} {key}: missing from {self.table}__current")
                continue
            found = self.differences(record, row)
            equal += not found
            lines += [f"{self.table} {code} {key}: {difference}" for difference in found]
        extra, extra_lines = self.extra_rows(division, expected, rows)
        missing = [f"{self.table}: no column for {name}" for name in self.missing]
        return [
            _with_details(
                _figure(self.table, division, f"fields({self.table})", len(expected), equal), lines
            ),
            _with_details(
                _figure(self.table, division, f"extra({self.table})", 0, extra), extra_lines
            ),
            _with_details(
                _figure(
                    self.table,
                    division,
                    f"columns({self.table})",
                    len(self.required),
                    len(self.required) - len(self.missing),
                ),
                missing,
            ),
        ]

    def extra_rows(
        self,
        division: int,
        expected: dict[str, dict[str, Any]],
        rows: dict[str, tuple[Any, ...]],
    ) -> tuple[int, list[str]]:
        """How many `__current` rows no sandbox record accounts for, and lines naming them.

        In an account table, a row outside the role is accounted for when it equals the
        sandbox's account (flags included).
        """
        count, lines = 0, []
        accounts = self.source.table(division, self.entity).records if self.role else {}
        for key in sorted(set(rows) - set(expected)):
            account = accounts.get(key)
            if account is None:
                count += 1
                lines.append(f"{self.table} {division} {key}: in {self.table}__current only")
                continue
            flags = {
                flag: key in self.source.table(division, view).records
                for flag, view in ROLE_VIEW_OF_FLAG.items()
            }
            found = self.differences({**account, **flags}, rows[key])
            count += bool(found)
            lines += [f"{self.table} {division} {key} (outside the role): {line}" for line in found]
        return count, lines


def record_figures(cursor: Any, sandboxes: Mapping[str, SandboxAdmin]) -> list[Figure]:
    """Per-record figures for every table, against every division of `sandboxes`."""
    source = RecordSource(sandboxes)
    entities = {role[0] for role in ROLE_TABLES.values()} | set(ROLE_VIEW_OF_FLAG.values())
    entities |= {entity for table, entity in STREAM_ENTITIES.items() if table not in ROLE_TABLES}
    source.prefetch(sorted(entities))
    relations = existing_relations(cursor)
    figures: list[Figure] = []
    for table in STREAM_ENTITIES:
        types = column_types(cursor, table) if table in relations else {}
        figures.extend(TableComparison(table, source, types).figures(cursor, relations))
    return figures
