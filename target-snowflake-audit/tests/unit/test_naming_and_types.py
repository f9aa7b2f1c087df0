"""Naming and type-mapping rules, as a table of examples."""

from __future__ import annotations

from decimal import Decimal

import pytest
from target_snowflake_audit.ddl import AUDIT_COLUMN_NAMES
from target_snowflake_audit.naming import column_names, snake_case, table_name
from target_snowflake_audit.records import RecordRejected, build_converter
from target_snowflake_audit.types import ColumnKind, can_load_into, column_kind


@pytest.mark.parametrize(
    ("prop", "column"),
    [
        ("AmountDC", "amount_dc"),
        ("GLAccount", "gl_account"),
        ("EntryID", "entry_id"),
        ("ID", "id"),
        ("VATAmountFC", "vat_amount_fc"),
        ("Division", "division"),
        ("already_snake", "already_snake"),
        ("Amount (EUR)", "amount__eur_"),
        ("2ndLine", "_2nd_line"),
        ("ÄpfelCount", "_pfel_count"),
    ],
)
def test_columns_are_lowercase_snake_case(prop, column):
    assert snake_case(prop) == column


def test_tables_are_the_lowercased_stream_name():
    assert table_name("TransactionLines") == "transactionlines"
    assert table_name("sales-invoices") == "sales_invoices"
    assert table_name("public.GLAccounts") == "public_glaccounts"


def test_column_collisions_are_resolved_deterministically():
    first = column_names(["amount_dc", "AmountDC", "Amount_DC"])
    second = column_names(["Amount_DC", "AmountDC", "amount_dc"])
    assert (
        first
        == second
        == {
            "AmountDC": "amount_dc",
            "Amount_DC": "amount_dc__2",
            "amount_dc": "amount_dc__3",
        }
    )


def test_properties_never_take_audit_column_names():
    assert column_names(["_record_id", "RecordID"], reserved=AUDIT_COLUMN_NAMES) == {
        "RecordID": "record_id",
        "_record_id": "_record_id__2",
    }


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        ({"type": "integer"}, ColumnKind.INTEGER),
        ({"type": ["number", "null"]}, ColumnKind.NUMBER),
        ({"type": ["integer", "number"]}, ColumnKind.NUMBER),
        ({"type": "string"}, ColumnKind.STRING),
        ({"type": "string", "format": "date-time"}, ColumnKind.TIMESTAMP),
        ({"type": ["string", "null"], "format": "date"}, ColumnKind.DATE),
        ({"type": "boolean"}, ColumnKind.BOOLEAN),
        ({"type": "object"}, ColumnKind.VARIANT),
        ({"type": "array"}, ColumnKind.VARIANT),
        ({"type": ["string", "integer"]}, ColumnKind.VARIANT),
        ({}, ColumnKind.VARIANT),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, ColumnKind.STRING),
    ],
)
def test_json_schema_types_map_to_snowflake_types(schema, kind):
    assert column_kind(schema) is kind


def test_number_is_fixed_point_with_nine_decimals():
    assert ColumnKind.NUMBER.sql == "NUMBER(38,9)"
    assert ColumnKind.INTEGER.sql == "NUMBER(38,0)"


def test_only_lossless_type_changes_reuse_a_column():
    assert can_load_into(ColumnKind.NUMBER, ColumnKind.INTEGER)
    assert can_load_into(ColumnKind.VARIANT, ColumnKind.STRING)
    assert not can_load_into(ColumnKind.INTEGER, ColumnKind.NUMBER)
    assert not can_load_into(ColumnKind.NUMBER, ColumnKind.STRING)


@pytest.mark.parametrize(
    ("schema", "value", "field"),
    [
        ({"type": "integer"}, 5, "5"),
        ({"type": "integer"}, 5.0, "5"),
        ({"type": "number"}, Decimal("0.1"), "0.1"),
        ({"type": "number"}, Decimal("1E-7"), "0.0000001"),
        ({"type": "number"}, Decimal("1.0000000005"), "1.000000000"),
        ({"type": "number"}, Decimal("1.0000000015"), "1.000000002"),
        ({"type": "integer"}, Decimal("5.0"), "5"),
        ({"type": "string"}, 'a "b",c', '"a ""b"",c"'),
        ({"type": "string", "format": "date-time"}, "2024-01-01T12:00:00+02:00",
         "2024-01-01 10:00:00.000000 +00:00"),
        ({"type": "string", "format": "date-time"}, "2024-01-01T12:00:00Z",
         "2024-01-01 12:00:00.000000 +00:00"),
        ({"type": "string", "format": "date-time"}, "2024-01-01T12:00:00",
         "2024-01-01 12:00:00.000000 +00:00"),
        ({"type": "string", "format": "date-time"}, "20240101T120000.5+0100",
         "2024-01-01 11:00:00.500000 +00:00"),
        ({"type": "string", "format": "date"}, "2024-01-31", "2024-01-31"),
        ({"type": "string", "format": "date"}, "2024-W01-1", "2024-01-01"),
        ({"type": "string", "format": "date"}, "20240131", "2024-01-31"),
        ({"type": "boolean"}, True, "true"),
        ({"type": "object"}, {"a": [1, "x"]}, '"{""a"":[1,""x""]}"'),
        ({"type": "string", "enum": ["a", "b"]}, "a", '"a"'),
    ],
)  # fmt: skip
def test_valid_values_render_as_csv_fields(schema, value, field):
    assert build_converter(schema, column_kind(schema))(value) == field


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "integer"}, "5"),
        ({"type": "integer"}, True),
        ({"type": "integer"}, 5.5),
        ({"type": "number"}, "1.5"),
        ({"type": "number"}, float("nan")),
        ({"type": "string"}, 5),
        ({"type": "string", "format": "date-time"}, "yesterday"),
        ({"type": "string", "format": "date"}, "2024-02-30"),
        ({"type": "boolean"}, "true"),
        ({"type": "object"}, [1]),
        ({"type": "string", "enum": ["a", "b"]}, "c"),
        ({"type": "string", "maxLength": 2}, "abc"),
        ({"type": "integer", "minimum": 0}, -1),
    ],
)
def test_invalid_values_are_rejected(schema, value):
    with pytest.raises(RecordRejected):
        build_converter(schema, column_kind(schema))(value)
