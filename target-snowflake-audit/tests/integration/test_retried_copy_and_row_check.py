"""A batch is loaded once and whole: a COPY's unknown outcome is settled from load history,
and rows loaded must equal rows written before the STATE covering them is written.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest
from archive_devkit.singer_messages import (
    record_message,
    schema_message,
    singer_lines,
    state_message,
)
from snowflake.connector import errors as sf_errors
from target_snowflake_audit.connector import SnowflakeConnection
from target_snowflake_audit.loader import LoadError
from target_snowflake_audit.target import TargetSnowflakeAudit

PROPERTIES = {"ID": {"type": "string"}, "Amount": {"type": ["number", "null"]}}


def _messages(records: int) -> str:
    messages: list[dict[str, Any] | str] = [schema_message("invoices", PROPERTIES)]
    messages += [record_message("invoices", {"ID": f"i{n}", "Amount": n}) for n in range(records)]
    messages.append(state_message({"position": records}))
    return singer_lines(*messages)


def _run(config: dict[str, Any], text: str) -> list[str]:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        TargetSnowflakeAudit(config=config).listen(io.StringIO(text))
    return stdout.getvalue().splitlines()


def test_on_the_emulator_a_lost_copy_response_loads_the_batch_once(config, warehouse, monkeypatch):
    original = SnowflakeConnection._execute_once
    lost: list[str] = []

    def copy_runs_but_its_response_is_lost(self: Any, sql: str, params: Any) -> Any:
        rows = original(self, sql, params)
        if sql.startswith("COPY INTO") and not lost:
            lost.append(sql)
            raise sf_errors.OperationalError(msg="connection reset by peer")
        return rows

    monkeypatch.setattr(SnowflakeConnection, "_execute_once", copy_runs_but_its_response_is_lost)
    states = _run(config, _messages(5))

    assert lost, "the COPY never ran"
    assert warehouse('SELECT COUNT(*) FROM "invoices"') == [(5,)]
    assert [json.loads(line) for line in states] == [{"position": 5}]


def test_on_the_emulator_a_short_copy_stops_the_run_before_the_state_covering_it(
    config, warehouse, monkeypatch
):
    original = SnowflakeConnection._execute_once

    def one_row_short(self: Any, sql: str, params: Any) -> Any:
        rows = original(self, sql, params)
        if sql.startswith("COPY INTO"):
            return [{**row, "rows_loaded": row["rows_loaded"] - 1} for row in rows]
        return rows

    monkeypatch.setattr(SnowflakeConnection, "_execute_once", one_row_short)
    stdout = io.StringIO()
    target = TargetSnowflakeAudit(config=config)
    with pytest.raises(LoadError) as raised, contextlib.redirect_stdout(stdout):
        target.listen(io.StringIO(_messages(5)))

    assert "loaded 4 rows but the file holds 5" in str(raised.value)
    assert "invoices-000001" in str(raised.value)
    assert stdout.getvalue() == ""  # no STATE
