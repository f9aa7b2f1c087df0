"""The one-command demo: a three-entity company archived from Exact Online into Snowflake.

`make demo` runs this. It starts three sandbox regions (NL, DE, UK) and the Snowflake emulator,
runs the real Meltano pipeline for each legal entity, reconciles the warehouse against the
sandboxes' truth, answers the finance team's questions in SQL (examples/queries/), then changes
and deletes records in a sandbox and shows the audit history the archive keeps. Every process it
starts is stopped on exit, on failure and on Ctrl-C; run it as often as you like.

`--transport sql_api` has the target load through the local SQL API server (in front of the same
emulator) with a key pair made for the run, instead of through the connector.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType

from archive_devkit.local_stack import REGIONS, TRANSPORTS, LocalStack
from archive_devkit.paths import REPO_ROOT
from archive_devkit.pipeline import (
    MeltanoRuns,
    change_and_delete_invoices,
    format_rows,
    meltano_install,
    meltano_run,
    prepare_state_database,
    print_progress,
    reconcile_stack,
    run_sql_file,
    two_current_invoices,
    warehouse_cursor,
)
from archive_devkit.reconcile import format_report
from archive_devkit.sql_api_process import SQL_API_ACCOUNT, SQL_API_USER, SqlApiServerProcess

QUERIES_DIR = REPO_ROOT / "examples" / "queries"
NEW_AMOUNT_DC = "12345.67"
SEED_QUESTIONS = (
    ("All open sales invoices across the three regions", "open_sales_invoices.sql"),
    ("GL reconciliation: trial balance by division, period and cost center", "trial_balance.sql"),
    ("Purchase invoices with their payments: stuck or aged payables", "aged_payables.sql"),
)
AUDIT_QUERY = (
    'SELECT "_division_id", "_record_id", "amount_dc", "_deleted_at"::VARCHAR AS "_deleted_at", '
    '"_synced_at", "_sequence" '
    'FROM "sales_invoices" WHERE "_record_id" IN (%s, %s) ORDER BY "_record_id", "_sequence"'
)
CURRENT_QUERY = (
    'SELECT "_division_id", "_record_id", "amount_dc" '
    'FROM "sales_invoices__current" WHERE "_record_id" IN (%s, %s) ORDER BY "_record_id"'
)


def heading(text: str) -> None:
    """Print a section heading the eye can find in a long run."""
    print(f"\n=== {text} ===", flush=True)


def stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into the same clean shutdown path as Ctrl-C."""
    raise KeyboardInterrupt(f"signal {signum}")


def show_sql_api(server: SqlApiServerProcess) -> None:
    """Where the target loads through the SQL API, and as whom (never the passphrase)."""
    settings = server.target_settings
    print(
        f"  SQL API server: http://127.0.0.1:{server.port}/api/v2/statements in front of the "
        f"emulator; account {SQL_API_ACCOUNT}, user {SQL_API_USER}, public key "
        f"{server.public_key_path}"
    )
    print(
        f"  The target loads with transport sql_api as account {settings['account']!r}, user "
        f"{settings['user']!r}, key {settings['private_key_path']} (encrypted; its passphrase "
        "goes to Meltano in the environment, never printed)"
    )


def run_all_entities(stack: LocalStack) -> None:
    """One `meltano run` per legal entity, side by side, with their progress on screen.

    Each entity is its own Exact instance with its own rate limits and its own state, so their
    pipelines are independent; running them together is what a scheduler would do too.
    """
    started = time.monotonic()
    prepare_state_database(stack)
    for region in stack.regions:
        print(
            f"--> {region.upper()}: meltano --environment demo run "
            f"tap-exactonline--{region} target-snowflake-audit",
            flush=True,
        )
    runs = MeltanoRuns()
    with ThreadPoolExecutor(max_workers=len(stack.regions)) as pool:
        try:
            futures = {
                region: pool.submit(
                    meltano_run,
                    stack,
                    region,
                    on_line=print_progress(region),
                    on_start=runs.started,
                )
                for region in stack.regions
            }
            for region, future in futures.items():
                future.result()
                print(f"<-- {region.upper()} done", flush=True)
        except KeyboardInterrupt:
            # The pool waits for its threads: stop their pipelines rather than wait for them.
            runs.stop()
            raise
    print(f"All entities loaded in {time.monotonic() - started:.1f} s", flush=True)


