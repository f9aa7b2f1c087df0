"""`make demo` and `make benchmarks`, run exactly as the README says."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import snowflake.connector
from archive_devkit.append_only import assert_append_only
from archive_devkit.entities import STREAM_ENTITIES
from archive_devkit.local_stack import SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA
from archive_devkit.paths import BIN_DIR, REPO_ROOT
from archive_devkit.snowflake_emulator.statement_audit import read_log
from archive_devkit.snowflake_process import SnowflakeEmulatorProcess

QUERIES = REPO_ROOT / "examples" / "queries"
NEW_AMOUNT = Decimal("12345.67")  # the amount scripts/demo.py gives the NL invoice it changes

pytestmark = pytest.mark.e2e


def make(target: str, timeout: float, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}"}
    assignments = [f"{name}={value}" for name, value in variables.items()]
    return subprocess.run(
        ["make", target, *assignments],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_make_demo_runs_the_whole_demo(meltano_plugins: None) -> None:
    result = make("demo", timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert " 0 mismatches" in output, output[-5000:]
    # Everything the target sent during the demo (changes and deletes included) was a load.
    assert_append_only(read_log(REPO_ROOT / ".demo" / "logs" / "target-statements.log"))
    # Every process the demo started has stopped: each ran in the demo folder or with files there.
    assert processes_of(REPO_ROOT / ".demo") == []
    # What the demo left in its warehouse (.demo/snowflake), read back through the connector.
    with demo_warehouse() as cursor:
        # 1. every stream of every entity landed: NL, DE and UK divisions in each table
        for table in STREAM_ENTITIES:
            cursor.execute(f'SELECT DISTINCT "_division_id" FROM "{table}__current"')  # noqa: S608
            regions = {str(row[0])[0] for row in cursor.fetchall()}
            assert regions == {"1", "2", "3"}, (table, regions)
        # 2. the seed questions answer from it; the trial balance balances in every period
        for query_file in ("open_sales_invoices.sql", "aged_payables.sql"):
            cursor.execute((QUERIES / query_file).read_text())
            assert cursor.fetchall(), query_file
        cursor.execute((QUERIES / "trial_balance.sql").read_text())
        balanced = [row[-1] for row in cursor.fetchall()]
        assert balanced
        assert all(balanced)
        # 3. audit history: the changed NL invoice has two versions, the deleted one a tombstone
        cursor.execute(
            'SELECT "_record_id", COUNT(*), MAX("amount_dc"), '
            'COUNT_IF("_deleted_at" IS NOT NULL) FROM "sales_invoices" '
            'WHERE "_division_id" LIKE \'1%\' GROUP BY "_record_id" HAVING COUNT(*) > 1'
        )
        histories = {row[0]: row[1:] for row in cursor.fetchall()}
        changed = [r for r in histories.values() if r[0] == 2 and Decimal(str(r[1])) == NEW_AMOUNT]
        deleted = [r for r in histories.values() if r[0] == 2 and r[2] == 1]
        assert len(changed) == 1, histories
        assert len(deleted) == 1, histories


@contextmanager
def demo_warehouse() -> Iterator[Any]:
    """A cursor on the warehouse the demo left in .demo/snowflake (its own emulator)."""
    emulator = SnowflakeEmulatorProcess(REPO_ROOT / ".demo" / "snowflake")
    try:
        connection = snowflake.connector.connect(
            account="fakesnow",
            user="reader",
            password="reader",
            host="127.0.0.1",
            port=emulator.port,
            protocol="http",
            database=SNOWFLAKE_DATABASE,
            schema=SNOWFLAKE_SCHEMA,
            session_parameters={"QUOTED_IDENTIFIERS_IGNORE_CASE": False},
        )
        try:
            yield connection.cursor()
        finally:
            connection.close()
    finally:
        emulator.stop()


def processes_of(folder: Path) -> list[str]:
    """Command lines of live processes working in `folder` (or below) or naming a path in it.

    The demo's servers work in its folder; the tap and the target run with their config files
    from its Meltano system directory there.
    """
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = (proc / "cwd").resolve()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cwd == folder or folder in cwd.parents or f"{folder}/" in cmdline:
            found.append(cmdline)
    return found


def test_benchmarks_print_their_figures() -> None:
    # Small sizes keep this a check that the scripts work; the figures come from full runs.
    result = make(
        "benchmarks",
        timeout=600,
        SANDBOX_BENCH_ARGS="--lines 3000 --passes 1",
        TAP_BENCH_ARGS="--scale 3000",
        TARGET_BENCH_ARGS="--rows 5000",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert output.count("records/s") + output.count("rows/s") >= 3, output[-5000:]
    assert "peak RSS" in output or "peak rss" in output.lower(), output[-5000:]


@pytest.mark.parametrize("transport", ["connector", "sql_api"])
def test_demo_interrupted_with_ctrl_c_stops_every_process_it_started(
    meltano_plugins: None, tmp_path: Path, transport: str
) -> None:
    work_dir = tmp_path / "demo"
    args = ["scripts/demo.py", "--skip-install", "--work-dir", str(work_dir)]
    # A terminal's Ctrl-C reaches the whole foreground process group: the demo and the Meltano
    # runs it started (the servers run in sessions of their own: the demo must stop them).
    process = subprocess.Popen(
        [str(BIN_DIR / "python"), *args, "--transport", transport],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "--> " in line:  # the pipelines are starting: sandboxes and emulator are up
            break
    running = processes_of(work_dir)
    assert running, "the demo's sandboxes and emulator are running"
    # With --transport sql_api the target's SQL API server runs too (and only then).
    servers = [command for command in running if "archive_devkit.sql_api_server" in command]
    assert len(servers) == (transport == "sql_api"), running
    os.killpg(process.pid, signal.SIGINT)
    rest = process.stdout.read()
    assert process.wait(timeout=120) == 130, "".join(seen) + rest
    assert "Interrupted" in rest
    assert processes_of(work_dir) == []
