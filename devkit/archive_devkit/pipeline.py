"""Run the Meltano pipeline against a LocalStack, and read the warehouse it fills.

Shared by the demo and the end-to-end tests, so both exercise exactly the commands a user runs:
`meltano install` and `meltano --environment demo run tap-exactonline--<region>
target-snowflake-audit`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import snowflake.connector

from archive_devkit.entities import STREAM_ENTITIES
from archive_devkit.local_stack import LocalStack
from archive_devkit.paths import BIN_DIR, REPO_ROOT
from archive_devkit.reconcile import CalendarDates, Figure, reconcile
from archive_devkit.record_reconcile import record_figures
from archive_devkit.sandboxes import SandboxAdmin

MELTANO = str(BIN_DIR / "meltano")
# Meltano's log line: timestamp, [level], plugin name, message.
MELTANO_LINE = re.compile(r"^\S+\s+\[(?P<level>\w+)\s*\]\s+(?P<plugin>\S+)\s+(?P<message>.*)$")
# Messages worth showing a person while a pipeline runs (everything goes to the log file).
PROGRESS_PATTERN = re.compile(
    r"(Loaded \d+ rows|rate limit|Refreshed the Exact access token|Seeding the token store"
    r"|daily call|budget)",
    re.IGNORECASE,
)


class PipelineError(RuntimeError):
    """A `meltano run` ended with a non-zero exit code."""


def meltano_install() -> None:
    """Install the plugins from the local packages, pinned (skips what is installed)."""
    constraints = str(REPO_ROOT / "constraints.txt")
    # Meltano installs with uv (UV_CONSTRAINT) or pip (PIP_CONSTRAINT): pin both ways.
    env = {**os.environ, "UV_CONSTRAINT": constraints, "PIP_CONSTRAINT": constraints}
    subprocess.run([MELTANO, "install"], cwd=REPO_ROOT, env=env, check=True)


def prepare_state_database(stack: LocalStack) -> None:
    """Create and migrate Meltano's system database once, before pipelines run side by side.

    Meltano creates its database on first use; two first uses at once race on the migration.
    """
    subprocess.run(
        [MELTANO, "--environment", "demo", "state", "list"],
        cwd=REPO_ROOT,
        env=stack.meltano_env(),
        check=True,
        capture_output=True,
    )


def meltano_run_command(region: str, extra_args: tuple[str, ...] = ()) -> list[str]:
    """`meltano --environment demo run [extra] tap-exactonline--<region> target-snowflake-audit`."""
    entity = f"tap-exactonline--{region}"
    return [MELTANO, "--environment", "demo", "run", *extra_args, entity, "target-snowflake-audit"]


def start_logged(args: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start a command in its own process group (so it can be killed whole), output to `log`."""
    return subprocess.Popen(
        args, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def meltano_state(env: dict[str, str], state_id: str) -> dict[str, Any]:
    """The state Meltano holds for a pipeline ({} when none)."""
    done = subprocess.run(
        [MELTANO, "--environment", "demo", "state", "get", state_id],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    text = done.stdout.strip()
    state = json.loads(text) if text.startswith("{") else {}
    return state if isinstance(state, dict) else {}


def meltano_run(
    stack: LocalStack,
    region: str,
    *,
    extra_args: tuple[str, ...] = (),
    on_line: Callable[[str], None] | None = None,
    on_start: Callable[[subprocess.Popen[str]], None] | None = None,
    timeout: float = 900,
) -> str:
    """Run one entity's pipeline in the `demo` environment; return Meltano's whole output.

    `on_start` gets the Meltano process, so a caller running pipelines in threads can stop
    them (`MeltanoRuns`). Interrupted here (Ctrl-C), it stops the run before raising.
    """
    log_path = stack.work_dir / "logs" / f"meltano-{region}.log"
    args = meltano_run_command(region, extra_args)
    lines: list[str] = []
    with log_path.open("a") as log:
        process = subprocess.Popen(
            args,
            cwd=REPO_ROOT,
            env=stack.meltano_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None  # noqa: S101 - Popen was asked for a pipe
        if on_start is not None:
            on_start(process)
        try:
            for line in process.stdout:
                log.write(line)
                lines.append(line)
                if on_line is not None:
                    on_line(line)
            returncode = process.wait(timeout=timeout)
        except BaseException:
            stop_meltano_runs([process])
            raise
    output = "".join(lines)
    if returncode != 0:
        tail = "".join(lines[-30:])
        msg = (
            f"meltano run for {region} failed with exit code {returncode}; log: {log_path}\n{tail}"
        )
        raise PipelineError(msg)
    return output


def stop_meltano_runs(processes: Iterable[subprocess.Popen[str]], timeout: float = 120) -> None:
    """SIGTERM each `meltano run` still going and wait for it (SIGKILL after `timeout`).

    Meltano passes SIGTERM on to the tap and the target, which loads what it holds, writes the
    STATE covering it and exits. A terminal's Ctrl-C reaches them too, but a Meltano process
    that is still starting up may miss it.
    """
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class MeltanoRuns:
    """`meltano run` processes started from several threads, stopped together on Ctrl-C.

    Pass `started` as `meltano_run`'s `on_start`. Once `stop` was called, a run that starts
    afterwards (its thread was late) is stopped at once.
    """

    def __init__(self) -> None:
        """No runs yet."""
        self._processes: list[subprocess.Popen[str]] = []
        self._stopping = False
        self._lock = threading.Lock()

    def started(self, process: subprocess.Popen[str]) -> None:
        """Note a run; terminate it if the runs are being stopped."""
        with self._lock:
            self._processes.append(process)
            stopping = self._stopping
        if stopping:
            process.terminate()

    def stop(self) -> None:
        """Stop every run (see `stop_meltano_runs`)."""
        with self._lock:
            self._stopping = True
            processes = list(self._processes)
        stop_meltano_runs(processes)


def print_progress(region: str) -> Callable[[str], None]:
    """A line callback that echoes one region's progress and errors, without log noise."""

    def show(line: str) -> None:
        match = MELTANO_LINE.match(line.strip())
        if match is None:
            return
        level, message = match.group("level"), match.group("message")
        if level in ("error", "critical") or PROGRESS_PATTERN.search(message):
            plugin = match.group("plugin").split("--")[0]
            message = re.sub(r" \(batch \S+\)$", "", message)
            print(f"  [{region}] {plugin}: {message[:140]}", flush=True)

    return show


@contextmanager
def warehouse_cursor(stack: LocalStack) -> Iterator[Any]:
    """A cursor on the emulated warehouse, schema set to the one the pipeline loads."""
    connection = snowflake.connector.connect(**stack.snowflake_connect_args())
    try:
        cursor = connection.cursor()
        yield cursor
    finally:
        connection.close()


def reconcile_stack(stack: LocalStack, regions: tuple[str, ...] | None = None) -> list[Figure]:
    """Every count, amount sum, calendar date and record of `regions` (default: all).

    Counts, sums and dates against each sandbox's truth; then every record field by field
    against the sandbox's canonical records (`record_reconcile`).
    """
    truths: dict[str, dict[str, dict[str, Any]]] = {}
    dates: CalendarDates = {}
    chosen = regions or tuple(stack.sandboxes)
    for region in chosen:
        truths.update(stack.sandboxes[region].truth())
        dates.update(stack.sandboxes[region].admin("GET", "calendar_dates")["divisions"])
    with warehouse_cursor(stack) as cursor:
        figures = reconcile(cursor, truths, dates)
        sandboxes = {region: stack.sandboxes[region] for region in chosen}
        return figures + record_figures(cursor, sandboxes)


def table_row_counts(stack: LocalStack) -> dict[str, int]:
    """Rows in every stream's table (history included)."""
    with warehouse_cursor(stack) as cursor:
        counts = {}
        for table in STREAM_ENTITIES:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - fixed names
            counts[table] = int(cursor.fetchone()[0])
    return counts


def run_sql_file(cursor: Any, path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Execute one query file; return column names and rows."""
    cursor.execute(path.read_text())
    names = [str(column[0]) for column in cursor.description]
    return names, [tuple(row) for row in cursor.fetchall()]


def format_rows(names: list[str], rows: list[tuple[Any, ...]], limit: int = 15) -> str:
    """A small fixed-width rendering of a result set for the terminal."""
    shown = [[("" if value is None else str(value)) for value in row] for row in rows[:limit]]
    widths = [max([len(name)] + [len(row[i]) for row in shown]) for i, name in enumerate(names)]
    header = "  ".join(name.ljust(width) for name, width in zip(names, widths, strict=True))
    body = [
        "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True))
        for row in shown
    ]
    more = [f"... {len(rows) - limit} more rows"] if len(rows) > limit else []
    return "\n".join([header, "-" * len(header), *body, *more])


def two_current_invoices(stack: LocalStack, division: int) -> tuple[str, str]:
    """Two sales invoices of `division` as the warehouse holds them now."""
    with warehouse_cursor(stack) as cursor:
        cursor.execute(
            'SELECT "_record_id" FROM "sales_invoices__current" '
            'WHERE "_division_id" = %s ORDER BY "_record_id" LIMIT 2',
            (str(division),),
        )
        ids = [str(row[0]) for row in cursor.fetchall()]
    if len(ids) < 2:
        msg = f"expected sales invoices for division {division} in the warehouse"
        raise RuntimeError(msg)
    return ids[0], ids[1]


def change_and_delete_invoices(
    sandbox: SandboxAdmin, division: int, changed_id: str, new_amount_dc: str, deleted_id: str
) -> list[dict[str, Any]]:
    """In a sandbox, give one invoice a new AmountDC and delete another (as users do in Exact)."""
    return sandbox.mutate(
        {
            "action": "update",
            "division": division,
            "entity": "SalesInvoices",
            "id": changed_id,
            "fields": {"AmountDC": new_amount_dc},
        },
        {"action": "delete", "division": division, "entity": "SalesInvoices", "id": deleted_id},
    )
