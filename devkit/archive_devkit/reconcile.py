"""Compare what landed in the warehouse with what the sandboxes hold.

The sandbox's `/_sandbox/truth` gives, per division and Exact entity, the number of live rows and
exact sums of every amount field. The warehouse side reads each table's `__current` view (latest
version per record, tombstoned records left out), so a correct pipeline matches exactly.
Sums are added up in Python as Decimals: the emulator returns SUM over NUMBER as a float.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from target_snowflake_audit.naming import snake_case

from archive_devkit.entities import ROLE_TABLES, STREAM_ENTITIES, role_flag_column

CalendarDates = dict[str, dict[str, dict[str, dict[str, str]]]]
"""Division code -> entity -> record key -> {date field: "YYYY-MM-DD"}."""


# Tables whose dates come from another entity than their truth (accounts split by role).
DATE_ENTITIES: dict[str, str] = {"customers": "Accounts", "suppliers": "Accounts"}


@dataclass(frozen=True)
class Figure:
    """One compared number (a row count, an amount sum, records equal...) for a table/division.

    `details` are readable lines saying what differs (record figures fill them).
    """

    table: str
    division: str
    measure: str
    expected: Decimal
    actual: Decimal
    details: tuple[str, ...] = ()

    @property
    def matches(self) -> bool:
        """Whether the warehouse holds exactly what the sandbox holds."""
        return self.expected == self.actual


def warehouse_figures(
    cursor: Any, table: str, amount_columns: list[str]
) -> dict[str, dict[str, Decimal]]:
    """Per division: row count and exact sums of `amount_columns` from `<table>__current`.

    An account table counts the accounts in its role only: later runs also carry accounts
    that left the role, flagged false (the tap's README, customers / suppliers).
    """
    select_list = ", ".join(['"_division_id"', *[f'"{name}"' for name in amount_columns]])
    where = f' WHERE "{role_flag_column(table)}"' if table in ROLE_TABLES else ""
    cursor.execute(f'SELECT {select_list} FROM "{table}__current"{where}')  # noqa: S608 - names are ours
    figures: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in cursor.fetchall():
        division = str(row[0])
        figures[division]["count"] += 1
        for name, value in zip(amount_columns, row[1:], strict=True):
            if value is not None:
                figures[division][name] += Decimal(str(value))
    return figures


def table_columns(cursor: Any, table: str) -> set[str]:
    """The column names of one table (exact strings)."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = CURRENT_SCHEMA() AND table_name = %s",
        (table,),
    )
    return {str(row[0]) for row in cursor.fetchall()}


def date_figures(
    cursor: Any, dates: dict[str, dict[str, dict[str, dict[str, str]]]]
) -> list[Figure]:
    """Per table, division and date column: how many documents carry the sandbox's own date.

    Expected is the number of dates the sandbox holds; actual the number of `__current` rows
    whose DATE column holds exactly that day (a UTC instant cast to a date would be a day early
    for every Amsterdam midnight and match none). The account tables are left to the
    per-record comparison (`record_reconcile`), which knows their roles: the sandbox's dates
    are those of every account.
    """
    figures: list[Figure] = []
    for table, entity in STREAM_ENTITIES.items():
        if table in ROLE_TABLES:
            continue
        source = DATE_ENTITIES.get(table, entity)
        by_division = {
            division: entities[source]
            for division, entities in dates.items()
            if entities.get(source)
        }
        if not by_division:
            continue
        columns = table_columns(cursor, table)
        fields = sorted(
            {name for rows in by_division.values() for row in rows.values() for name in row}
        )
        compared = [(name, snake_case(name)) for name in fields if snake_case(name) in columns]
        if not compared:
            continue
        select = ", ".join(f'"{column}"' for _, column in compared)
        cursor.execute(f'SELECT "_division_id", "_record_id", {select} FROM "{table}__current"')  # noqa: S608 - names are ours
        held = {(str(row[0]), str(row[1])): row[2:] for row in cursor.fetchall()}
        for division, records in sorted(by_division.items()):
            for index, (name, column) in enumerate(compared):
                expected = [(key, row[name]) for key, row in records.items() if name in row]
                if not expected:
                    continue
                equal = sum(
                    1
                    for key, day in expected
                    if (division, key) in held and _as_date_text(held[division, key][index]) == day
                )
                figures.append(
                    Figure(
                        table, division, f"dates({column})", Decimal(len(expected)), Decimal(equal)
                    )
                )
    return figures


