"""Table and column naming rules.

Every table and column this target creates is a *quoted lowercase* Snowflake identifier
(`"transaction_lines"`, `"amount_dc"`). SQL must quote them too: Snowflake resolves unquoted
identifiers as upper case, so `select amount_dc from transaction_lines` looks for
`TRANSACTION_LINES` and fails; `select "amount_dc" from "transaction_lines"` works
(sql-reference/identifiers-syntax).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Snowflake allows 255 characters in an identifier.
MAX_IDENTIFIER_LENGTH = 255

_ACRONYM_BEFORE_WORD = re.compile(r"([A-Z]+)([A-Z][a-z])")  # GLAccount -> GL_Account
_LOWER_BEFORE_UPPER = re.compile(r"([a-z0-9])([A-Z])")  # AmountDC -> Amount_DC
_NOT_ALLOWED = re.compile(r"[^a-z0-9_]")
_SIMPLE_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def table_name(stream_name: str) -> str:
    """Return the table name for a stream: lowercased, other characters become `_`.

    Args:
        stream_name: The Singer stream name.

    Returns:
        The unquoted table name.
    """
    name = _NOT_ALLOWED.sub("_", stream_name.lower())
    return name[:MAX_IDENTIFIER_LENGTH] or "_"


def snake_case(property_name: str) -> str:
    """Return the snake_case column name for a property (`AmountDC` -> `amount_dc`).

    Args:
        property_name: The JSON schema property name.

    Returns:
        The unquoted column name.
    """
    name = _ACRONYM_BEFORE_WORD.sub(r"\1_\2", property_name)
    name = _LOWER_BEFORE_UPPER.sub(r"\1_\2", name)
    name = _NOT_ALLOWED.sub("_", name.lower())
    if not name or name[0].isdigit():
        name = f"_{name}"
    return name[:MAX_IDENTIFIER_LENGTH]


def column_names(property_names: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """Map properties to unique column names, resolving collisions deterministically.

    Properties are processed in sorted order of their original names; the first one to claim a
    snake_case name keeps it, later ones get `__2`, `__3`, ... . Names in `reserved` (the audit
    columns) are never handed out, so a property called `_record_id` becomes `_record_id__2`.

    Args:
        property_names: The JSON schema property names.
        reserved: Column names that properties may not use.

    Returns:
        A dict from property name to column name.
    """
    taken = set(reserved)
    mapping: dict[str, str] = {}
    for prop in sorted(property_names):
        base = snake_case(prop)
        candidate, counter = base, 1
        while candidate in taken:
            counter += 1
            suffix = f"__{counter}"
            candidate = base[: MAX_IDENTIFIER_LENGTH - len(suffix)] + suffix
        taken.add(candidate)
        mapping[prop] = candidate
    return mapping


def quote(identifier: str) -> str:
    """Quote an identifier for Snowflake (case preserved, embedded quotes doubled).

    Args:
        identifier: The raw identifier.

    Returns:
        The double-quoted identifier.
    """
    escaped = identifier.replace('"', '""')
    return f'"{escaped}"'


def stored_name(name: str) -> str:
    """The name Snowflake stores for a configured database or schema name.

    Plain names are written unquoted (see container_identifier), and Snowflake stores unquoted
    identifiers in upper case (sql-reference/identifiers-syntax).

    Args:
        name: The name from the settings.

    Returns:
        The name as information_schema reports it.
    """
    return name.upper() if _SIMPLE_IDENTIFIER.match(name) else name


def container_identifier(name: str) -> str:
    """Format a configured database or schema name.

    Plain names (`ANALYTICS`, `raw`) are written unquoted so they follow Snowflake's usual
    case-insensitive resolution, matching how administrators create databases and schemas.
    Anything else is quoted exactly as configured.

    Args:
        name: The database or schema name from the settings.

    Returns:
        An identifier usable in SQL.
    """
    return name if _SIMPLE_IDENTIFIER.match(name) else quote(name)
