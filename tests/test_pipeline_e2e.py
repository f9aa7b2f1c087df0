"""End-to-end: the real `meltano run` from sandboxes into the Snowflake emulator.

Each test starts its own NL, DE and UK sandboxes and an empty warehouse (see conftest.py).
Each guarantee is checked once: a fresh three-entity load reconciling exactly is the demo's test
(tests/test_demo.py), the README's commands are tests/test_readme_commands.py's.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time as clock
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from archive_devkit.append_only import assert_append_only
from archive_devkit.entities import STREAM_ENTITIES
from archive_devkit.local_stack import LocalStack
from archive_devkit.paths import BIN_DIR
from archive_devkit.pipeline import (
    change_and_delete_invoices,
    meltano_run,
    meltano_run_command,
    meltano_state,
    reconcile_stack,
    start_logged,
    two_current_invoices,
    warehouse_cursor,
)
from archive_devkit.reconcile import format_report
from archive_devkit.snowflake_emulator.statement_audit import read_log

pytestmark = pytest.mark.e2e


def assert_reconciles(stack: LocalStack, *regions: str) -> None:
    figures = reconcile_stack(stack, regions or None)
    mismatches = [figure for figure in figures if not figure.matches]
    assert not mismatches, format_report(mismatches)
    compared_tables = {figure.table for figure in figures}
    assert compared_tables == set(STREAM_ENTITIES), "every stream must land and be compared"


def other_invoice(stack: LocalStack, division: int) -> str:
    """A third current invoice of `division` (after the two the change test uses)."""
    with warehouse_cursor(stack) as cursor:
        cursor.execute(
            'SELECT "_record_id" FROM "sales_invoices__current" '
            'WHERE "_division_id" = %s ORDER BY "_record_id" LIMIT 1 OFFSET 2',
            (str(division),),
        )
        return str(cursor.fetchone()[0])


def test_changes_and_deletes_add_new_versions_and_tombstones(stack: LocalStack) -> None:
    meltano_run(stack, "nl")
    sandbox = stack.sandboxes["nl"]
    division = sandbox.divisions[0]
    changed_id, deleted_id = two_current_invoices(stack, division)
    change_and_delete_invoices(sandbox, division, changed_id, "4321.09", deleted_id)
    # Documents dated the 1st of a month, in summer (CEST) and in winter (CET): Exact stores
    # Amsterdam midnight, whose UTC instant is the last day of the previous month.
    dated = {changed_id: date(2024, 7, 1), other_invoice(stack, division): date(2024, 1, 1)}
    sandbox.mutate(
        *(
            {
                "action": "update",
                "division": division,
                "entity": "SalesInvoices",
                "id": invoice_id,
                "fields": {"InvoiceDate": f"{day}T00:00:00", "DueDate": f"{day}T00:00:00"},
            }
            for invoice_id, day in dated.items()
        )
    )
    meltano_run(stack, "nl")
    with warehouse_cursor(stack) as cursor:
        cursor.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = "
            "CURRENT_SCHEMA() AND table_name = 'sales_invoices' AND column_name = 'invoice_date'"
        )
        assert cursor.fetchone()[0] == "DATE"
        for invoice_id, day in dated.items():
            cursor.execute(
                'SELECT "invoice_date", "due_date" FROM "sales_invoices__current" '
                'WHERE "_record_id" = %s',
                (invoice_id,),
            )
            assert cursor.fetchall() == [(day, day)]
            amsterdam_midnight = datetime.combine(day, time(), ZoneInfo("Europe/Amsterdam"))
            assert amsterdam_midnight.astimezone(UTC).date() != day

    with warehouse_cursor(stack) as cursor:
        cursor.execute(
            # IS NULL in SQL: the emulator hands NULL TIMESTAMP_TZ values back as 1970-01-01.
            'SELECT "amount_dc", "_deleted_at" IS NOT NULL FROM "sales_invoices" '
            'WHERE "_record_id" = %s ORDER BY "_sequence"',
            (changed_id,),
        )
        versions = cursor.fetchall()
        cursor.execute(
            'SELECT "_deleted_at" IS NOT NULL FROM "sales_invoices" WHERE "_record_id" = %s '
            'ORDER BY "_sequence"',
            (deleted_id,),
        )
        deleted_history = cursor.fetchall()
        cursor.execute(
            'SELECT "amount_dc" FROM "sales_invoices__current" WHERE "_record_id" = %s',
            (changed_id,),
        )
        current_changed = cursor.fetchall()
        cursor.execute(
            'SELECT COUNT(*) FROM "sales_invoices__current" WHERE "_record_id" = %s',
            (deleted_id,),
        )
        current_deleted = cursor.fetchone()[0]

    assert len(versions) == 2, versions
    assert versions[0][0] != Decimal("4321.09")
    assert Decimal(str(versions[1][0])) == Decimal("4321.09")
    assert [row[1] for row in versions] == [False, False]
    assert [row[0] for row in deleted_history] == [False, True]
    assert [Decimal(str(row[0])) for row in current_changed] == [Decimal("4321.09")]
    assert current_deleted == 0
    assert_reconciles(stack, "nl")
    # A change and a delete were loaded as new rows: the target sent loads and nothing else.
    assert_append_only(read_log(stack.target_statement_log))


def test_run_killed_after_a_committed_state_resumes_from_it_and_loses_nothing(
    stack: LocalStack,
) -> None:
    env = {**stack.meltano_env(), "TARGET_SNOWFLAKE_AUDIT_BATCH_SIZE_ROWS": "300"}
    # Slow every call a little, so the run is still going when a state has been committed.
    sandbox = stack.sandboxes["de"]
    sandbox.admin("POST", "faults", {"kind": "slow", "rate": 1.0, "delay_seconds": 0.1})
    state_id = "demo:tap-exactonline--de-to-target-snowflake-audit"
    # One Meltano command first: it creates the system database, which two Meltano processes
    # starting together would otherwise both try to migrate.
    assert meltano_state(env, state_id) == {}
    log = (stack.work_dir / "logs" / "killed-run.log").open("wb")
    process = start_logged(meltano_run_command("de"), env, log)
    # Kill the whole process tree (meltano, tap, target) once Meltano holds a state with a
    # bookmark: the target wrote it after committing the records before it.
    held: dict = {}
    deadline = clock.monotonic() + 300
    while clock.monotonic() < deadline and process.poll() is None:
        held = meltano_state(env, state_id)
        if held.get("singer_state", {}).get("bookmarks"):
            break
        clock.sleep(0.5)
    assert process.poll() is None, "the run finished before it could be killed"
    assert held.get("singer_state", {}).get("bookmarks"), "no state was committed to kill after"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    log.close()

    # Meltano still marks the killed run as running: a user reruns with --force (see README).
    sandbox.admin("DELETE", "faults")
    output = meltano_run(stack, "de", extra_args=("--force",))
    assert "No state was found" not in output, "the rerun started over"
    resumed = re.findall(r"Starting incremental sync of '(\w+)' with bookmark value: (\S+)", output)
    assert [stream for stream, value in resumed if value != "None"], "no stream resumed"
    assert_reconciles(stack, "de")


def test_hand_piped_tap_and_target_give_the_same_tables(stack: LocalStack) -> None:
    meltano_run(stack, "uk")
    with warehouse_cursor(stack) as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = CURRENT_SCHEMA() AND table_type = 'BASE TABLE'"
        )
        meltano_tables = {str(row[0]) for row in cursor.fetchall()}

    sandbox = stack.sandboxes["uk"]
    fresh_chain = sandbox.admin("POST", "tokens", {})
    env = stack.meltano_env()
    tap_config = {
        "region": "uk",
        "base_url": sandbox.base_url,
        "client_id": sandbox.info["client_id"],
        "client_secret": sandbox.info["client_secret"],
        "refresh_token": fresh_chain["refresh_token"],
        "token_store_path": str(stack.work_dir / "tokens" / "hand-piped.tokens"),
        "token_store_key": env["EXACT_TOKEN_STORE_KEY"],
        "divisions": ["all"],
    }
    target_config = {
        "account": "fakesnow",
        "user": "demo",
        "password": env["SNOWFLAKE_PASSWORD"],
        "host": "127.0.0.1",
        "port": stack.snowflake_port,
        "protocol": "http",
        "warehouse": "fakesnow_warehouse",
        "database": "exact_archive",
        "schema": "hand_piped",
        "create_schema": True,
    }
    tap_path = stack.work_dir / "tap.json"
    target_path = stack.work_dir / "target.json"
    tap_path.write_text(json.dumps(tap_config))
    target_path.write_text(json.dumps(target_config))
    command = (
        f"{BIN_DIR / 'tap-exactonline'} --config {tap_path} | "
        f"{BIN_DIR / 'target-snowflake-audit'} --config {target_path}"
    )
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    with warehouse_cursor(stack) as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE LOWER(table_schema) = 'hand_piped' AND table_type = 'BASE TABLE'"
        )
        piped_tables = {str(row[0]) for row in cursor.fetchall()}
        assert piped_tables == meltano_tables
        for table in sorted(STREAM_ENTITIES):
            cursor.execute(
                f'SELECT COUNT(*) FROM "exact_online"."{table}__current"'  # noqa: S608
            )
            via_meltano = cursor.fetchone()[0]
            cursor.execute(f'SELECT COUNT(*) FROM "hand_piped"."{table}__current"')  # noqa: S608
            assert cursor.fetchone()[0] == via_meltano, table
