"""VARIANT columns hold objects and arrays, views keep their grants, and audit columns can be
added to existing tables, with `_loaded_at` still the load time.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import snowflake.connector
import snowflake.connector.cursor
from archive_devkit.singer_messages import record_message, run_target, schema_message, singer_lines

from .conftest import DATABASE, EMULATOR

PROPERTIES = {
    "ID": {"type": "string"},
    "Meta": {"type": ["object", "null"]},
    "Tags": {"type": ["array", "null"]},
    "Either": {"type": ["string", "integer", "null"]},
}
RECORD = {"ID": "a", "Meta": {"code": "x", "list": [1, "two"]}, "Tags": ["p", "q"], "Either": 5}


def test_document_and_object_and_array_columns_load_as_objects_and_arrays(config, warehouse):
    run_target(
        config, singer_lines(schema_message("items", PROPERTIES), record_message("items", RECORD))
    )

    assert warehouse(
        'SELECT TYPEOF("_document"), TYPEOF("meta"), TYPEOF("tags"), TYPEOF("either") FROM "items"'
    ) == [("OBJECT", "OBJECT", "ARRAY", "INTEGER")]
    assert warehouse(
        'SELECT "_document":Meta.list[1]::VARCHAR, "meta":code::VARCHAR, "tags"[0]::VARCHAR '
        'FROM "items"'
    ) == [("two", "x", "p")]


def test_variant_fields_are_parsed_with_parse_json_in_the_copy(config):
    target, _ = run_target(
        config, singer_lines(schema_message("items", PROPERTIES), record_message("items", RECORD))
    )
    (copy,) = [s for s in target.loader.connection.statements if s.startswith("COPY INTO")]
    select = re.search(r"FROM \(SELECT (.*?) FROM @", copy)
    assert select is not None
    fields = select.group(1).split(", ")
    # File columns: either, id, meta, tags, then the audit columns (_document last).
    assert fields[:4] == ["PARSE_JSON($1)", "$2", "PARSE_JSON($3)", "PARSE_JSON($4)"]
    assert fields[-2:] == ["PARSE_JSON($13)", "METADATA$START_SCAN_TIME"]


def _record_statements(monkeypatch: Any) -> list[str]:
    sent: list[str] = []
    original = snowflake.connector.cursor.SnowflakeCursor.execute

    def recording_execute(self: Any, command: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(command)
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(snowflake.connector.cursor.SnowflakeCursor, "execute", recording_execute)
    return sent


def test_a_replaced_current_view_keeps_its_grants(config, warehouse, monkeypatch):
    sent = _record_statements(monkeypatch)
    run_target(
        config, singer_lines(schema_message("items", PROPERTIES), record_message("items", RECORD))
    )
    wider = {**PROPERTIES, "Note": {"type": ["string", "null"]}}
    run_target(
        config,
        singer_lines(
            schema_message("items", wider), record_message("items", {"ID": "b", "Note": "n"})
        ),
    )

    replaced = [s for s in sent if s.startswith("CREATE OR REPLACE VIEW")]
    assert len(replaced) == 2  # created, then re-created for the new column
    assert all(" COPY GRANTS AS SELECT " in statement for statement in replaced)
    assert warehouse('SELECT "note" FROM "items__current" WHERE "id" = \'b\'') == [("n",)]


def test_audit_columns_are_added_to_an_existing_table_and_loaded_at_is_the_load_time(
    config, schema_name, warehouse, monkeypatch
):
    # A table from before the audit columns existed (or made by hand), with rows in it.
    with snowflake.connector.connect(**EMULATOR, database=DATABASE) as connection:
        cursor = connection.cursor()
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {DATABASE}.{schema_name}")
        cursor.execute(f'CREATE TABLE {DATABASE}.{schema_name}."items" ("id" VARCHAR)')
        cursor.execute(f"INSERT INTO {DATABASE}.{schema_name}.\"items\" VALUES ('old')")  # noqa: S608
    sent = _record_statements(monkeypatch)
    before = datetime.datetime.now(datetime.UTC)

    run_target(
        config, singer_lines(schema_message("items", PROPERTIES), record_message("items", RECORD))
    )

    after = datetime.datetime.now(datetime.UTC)
    added = [s for s in sent if s.startswith("ALTER TABLE")]
    assert any('"_loaded_at" TIMESTAMP_TZ' in statement for statement in added)
    assert not any("DEFAULT" in statement for statement in added)  # Snowflake refuses it
    rows = dict(warehouse('SELECT "id", "_loaded_at" FROM "items"'))
    assert rows["old"] is None or rows["old"].year == 1970  # unknown for rows loaded before
    assert warehouse('SELECT "_loaded_at" IS NULL FROM "items" WHERE "id" = \'old\'') == [(True,)]
    loaded_at = rows["a"]
    assert before - datetime.timedelta(seconds=1) <= loaded_at <= after


def test_a_new_table_gets_loaded_at_from_the_copy_not_a_default(config, warehouse, monkeypatch):
    sent = _record_statements(monkeypatch)
    before = datetime.datetime.now(datetime.UTC)
    run_target(
        config, singer_lines(schema_message("items", PROPERTIES), record_message("items", RECORD))
    )

    (create,) = [s for s in sent if s.startswith("CREATE TABLE")]
    assert "DEFAULT" not in create
    ((loaded_at,),) = warehouse('SELECT "_loaded_at" FROM "items"')
    assert (
        before - datetime.timedelta(seconds=1) <= loaded_at <= datetime.datetime.now(datetime.UTC)
    )
