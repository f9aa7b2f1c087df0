"""The tap and the target are found among a process's children by their console script."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from archive_devkit.process_tree import child_running, children, command_line, kill_now


def start(tmp_path, name, *args):
    script = tmp_path / name
    script.write_text("import time\ntime.sleep(60)\n")
    return subprocess.Popen([sys.executable, str(script), *args])


def test_children_are_found_by_their_console_script_and_killed(tmp_path):
    discovery = start(tmp_path, "tap-exactonline", "--discover")
    syncing = start(tmp_path, "tap-exactonline", "--config", "x.json")
    target = start(tmp_path, "target-snowflake-audit", "--config", "y.json")
    try:
        mine = children(os.getpid())
        assert {discovery.pid, syncing.pid, target.pid} <= set(mine)
        assert command_line(target.pid)[1:] == [
            str(tmp_path / "target-snowflake-audit"),
            "--config",
            "y.json",
        ]
        assert child_running(os.getpid(), "tap-exactonline", without="--discover") == syncing.pid
        assert child_running(os.getpid(), "target-snowflake-audit") == target.pid
        assert child_running(os.getpid(), "tap-exactonline--nl") is None
        assert kill_now(target.pid)
        assert target.wait(timeout=10) == -9
        assert not kill_now(target.pid)
    finally:
        for process in (discovery, syncing, target):
            process.kill()
            process.wait()


def test_a_finished_process_has_no_command_line():
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    time.sleep(0.05)
    assert command_line(done.pid) == []
