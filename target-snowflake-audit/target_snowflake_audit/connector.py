"""Snowflake connection: authentication, session settings, retries and the statement log."""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import backoff
import snowflake.connector
from cryptography.hazmat.primitives import serialization
from snowflake.connector import errors as sf_errors

from target_snowflake_audit import ddl
from target_snowflake_audit.naming import container_identifier, quote

# Connector errors worth retrying: network trouble, 5xx, 429 and timeouts. Everything else
# (authentication, privileges, SQL compilation) is fatal and reported at once.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    sf_errors.OperationalError,
    sf_errors.InternalServerError,
    sf_errors.ServiceUnavailableError,
    sf_errors.GatewayTimeoutError,
    sf_errors.BadGatewayError,
    sf_errors.RequestTimeoutError,
    sf_errors.TooManyRequests,
    sf_errors.OtherHTTPRetryableError,
    ConnectionError,
    TimeoutError,
)

SECRET_SETTINGS = ("password", "private_key", "private_key_passphrase")
_SHORT_SECRET = 8
REDACTED = "**********"


class TargetSnowflakeError(Exception):
    """An error this target reports to the user; its text never contains secrets."""


class SettingsError(TargetSnowflakeError):
    """A setting is missing or wrong; the message names it and what to do."""


class PrivateKeyError(SettingsError):
    """The configured private key could not be read."""


def redact(text: str, secrets: Sequence[str]) -> str:
    """Replace every secret (and each of its lines, for PEM keys) in `text`.

    Args:
        text: Any message.
        secrets: Secret values from the settings.

    Returns:
        The text with secrets replaced by asterisks.
    """
    for secret in secrets:
        pieces = [secret, *(line for line in secret.splitlines() if len(line) >= 8)]
        for piece in filter(None, pieces):
            if len(piece) >= _SHORT_SECRET:
                text = text.replace(piece, REDACTED)
            else:
                # A short secret is only redacted as a whole word, so a password like
                # "snow" does not turn "snowflake" into "**********flake".
                pattern = rf"(?<![A-Za-z0-9]){re.escape(piece)}(?![A-Za-z0-9])"
                text = re.sub(pattern, REDACTED, text)
    return text


def load_private_key(
    *,
    private_key: str | None = None,
    private_key_path: str | None = None,
    passphrase: str | None = None,
) -> bytes:
    """Load a key given as PEM text, base64 DER text or a file, and return unencrypted DER.

    The connector takes the key as PKCS#8 DER bytes; decrypting here means the passphrase
    never reaches the connector.

    Args:
        private_key: PEM text (`-----BEGIN ...`) or base64 of DER bytes.
        private_key_path: Path to a PEM or DER file.
        passphrase: Passphrase of an encrypted key.

    Returns:
        The key as unencrypted PKCS#8 DER bytes.

    Raises:
        PrivateKeyError: The key is missing, malformed, or the passphrase is wrong.
    """
    if private_key:
        text = private_key.strip()
        if text.startswith("-----BEGIN"):
            key_bytes, is_pem = text.encode(), True
        else:
            try:
                key_bytes = base64.b64decode("".join(text.split()), validate=True)
            except (binascii.Error, ValueError):
                msg = "private_key is neither PEM text nor base64-encoded DER"
                raise PrivateKeyError(msg) from None
            is_pem = False
    elif private_key_path:
        try:
            key_bytes = Path(private_key_path).expanduser().read_bytes()
        except OSError as exc:
            msg = f"cannot read private_key_path: {exc.strerror}"
            raise PrivateKeyError(msg) from None
        is_pem = key_bytes.lstrip().startswith(b"-----BEGIN")
    else:
        msg = "no private key configured"
        raise PrivateKeyError(msg)

    password = passphrase.encode() if passphrase else None
    loader = serialization.load_pem_private_key if is_pem else serialization.load_der_private_key
    try:
        key = loader(key_bytes, password=password)
    except (ValueError, TypeError):
        # The library's message can echo key material; say what to check instead.
        msg = (
            "cannot load the private key: it is malformed, or it is encrypted and "
            "private_key_passphrase is missing or wrong"
        )
        raise PrivateKeyError(msg) from None
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


