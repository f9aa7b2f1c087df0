"""Shared fixtures: one local Snowflake emulator (fakesnow server) for the whole test run.

The emulator is reached through the real connector over HTTP on loopback, exactly as the
target reaches Snowflake; each test loads into its own schema.
"""

from __future__ import annotations

import atexit
import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import snowflake.connector
from archive_devkit.append_only import assert_append_only
from archive_devkit.snowflake_emulator import server, statement_audit

DATABASE = "AUDIT_TEST"

# Started at import because the SDK's standard test class takes its config when the test
# module is imported; stopped when the session ends (atexit as a fallback).
_stack = contextlib.ExitStack()
EMULATOR: dict[str, Any] = _stack.enter_context(server())
atexit.register(_stack.close)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _stack.close()


@pytest.fixture(autouse=True)
def append_only_audit() -> Iterator[None]:
    """Every test: no statement the target sent may UPDATE, DELETE, MERGE, TRUNCATE or DROP."""
    before = len(statement_audit.statements())
    yield
    assert_append_only(statement_audit.statements()[before:], expect_loads=False)


def base_config(schema: str) -> dict[str, Any]:
    """Target settings pointing at the emulator."""
    return {
        "account": "fakesnow",
        "user": "fake",
        "password": "snow",
        "host": EMULATOR["host"],
        "port": EMULATOR["port"],
        "protocol": "http",
        "warehouse": "FAKESNOW_WAREHOUSE",
        "database": DATABASE,
        "schema": schema,
        "retry_max_attempts": 2,
        "retry_base_seconds": 0.01,
    }


@pytest.fixture
def schema_name() -> str:
    return f"T_{uuid.uuid4().hex[:10].upper()}"


@pytest.fixture
def config(schema_name: str) -> dict[str, Any]:
    return base_config(schema_name)


@pytest.fixture
def warehouse(schema_name: str) -> Iterator[Callable[[str], list[tuple[Any, ...]]]]:
    """Run SQL in the test's schema through the real connector."""
    connection = snowflake.connector.connect(
        **{**EMULATOR, "session_parameters": {**EMULATOR["session_parameters"]}},
        database=DATABASE,
    )
    cursor = connection.cursor()

    def query(sql: str) -> list[tuple[Any, ...]]:
        cursor.execute(f"USE SCHEMA {DATABASE}.{schema_name}")
        return list(cursor.execute(sql).fetchall())

    yield query
    connection.close()


def pytest_configure(config: pytest.Config) -> None:
    # The emulator runs in this process; its DuckDB result-copy notice is not ours.
    config.addinivalue_line("filterwarnings", "ignore:Arrow output on a DB-API result:UserWarning")
