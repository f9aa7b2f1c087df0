"""The two ways statements reach Snowflake, behind one interface: the `transport` setting.

`connector` (the default, connector.py) keeps one session through snowflake-connector-python
and loads batches with PUT + COPY; `sql_api` (sql_api.py) sends each statement to the SQL API
with a key-pair JWT and loads batches with bound INSERTs (sql_api_loads.py). ddl.py builds
every statement for both; tables, columns, audit columns, views and STATE come out the same.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from target_snowflake_audit.connector import SnowflakeConnection


class Transport(Protocol):
    """What the loader, the sinks and `check` use to run statements."""

    statements: list[str]
    """Every statement sent, in order."""
    database: str
    """The formatted database identifier."""
    schema: str
    """The formatted, database-qualified schema identifier."""

    @property
    def stages_files(self) -> bool:
        """Whether batches are loaded with PUT + COPY (else with bound INSERTs)."""
        ...  # pragma: no cover

    def qualified(self, name: str) -> str:
        """`<database>.<schema>."<name>"` for an object this target owns."""
        ...  # pragma: no cover

    def redact(self, text: str) -> str:
        """The text without configured secrets."""
        ...  # pragma: no cover

    def use_schema(self) -> None:
        """Run the statements that follow in the target schema (created by now)."""
        ...  # pragma: no cover

    def execute(
        self, sql: str, params: Sequence[Any] | None = None, *, retry: bool = True
    ) -> list[dict[str, Any]]:
        """Run one statement; rows as dicts keyed by lowercase column name."""
        ...  # pragma: no cover

    def close(self) -> None:
        """Release the session or connections."""
        ...  # pragma: no cover


def open_transport(config: Mapping[str, Any], logger: logging.Logger) -> Transport:
    """The transport the `transport` setting names (nothing is sent yet).

    Args:
        config: The target settings.
        logger: For retries and statements.

    Returns:
        The transport.
    """
    if config.get("transport", "connector") == "sql_api":
        from target_snowflake_audit.sql_api import SqlApiTransport  # noqa: PLC0415

        return SqlApiTransport(config, logger)
    return SnowflakeConnection(config, logger)
