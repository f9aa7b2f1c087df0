"""Start and stop the local stand-ins for Exact Online and Snowflake.

The demo and the end-to-end tests both need three sandbox regions and one Snowflake emulator
running on loopback, and both must leave no process behind, also on failure or Ctrl-C. This
module owns that lifecycle and the environment variables `meltano.yml`'s `demo` environment reads.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography.fernet import Fernet

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
REGIONS = ("nl", "de", "uk")
SNOWFLAKE_DATABASE = "exact_archive"
SNOWFLAKE_SCHEMA = "exact_online"
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


@dataclass
class Sandbox:
    """One running `exact-sandbox` region and what it printed at start-up."""

    region: str
    process: subprocess.Popen[str]
    info: dict[str, Any]

    @property
    def base_url(self) -> str:
        """Root URL of this region's emulated Exact instance."""
        return str(self.info["base_url"])

    @property
    def divisions(self) -> list[int]:
        """Division codes the sandbox user may access."""
        return [int(code) for code in self.info["divisions"]]


@dataclass
class LocalStack(AbstractContextManager["LocalStack"]):
    """Sandboxes for `regions` plus a fakesnow server, all under `work_dir`.

    Every child runs in its own process group so that stopping the stack also stops anything
    the child started. Use as a context manager: processes stop on exit, whatever happened.
    """

    work_dir: Path
    regions: tuple[str, ...] = REGIONS
    seed: int = 42
    scale: str = "small"
    divisions_per_region: int = 2
    clock: str = "real"
    minutely_limit: int | None = None
    sandboxes: dict[str, Sandbox] = field(default_factory=dict)
    snowflake_port: int = 0
    _processes: list[subprocess.Popen[str]] = field(default_factory=list)
    _token_store_key: str = field(default_factory=lambda: Fernet.generate_key().decode())
    _snowflake_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def __enter__(self) -> LocalStack:
        """Start every process; on any failure stop the ones already started."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "tokens").mkdir(exist_ok=True)
        (self.work_dir / "logs").mkdir(exist_ok=True)
        try:
            for region in self.regions:
                self.sandboxes[region] = self._start_sandbox(region)
            self._start_snowflake()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop every process the stack started."""
        self.stop()

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen[str]:
        log = (self.work_dir / "logs" / log_name).open("a")
        process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
            cwd=self.work_dir,
        )
        self._processes.append(process)
        return process

    @staticmethod
    def _drain(process: subprocess.Popen[str], log_path: Path) -> None:
        """Copy the rest of a child's stdout to its log in the background.

        An unread pipe fills after 64 KiB of access-log lines and then blocks the server.
        """

        def copy() -> None:
            assert process.stdout is not None  # noqa: S101 - Popen was asked for a pipe
            with log_path.open("a") as log:
                for line in process.stdout:
                    log.write(line)
                    log.flush()

        threading.Thread(target=copy, name=f"drain {log_path.name}", daemon=True).start()

    def _start_sandbox(self, region: str) -> Sandbox:
        args = [
            str(BIN_DIR / "exact-sandbox"),
            "serve",
            "--port",
            "0",
            "--region",
            region,
            "--seed",
            str(self.seed),
            "--scale",
            self.scale,
            "--divisions",
            str(self.divisions_per_region),
            "--clock",
            self.clock,
        ]
        if self.minutely_limit is not None:
            args += ["--minutely-limit", str(self.minutely_limit)]
        process = self._spawn(args, f"sandbox-{region}.log")
        assert process.stdout is not None  # noqa: S101 - Popen was asked for a pipe
        line = process.stdout.readline()
        if not line:
            msg = (
                f"exact-sandbox for region {region} printed nothing; see logs/sandbox-{region}.log"
            )
            raise RuntimeError(msg)
        self._drain(process, self.work_dir / "logs" / f"sandbox-{region}.log")
        return Sandbox(region=region, process=process, info=json.loads(line))

    def _start_snowflake(self) -> None:
        data_dir = self.work_dir / "snowflake"
        data_dir.mkdir(exist_ok=True)
        self.snowflake_port = free_port()
        process = self._spawn(
            [
                # fakesnow's own CLI with the target's COPY fix for wide tables applied.
                sys.executable,
                "-m",
                "target_snowflake_audit.emulator",
                "-s",
                "--host",
                "127.0.0.1",
                "-p",
                str(self.snowflake_port),
                "-d",
                str(data_dir),
            ],
            "snowflake-emulator.log",
        )
        self._drain(process, self.work_dir / "logs" / "snowflake-emulator.log")
        wait_for_port(self.snowflake_port, process, "the Snowflake emulator (fakesnow)")

    def stop(self) -> None:
        """Terminate every child process group, then kill whatever ignores SIGTERM."""
        for process in self._processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self._processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._processes.clear()

    def meltano_env(self) -> dict[str, str]:
        """Environment for `meltano --environment demo ...` pointing at this stack."""
        env = dict(os.environ)
        for region, sandbox in self.sandboxes.items():
            prefix = f"EXACT_{region.upper()}_"
            env[prefix + "BASE_URL"] = sandbox.base_url
            env[prefix + "CLIENT_ID"] = str(sandbox.info["client_id"])
            env[prefix + "CLIENT_SECRET"] = str(sandbox.info["client_secret"])
            env[prefix + "REFRESH_TOKEN"] = str(sandbox.info["refresh_token"])
        env["EXACT_TOKEN_STORE_KEY"] = self._token_store_key
        env["DEMO_DIR"] = str(self.work_dir)
        env["SNOWFLAKE_PORT"] = str(self.snowflake_port)
        env["SNOWFLAKE_PASSWORD"] = self._snowflake_password
        env["MELTANO_DATABASE_URI"] = f"sqlite:///{self.work_dir / 'meltano.db'}"
        env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        return env

    def snowflake_connect_args(self) -> dict[str, Any]:
        """Connector keyword arguments for reading the emulated warehouse."""
        return {
            "account": "fakesnow",
            "user": "demo",
            "password": self._snowflake_password,
            "host": "127.0.0.1",
            "port": self.snowflake_port,
            "protocol": "http",
            "database": SNOWFLAKE_DATABASE,
            "schema": SNOWFLAKE_SCHEMA,
            "session_parameters": {
                "QUOTED_IDENTIFIERS_IGNORE_CASE": False,
                "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False,
            },
        }