def _as_date_text(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


def existing_tables(cursor: Any) -> set[str]:
    """Names of the views the target created (exact, case-sensitive strings)."""
    cursor.execute(
        "SELECT table_name FROM information_schema.views WHERE table_schema = CURRENT_SCHEMA()"
    )
    return {str(row[0]) for row in cursor.fetchall()}


def reconcile(
    cursor: Any,
    truths: dict[str, dict[str, dict[str, Any]]],
    dates: CalendarDates | None = None,
) -> list[Figure]:
    """Every count, amount sum and calendar date, per table and division, expected and actual.

    `truths` maps division code -> entity -> {"count": n, "sums": {field: "decimal"}}, merged
    over all sandboxes; `dates` maps division code -> entity -> record key -> {field: date}.
    """
    figures: list[Figure] = []
    views = existing_tables(cursor)
    for table, entity in STREAM_ENTITIES.items():
        expected_by_division = {
            division: entities[entity]
            for division, entities in truths.items()
            if entity in entities and entities[entity]["count"] > 0
        }
        sum_fields = sorted({f for t in expected_by_division.values() for f in t.get("sums", {})})
        columns = [snake_case(f) for f in sum_fields]
        actual: dict[str, dict[str, Decimal]] = {}
        if f"{table}__current" in views:
            actual = warehouse_figures(cursor, table, columns)
        for division in sorted(set(expected_by_division) | set(actual)):
            expected = expected_by_division.get(division, {"count": 0, "sums": {}})
            got = actual.get(division, {})
            figures.append(
                Figure(
                    table,
                    division,
                    "rows",
                    Decimal(expected["count"]),
                    got.get("count", Decimal(0)),
                )
            )
            for field_name, column in zip(sum_fields, columns, strict=True):
                figures.append(
                    Figure(
                        table,
                        division,
                        f"sum({column})",
                        Decimal(str(expected.get("sums", {}).get(field_name, "0"))),
                        got.get(column, Decimal(0)),
                    )
                )
    if dates:
        figures.extend(date_figures(cursor, dates))
    return figures


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def format_report(figures: list[Figure]) -> str:
    """One line per table and division: rows and amount sums, sandbox vs warehouse, marked.

    Every figure is compared; the line shows the row count and the AmountDC sum (or the first
    amount field), how many other figures were compared (sums, dates, per-record checks), and
    says `yes` only when all of that line's figures match exactly. Each mismatch follows, with
    the lines saying what differs.
    """
    groups: dict[tuple[str, str], list[Figure]] = defaultdict(list)
    for fig in figures:
        groups[(fig.table, fig.division)].append(fig)
    header = (
        f"{'table':<36} {'division':>8} {'rows (sandbox/warehouse)':>25} "
        f"{'amount sum (sandbox/warehouse)':>36} {'other':>5}  match"
    )
    lines = [header, "-" * len(header)]
    for (table, division), group in groups.items():
        rows = next((fig for fig in group if fig.measure == "rows"), None)
        others = [fig for fig in group if fig.measure != "rows"]
        sums = [fig for fig in others if fig.measure.startswith("sum(")]
        shown = next((fig for fig in sums if fig.measure == "sum(amount_dc)"), None)
        shown = shown or (sums[0] if sums else None)
        amount = f"{_money(shown.expected)} / {_money(shown.actual)}" if shown else ""
        counted = f"{rows.expected} / {rows.actual}" if rows else ""
        mark = "yes" if all(fig.matches for fig in group) else "NO"
        lines.append(
            f"{table:<36} {division:>8} {counted:>25} {amount:>36} {len(others):>5}  {mark}"
        )
    mismatches = [fig for fig in figures if not fig.matches]
    for fig in mismatches:
        lines.append(
            f"  mismatch: {fig.table} {fig.division} {fig.measure}: "
            f"sandbox {fig.expected}, warehouse {fig.actual}"
        )
        lines.extend(f"    {detail}" for detail in fig.details)
    lines.append(
        f"{len(figures)} figures compared ({len(groups)} table/division pairs), "
        f"{len(mismatches)} mismatches"
    )
    return "\n".join(lines)