def show_reconciliation(stack: LocalStack) -> bool:
    """Row counts and amount sums per table and division, next to the sandbox truth."""
    figures = reconcile_stack(stack)
    print(format_report(figures))
    return all(figure.matches for figure in figures)


def answer_seed_questions(stack: LocalStack) -> None:
    """Run each example query file and print its answer."""
    with warehouse_cursor(stack) as cursor:
        for title, file_name in SEED_QUESTIONS:
            heading(f"{title}  (examples/queries/{file_name})")
            names, rows = run_sql_file(cursor, QUERIES_DIR / file_name)
            print(format_rows(names, rows))


def demonstrate_audit_history(stack: LocalStack) -> None:
    """Change one invoice, delete another, re-run, and show every version the archive kept."""
    sandbox = stack.sandboxes["nl"]
    division = sandbox.divisions[0]
    changed_id, deleted_id = two_current_invoices(stack, division)
    change_and_delete_invoices(sandbox, division, changed_id, NEW_AMOUNT_DC, deleted_id)
    print(
        f"In the NL sandbox (division {division}): invoice {changed_id} now has "
        f"AmountDC {NEW_AMOUNT_DC}; invoice {deleted_id} was deleted."
    )
    meltano_run(stack, "nl", on_line=print_progress("nl"))
    with warehouse_cursor(stack) as cursor:
        heading("Every row the archive holds for these two invoices (oldest first)")
        cursor.execute(AUDIT_QUERY, (changed_id, deleted_id))
        names = [str(column[0]) for column in cursor.description]
        print(format_rows(names, [tuple(row) for row in cursor.fetchall()]))
        heading("Their rows in the sales_invoices__current view")
        cursor.execute(CURRENT_QUERY, (changed_id, deleted_id))
        names = [str(column[0]) for column in cursor.description]
        print(format_rows(names, [tuple(row) for row in cursor.fetchall()]))
        print("(the deleted invoice has no current row: its latest version is a tombstone)")


def main(argv: list[str] | None = None) -> int:
    """Install, start the local stack, run the pipeline, report; always clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--work-dir", type=Path, default=REPO_ROOT / ".demo")
    parser.add_argument("--skip-install", action="store_true", help="plugins already installed")
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="connector",
        help="how the target reaches Snowflake: the connector, or the SQL API (local server)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_signal)
    started = time.monotonic()

    if not args.skip_install:
        heading("Installing the tap and target into Meltano's plugin environments")
        meltano_install()
    shutil.rmtree(args.work_dir, ignore_errors=True)
    servers = "the Snowflake emulator"
    if args.transport == "sql_api":
        servers += " behind the local SQL API server"
    heading(f"Starting Exact Online sandboxes (NL, DE, UK) and {servers}")
    try:
        with LocalStack(work_dir=args.work_dir, regions=REGIONS, transport=args.transport) as stack:
            for region, sandbox in stack.sandboxes.items():
                print(f"  {region.upper()}: {sandbox.base_url} divisions {sandbox.divisions}")
            print(
                f"  Snowflake emulator: 127.0.0.1:{stack.snowflake_port} "
                f"(data in {args.work_dir / 'snowflake'})"
            )
            if stack.sql_api is not None:
                show_sql_api(stack.sql_api)
            heading("Running the pipeline for each legal entity")
            run_all_entities(stack)
            heading("Row counts and amounts per table and division: warehouse vs sandbox truth")
            all_match = show_reconciliation(stack)
            answer_seed_questions(stack)
            heading("Audit history: an invoice changes, another is deleted, the pipeline re-runs")
            demonstrate_audit_history(stack)
    except KeyboardInterrupt:
        print("\nInterrupted: every process the demo started has been stopped.", file=sys.stderr)
        return 130
    heading(f"Demo finished in {time.monotonic() - started:.0f} s")
    if not all_match:
        print("Some figures did not match the sandbox truth (marked NO above).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
