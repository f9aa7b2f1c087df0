"""Loopback ports: pick a free one, wait until a child process listens on it."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from archive_devkit.sandboxes import stop_process_group

STARTUP_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    """Ask the kernel for a free loopback port (fakesnow needs one passed in)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[str], what: str) -> None:
    """Block until something accepts connections on `port`, or fail naming `what`."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"{what} exited with code {process.returncode} during start-up"
            raise RuntimeError(msg)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    msg = f"{what} did not listen on port {port} within {STARTUP_TIMEOUT_SECONDS:.0f} s"
    raise RuntimeError(msg)


def start_server(
    command: list[str], port: int, what: str, *, log_path: Path | None, cwd: Path | None
) -> subprocess.Popen[str]:
    """Start a server in its own process group and wait until it listens on `port`.

    Its output goes to `log_path` (discarded when None); if it does not come up, it is stopped
    before the error is raised.
    """
    log = log_path.open("a") if log_path is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True, cwd=cwd
    )
    try:
        wait_for_port(port, process, what)
    except BaseException:
        stop_process_group(process)
        raise
    return process
