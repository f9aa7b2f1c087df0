"""Per-record comparison: one changed field is reported as that field, and nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from archive_devkit.field_values import FieldSpec
from archive_devkit.record_reconcile import SourceTable, TableComparison

SYNC = ("sync/Logistics/Items",)
ITEM_SPECS = (
    FieldSpec("ID", "Edm.Guid", endpoints=SYNC),
    FieldSpec("Code", "Edm.String", endpoints=SYNC),
    FieldSpec("CostPriceStandard", "Edm.Double", endpoints=SYNC),
    FieldSpec("StartDate", "Edm.DateTime", calendar_date=True, endpoints=SYNC),
    FieldSpec("Modified", "Edm.DateTime", endpoints=SYNC),
    FieldSpec("IsSalesItem", "Edm.Boolean", endpoints=SYNC),
    FieldSpec("Division", "Edm.Int32", endpoints=SYNC),
    FieldSpec("Timestamp", "Edm.Int64", endpoints=SYNC),
    FieldSpec("StandardSalesPrice", "Edm.Double", endpoints=("logistics/Items",)),
)
ITEM = {
    "ID": "a",
    "Code": "02 ",
    "CostPriceStandard": "12.5",
    "StartDate": "2024-12-02",
    "Modified": "2024-07-01T10:00:00.000Z",
    "IsSalesItem": True,
    "Division": 100101,
    "Timestamp": 1001,
    "StandardSalesPrice": "3.0",
}
ROW = (
    "a",
    "02 ",
    Decimal("12.500000000"),
    date(2024, 12, 2),
    datetime(2024, 7, 1, 10, tzinfo=UTC),
    True,
    100101,
    1001,
)
TYPES = {
    "id": "TEXT",
    "code": "TEXT",
    "cost_price_standard": "NUMBER",
    "start_date": "DATE",
    "modified": "TIMESTAMP_TZ",
    "is_sales_item": "BOOLEAN",
    "division": "NUMBER",
    "timestamp": "NUMBER",
}


class StubSource:
    def __init__(self, tables):
        self.tables = tables
        self.by_division = {100101: None}

    def table(self, division, entity):
        return self.tables.get(entity, SourceTable(ITEM_SPECS, "ID", {}))


def comparison(records, table="items", types=TYPES, specs=ITEM_SPECS, extra=None):
    tables = {"Items": SourceTable(specs, "ID", records), **(extra or {})}
    return TableComparison(table, StubSource(tables), types)


def figures(comparison_, held):
    return {figure.measure: figure for figure in comparison_.division_figures(100101, held)}


def test_equal_records_match_on_every_compared_field():
    items = comparison({"a": ITEM})
    assert [c.column for c in items.compared] == list(TYPES)
    found = figures(items, {("100101", "a"): ROW})
    assert all(figure.matches for figure in found.values())
    assert found["fields(items)"].expected == 1
    assert found["columns(items)"].expected == 8  # StandardSalesPrice is not on the sync page


def test_one_changed_field_is_reported_as_that_field():
    changed = (*ROW[:3], date(2024, 12, 1), *ROW[4:])
    found = figures(comparison({"a": ITEM}), {("100101", "a"): changed})
    assert (found["fields(items)"].expected, found["fields(items)"].actual) == (1, 0)
    assert found["fields(items)"].details == (
        "items 100101 a: start_date: sandbox '2024-12-02', warehouse 2024-12-01",
    )
    assert found["extra(items)"].matches
    assert found["columns(items)"].matches


def test_missing_and_extra_records_and_missing_columns_are_figures():
    types = {name: kind for name, kind in TYPES.items() if name != "is_sales_item"}
    items = comparison({"a": ITEM}, types=types)
    row_without_flag = ROW[:5] + ROW[6:]
    found = figures(items, {("100101", "b"): row_without_flag})
    assert found["fields(items)"].details == ("items 100101 a: missing from items__current",)
    assert (found["extra(items)"].actual, found["extra(items)"].details) == (
        1,
        ("items 100101 b: in items__current only",),
    )
    assert found["columns(items)"].details == ("items: no column for IsSalesItem",)


def test_an_account_outside_its_role_may_stay_when_it_equals_the_sandbox():
    specs = (
        FieldSpec("ID", "Edm.Guid", endpoints=("sync/CRM/Accounts",)),
        FieldSpec("IsSupplier", "Edm.Boolean", endpoints=("sync/CRM/Accounts",)),
        FieldSpec("Status", "Edm.String", endpoints=("sync/CRM/Accounts",)),
    )
    accounts = {
        "c": {"ID": "c", "IsSupplier": False, "Status": "C"},
        "s": {"ID": "s", "IsSupplier": True, "Status": "S"},
    }
    tables = {
        "Accounts": SourceTable(specs, "ID", accounts),
        "Customers": SourceTable(specs, "ID", {"c": accounts["c"]}),
        "Suppliers": SourceTable(specs, "ID", {"s": accounts["s"]}),
    }
    types = {"id": "TEXT", "is_supplier": "BOOLEAN", "status": "TEXT"}
    types |= {"is_customer": "BOOLEAN", "is_supplier__2": "BOOLEAN"}
    customers = TableComparison("customers", StubSource(tables), types)
    held = {
        ("100101", "c"): ("c", False, "C", True, False),
        ("100101", "s"): ("s", True, "S", False, True),  # left the role, flagged false
    }
    assert all(figure.matches for figure in customers.division_figures(100101, held))
    held[("100101", "s")] = ("s", True, "S", True, True)  # still flagged a customer
    found = {f.measure: f for f in customers.division_figures(100101, held)}
    assert found["extra(customers)"].details == (
        "customers 100101 s (outside the role): is_customer: sandbox False, warehouse True",
    )
