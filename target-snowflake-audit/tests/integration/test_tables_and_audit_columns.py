"""What a finance user sees in Snowflake: names, types, audit columns, history."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from archive_devkit.singer_messages import (
    record_message,
    run_target,
    schema_message,
    singer_lines,
    state_message,
)

PROPERTIES = {
    "ID": {"type": "string"},
    "Division": {"type": "integer"},
    "AmountDC": {"type": ["number", "null"]},
    "GLAccount": {"type": ["string", "null"]},
    "EntryID": {"type": ["string", "null"]},
    "Modified": {"type": ["string", "null"], "format": "date-time"},
    "Date": {"type": ["string", "null"], "format": "date"},
    "IsBlocked": {"type": ["boolean", "null"]},
    "Tags": {"type": ["array", "null"]},
    "Quantity": {"type": ["integer", "null"]},
}

RECORD = {
    "ID": "a1",
    "Division": 100101,
    "AmountDC": 1234.56,
    "GLAccount": 'GL "1"',
    "EntryID": "e1",
    "Modified": "2024-05-01T12:00:00+02:00",
    "Date": "2024-05-01",
    "IsBlocked": False,
    "Tags": ["x", 1],
    "Quantity": 3,
}


def test_table_and_column_names_are_quoted_lowercase_snake_case(config, warehouse):
    run_target(
        config,
        singer_lines(
            schema_message("Transaction-Lines", PROPERTIES),
            record_message("Transaction-Lines", RECORD),
        ),
    )

    tables = warehouse(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = CURRENT_SCHEMA() ORDER BY table_name"
    )
    assert ("transaction_lines",) in tables
    columns = warehouse(
        "SELECT column_name, data_type, numeric_scale FROM information_schema.columns "
        "WHERE table_schema = CURRENT_SCHEMA() AND table_name = 'transaction_lines' "
        "ORDER BY ordinal_position"
    )
    assert columns == [
        ("amount_dc", "NUMBER", 9),
        ("date", "DATE", None),
        ("division", "NUMBER", 0),
        ("entry_id", "TEXT", None),
        ("gl_account", "TEXT", None),
        ("id", "TEXT", None),
        ("is_blocked", "BOOLEAN", None),
        ("modified", "TIMESTAMP_TZ", None),
        ("quantity", "NUMBER", 0),
        ("tags", "VARIANT", None),
        ("_source_system", "TEXT", None),
        ("_synced_at", "TIMESTAMP_TZ", None),
        ("_loaded_at", "TIMESTAMP_TZ", None),
        ("_division_id", "TEXT", None),
        ("_record_id", "TEXT", None),
        ("_record_hash", "TEXT", None),
        ("_batch_id", "TEXT", None),
        ("_sequence", "NUMBER", 0),
        ("_deleted_at", "TIMESTAMP_TZ", None),
        ("_document", "VARIANT", None),
    ]


def test_values_load_with_their_types_and_money_is_exact(config, warehouse):
    run_target(
        config,
        singer_lines(
            schema_message("transaction_lines", PROPERTIES),
            record_message("transaction_lines", RECORD),
            record_message("transaction_lines", {**RECORD, "ID": "a2", "AmountDC": 0.1}),
            record_message("transaction_lines", {**RECORD, "ID": "a3", "AmountDC": 0.2}),
        ),
    )

    row = warehouse(
        'SELECT "amount_dc", "gl_account", "modified"::VARCHAR, "date"::VARCHAR, '
        '"is_blocked", "tags"[0]::VARCHAR, "quantity" FROM "transaction_lines" '
        "WHERE \"id\" = 'a1'"
    )
    assert row == [
        (Decimal("1234.560000000"), 'GL "1"', "2024-05-01 10:00:00+00", "2024-05-01", False, "x", 3)
    ]
    # The emulator returns SUM over NUMBER as a float; compare the exact single values.
    amounts = warehouse(
        'SELECT "amount_dc" FROM "transaction_lines" WHERE "id" IN (\'a2\', \'a3\')'
    )
    assert sum(amount for (amount,) in amounts) == Decimal("0.3")


def test_every_audit_column_is_filled(config, warehouse):
    tombstone = {"ID": "a1", "Division": 100102, "_sdc_deleted_at": "2024-06-01T08:00:00Z"}
    run_target(
        {**config, "source_system": "Exact Online NL"},
        singer_lines(
            schema_message("transaction_lines", PROPERTIES),
            record_message("transaction_lines", RECORD, time_extracted="2024-05-02T00:00:00+01:00"),
            record_message("transaction_lines", tombstone),
        ),
    )

    rows = warehouse(
        'SELECT "_source_system", "_synced_at"::VARCHAR, "_loaded_at" IS NOT NULL, '
        '"_division_id", "_record_id", "_record_hash", "_batch_id", "_sequence", '
        '"_deleted_at" IS NULL, "_deleted_at"::VARCHAR, "_document"::VARCHAR '
        'FROM "transaction_lines" ORDER BY "_sequence"'
    )
    assert len(rows) == 2
    live, deleted = rows
    canonical = json.dumps(RECORD, sort_keys=True, separators=(",", ":"))
    assert live[0] == "Exact Online NL"
    assert live[1] == "2024-05-01 23:00:00+00"  # time_extracted, in UTC
    assert live[2] is True
    assert live[3:5] == ("100101", "a1")
    assert live[5] == hashlib.sha256(canonical.encode()).hexdigest()
    assert live[6].endswith("-transaction_lines-000001")
    assert live[8] is True
    assert json.loads(live[10]) == RECORD
    assert deleted[3:5] == ("100102", "a1")
    assert deleted[7] > live[7]
    assert deleted[8] is False
    assert deleted[9] == "2024-06-01 08:00:00+00"
    assert deleted[1] is not None  # no time_extracted: falls back to the receive time


def test_record_id_joins_compound_keys_as_json(config, warehouse):
    run_target(
        config,
        singer_lines(
            schema_message("lines", PROPERTIES, keys=["Division", "ID"]),
            record_message("lines", RECORD),
        ),
    )
    assert warehouse('SELECT "_record_id" FROM "lines"') == [('[100101,"a1"]',)]


def test_the_same_record_twice_gives_two_rows(config, warehouse):
    _, states = run_target(
        config,
        singer_lines(
            schema_message("transaction_lines", PROPERTIES),
            record_message("transaction_lines", RECORD),
            record_message("transaction_lines", RECORD),
            state_message({"bookmarks": {"transaction_lines": {"Timestamp": 1}}}),
        ),
    )
    run_target(
        config,
        singer_lines(
            schema_message("transaction_lines", PROPERTIES),
            record_message("transaction_lines", RECORD),
        ),
    )

    rows = warehouse(
        'SELECT "_record_hash", "_sequence", "_batch_id" FROM "transaction_lines" '
        'ORDER BY "_sequence"'
    )
    assert len(rows) == 3
    assert len({row[0] for row in rows}) == 1
    assert len({row[1] for row in rows}) == 3
    assert rows[0][2] != rows[2][2]  # a new run, a new batch
    assert states == ['{"bookmarks": {"transaction_lines": {"Timestamp": 1}}}']


def test_store_document_false_leaves_document_empty(config, warehouse):
    run_target(
        {**config, "store_document": False},
        singer_lines(
            schema_message("transaction_lines", PROPERTIES),
            record_message("transaction_lines", RECORD),
        ),
    )
    assert warehouse('SELECT "_document" IS NULL FROM "transaction_lines"') == [(True,)]


def test_division_comes_from_the_configured_tenant_property(config, warehouse):
    run_target(
        {**config, "tenant_property": "EntryID"},
        singer_lines(
            schema_message("transaction_lines", PROPERTIES),
            record_message("transaction_lines", RECORD),
        ),
    )
    assert warehouse('SELECT "_division_id" FROM "transaction_lines"') == [("e1",)]


def test_stream_maps_and_flattening_still_apply(config, warehouse):
    config = {
        **config,
        "stream_maps": {"Lines": {"GLAccount": "GLAccount.upper()", "EntryID": "__NULL__"}},
        "flattening_enabled": True,
        "flattening_max_depth": 1,
    }
    properties = {
        "ID": {"type": "string"},
        "GLAccount": {"type": ["string", "null"]},
        "EntryID": {"type": ["string", "null"]},
        "Meta": {"type": ["object", "null"], "properties": {"Code": {"type": "string"}}},
    }
    record = {"ID": "m1", "GLAccount": "abc", "EntryID": "e1", "Meta": {"Code": "x"}}
    run_target(
        config,
        singer_lines(schema_message("Lines", properties), record_message("Lines", record)),
    )
    columns = [
        row[0]
        for row in warehouse(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = CURRENT_SCHEMA() AND table_name = 'lines' "
            "ORDER BY ordinal_position"
        )
    ]
    assert "entry_id" not in columns
    assert "meta__code" in columns
    (row,) = warehouse("SELECT id, gl_account, meta__code FROM lines")
    assert row == ("m1", "ABC", "x")
