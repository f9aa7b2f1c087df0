"""The target's record path loads exactly what the Singer SDK's own path loads.

`sdk_fast_paths: false` runs RECORD messages through the SDK's `Target._process_record_message`
(its stream maps, `_sdc_*` handling, jsonschema validation, `drain_one`) into the sink's public
`process_record`, and writes STATE as the SDK does. The same input is loaded that way and
through the target's own path (in this process and in worker processes); every table must
hold the same rows. `_batch_id`, `_loaded_at` and `_sequence` are left out of the comparison:
batches are cut differently (the SDK drains one full sink, the target all of them) and
`_loaded_at`/`_sequence` come from each run's clock. An SDK upgrade that changes what its record
path hands a sink fails here (see target_snowflake_audit/sdk_hooks.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import snowflake.connector
from archive_devkit.singer_messages import (
    record_message,
    run_target,
    schema_message,
    singer_lines,
    state_message,
)

from .conftest import DATABASE, EMULATOR, base_config

INVOICE = {
    "ID": {"type": "string"},
    "Division": {"type": "integer"},
    "Amount": {"type": ["number", "null"]},
    "Quantity": {"type": ["integer", "null"]},
    "Description": {"type": ["string", "null"]},
    "Modified": {"type": ["string", "null"], "format": "date-time"},
    "InvoiceDate": {"type": ["string", "null"], "format": "date"},
    "Paid": {"type": ["boolean", "null"]},
    "Lines": {"type": ["array", "null"]},
    "Meta": {"type": ["object", "null"]},
}
CREDIT_NOTE = {
    "ID": {"type": "integer"},
    "Division": {"type": "integer"},
    "Amount": {"type": ["number", "null"]},
    "Reason": {"type": ["string", "null"]},
}
# The SDK's stream maps: a computed property, and records filtered out.
STREAM_MAPS = {
    "credit_notes": {
        "Label": "'CN-' + str(ID)",
        "__filter__": "ID % 5 != 0",
    }
}
EXTRACTED = ["2024-05-01T10:00:00Z", "2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00.123456"]
# Columns that legitimately differ between two runs of the same input (see the docstring).
RUN_COLUMNS = {"_batch_id", "_loaded_at", "_sequence"}
# With add_record_metadata, the SDK's metadata stamped from the clock differs too.
CLOCK_COLUMNS = {"_sdc_received_at", "_sdc_batched_at", "_sdc_sequence", "_sdc_sync_started_at"}


def _invoice(n: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "ID": f"inv-{n}",
        "Division": 100101 + n % 2,
        "Amount": json.loads(f"{n * 1234567.891:.9f}"),
        "Quantity": n if n % 4 else None,
        "Description": ["plain", 'quote " and, comma', "two\nlines", "ünïcödé", ""][n % 5],
        "Modified": [
            "2024-03-01T10:05:00Z",
            "2024-03-01T10:05:00+01:00",
            "2024-03-31T01:30:00.250000+00:00",
            "2024-10-27T02:30:00",
        ][n % 4],
        "InvoiceDate": f"2024-02-{1 + n % 28:02d}",
        "Paid": n % 3 == 0,
        "Lines": [{"n": n, "amount": 1.5}, "x"] if n % 2 else None,
        "Meta": {"nested": {"deep": n}, "list": [1, 2.25]},
    }
    if n % 7 == 3:
        record["_sdc_deleted_at"] = "2024-04-01T00:00:00+02:00"
    return record


def _input() -> str:
    messages: list[dict[str, Any]] = [
        schema_message("invoices", INVOICE),
        schema_message("credit_notes", CREDIT_NOTE),
    ]
    for n in range(40):
        extracted = {"time_extracted": EXTRACTED[n % 3]}
        messages.append(record_message("invoices", _invoice(n), **extracted))
        if n % 3 == 0:
            note = {"ID": n, "Division": 100101, "Amount": n / 4, "Reason": f"r{n}"}
            if n % 9 == 0:
                note["_sdc_deleted_at"] = "2024-04-02T00:00:00Z"
            messages.append(record_message("credit_notes", note, version=n, **extracted))
        if n % 10 == 9:
            messages.append(state_message({"sent": n + 1}))
        if n == 24:  # the schema gains a property: a new sink, a new column
            wider = {**INVOICE, "Currency": {"type": ["string", "null"]}}
            messages.append(schema_message("invoices", wider))
    return singer_lines(*messages)


@pytest.fixture
def read_tables() -> Iterator[Any]:
    connection = snowflake.connector.connect(**EMULATOR, database=DATABASE)
    cursor = connection.cursor()

    def read(schema: str, skip: set[str]) -> dict[str, list[tuple[Any, ...]]]:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY table_name, ordinal_position",
            (schema,),
        )
        columns: dict[str, list[str]] = {}
        for table, column, data_type in cursor.fetchall():
            if table.endswith("__current") or column in skip:
                continue
            text = "::VARCHAR" if data_type in {"VARIANT", "OBJECT", "ARRAY"} else ""
            columns.setdefault(table, []).append(f'"{column}"{text}')
        tables = {}
        for table, selected in columns.items():
            cursor.execute(
                f'SELECT {", ".join(selected)} FROM {DATABASE}.{schema}."{table}" '  # noqa: S608
                'ORDER BY "_sequence"'
            )
            tables[table] = [tuple(row) for row in cursor.fetchall()]
        return tables

    yield read
    connection.close()


def _load(settings: dict[str, Any]) -> tuple[str, list[str]]:
    schema = f"H_{uuid.uuid4().hex[:10].upper()}"
    config = {**base_config(schema), "batch_size_rows": 7, "stream_maps": STREAM_MAPS, **settings}
    _, states = run_target(config, _input())
    return schema, states


@pytest.mark.parametrize("add_record_metadata", [False, True])
def test_the_target_path_loads_the_same_rows_as_the_sdks_own_path(
    read_tables: Any, add_record_metadata: bool
) -> None:
    common = {"add_record_metadata": add_record_metadata}
    skip = RUN_COLUMNS | (CLOCK_COLUMNS if add_record_metadata else set())
    sdk_schema, sdk_states = _load({**common, "sdk_fast_paths": False})
    expected = read_tables(sdk_schema, skip)
    assert set(expected) == {"invoices", "credit_notes"}
    assert len(expected["invoices"]) == 40
    assert len(expected["credit_notes"]) == 11  # 14 sent, 3 filtered out by the stream map
    assert sdk_states[-1] == '{"sent": 40}'

    for workers in (0, 2):
        schema, states = _load({**common, "parallel_workers": workers, "parallel_chunk_rows": 3})
        assert read_tables(schema, skip) == expected, f"parallel_workers {workers}"
        assert states[-1] == sdk_states[-1]
