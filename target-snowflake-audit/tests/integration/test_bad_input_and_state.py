"""Bad input, quarantine, STATE only after commit, and append-only SQL."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest
from archive_devkit.append_only import assert_append_only
from archive_devkit.singer_messages import (
    record_message,
    run_target,
    run_target_command,
    schema_message,
    singer_lines,
    state_message,
)
from archive_devkit.snowflake_emulator import statement_audit
from singer_sdk.exceptions import MissingKeyPropertiesError, RecordsWithoutSchemaException
from target_snowflake_audit.loader import Loader, LoadError
from target_snowflake_audit.messages import BadInputError
from target_snowflake_audit.target import TargetSnowflakeAudit

PROPERTIES = {"ID": {"type": "string"}, "Amount": {"type": ["number", "null"]}}


def test_invalid_json_line_fails_naming_the_line_and_keeps_what_came_before(config, warehouse):
    text = singer_lines(
        schema_message("invoices", PROPERTIES),
        record_message("invoices", {"ID": "i1", "Amount": 1}),
        state_message({"position": 2}),
        '{"type": "RECORD", "stream": "invoices", "record": {',
        record_message("invoices", {"ID": "i2", "Amount": 2}),
    )
    target = TargetSnowflakeAudit(config=config)
    stdout = io.StringIO()
    with (
        pytest.raises(BadInputError, match=r"input line 4: invalid JSON") as error,
        contextlib.redirect_stdout(stdout),
    ):
        target.listen(io.StringIO(text))

    assert error.value.line_number == 4
    assert warehouse('SELECT "id" FROM "invoices"') == [("i1",)]
    assert stdout.getvalue().splitlines() == ['{"position": 2}']


@pytest.mark.parametrize(
    ("bad_message", "expected_type", "message"),
    [
        (
            record_message("invoices", {"ID": "i9", "Amount": "ten"}),
            BadInputError,
            r"input line 3 \(stream 'invoices'\): property 'Amount': expected number",
        ),
        (
            record_message("invoices", {"Amount": 1}),
            MissingKeyPropertiesError,
            r"input line 3 \(stream 'invoices'\): key properties \['ID'\] are missing",
        ),
        (
            record_message("payments", {"ID": "p1"}),
            RecordsWithoutSchemaException,
            r"input line 3 \(stream 'payments'\): RECORD received before the stream's SCHEMA",
        ),
    ],
    ids=["schema_violation", "missing_key_property", "record_before_schema"],
)
def test_bad_record_fails_naming_stream_and_line(
    config, warehouse, bad_message, expected_type, message
):
    text = singer_lines(
        schema_message("invoices", PROPERTIES),
        record_message("invoices", {"ID": "i1", "Amount": 1}),
        bad_message,
    )
    with pytest.raises(expected_type, match=message):
        run_target(config, text)
    assert warehouse('SELECT "id" FROM "invoices"') == [("i1",)]


def test_bad_input_exits_non_zero_from_the_command_line(config, tmp_path):
    result = run_target_command(config, "not json\n", tmp_path, timeout=120)

    assert result.returncode != 0
    assert "input line 1: invalid JSON" in result.stderr


def test_quarantine_loads_bad_input_into_rejected_records_and_continues(config, warehouse):
    text = singer_lines(
        schema_message("invoices", PROPERTIES),
        record_message("invoices", {"ID": "i1", "Amount": 1}),
        "this is not json",
        record_message("invoices", {"ID": "i2", "Amount": "ten"}),
        record_message("payments", {"ID": "p1"}),
        record_message("invoices", {"Amount": 3}),
        record_message("invoices", {"ID": "i3", "Amount": 3}),
        state_message({"position": 7}),
    )
    _, states = run_target({**config, "on_invalid_record": "quarantine"}, text)

    assert warehouse('SELECT "id" FROM "invoices" ORDER BY "_sequence"') == [("i1",), ("i3",)]
    rejected = warehouse(
        'SELECT "stream", "line_number", "reason", "raw_text", "rejected_at" IS NOT NULL '
        'FROM "_rejected_records" ORDER BY "line_number"'
    )
    assert [(s, n, r[:40]) for s, n, r, _, _ in rejected] == [
        (None, 3, "invalid JSON: Expecting value: line 1 co"),
        ("invoices", 4, "property 'Amount': expected number, got "),
        ("payments", 5, "RECORD received before the stream's SCHE"),
        ("invoices", 6, "key properties ['ID'] are missing"),
    ]
    assert rejected[0][3] == "this is not json"
    assert json.loads(rejected[1][3])["record"] == {"ID": "i2", "Amount": "ten"}
    assert all(row[4] for row in rejected)
    assert states == ['{"position": 7}']


def test_state_is_emitted_only_after_everything_before_it_is_committed(config, warehouse):
    records_before_state: dict[int, int] = {}
    messages: list[dict[str, Any] | str] = [schema_message("invoices", PROPERTIES)]
    count = 0
    for position in range(1, 4):
        for _ in range(5):
            count += 1
            messages.append(record_message("invoices", {"ID": f"i{count}", "Amount": count}))
        messages.append(state_message({"position": position}))
        records_before_state[position] = count

    seen: list[tuple[int, int]] = []

    class CommittedRowsAtStateTime(io.StringIO):
        def write(self, text: str) -> int:
            for line in text.splitlines():
                (committed,) = warehouse('SELECT COUNT(*) FROM "invoices"')[0]
                seen.append((json.loads(line)["position"], committed))
            return len(text)

    target = TargetSnowflakeAudit(config={**config, "batch_size_rows": 4})
    with contextlib.redirect_stdout(CommittedRowsAtStateTime()):
        target.listen(io.StringIO(singer_lines(*messages)))

    assert seen, "the target emitted no STATE"
    assert seen[-1][0] == 3
    for position, committed in seen:
        assert committed >= records_before_state[position]


def test_the_append_only_audit_sees_every_statement_the_target_sends(config):
    # Every test is audited (conftest.py); this one proves the audit records the target's
    # statements, so an empty log cannot pass it vacuously.
    before = len(statement_audit.statements())
    run_target(
        {**config, "on_invalid_record": "quarantine", "batch_size_rows": 2},
        singer_lines(
            schema_message("invoices", PROPERTIES),
            record_message("invoices", {"ID": "i1", "Amount": 1}),
            record_message("invoices", {"ID": "i1", "Amount": 1}),
            record_message("invoices", {"ID": "i1", "_sdc_deleted_at": "2024-01-01T00:00:00Z"}),
            {"type": "ACTIVATE_VERSION", "stream": "invoices", "version": 7},
            schema_message("invoices", {**PROPERTIES, "Amount": {"type": ["string", "null"]}}),
            record_message("invoices", {"ID": "i2", "Amount": "x"}),
            record_message("invoices", {"ID": "i3", "Amount": 5}),
        ),
    )
    sent = statement_audit.statements()[before:]
    assert any(statement.startswith("COPY INTO") for statement in sent)
    assert any("CREATE" in statement.upper() for statement in sent)
    assert_append_only(sent)


def test_a_tap_stream_named_like_the_quarantine_table_is_refused(config):
    with pytest.raises(Exception, match="reserved table '_rejected_records'"):
        run_target(
            config,
            singer_lines(schema_message("_rejected_records", PROPERTIES)),
        )


def test_a_failed_background_load_stops_the_run_and_no_later_state_is_written(
    config, warehouse, monkeypatch
):
    original = Loader.load
    calls = {"n": 0}

    def failing_second_load(self: Loader, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise LoadError("loading stream 'invoices' failed: simulated outage")
        return original(self, **kwargs)

    monkeypatch.setattr(Loader, "load", failing_second_load)
    messages: list[dict[str, Any] | str] = [schema_message("invoices", PROPERTIES)]
    for n in range(1, 7):
        messages.append(record_message("invoices", {"ID": f"i{n}", "Amount": n}))
        if n % 2 == 0:
            messages.append(state_message({"position": n}))

    stdout = io.StringIO()
    target = TargetSnowflakeAudit(config={**config, "batch_size_rows": 2})
    with (
        pytest.raises(LoadError, match="simulated outage"),
        contextlib.redirect_stdout(stdout),
    ):
        target.listen(io.StringIO(singer_lines(*messages)))

    committed = {row[0] for row in warehouse('SELECT "id" FROM "invoices"')}
    assert committed == {"i1", "i2"}
    for line in stdout.getvalue().splitlines():
        assert json.loads(line)["position"] <= 2
