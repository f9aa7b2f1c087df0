"""The edge cases `target-snowflake-audit check` loads, and what each must read back as.

Each case is one record of the check stream, plus the SQL expressions that read it back and
the value each must return. Values are compared as the connector returns them (strings, dates,
aware date-times compared as instants, booleans); numbers are compared as their `::VARCHAR`
text, exact, never as Python floats.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_UTC = datetime.UTC
NUMBER_38_9 = "12345678901234567890123456789.123456789"
INTEGER_38 = "9" * 38

CHECK_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "text": {"type": ["string", "null"]},
        "note": {"type": ["string", "null"]},
        "amount": {"type": ["number", "null"]},
        "count": {"type": ["integer", "null"]},
        "day": {"type": ["string", "null"], "format": "date"},
        "moment": {"type": ["string", "null"], "format": "date-time"},
        "nested": {"type": ["object", "null"]},
        "tags": {"type": ["array", "null"]},
    },
}
CHECK_KEYS = ("id",)


@dataclass(frozen=True)
class Expectation:
    """One value read back: a label, the SQL expression, the value it must return."""

    label: str
    sql: str
    expected: Any


@dataclass(frozen=True)
class Case:
    """One edge case: the record sent and what Snowflake must hold afterwards."""

    name: str
    record: Mapping[str, Any]
    expectations: tuple[Expectation, ...]
    separate_batch: bool = False
    """Loaded by its own COPY, so that a failure cannot hide the other cases."""
    emulator_difference: str | None = None
    """Why the local emulator cannot hold it, and the Snowflake page that settles it."""


def _utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=_UTC)


def _text(column: str, value: str) -> tuple[Expectation, ...]:
    return (
        Expectation(f"{column} text", f'"{column}"', value),
        Expectation(f"{column} is not NULL", f'"{column}" IS NULL', False),
    )


CASES: tuple[Case, ...] = (
    Case(
        "empty string vs NULL",
        {"id": "empty-vs-null", "text": "", "note": None},
        (*_text("text", ""), Expectation("null stays NULL", '"note" IS NULL', True)),
    ),
    Case("backslash-N is text", {"id": "backslash-n", "text": "\\N"}, _text("text", "\\N")),
    Case(
        "quotes",
        {"id": "quotes", "text": 'He said "hi", then \'bye\' ""'},
        _text("text", 'He said "hi", then \'bye\' ""'),
    ),
    Case("commas", {"id": "commas", "text": ",a,b,,c,"}, _text("text", ",a,b,,c,")),
    Case(
        "newlines",
        {"id": "newlines", "text": "line 1\nline 2\r\nline 3\n"},
        _text("text", "line 1\nline 2\r\nline 3\n"),
    ),
    Case(
        "non-ASCII text",
        {"id": "non-ascii", "text": "Zürich, 東京, Ελλάδα, עברית, 😀"},
        _text("text", "Zürich, 東京, Ελλάδα, עברית, 😀"),
    ),
    Case(
        "38-digit decimal",
        {"id": "decimal-38", "amount": Decimal(NUMBER_38_9)},
        (Expectation("NUMBER(38,9) text", '"amount"::VARCHAR', NUMBER_38_9),),
    ),
    Case(
        "smallest decimal",
        {"id": "decimal-tiny", "amount": Decimal("-0.000000001")},
        (Expectation("NUMBER(38,9) text", '"amount"::VARCHAR', "-0.000000001"),),
    ),
    Case(
        "more than 9 decimals round half-even",
        {"id": "decimal-rounded", "amount": Decimal("0.30000000000000004")},
        (Expectation("NUMBER(38,9) text", '"amount"::VARCHAR', "0.300000000"),),
    ),
    Case(
        "date and time before the DST change",
        {"id": "before-dst", "day": "2024-03-30", "moment": "2024-03-31T01:59:59+01:00"},
        (
            Expectation("date", '"day"', datetime.date(2024, 3, 30)),
            Expectation("instant", '"moment"', _utc("2024-03-31T00:59:59")),
        ),
    ),
    Case(
        "date and time after the DST change",
        {"id": "after-dst", "day": "2024-03-31", "moment": "2024-03-31T03:00:00+02:00"},
        (
            Expectation("date", '"day"', datetime.date(2024, 3, 31)),
            Expectation("instant", '"moment"', _utc("2024-03-31T01:00:00")),
        ),
    ),
    Case(
        "date of a date-time on the autumn DST change",
        {
            "id": "autumn-dst",
            "day": "2024-10-27T02:30:00+01:00",
            "moment": "2024-10-27T02:30:00+01:00",
        },
        (
            Expectation("date in its own offset", '"day"', datetime.date(2024, 10, 27)),
            Expectation("instant", '"moment"', _utc("2024-10-27T01:30:00")),
        ),
    ),
    Case(
        "timestamp with a negative offset and microseconds",
        {"id": "offset-negative", "moment": "2024-06-30T23:30:00.123456-05:00"},
        (Expectation("instant", '"moment"', _utc("2024-07-01T04:30:00.123456")),),
    ),
    Case(
        "timestamp with a +05:45 offset",
        {"id": "offset-odd", "moment": "2024-01-01T05:45:00+05:45"},
        (Expectation("instant", '"moment"', _utc("2024-01-01T00:00:00")),),
    ),
    Case(
        "timestamp in a compact ISO form",
        {"id": "offset-compact", "moment": "20240101T000000Z"},
        (Expectation("instant", '"moment"', _utc("2024-01-01T00:00:00")),),
    ),
    Case(
        "nested objects and arrays",
        {"id": "nested", "nested": {"list": [1, "two", {"three": 3}], "empty": {}}, "tags": ["a"]},
        (
            Expectation("object column", 'TYPEOF("nested")', "OBJECT"),
            Expectation("array column", 'TYPEOF("tags")', "ARRAY"),
            Expectation("path into the object", '"nested":list[1]::VARCHAR', "two"),
            Expectation("_document is an object", 'TYPEOF("_document")', "OBJECT"),
            Expectation("path into _document", '"_document":nested.list[2].three::VARCHAR', "3"),
        ),
    ),
    Case(
        "38-digit integer",
        {"id": "integer-38", "count": int(INTEGER_38)},
        (Expectation("NUMBER(38,0) text", '"count"::VARCHAR', INTEGER_38),),
        separate_batch=True,
        emulator_difference=(
            "the emulator stores NUMBER(38,0) as a 64-bit integer; Snowflake holds 38 digits "
            "(Snowflake: https://docs.snowflake.com/en/sql-reference/data-types-numeric)"
        ),
    ),
)

# Checked on every loaded row.
AUDIT_EXPECTATIONS: tuple[Expectation, ...] = (
    Expectation("_loaded_at is set", '"_loaded_at" IS NOT NULL', True),
    Expectation("_document is an object", 'TYPEOF("_document")', "OBJECT"),
)
