"""End-to-end through the SQL API: the real `meltano run` with `transport: sql_api`.

The target loads through the local SQL API server (a process in front of the Snowflake emulator,
as `make demo DEMO_ARGS="--transport sql_api"` starts it) with a key pair made for the run, its
settings coming from meltano.yml and the environment only. One small entity keeps this quick;
the three-entity load is the demo's (tests/test_demo.py), the transport's error paths are the
target's own tests.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_devkit.append_only import assert_append_only
from archive_devkit.entities import STREAM_ENTITIES
from archive_devkit.local_stack import LocalStack
from archive_devkit.paths import REPO_ROOT
from archive_devkit.pipeline import MELTANO, meltano_run, reconcile_stack, warehouse_cursor
from archive_devkit.reconcile import format_report
from archive_devkit.snowflake_emulator.statement_audit import read_log
from archive_devkit.sql_api_process import SqlApiServerProcess

pytestmark = pytest.mark.e2e

LOAD = re.compile(r"\s*(COPY|INSERT)\b", re.IGNORECASE)
# The SQL API's load: one bound JSON array per INSERT (issue #10).
BOUND_ROWS = re.compile(r"FLATTEN\s*\(\s*INPUT\s*=>\s*PARSE_JSON\s*\(\s*\?\s*\)", re.IGNORECASE)
# What the connector's load and check use and the SQL API cannot (developer-guide/sql-api/intro,
# limitations): files, stages and temporary tables.
STAGING = re.compile(r"\s*(PUT|COPY|REMOVE|CREATE\s+STAGE|CREATE\s+TEMPORARY)\b", re.IGNORECASE)


@pytest.fixture
def sql_api_stack(tmp_path: Path, meltano_plugins: None) -> Iterator[LocalStack]:
    """One small UK company (one division) loading through the SQL API server process."""
    with LocalStack.one_small_entity(tmp_path / "stack", transport="sql_api") as running:
        yield running
    # Stopped with SIGTERM, it shut down by itself (after a SIGKILL it would be -9; None: running).
    assert server_of(running).process.returncode == 0, "the server did not stop by itself"


def server_of(stack: LocalStack) -> SqlApiServerProcess:
    assert stack.sql_api is not None, "the stack started no SQL API server"
    return stack.sql_api


def logs_text(stack: LocalStack) -> str:
    return "".join(path.read_text() for path in sorted((stack.work_dir / "logs").glob("*.log")))


def test_meltano_run_over_the_sql_api_loads_every_record_with_bound_inserts(
    sql_api_stack: LocalStack,
) -> None:
    server = server_of(sql_api_stack)
    output = meltano_run(sql_api_stack, "uk")

    # Every record of every stream is in the warehouse, field by field as the sandbox holds it.
    figures = reconcile_stack(sql_api_stack)
    assert {figure.table for figure in figures} == set(STREAM_ENTITIES)
    assert [figure for figure in figures if not figure.matches] == [], format_report(
        [figure for figure in figures if not figure.matches]
    )
    with warehouse_cursor(sql_api_stack) as cursor:
        cursor.execute('SELECT COUNT(*), COUNT(DISTINCT "_batch_id") FROM "transaction_lines"')
        rows, batches = cursor.fetchone()
    assert rows > 0
    assert batches >= 1

    # It went through the SQL API: bound INSERTs, never a stage, PUT or COPY.
    statements = read_log(sql_api_stack.target_statement_log)
    assert_append_only(statements)
    loads = [statement for statement in statements if LOAD.match(statement)]
    assert loads
    assert all(BOUND_ROWS.search(load) for load in loads), loads[:3]
    assert [statement for statement in statements if STAGING.match(statement)] == []

    # The passphrase reached the target through its environment only: no log shows it.
    passphrase = server.target_settings["private_key_passphrase"]
    assert passphrase not in output
    assert passphrase not in logs_text(sql_api_stack)


def test_target_check_through_meltano_invoke_uses_the_sql_api(
    tmp_path: Path, meltano_plugins: None
) -> None:
    with LocalStack(work_dir=tmp_path / "stack", regions=(), transport="sql_api") as stack:
        server = server_of(stack)
        passphrase = server.target_settings["private_key_passphrase"]
        result = subprocess.run(
            [MELTANO, "--environment", "demo", "invoke", "target-snowflake-audit", "check"],
            cwd=REPO_ROOT,
            env=stack.meltano_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert re.search(r"^OK\s+connection: .*SQL API", result.stdout, re.MULTILINE), output
    assert passphrase not in output
    # Its statements reached the emulator through the server, none of the connector's kind.
    statements = read_log(stack.target_statement_log)
    assert statements, "the check sent nothing through the SQL API server"
    assert [statement for statement in statements if STAGING.match(statement)] == []
    assert_append_only(statements, expect_loads=False)
    assert server.process.returncode == 0, "the server did not stop by itself on SIGTERM"
