"""`make demo` and `make benchmarks`, run exactly as the README says."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from local_stack import BIN_DIR, REPO_ROOT

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
    # 1. reconciliation: every figure compared, none off
    assert " 0 mismatches" in output, output[-5000:]
    assert "  NO\n" not in result.stdout
    # 2. the seed questions, answered from the example query files
    for query_file in ("open_sales_invoices.sql", "trial_balance.sql", "aged_payables.sql"):
        assert f"examples/queries/{query_file}" in output
    # 3. audit history: a new version and a tombstone for the two NL invoices
    assert "Every row the archive holds for these two invoices" in output
    assert "12345.67" in output
    # Every process the demo started has stopped: they all ran with the demo folder as cwd.
    assert processes_working_in(REPO_ROOT / ".demo") == []


def processes_working_in(folder: Path) -> list[str]:
    """Command lines of live processes whose working directory is `folder` or below."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = (proc / "cwd").resolve()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cwd == folder or folder in cwd.parents:
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


def test_demo_interrupted_with_ctrl_c_stops_every_process_it_started(
    meltano_plugins: None, tmp_path: Path
) -> None:
    work_dir = tmp_path / "demo"
    process = subprocess.Popen(
        [str(BIN_DIR / "python"), "scripts/demo.py", "--skip-install", "--work-dir", str(work_dir)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "--> " in line:  # the pipelines are starting: sandboxes and emulator are up
            break
    assert processes_working_in(work_dir), "the demo's sandboxes and emulator are running"
    process.send_signal(signal.SIGINT)
    rest = process.stdout.read()
    assert process.wait(timeout=120) == 130, "".join(seen) + rest
    assert "Interrupted" in rest
    assert processes_working_in(work_dir) == []
