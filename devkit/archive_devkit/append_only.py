"""The append-only audit: no statement the target sends may change or remove what was loaded.

The target promises to append only. Every statement it sends to the local Snowflake emulator is
recorded (`snowflake_emulator.statement_audit`), and tests assert that none matches UPDATE,
DELETE, MERGE, TRUNCATE or DROP anywhere in its text, not only at its start (a CTE or a
multi-statement text could hide one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORBIDDEN = re.compile(r"\b(UPDATE|DELETE|MERGE|TRUNCATE|DROP)\b", re.IGNORECASE)
# The application name the target logs in with (connector.py); the audit keeps its statements.
TARGET_APPLICATION = "target-snowflake-audit"


def forbidden_statements(statements: Iterable[str]) -> list[str]:
    """The statements that would change or remove data (empty for an append-only client)."""
    return [statement for statement in statements if FORBIDDEN.search(statement)]


def assert_append_only(statements: list[str], *, expect_loads: bool = True) -> None:
    """No forbidden statement; and, unless told otherwise, the target did load something.

    `expect_loads` keeps the audit from passing vacuously (a log that recorded nothing).
    """
    assert forbidden_statements(statements) == [], forbidden_statements(statements)  # noqa: S101
    if expect_loads:
        loads = [s for s in statements if re.match(r"\s*(COPY|INSERT)\b", s, re.IGNORECASE)]
        assert loads, "the audit saw no load from the target: is it recording?"  # noqa: S101
