"""kill -9 in the middle of a batch, then a rerun with the same input, loses nothing."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from archive_devkit.singer_messages import (
    record_message,
    schema_message,
    singer_lines,
    state_message,
)

RECORDS = 12_000
STATE_EVERY = 500
PROPERTIES = {
    "ID": {"type": "integer"},
    "Division": {"type": "integer"},
    "Amount": {"type": ["number", "null"]},
    "Description": {"type": ["string", "null"]},
}


def _write_input(path: Path) -> None:
    messages: list[dict] = [schema_message("journal_lines", PROPERTIES)]
    for n in range(RECORDS):
        record = {"ID": n, "Division": 1, "Amount": n / 100, "Description": f"line {n}"}
        messages.append(record_message("journal_lines", record))
        if (n + 1) % STATE_EVERY == 0:
            messages.append(state_message({"records_sent": n + 1}))
    path.write_text(singer_lines(*messages))


def _start_target(config_path: Path, input_path: Path) -> subprocess.Popen[str]:
    executable = Path(sys.executable).parent / "target-snowflake-audit"
    return subprocess.Popen(
        [str(executable), "--config", str(config_path), "--input", str(input_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _children(pid: int) -> set[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.add(int(stat.parent.name))
    return children


def _wait_until_gone(pids: set[int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while alive := {pid for pid in pids if Path(f"/proc/{pid}").exists()}:
        statuses = [Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                    for pid in alive if Path(f"/proc/{pid}/stat").exists()]  # fmt: skip
        if all(status == "Z" for status in statuses):
            return  # exited, waiting to be reaped by init
        assert time.monotonic() < deadline, f"worker processes {sorted(alive)} outlived the target"
        time.sleep(0.1)


def _prepare(config: dict, tmp_path: Path) -> tuple[Path, Path]:
    """Write the input and a config with batches of 2,000 rows; return their paths."""
    input_path = tmp_path / "input.singer"
    _write_input(input_path)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({**config, "batch_size_rows": 2_000}))
    return config_path, input_path


def test_kill_9_mid_batch_then_rerun_loses_nothing(config, warehouse, tmp_path):
    config_path, input_path = _prepare(config, tmp_path)

    crashing = _start_target(config_path, input_path)
    assert crashing.stdout is not None
    first_state = json.loads(crashing.stdout.readline())
    workers = _children(crashing.pid)
    assert workers  # records are being encoded by worker processes
    os.kill(crashing.pid, signal.SIGKILL)  # mid-way through the next batch
    crashing.wait(timeout=60)
    assert crashing.returncode == -signal.SIGKILL
    _wait_until_gone(workers)  # the workers die with the target

    # Everything before the emitted STATE is committed.
    acknowledged = first_state["records_sent"]
    assert 0 < acknowledged < RECORDS
    committed = {row[0] for row in warehouse('SELECT "id" FROM "journal_lines"')}
    assert set(range(acknowledged)) <= committed
    assert len(committed) < RECORDS

    rerun = _start_target(config_path, input_path)
    stdout, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0
    assert json.loads(stdout.splitlines()[-1]) == {"records_sent": RECORDS}

    rows = warehouse('SELECT "id" FROM "journal_lines"')
    assert {row[0] for row in rows} == set(range(RECORDS))
    assert len(rows) >= RECORDS  # at-least-once: the crashed run's batches stay as well


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_termination_signal_loads_what_arrived_writes_its_state_and_fails(
    config, warehouse, tmp_path, signum
):
    config_path, input_path = _prepare(config, tmp_path)

    process = _start_target(config_path, input_path)
    assert process.stdout is not None
    states = [json.loads(process.stdout.readline())]
    workers = _children(process.pid)
    assert workers  # records are being encoded by worker processes
    process.send_signal(signum)
    rest, _ = process.communicate(timeout=120)
    states += [json.loads(line) for line in rest.splitlines()]

    assert process.returncode == 128 + signum  # not 0: the input was not finished
    assert len(states) >= 2  # the STATE covering what was loaded after the signal
    _wait_until_gone(workers)
    acknowledged = states[-1]["records_sent"]
    committed = {row[0] for row in warehouse('SELECT "id" FROM "journal_lines"')}
    assert set(range(acknowledged)) <= committed
