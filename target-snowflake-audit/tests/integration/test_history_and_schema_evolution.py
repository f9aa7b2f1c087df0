"""Tombstones, `__current` views, schema changes and ACTIVATE_VERSION."""

from __future__ import annotations

import logging

import pytest
from archive_devkit.singer_messages import record_message, run_target, schema_message, singer_lines

PROPERTIES = {
    "ID": {"type": "string"},
    "Division": {"type": "integer"},
    "Amount": {"type": ["number", "null"]},
}


@pytest.mark.parametrize("add_record_metadata", [False, True])
def test_tombstones_survive_whatever_add_record_metadata_says(
    config, warehouse, add_record_metadata
):
    run_target(
        {**config, "add_record_metadata": add_record_metadata},
        singer_lines(
            schema_message("invoices", PROPERTIES),
            record_message("invoices", {"ID": "i1", "Division": 1, "Amount": 10}),
            record_message(
                "invoices", {"ID": "i1", "Division": 1, "_sdc_deleted_at": "2024-01-02T00:00:00Z"}
            ),
        ),
    )

    rows = warehouse('SELECT "_deleted_at"::VARCHAR, "amount" FROM "invoices" ORDER BY "_sequence"')
    assert rows[0][0] is None
    assert rows[1][0] == "2024-01-02 00:00:00+00"
    assert warehouse('SELECT COUNT(*) FROM "invoices__current"') == [(0,)]


def test_current_view_shows_latest_version_per_division_and_record(config, warehouse):
    run_target(
        config,
        singer_lines(
            schema_message("invoices", PROPERTIES),
            record_message("invoices", {"ID": "i1", "Division": 1, "Amount": 10}),
            record_message("invoices", {"ID": "i1", "Division": 2, "Amount": 20}),
            record_message("invoices", {"ID": "i2", "Division": 1, "Amount": 30}),
            record_message("invoices", {"ID": "i1", "Division": 1, "Amount": 11}),
        ),
    )
    # A later run: i2 is deleted, i1 in division 2 changes again.
    run_target(
        config,
        singer_lines(
            schema_message("invoices", PROPERTIES),
            record_message(
                "invoices", {"ID": "i2", "Division": 1, "_sdc_deleted_at": "2024-03-01T00:00:00Z"}
            ),
            record_message("invoices", {"ID": "i1", "Division": 2, "Amount": 21}),
        ),
    )

    current = warehouse(
        'SELECT "_division_id", "id", "amount" FROM "invoices__current" '
        'ORDER BY "_division_id", "id"'
    )
    assert [(d, i, int(a)) for d, i, a in current] == [("1", "i1", 11), ("2", "i1", 21)]
    assert warehouse('SELECT COUNT(*) FROM "invoices"') == [(6,)]


def test_a_tombstone_followed_by_a_new_version_is_current_again(config, warehouse):
    run_target(
        config,
        singer_lines(
            schema_message("invoices", PROPERTIES),
            record_message(
                "invoices", {"ID": "i1", "Division": 1, "_sdc_deleted_at": "2024-03-01T00:00:00Z"}
            ),
            record_message("invoices", {"ID": "i1", "Division": 1, "Amount": 5}),
        ),
    )
    assert warehouse('SELECT "id" FROM "invoices__current"') == [("i1",)]


def test_new_property_adds_a_column_and_the_view_shows_it(config, warehouse):
    run_target(
        config,
        singer_lines(
            schema_message("invoices", PROPERTIES),
            record_message("invoices", {"ID": "i1", "Division": 1, "Amount": 10}),
        ),
    )
    run_target(
        config,
        singer_lines(
            schema_message("invoices", {**PROPERTIES, "PaymentTerm": {"type": ["string", "null"]}}),
            record_message(
                "invoices", {"ID": "i2", "Division": 1, "Amount": 1, "PaymentTerm": "30d"}
            ),
        ),
    )

    assert warehouse('SELECT "id", "payment_term" FROM "invoices" ORDER BY "_sequence"') == [
        ("i1", None),
        ("i2", "30d"),
    ]
    assert warehouse('SELECT "payment_term" FROM "invoices__current" WHERE "id" = \'i2\'') == [
        ("30d",)
    ]


def test_type_change_loads_into_a_new_column_and_keeps_the_old_one(config, warehouse, caplog):
    run_target(
        config,
        singer_lines(
            schema_message("invoices", PROPERTIES),
            record_message("invoices", {"ID": "i1", "Division": 1, "Amount": 10.5}),
        ),
    )
    changed = {**PROPERTIES, "Amount": {"type": ["string", "null"]}}
    with caplog.at_level(logging.WARNING):
        run_target(
            config,
            singer_lines(
                schema_message("invoices", changed),
                record_message("invoices", {"ID": "i2", "Division": 1, "Amount": "n/a"}),
            ),
        )

    rows = warehouse(
        'SELECT "id", "amount", "amount__varchar" FROM "invoices" ORDER BY "_sequence"'
    )
    assert [(i, None if a is None else float(a), v) for i, a, v in rows] == [
        ("i1", 10.5, None),
        ("i2", None, "n/a"),
    ]
    assert "loading it into column 'amount__varchar'" in caplog.text


def test_schema_change_within_one_run_keeps_both_batches(config, warehouse):
    run_target(
        config,
        singer_lines(
            schema_message("invoices", PROPERTIES),
            record_message("invoices", {"ID": "i1", "Division": 1, "Amount": 1}),
            schema_message("invoices", {**PROPERTIES, "Note": {"type": ["string", "null"]}}),
            record_message("invoices", {"ID": "i2", "Division": 1, "Note": "n"}),
        ),
    )
    assert warehouse('SELECT "id", "note" FROM "invoices" ORDER BY "_sequence"') == [
        ("i1", None),
        ("i2", "n"),
    ]


def test_integer_property_widened_to_number_keeps_exact_history(config, warehouse):
    schema = {"ID": {"type": "string"}, "Qty": {"type": ["integer", "null"]}}
    run_target(
        config,
        singer_lines(
            schema_message("items", schema),
            record_message("items", {"ID": "a", "Qty": 2}),
        ),
    )
    run_target(
        config,
        singer_lines(
            schema_message("items", {**schema, "Qty": {"type": ["number", "null"]}}),
            record_message("items", {"ID": "b", "Qty": 2.5}),
        ),
    )
    rows = warehouse('SELECT "id", "qty", "qty__number" FROM "items" ORDER BY "_sequence"')
    assert [(i, q, None if n is None else float(n)) for i, q, n in rows] == [
        ("a", 2, None),
        ("b", None, 2.5),
    ]


def test_activate_version_is_logged_and_changes_nothing(config, warehouse, caplog):
    with caplog.at_level(logging.INFO):
        run_target(
            config,
            singer_lines(
                schema_message("invoices", PROPERTIES),
                record_message("invoices", {"ID": "i1", "Division": 1}),
                {"type": "ACTIVATE_VERSION", "stream": "invoices", "version": 2},
            ),
        )
    assert warehouse('SELECT COUNT(*) FROM "invoices__current"') == [(1,)]
    assert "ACTIVATE_VERSION" in caplog.text
