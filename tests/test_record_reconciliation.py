"""The per-record reconciliation reports exactly the field a warehouse row got wrong.

One small entity is loaded through the real `meltano run`; every record then reconciles field
by field. Then rows are changed in the warehouse behind the pipeline's back (UPDATEs run on
the emulator: the target itself never updates), one field of one record per type, and the
reconciliation must name exactly those records and columns, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_devkit.local_stack import LocalStack
from archive_devkit.pipeline import meltano_run, warehouse_cursor
from archive_devkit.reconcile import format_report
from archive_devkit.record_reconcile import record_figures

pytestmark = pytest.mark.e2e

# (table, column, new value as SQL) for one record each: a decimal, a calendar date, a moment,
# a padded string, a boolean, an integer.
CHANGES = (
    ("sales_invoices", "amount_dc", "4321.09"),
    ("transaction_lines", "date", "'2001-02-03'::DATE"),
    ("items", "modified", "'2001-02-03 04:05:06+00:00'::TIMESTAMP_TZ"),
    ("customers", "name", "\"name\" || ' '"),
    ("items", "is_sales_item", 'NOT "is_sales_item"'),
    ("sales_orders", "order_number", '"order_number" + 1'),
)


@pytest.fixture
def small_stack(tmp_path: Path, meltano_plugins: None) -> Iterator[LocalStack]:
    """One small UK company, one division: enough rows of every stream, loaded quickly."""
    with LocalStack.one_small_entity(tmp_path / "stack") as running:
        yield running


def mismatches(stack: LocalStack) -> list:
    with warehouse_cursor(stack) as cursor:
        return [f for f in record_figures(cursor, stack.sandboxes) if not f.matches]


def first_record(cursor, table: str, skip: set[str]) -> str:
    cursor.execute(f'SELECT "_record_id" FROM "{table}__current" ORDER BY "_record_id"')  # noqa: S608
    return next(str(row[0]) for row in cursor.fetchall() if str(row[0]) not in skip)


def test_a_changed_warehouse_field_is_reported_as_exactly_that_field(small_stack):
    meltano_run(small_stack, "uk")
    assert mismatches(small_stack) == []
    division = str(small_stack.sandboxes["uk"].divisions[0])
    expected: set[str] = set()
    changed: set[str] = set()
    with warehouse_cursor(small_stack) as cursor:
        for table, column, value in CHANGES:
            key = first_record(cursor, table, changed)
            changed.add(key)
            cursor.execute(
                f'UPDATE "{table}" SET "{column}" = {value} WHERE "_record_id" = %s',  # noqa: S608
                (key,),
            )
            expected.add(f"{table} {division} {key}: {column}")
        ghost = first_record(cursor, "contacts", changed)
        cursor.execute(
            'UPDATE "contacts" SET "_record_id" = \'ghost\' WHERE "_record_id" = %s', (ghost,)
        )
    found = mismatches(small_stack)
    report = format_report(found)
    details = {line for figure in found for line in figure.details}
    assert {line.split(": sandbox")[0] for line in details if ": sandbox" in line} == expected, (
        report
    )
    assert f"contacts {division} {ghost}: missing from contacts__current" in details, report
    assert f"contacts {division} ghost: in contacts__current only" in details, report
    assert len(details) == len(expected) + 2, report
    measures = {(figure.table, figure.measure) for figure in found}
    assert measures == {(t, f"fields({t})") for t, _, _ in CHANGES} | {
        ("contacts", "fields(contacts)"),
        ("contacts", "extra(contacts)"),
    }, report
    amount = next(line for line in details if line.startswith("sales_invoices"))
    assert amount.endswith("warehouse 4321.090000000"), amount
