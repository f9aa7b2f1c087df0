"""The patched Snowflake emulator as a child process (the demo's, the e2e tests', chaos's)."""

from __future__ import annotations

import sys
from pathlib import Path

from archive_devkit.ports import free_port, start_server
from archive_devkit.sandboxes import stop_process_group

EMULATOR_MODULE = "archive_devkit.snowflake_emulator"


class SnowflakeEmulatorProcess:
    """`python -m <emulator> -s` on a free loopback port, databases kept in `data_dir`."""

    def __init__(
        self, data_dir: Path, log_path: Path | None = None, statement_log: Path | None = None
    ) -> None:
        """Start the emulator and wait until it listens.

        `statement_log` receives every statement the target sends (the append-only audit).
        """
        data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = [sys.executable, "-m", EMULATOR_MODULE, "-s", "--host", "127.0.0.1"]
        command += ["-p", str(self.port), "-d", str(data_dir)]
        if statement_log is not None:
            command += ["--statement-log", str(statement_log)]
        self.process = start_server(
            command, self.port, "the Snowflake emulator", log_path=log_path, cwd=data_dir
        )

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM it (it then removes its staged files); SIGKILL after `timeout`."""
        stop_process_group(self.process, timeout)
