"""The demo's Ctrl-C stops every `meltano run` it started, also one whose thread starts late."""

from __future__ import annotations

import signal
import subprocess
import sys

from archive_devkit.pipeline import MeltanoRuns


def a_run() -> subprocess.Popen[str]:
    """A stand-in for `meltano run`: a process that would run for a minute."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], text=True)


def test_stop_terminates_every_run_started_before_it() -> None:
    runs = MeltanoRuns()
    started = [a_run(), a_run()]
    for process in started:
        runs.started(process)
    runs.stop()
    assert [process.returncode for process in started] == [-signal.SIGTERM, -signal.SIGTERM]


def test_a_run_starting_after_stop_is_terminated_at_once() -> None:
    runs = MeltanoRuns()
    runs.stop()
    late = a_run()
    runs.started(late)
    try:
        assert late.wait(timeout=10) == -signal.SIGTERM
    finally:
        late.kill()
        late.wait()
