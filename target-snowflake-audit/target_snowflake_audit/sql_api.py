"""The SQL API transport: the target's statements over HTTPS with a key-pair JWT, no session.

It offers what the connector transport (connector.py) offers, so the loader, sinks and `check`
use either: `execute` returns rows as dicts keyed by lowercase column name, with values typed
as the connector types them. The SQL API keeps no session and accepts no USE, ALTER SESSION or
transactions (developer-guide/sql-api/intro, limitations), so the database, schema, warehouse
and role go in every request body, and the session settings the connector sets at login go in
its `parameters`. `%s` placeholders become `?` bind variables with their documented types
(developer-guide/sql-api/submitting-requests, "Using bind variables").
"""

from __future__ import annotations

import datetime
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import requests

from target_snowflake_audit.connector import (
    SECRET_SETTINGS,
    SettingsError,
    load_private_key,
    redact,
)
from target_snowflake_audit.key_pair_jwt import KeyPairJWT
from target_snowflake_audit.naming import container_identifier, quote, stored_name
from target_snowflake_audit.sql_api_client import OutcomeUnknown, ResultSet, SqlApiClient

# What the connector sets at login (connector.py), as SQL API parameters.
SESSION_PARAMETERS = {"timezone": "UTC", "quoted_identifiers_ignore_case": "false"}
_KIND = re.compile(
    r"^\s*(CREATE OR REPLACE VIEW|CREATE (?:TEMPORARY )?TABLE|CREATE \w+|ALTER \w+|SHOW \w+|\w+)",
    re.IGNORECASE,
)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# TIMESTAMP_TZ results carry their offset in minutes plus 1440 (developer-guide/sql-api/
# handling-responses: the example `1616173619000000000 960` is UTC-08:00).
_OFFSET_BIAS = 1440


def statement_kind(sql: str) -> str:
    """What a statement is, for messages (`INSERT`, `CREATE TABLE`, `SHOW WAREHOUSES`).

    Args:
        sql: The statement.

    Returns:
        Its leading keywords, upper case.
    """
    match = _KIND.match(sql)
    return match.group(1).upper() if match else "statement"


def sql_api_endpoint(config: Mapping[str, Any]) -> str:
    """`{protocol}://{host}:{port}` from the settings; Snowflake's account URL by default.

    Args:
        config: The target settings.

    Returns:
        The base URL (without `/api/v2/statements`).
    """
    protocol = str(config.get("protocol") or "https")
    host = str(config.get("host") or f"{config['account']}.snowflakecomputing.com")
    port = config.get("port")
    return f"{protocol}://{host}:{port}" if port else f"{protocol}://{host}"


def _binding(value: Any) -> dict[str, Any]:
    """One bind variable: values are strings, typed as the API documents."""
    if isinstance(value, bool):
        return {"type": "BOOLEAN", "value": "true" if value else "false"}
    if isinstance(value, int):
        return {"type": "FIXED", "value": str(value)}
    return {"type": "TEXT", "value": None if value is None else str(value)}


def _since_epoch(seconds: str) -> datetime.timedelta:
    """Seconds since the epoch with up to 9 decimals, to the microsecond, without a float.

    Nanoseconds are dropped (a datetime holds microseconds); a float would round
    9999-12-31 23:59:59.999999 into the year 10000.
    """
    microseconds = (Decimal(seconds) * 1_000_000).to_integral_value(rounding=ROUND_FLOOR)
    return datetime.timedelta(microseconds=int(microseconds))


def _timestamp_tz(value: str, column: Mapping[str, Any]) -> datetime.datetime:
    seconds, _, offset = value.partition(" ")
    zone = datetime.timezone(datetime.timedelta(minutes=int(offset) - _OFFSET_BIAS))
    return (_EPOCH + _since_epoch(seconds)).astimezone(zone)


def _timestamp(value: str, column: Mapping[str, Any]) -> datetime.datetime:
    moment = _EPOCH + _since_epoch(value)
    ltz = str(column.get("type")).lower() == "timestamp_ltz"
    return moment if ltz else moment.replace(tzinfo=None)


# How each jsonv2 type's strings become the values the connector returns
# (developer-guide/sql-api/handling-responses); other types stay strings (VARIANT is JSON text).
_DECODERS: dict[str, Callable[[str, Mapping[str, Any]], Any]] = {
    "fixed": lambda value, column: Decimal(value) if column.get("scale") else int(value),
    "real": lambda value, _column: float(value),
    "boolean": lambda value, _column: value.lower() in {"true", "1"},
    "date": lambda value, _column: (_EPOCH + datetime.timedelta(days=int(value))).date(),
    "timestamp_tz": _timestamp_tz,
    "timestamp_ltz": _timestamp,
    "timestamp_ntz": _timestamp,
}


def _typed(value: str | None, column: Mapping[str, Any]) -> Any:
    """A result value as the connector returns it."""
    if value is None:
        return None
    decode = _DECODERS.get(str(column.get("type") or "text").lower())
    return value if decode is None else decode(value, column)


def result_rows(result: ResultSet) -> list[dict[str, Any]]:
    """Rows of a result as dicts keyed by lowercase column name, values typed.

    Args:
        result: The statement's result.

    Returns:
        The rows.
    """
    columns = result.row_type
    names = [str(column.get("name", "")).lower() for column in columns]
    return [
        {
            name: _typed(value, column)
            for name, value, column in zip(names, row, columns, strict=False)
        }
        for row in result.data
    ]


