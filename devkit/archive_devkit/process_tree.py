"""Find the tap and the target under a `meltano run` process, through /proc, and kill one.

Meltano starts the tap and the target as its own children; the target's worker processes are
the target's children. Only Linux's /proc is read (the dev kit runs on Linux).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

PROC = Path("/proc")


def parent_of(pid: int) -> int | None:
    """The parent pid from /proc/<pid>/stat (None when the process is gone)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1])


def command_line(pid: int) -> list[str]:
    """The arguments of a process ([] when it is gone or a zombie)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def children(pid: int) -> list[int]:
    """The direct children of `pid`."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and parent_of(int(entry.name)) == pid:
            found.append(int(entry.name))
    return sorted(found)


def child_running(parent: int, executable: str, without: str | None = None) -> int | None:
    """The pid of `parent`'s child whose command runs `executable` (a console-script name).

    A console script runs as `<python> <venv>/bin/<executable> ...`, so the name is looked for
    as the last path part of one of the first two arguments. A child whose arguments include
    `without` is passed over (Meltano first runs the tap with `--discover`, then to sync).
    """
    for pid in children(parent):
        arguments = command_line(pid)
        if without is not None and without in arguments:
            continue
        if any(Path(argument).name == executable for argument in arguments[:2]):
            return pid
    return None


def kill_now(pid: int) -> bool:
    """SIGKILL one process; False when it had already gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True