class SnowflakeConnection:
    """One Snowflake session shared by all sinks; statements are serialized with a lock.

    The SDK drains sinks in parallel threads; a single session keeps the statement order
    readable in QUERY_HISTORY and avoids one login per stream. The `connector` transport
    (transport.py): batches are loaded with PUT + COPY.
    """

    stages_files = True

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger) -> None:
        """Keep the settings; the session is opened on first use.

        Args:
            config: The target settings.
            logger: Logger for statements (debug) and retries (warning).
        """
        self._config = config
        self._logger = logger
        self._connection: Any = None
        self._lock = threading.RLock()
        self._secrets = [str(config[name]) for name in SECRET_SETTINGS if config.get(name)]
        self.statements: list[str] = []
        """Every statement sent, in order (used by tests and for debugging)."""
        self.database = container_identifier(str(config["database"]))
        self.schema = f"{self.database}.{container_identifier(str(config['schema']))}"
        self._execute_with_retry = backoff.on_exception(
            backoff.expo,
            TRANSIENT_ERRORS,
            max_tries=lambda: int(config.get("retry_max_attempts", 5)),
            jitter=backoff.full_jitter,
            factor=float(config.get("retry_base_seconds", 1.0)),
            max_value=30,
            on_backoff=self._on_backoff,
            logger=None,
        )(self._execute_once)

    def qualified(self, name: str) -> str:
        """Return `<database>.<schema>."<name>"` for an object this target owns.

        Args:
            name: The lowercase object name.

        Returns:
            The qualified identifier.
        """
        return f"{self.schema}.{quote(name)}"

    def redact(self, text: str) -> str:
        """Remove configured secrets from a message.

        Args:
            text: Any message.

        Returns:
            The message without secrets.
        """
        return redact(text, self._secrets)

    def use_schema(self) -> None:
        """Make the target schema the session's current schema."""
        self.execute(ddl.use_schema(self.schema))

    def _connect_kwargs(self) -> dict[str, Any]:
        config = self._config
        kwargs: dict[str, Any] = {
            "account": config["account"],
            "user": config["user"],
            "database": config["database"],
            "warehouse": config["warehouse"],
            "application": "target-snowflake-audit",
            "autocommit": True,
            "login_timeout": int(config.get("login_timeout_seconds", 60)),
            "session_parameters": {
                # Lowercase quoted identifiers must stay lowercase even on accounts that
                # set QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE.
                "QUOTED_IDENTIFIERS_IGNORE_CASE": False,
                "TIMEZONE": "UTC",
                "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False,
            },
        }
        for name in ("role", "host", "port", "protocol"):
            if config.get(name):
                kwargs[name] = config[name]
        if config.get("private_key") or config.get("private_key_path"):
            kwargs["private_key"] = load_private_key(
                private_key=config.get("private_key"),
                private_key_path=config.get("private_key_path"),
                passphrase=config.get("private_key_passphrase"),
            )
        elif config.get("password"):
            kwargs["password"] = config["password"]
        else:
            msg = "no credentials: set private_key, private_key_path or password"
            raise SettingsError(msg)
        return kwargs

    def _open(self) -> Any:
        if self._connection is None:
            try:
                self._connection = snowflake.connector.connect(**self._connect_kwargs())
            except sf_errors.Error as exc:
                if isinstance(exc, TRANSIENT_ERRORS):
                    raise
                msg = f"cannot connect to Snowflake account {self._config['account']!r}: "
                raise TargetSnowflakeError(self.redact(msg + str(exc))) from None
        return self._connection

    def _on_backoff(self, details: Any) -> None:
        exc = details.get("exception")
        self._logger.warning(
            "Transient Snowflake error (attempt %s, retrying in %.1fs): %s",
            details.get("tries"),
            details.get("wait", 0.0),
            self.redact(str(exc)),
        )
        self._discard_connection()

    def _discard_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except sf_errors.Error:
                self._logger.debug("Ignoring error while closing a broken session")

    def _execute_once(self, sql: str, params: Sequence[Any] | None) -> list[dict[str, Any]]:
        cursor = self._open().cursor()
        try:
            cursor.execute(sql, params)
            names = [column[0].lower() for column in cursor.description or ()]
            return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def execute(
        self, sql: str, params: Sequence[Any] | None = None, *, retry: bool = True
    ) -> list[dict[str, Any]]:
        """Run one statement and return rows as dicts.

        Args:
            sql: The statement.
            params: Bind values (pyformat).
            retry: Retry transient failures. A statement whose effect must not be repeated
                blindly (COPY) passes False and settles a transient failure itself.

        Returns:
            The result rows, keyed by lowercase column name.
        """
        with self._lock:
            self.statements.append(sql)
            self._logger.debug("SQL: %s", sql)
            if retry:
                return self._execute_with_retry(sql, params)
            try:
                return self._execute_once(sql, params)
            except TRANSIENT_ERRORS:
                self._discard_connection()
                raise

    def close(self) -> None:
        """Close the session."""
        with self._lock:
            self._discard_connection()