class SqlApiTransport:
    """The target's statements through the SQL API (see the module docstring)."""

    stages_files = False
    """The SQL API has no PUT: batches are loaded with bound INSERTs (sql_api_loads.py)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        logger: logging.Logger,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Check the settings and prepare the JWT; nothing is sent yet.

        Args:
            config: The target settings.
            logger: For retries (warnings) and statements (debug).
            session: The HTTP session (tests may pass their own).
            clock: Seconds since the epoch, for the JWT.

        Raises:
            SettingsError: A password is configured, or no private key.
        """
        if config.get("password"):
            msg = (
                "transport sql_api authenticates with a key pair only (the SQL API accepts no "
                "password): set private_key or private_key_path and remove password"
            )
            raise SettingsError(msg)
        if not (config.get("private_key") or config.get("private_key_path")):
            msg = "transport sql_api needs a key pair: set private_key or private_key_path"
            raise SettingsError(msg)
        self._logger = logger
        self._secrets = [str(config[name]) for name in SECRET_SETTINGS if config.get(name)]
        jwt = KeyPairJWT(
            account=str(config["account"]),
            user=str(config["user"]),
            private_key_der=load_private_key(
                private_key=config.get("private_key"),
                private_key_path=config.get("private_key_path"),
                passphrase=config.get("private_key_passphrase"),
            ),
            clock=clock,
        )
        self.client = SqlApiClient(
            endpoint=sql_api_endpoint(config),
            jwt=jwt,
            config=config,
            logger=logger,
            session=session,
        )
        self._attempts = max(1, int(config.get("retry_max_attempts", 5)))
        self.statements: list[str] = []
        """Every statement sent, in order (used by tests and for debugging)."""
        self.database = container_identifier(str(config["database"]))
        self.schema = f"{self.database}.{container_identifier(str(config['schema']))}"
        self._context: dict[str, Any] = {
            "database": stored_name(str(config["database"])),
            "warehouse": stored_name(str(config["warehouse"])),
        }
        if config.get("role"):
            self._context["role"] = stored_name(str(config["role"]))
        if config.get("sql_api_statement_timeout_seconds") is not None:
            self._context["timeout"] = int(config["sql_api_statement_timeout_seconds"])
        self._schema_name = stored_name(str(config["schema"]))
        self._lock = threading.RLock()

    def qualified(self, name: str) -> str:
        """Return `<database>.<schema>."<name>"` for an object this target owns."""
        return f"{self.schema}.{quote(name)}"

    def redact(self, text: str) -> str:
        """Remove configured secrets from a message."""
        return redact(text, self._secrets)

    def use_schema(self) -> None:
        """From now on, statements run in the target schema (it exists now)."""
        self._context["schema"] = self._schema_name

    def body(self, sql: str, bindings: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The request body of one statement: the statement, its context and parameters.

        Args:
            sql: The statement (`?` placeholders).
            bindings: Bind variables by position ("1", "2", ...).

        Returns:
            The body.
        """
        body: dict[str, Any] = {"statement": sql, **self._context}
        if bindings:
            body["bindings"] = dict(bindings)
        body["parameters"] = dict(SESSION_PARAMETERS)
        return body

    def submit(
        self,
        sql: str,
        bindings: Mapping[str, Any] | None,
        *,
        request_id: str,
        resubmission: bool = False,
    ) -> ResultSet:
        """Send one statement once (no retries of a lost answer: the caller decides).

        Args:
            sql: The statement.
            bindings: Its bind variables.
            request_id: The request id (the same for a resubmission).
            resubmission: The request was sent before.

        Returns:
            The result.
        """
        kind = statement_kind(sql)
        with self._lock:
            self.statements.append(sql)
            self._logger.debug("SQL API %s: %s", kind, sql[:2000])
            return self.client.run(
                self.body(sql, bindings),
                kind=kind,
                request_id=request_id,
                resubmission=resubmission,
            )

    def execute(
        self, sql: str, params: Sequence[Any] | None = None, *, retry: bool = True
    ) -> list[dict[str, Any]]:
        """Run one statement and return rows as dicts (the connector transport's contract).

        A lost answer is resubmitted with the same request id and `retry=true`, with which
        Snowflake does not run a statement twice.

        Args:
            sql: The statement, `%s` placeholders for `params`.
            params: Bind values.
            retry: Resubmit after a lost answer (False: raise OutcomeUnknown).

        Returns:
            The result rows.
        """
        values = list(params or ())
        if sql.count("%s") != len(values):
            msg = (
                f"{len(values)} values for {sql.count('%s')} placeholders in {statement_kind(sql)}"
            )
            raise ValueError(msg)
        bindings = {str(n): _binding(value) for n, value in enumerate(values, start=1)}
        request_id = str(uuid.uuid4())
        statement = sql.replace("%s", "?")
        for attempt in range(1, self._attempts + 1):
            try:
                result = self.submit(
                    statement, bindings, request_id=request_id, resubmission=attempt > 1
                )
            except OutcomeUnknown as exc:
                if not retry or attempt == self._attempts:
                    raise
                self._logger.warning("%s; submitting it again", self.redact(str(exc)))
                continue
            return result_rows(result)
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def close(self) -> None:
        """Close the HTTP connections (there is no session to end)."""
        self.client.close()
