"""The local SQL API server as a child process, in front of an emulator process (the demo's).

`python -m archive_devkit.sql_api_server` with the account, the user and the public key it
knows, as `ALTER USER ... SET RSA_PUBLIC_KEY` registers one in Snowflake. The key pair is made
here too: the private key is written encrypted, as a user's `rsa_key.p8`, and its passphrase
stays in memory (the caller hands it to the target through the environment).
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from archive_devkit.key_pairs import encrypted_pem, new_rsa_key, public_pem
from archive_devkit.ports import free_port, start_server
from archive_devkit.sandboxes import stop_process_group

SERVER_MODULE = "archive_devkit.sql_api_server"
# The account as the server knows it, and as a user may write it: a locator with its region,
# which the target's JWT must carry as the bare upper-case locator
# (developer-guide/sql-api/authenticating).
SQL_API_ACCOUNT = "DEMO12345"
SQL_API_ACCOUNT_SETTING = "demo12345.eu-central-1"
SQL_API_USER = "EXACT_LOADER"
SQL_API_USER_SETTING = "exact_loader"


class SqlApiServerProcess:
    """A fresh key pair under `key_dir`, and the SQL API server knowing its public key."""

    def __init__(
        self,
        emulator_port: int,
        key_dir: Path,
        log_path: Path | None = None,
        cwd: Path | None = None,
    ) -> None:
        """Write the key pair, start the server on a free loopback port and wait until it listens.

        Args:
            emulator_port: The Snowflake emulator's port.
            key_dir: Where the private key (encrypted) and the public key are written.
            log_path: The server's output (default: discarded).
            cwd: The server's working directory.
        """
        key_dir.mkdir(parents=True, exist_ok=True)
        key = new_rsa_key()
        self.passphrase = secrets.token_urlsafe(24)
        self.private_key_path = key_dir / "snowflake_key.p8"
        self.private_key_path.touch(mode=0o600)
        self.private_key_path.write_text(encrypted_pem(key, self.passphrase))
        self.public_key_path = key_dir / "snowflake_key.pub"
        self.public_key_path.write_text(public_pem(key))
        self.port = free_port()
        command = [sys.executable, "-m", SERVER_MODULE, "--emulator-port", str(emulator_port)]
        command += ["--port", str(self.port), "--account", SQL_API_ACCOUNT]
        command += ["--user", SQL_API_USER, "--public-key", str(self.public_key_path)]
        self.process = start_server(
            command, self.port, "the SQL API server", log_path=log_path, cwd=cwd
        )

    @property
    def target_settings(self) -> dict[str, str]:
        """The target's settings for this server, the passphrase included (keep it secret)."""
        return {
            "transport": "sql_api",
            "account": SQL_API_ACCOUNT_SETTING,
            "user": SQL_API_USER_SETTING,
            "private_key_path": str(self.private_key_path),
            "private_key_passphrase": self.passphrase,
            "host": "127.0.0.1",
            "port": str(self.port),
            "protocol": "http",
        }

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM it (it lets statements finish, closes its sessions); SIGKILL after `timeout`."""
        stop_process_group(self.process, timeout)
