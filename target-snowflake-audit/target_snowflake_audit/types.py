"""Mapping from JSON schema property types to Snowflake column types.

`number` maps to NUMBER(38,9): fixed point, so sums of money are exact (a FLOAT column would
turn 0.1 + 0.2 into 0.30000000000000004). Nine decimals hold every currency amount, exchange
rate and quantity Exact Online exposes (amounts have 2 decimals, rates up to 6) and leave 29
integer digits. Values with more than nine decimals are rounded by Snowflake when loading.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

NUMBER_PRECISION = 38
NUMBER_SCALE = 9


class ColumnKind(enum.Enum):
    """The Snowflake column types this target creates."""

    INTEGER = "NUMBER(38,0)"
    NUMBER = f"NUMBER({NUMBER_PRECISION},{NUMBER_SCALE})"
    STRING = "VARCHAR"
    TIMESTAMP = "TIMESTAMP_TZ"
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"
    VARIANT = "VARIANT"

    @property
    def sql(self) -> str:
        """The SQL type used in CREATE TABLE and ADD COLUMN."""
        return self.value

    @property
    def suffix(self) -> str:
        """Suffix for the extra column created when a property changes type (`__varchar`)."""
        return {
            ColumnKind.INTEGER: "integer",
            ColumnKind.NUMBER: "number",
            ColumnKind.STRING: "varchar",
            ColumnKind.TIMESTAMP: "timestamp_tz",
            ColumnKind.DATE: "date",
            ColumnKind.BOOLEAN: "boolean",
            ColumnKind.VARIANT: "variant",
        }[self]


def json_types(property_schema: Mapping[str, Any]) -> list[str]:
    """Return the non-null JSON types a property allows (empty for "anything").

    Args:
        property_schema: The property's JSON schema.

    Returns:
        The JSON type names other than "null".
    """
    declared = property_schema.get("type")
    if declared is None:
        alternatives = property_schema.get("anyOf") or property_schema.get("oneOf") or []
        collected: list[str] = []
        for alternative in alternatives:
            for name in json_types(alternative):
                if name not in collected:
                    collected.append(name)
        return collected
    names = [declared] if isinstance(declared, str) else list(declared)
    return [name for name in names if name != "null"]


def is_nullable(property_schema: Mapping[str, Any]) -> bool:
    """Return whether a property accepts null.

    Args:
        property_schema: The property's JSON schema.

    Returns:
        True unless the schema declares only non-null types.
    """
    declared = property_schema.get("type")
    if declared is None:
        alternatives = property_schema.get("anyOf") or property_schema.get("oneOf")
        if not alternatives:
            return True
        return any(is_nullable(alternative) for alternative in alternatives)
    names = [declared] if isinstance(declared, str) else list(declared)
    return "null" in names


def column_kind(property_schema: Mapping[str, Any]) -> ColumnKind:
    """Return the Snowflake column type for a JSON schema property.

    Args:
        property_schema: The property's JSON schema.

    Returns:
        The column kind.
    """
    names = json_types(property_schema)
    if set(names) == {"integer", "number"}:
        return ColumnKind.NUMBER
    if len(names) != 1:
        return ColumnKind.VARIANT
    (name,) = names
    if name == "string":
        string_format = property_schema.get("format")
        if string_format == "date-time":
            return ColumnKind.TIMESTAMP
        if string_format == "date":
            return ColumnKind.DATE
        return ColumnKind.STRING
    return {
        "integer": ColumnKind.INTEGER,
        "number": ColumnKind.NUMBER,
        "boolean": ColumnKind.BOOLEAN,
    }.get(name, ColumnKind.VARIANT)


def kind_from_information_schema(data_type: str, numeric_scale: int | None) -> ColumnKind | None:
    """Return the kind of an existing column as reported by INFORMATION_SCHEMA.COLUMNS.

    Args:
        data_type: The `data_type` value (`NUMBER`, `TEXT`, `TIMESTAMP_TZ`, ...).
        numeric_scale: The `numeric_scale` value for NUMBER columns.

    Returns:
        The kind, or None for a type this target never creates (such a column is left alone).
    """
    normalized = data_type.upper()
    if normalized in {"NUMBER", "DECIMAL", "NUMERIC"}:
        return ColumnKind.INTEGER if not numeric_scale else ColumnKind.NUMBER
    return {
        "TEXT": ColumnKind.STRING,
        "VARCHAR": ColumnKind.STRING,
        "TIMESTAMP_TZ": ColumnKind.TIMESTAMP,
        "DATE": ColumnKind.DATE,
        "BOOLEAN": ColumnKind.BOOLEAN,
        "VARIANT": ColumnKind.VARIANT,
    }.get(normalized)


def can_load_into(existing: ColumnKind, incoming: ColumnKind) -> bool:
    """Return whether values of `incoming` kind load into an `existing` column without loss.

    Snowflake cannot change a column between type families (NUMBER -> VARCHAR) nor change a
    NUMBER's scale, so anything not listed here gets a new column instead.

    Args:
        existing: The kind of the column in the table.
        incoming: The kind the current schema asks for.

    Returns:
        True if the existing column can hold the incoming values.
    """
    if existing is incoming or existing is ColumnKind.VARIANT:
        return True
    return existing is ColumnKind.NUMBER and incoming is ColumnKind.INTEGER
