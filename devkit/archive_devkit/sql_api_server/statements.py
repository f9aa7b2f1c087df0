"""Running SQL API statements on the local emulator, answered in the SQL API's jsonv2 form.

Each request names its context (database, schema, warehouse, role) and session parameters;
statements run on an emulator connection opened for that context, through the real connector
with server-side `?` bind variables. What the SQL API refuses (PUT, GET, USE, ALTER SESSION,
transactions, session variables, temporary tables and stages: developer-guide/sql-api/intro,
limitations, and the `statement` field in GH:snowflakedb/snowflake-rest-api-specs sqlapi.yaml)
is refused here with 422 before it reaches the emulator. Results use the documented jsonv2
strings (developer-guide/sql-api/handling-responses): numbers and text as text, DATE as days
since the epoch, TIMESTAMP_TZ as seconds since the epoch and the offset in minutes plus 1440.
"""

from __future__ import annotations

import datetime
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import snowflake.connector
from snowflake.connector import errors as sf_errors
from snowflake.connector.constants import FIELD_ID_TO_NAME

_REFUSED = re.compile(
    r"^\s*(PUT|GET|USE|ALTER\s+SESSION|BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|SET|UNSET"
    r"|CREATE\s+(?:OR\s+REPLACE\s+)?(?:LOCAL\s+|GLOBAL\s+)?(?:TEMP|TEMPORARY)\s+(?:TABLE|STAGE))\b",
    re.IGNORECASE,
)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_OFFSET_BIAS = 1440
_PARAMETERS = {
    "timezone": "TIMEZONE",
    "quoted_identifiers_ignore_case": "QUOTED_IDENTIFIERS_IGNORE_CASE",
}


class StatementFailed(Exception):  # noqa: N818 - reads as an event
    """The statement failed: Snowflake answers 422 with this code, SQL state and message."""

    def __init__(self, code: str, sql_state: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.sql_state = sql_state
        self.message = message


@dataclass
class Result:
    """A statement's result in jsonv2 form."""

    row_type: list[dict[str, Any]]
    data: list[list[str | None]]
    stats: dict[str, int] = field(default_factory=dict)


def refusal(statement: str) -> StatementFailed | None:
    """Why the SQL API refuses a statement, or None."""
    match = _REFUSED.match(statement)
    if match is None:
        return None
    kind = " ".join(match.group(1).upper().split())
    return StatementFailed("000002", "0A000", f"Unsupported feature '{kind}' in the SQL API.")


def _moment_text(value: datetime.datetime, type_name: str) -> str:
    moment = value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)
    seconds = Decimal((moment - _EPOCH) // datetime.timedelta(microseconds=1)) / 10**6
    text = f"{seconds:.9f}"
    if type_name == "TIMESTAMP_TZ":
        offset = moment.utcoffset() or datetime.timedelta()
        return f"{text} {int(offset.total_seconds() // 60) + _OFFSET_BIAS}"
    return text


def _text(value: Any, type_name: str) -> str | None:
    """A value as the jsonv2 string the SQL API sends."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return _moment_text(value, type_name)
    if isinstance(value, datetime.date):
        return str((value - _EPOCH.date()).days)
    return repr(value) if isinstance(value, float) else str(value)


def _row_type(description: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": column[0],
            "type": FIELD_ID_TO_NAME[column[1]].lower(),
            "precision": column[4],
            "scale": column[5],
            "nullable": bool(column[6]),
        }
        for column in description
    ]


def _bound(bindings: Mapping[str, Mapping[str, Any]]) -> list[Any]:
    """Positional values for `?`, from the request's bindings ("1", "2", ...)."""
    values = []
    for position in range(1, len(bindings) + 1):
        binding = bindings.get(str(position))
        if binding is None:
            raise StatementFailed("002049", "42601", f"Bind variable {position} not set.")
        value, kind = binding.get("value"), str(binding.get("type", "TEXT")).upper()
        if value is not None and kind == "FIXED":
            value = int(value) if str(value).lstrip("-").isdigit() else Decimal(str(value))
        elif value is not None and kind == "REAL":
            value = float(value)
        elif value is not None and kind == "BOOLEAN":
            value = str(value).lower() in {"true", "1"}
        values.append(value)
    return values


def _failed(error: sf_errors.Error) -> StatementFailed:
    """The emulator's error as the SQL API's 422 (code, SQL state, message)."""
    return StatementFailed(
        str(getattr(error, "errno", "") or "100000").zfill(6),
        str(getattr(error, "sqlstate", "") or "42000"),
        str(getattr(error, "raw_msg", None) or error),
    )


class Executor:
    """Runs statements on the emulator, one connection per request context."""

    def __init__(self, emulator: Mapping[str, Any]) -> None:
        """Remember where the emulator listens.

        Args:
            emulator: Connector keyword arguments of the emulator (its `server()` yields them).
        """
        self._emulator = dict(emulator)
        self._connections: dict[tuple[Any, ...], tuple[threading.Lock, Any]] = {}
        self._lock = threading.Lock()

    def _connection(
        self, context: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> tuple[threading.Lock, Any]:
        session = {
            name: str(parameters[key]) for key, name in _PARAMETERS.items() if key in parameters
        }
        key = (
            context.get("database"),
            context.get("schema"),
            context.get("warehouse"),
            context.get("application"),
            tuple(sorted(session.items())),
        )
        with self._lock:
            if key not in self._connections:
                kwargs = {**self._emulator, "paramstyle": "qmark"}
                kwargs["session_parameters"] = {**kwargs.get("session_parameters", {}), **session}
                kwargs.pop("network_timeout", None)
                if context.get("database"):
                    kwargs["database"] = context["database"]
                if context.get("application"):
                    # The client's product (its User-Agent): the emulator's statement audit
                    # keeps the target's statements by the application that sent them.
                    kwargs["application"] = context["application"]
                connection = snowflake.connector.connect(**kwargs)
                cursor = connection.cursor()
                if context.get("schema"):
                    cursor.execute(f'USE SCHEMA "{context["database"]}"."{context["schema"]}"')
                self._connections[key] = (threading.Lock(), connection)
            return self._connections[key]

    def run(
        self,
        statement: str,
        *,
        context: Mapping[str, Any],
        parameters: Mapping[str, Any],
        bindings: Mapping[str, Mapping[str, Any]],
    ) -> Result:
        """Run one statement.

        Args:
            statement: The SQL (`?` placeholders).
            context: database, schema, warehouse, role of the request.
            parameters: Its session parameters.
            bindings: Its bind variables.

        Returns:
            The result.

        Raises:
            StatementFailed: The statement is refused or fails.
        """
        refused = refusal(statement)
        if refused is not None:
            raise refused
        values = _bound(bindings)
        try:
            lock, connection = self._connection(context, parameters)
        except sf_errors.Error as exc:
            raise _failed(exc) from None
        with lock:
            cursor = connection.cursor()
            try:
                cursor.execute(statement, values or None)
                rows = cursor.fetchall() if cursor.description else []
            except sf_errors.Error as exc:
                raise _failed(exc) from None
            row_type = _row_type(cursor.description or [])
            stats = {}
            if statement.lstrip()[:6].upper() == "INSERT":
                stats["numRowsInserted"] = int(cursor.rowcount or 0)
            cursor.close()
        names = [column["type"].upper() for column in row_type]
        data = [[_text(value, names[n]) for n, value in enumerate(row)] for row in rows]
        return Result(row_type=row_type, data=data, stats=stats)

    def close(self) -> None:
        """Close every emulator connection."""
        with self._lock:
            for _, connection in self._connections.values():
                connection.close()
            self._connections.clear()
