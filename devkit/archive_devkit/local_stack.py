"""Start and stop the local stand-ins for Exact Online and Snowflake.

The demo and the end-to-end tests both need three sandbox regions and one Snowflake emulator
running on loopback, and both must leave no process behind, also on failure or Ctrl-C. This
module owns that lifecycle and the environment variables `meltano.yml`'s `demo` environment reads.
With `transport="sql_api"` the target loads through the local SQL API server (a process in front
of the emulator) with a key pair made for the run; the warehouse is still read through the
emulator directly.
"""

from __future__ import annotations

import os
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography.fernet import Fernet

from archive_devkit.paths import REPO_ROOT
from archive_devkit.sandboxes import SandboxProcess
from archive_devkit.snowflake_process import SnowflakeEmulatorProcess
from archive_devkit.sql_api_process import SqlApiServerProcess

REGIONS = ("nl", "de", "uk")
TRANSPORTS = ("connector", "sql_api")
SNOWFLAKE_DATABASE = "exact_archive"
SNOWFLAKE_SCHEMA = "exact_online"


@dataclass
class LocalStack(AbstractContextManager["LocalStack"]):
    """Sandboxes for `regions` plus a fakesnow server, all under `work_dir`.

    Every child runs in its own process group so that stopping the stack also stops anything
    the child started. Use as a context manager: processes stop on exit, whatever happened.
    `transport` is the target's: `connector` (the emulator directly) or `sql_api` (the local
    SQL API server in front of it).
    """

    work_dir: Path
    regions: tuple[str, ...] = REGIONS
    seed: int = 42
    scale: str = "small"
    divisions_per_region: int = 2
    clock: str = "real"
    minutely_limit: int | None = None
    transport: str = "connector"
    sandboxes: dict[str, SandboxProcess] = field(default_factory=dict)
    snowflake: SnowflakeEmulatorProcess | None = None
    sql_api: SqlApiServerProcess | None = None
    _token_store_key: str = field(default_factory=lambda: Fernet.generate_key().decode())
    _snowflake_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def __enter__(self) -> LocalStack:
        """Start every process; on any failure stop the ones already started."""
        if self.transport not in TRANSPORTS:
            msg = f"transport {self.transport!r} is not one of {', '.join(TRANSPORTS)}"
            raise ValueError(msg)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / "tokens").mkdir(exist_ok=True)
        logs = self.work_dir / "logs"
        logs.mkdir(exist_ok=True)
        self._share_installed_plugins()
        try:
            for region in self.regions:
                self.sandboxes[region] = SandboxProcess(
                    self.sandbox_args(region), logs / f"sandbox-{region}.log", cwd=self.work_dir
                )
            self.snowflake = SnowflakeEmulatorProcess(
                self.work_dir / "snowflake",
                logs / "snowflake-emulator.log",
                statement_log=self.target_statement_log,
            )
            if self.transport == "sql_api":
                self.sql_api = SqlApiServerProcess(
                    self.snowflake.port,
                    self.work_dir / "keys",
                    logs / "sql-api-server.log",
                    cwd=self.work_dir,
                )
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

    @property
    def target_statement_log(self) -> Path:
        """Every statement the target sent to this stack's emulator (the append-only audit)."""
        return self.work_dir / "logs" / "target-statements.log"

    @property
    def meltano_sys_dir(self) -> Path:
        """This stack's own `.meltano` (MELTANO_SYS_DIR_ROOT): its run files, logs and state.

        Meltano writes each plugin's config, catalog and state under `<sys dir>/run/<plugin>/`;
        two stacks sharing the project's `.meltano` would overwrite each other's files when
        they run the same plugin at once (two test sessions, the demo next to a test).
        """
        return self.work_dir / "meltano-sys"

    def _share_installed_plugins(self) -> None:
        """Link the plugin environments `meltano install` made in the project's `.meltano`."""
        self.meltano_sys_dir.mkdir(exist_ok=True)
        for kind in ("extractors", "loaders"):
            link = self.meltano_sys_dir / kind
            if not link.exists():
                link.symlink_to(REPO_ROOT / ".meltano" / kind, target_is_directory=True)

    def sandbox_args(self, region: str) -> list[str]:
        """`exact-sandbox serve` arguments for one region of this stack."""
        args = ["--region", region, "--seed", str(self.seed), "--scale", self.scale]
        args += ["--divisions", str(self.divisions_per_region), "--clock", self.clock]
        if self.minutely_limit is not None:
            args += ["--minutely-limit", str(self.minutely_limit)]
        return args

    @property
    def snowflake_port(self) -> int:
        """The emulator's loopback port."""
        if self.snowflake is None:
            msg = "the stack is not running"
            raise RuntimeError(msg)
        return self.snowflake.port

    def stop(self) -> None:
        """Stop every child process group (SIGTERM, then SIGKILL for what ignores it)."""
        for sandbox in self.sandboxes.values():
            sandbox.stop()
        if self.sql_api is not None:
            self.sql_api.stop()
        if self.snowflake is not None:
            self.snowflake.stop()

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
        env["MELTANO_SYS_DIR_ROOT"] = str(self.meltano_sys_dir)
        env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        if self.sql_api is not None:
            # Settings from the environment win over meltano.yml's demo environment. The
            # passphrase is handed over this way only: on no command line, in no file we write.
            for name, value in self.sql_api.target_settings.items():
                env[f"TARGET_SNOWFLAKE_AUDIT_{name.upper()}"] = value
            del env["SNOWFLAKE_PASSWORD"]  # the SQL API takes no password: the target refuses one
        return env

    @classmethod
    def one_small_entity(cls, work_dir: Path, *, transport: str = "connector") -> LocalStack:
        """One small UK company, one division: rows in every stream, loaded in seconds (tests).

        The minutely limit is generous: such tests are not about Exact's rate limits.
        """
        return cls(
            work_dir=work_dir,
            regions=("uk",),
            scale="300",
            divisions_per_region=1,
            minutely_limit=2000,
            transport=transport,
        )

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
