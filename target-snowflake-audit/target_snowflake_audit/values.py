"""Checking one JSON value and rendering it as the CSV field Snowflake loads exactly.

Every value is rendered in one canonical text per column type, whatever form it arrived in,
so what Snowflake parses never depends on account parameters or on forms only Python accepts:

- numbers are Decimals (RECORD lines are decoded with `float_hook=Decimal`), written in fixed
  notation; NUMBER(38,9) holds 29 integer digits and 9 decimals, NUMBER(38,0) 38 digits
  (sql-reference/data-types-numeric). More than 9 decimals are rounded half-even to 9 here;
  a value that does not fit the column is rejected, never left for COPY to abort on;
- date-times are converted to UTC and written `YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM`, dates
  `YYYY-MM-DD`, the formats the COPY file format names (ddl.TIMESTAMP_FORMAT, DATE_FORMAT);
- strings and JSON are enclosed in double quotes with quotes doubled, so an empty string is
  `""` and never NULL (NULL is an empty unenclosed field).
"""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec
from jsonschema import Draft7Validator  # type: ignore[import-untyped]

from target_snowflake_audit.staging import csv_quote
from target_snowflake_audit.types import NUMBER_PRECISION, NUMBER_SCALE, ColumnKind, json_types

Converter = Callable[[Any], str]

# Keywords that only describe a property; anything else is a constraint to enforce.
_DESCRIPTIVE_KEYWORDS = frozenset(
    {"type", "format", "description", "title", "default", "examples", "$comment", "readOnly",
     "writeOnly", "deprecated", "x-sql-datatype", "x-singer", "contentMediaType"}
)  # fmt: skip
_UTC = datetime.UTC
_UTC_SUFFIXES = frozenset({"", "Z", "+00:00"})
# NUMBER(38,9): |value| < 10**29; NUMBER(38,0): |value| < 10**38.
NUMBER_LIMIT = Decimal(10) ** (NUMBER_PRECISION - NUMBER_SCALE)
INTEGER_LIMIT = 10**NUMBER_PRECISION
_QUANTUM = Decimal(1).scaleb(-NUMBER_SCALE)
# Enough digits for any NUMBER(38,9) value plus rounding headroom.
_DECIMALS = decimal.Context(prec=NUMBER_PRECISION + 12, rounding=decimal.ROUND_HALF_EVEN)


class RecordRejected(ValueError):  # noqa: N818 - reads as an event, like SDK InvalidRecord
    """A record does not match its stream's schema; the message says why."""


class MissingKeyProperty(RecordRejected):
    """A record lacks one of its stream's key properties."""


# Numbers stay JSON numbers with the digits they arrived with (`12.50` stays `12.50`).
_CANONICAL_ENCODER = msgspec.json.Encoder(order="sorted", decimal_format="number")
_COMPACT_ENCODER = msgspec.json.Encoder(decimal_format="number")


def canonical_bytes(value: Any) -> bytes:
    """Return `canonical_json(value)` encoded as UTF-8 (what `_record_hash` hashes).

    Args:
        value: A JSON value.

    Returns:
        The canonical JSON bytes.
    """
    return _CANONICAL_ENCODER.encode(value)


def canonical_json(value: Any) -> str:
    """Serialize with sorted keys, no whitespace, UTF-8 (the input of `_record_hash`).

    Args:
        value: A JSON value.

    Returns:
        The canonical JSON text.
    """
    return _CANONICAL_ENCODER.encode(value).decode()


def render_utc(moment: datetime.datetime) -> str:
    """Render an aware date-time in UTC as `YYYY-MM-DD HH:MM:SS.ffffff +00:00`.

    Args:
        moment: A timezone-aware date-time.

    Returns:
        The text COPY parses with ddl.TIMESTAMP_FORMAT.
    """
    utc = moment.astimezone(_UTC).replace(tzinfo=None)
    return utc.isoformat(sep=" ", timespec="microseconds") + " +00:00"


def utc_timestamp(text: str) -> str:
    """Parse an ISO 8601 date-time (naive values are taken as UTC) and render it canonically.

    Args:
        text: The date-time string.

    Returns:
        The canonical UTC text (see render_utc).

    Raises:
        ValueError: The text is not a date-time Python can read.
    """
    parsed = datetime.datetime.fromisoformat(text)
    if not parsed.utcoffset() and text[10:11] == "T" and text[4:5] + text[7:8] == "--":
        # Already UTC (or naive) in the extended form taps usually send: re-spell it instead of
        # rendering it again (a third of the cost; the parse above validated every digit).
        rest = text[19:]
        if rest in _UTC_SUFFIXES:
            return f"{text[:10]} {text[11:19]}.000000 +00:00"
        if rest[:1] == "." and rest[7:] in _UTC_SUFFIXES and rest[1:7].isdigit():
            return f"{text[:10]} {text[11:26]} +00:00"
    if parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=_UTC)
    return render_utc(parsed)


def utc_now() -> str:
    """Return the current time, rendered canonically in UTC."""
    return render_utc(datetime.datetime.now(_UTC))


def _type_error(expected: str, value: Any) -> RecordRejected:
    return RecordRejected(f"expected {expected}, got {type(value).__name__} {value!r:.80}")


def _out_of_range(column: str, value: Any) -> RecordRejected:
    return RecordRejected(f"{value!s:.60} does not fit a {column} column")


def render_integer(value: Any) -> str:
    """Render an integer for a NUMBER(38,0) column (integral decimals such as `5.0` too)."""
    kind = type(value)
    if kind is not int:
        if not _is_integral(value):
            raise _type_error("integer", value)
        value = int(value)
    if not -INTEGER_LIMIT < value < INTEGER_LIMIT:
        raise _out_of_range(ColumnKind.INTEGER.sql, value)
    return str(value)


def render_number(value: Any) -> str:
    """Render a number for a NUMBER(38,9) column, rounding half-even to 9 decimals."""
    kind = type(value)
    if kind is int:
        number = Decimal(value)
    elif kind is Decimal:
        number = value
    elif kind is float:  # only from the json module's fallback decoding
        if not math.isfinite(value):
            raise _type_error("finite number", value)
        number = Decimal(repr(value))
    else:
        raise _type_error("number", value)
    if not number.is_finite():
        raise _type_error("finite number", value)
    if number.as_tuple().exponent < -NUMBER_SCALE:  # type: ignore[operator]
        number = number.quantize(_QUANTUM, context=_DECIMALS)
    if not -NUMBER_LIMIT < number < NUMBER_LIMIT:
        raise _out_of_range(ColumnKind.NUMBER.sql, value)
    return format(number, "f")


def _integer_in_number(value: Any) -> str:
    """Render an integer property loaded into a NUMBER(38,9) column (29 integer digits)."""
    text = render_integer(value)
    if len(text.lstrip("-")) > NUMBER_PRECISION - NUMBER_SCALE:
        raise _out_of_range(ColumnKind.NUMBER.sql, value)
    return text


def render_string(value: Any) -> str:
    """Render a string, enclosed in double quotes."""
    if type(value) is str:
        return csv_quote(value)
    raise _type_error("string", value)


def render_timestamp(value: Any) -> str:
    """Render a date-time string in UTC (see render_utc)."""
    if type(value) is not str:
        raise _type_error("date-time string", value)
    try:
        return utc_timestamp(value)
    except ValueError:
        raise RecordRejected(f"invalid date-time {value!r:.80}") from None


def render_date(value: Any) -> str:
    """Render a date (or the date of a date-time, in its own offset) as `YYYY-MM-DD`."""
    if type(value) is not str:
        raise _type_error("date string", value)
    try:
        if len(value) == 10:
            day = datetime.date.fromisoformat(value)
            # Already `YYYY-MM-DD` (not a week date such as 2024-W01-1): keep the text.
            return value if value[4] + value[7] == "--" else day.isoformat()
        return datetime.datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        raise RecordRejected(f"invalid date {value!r:.80}") from None


def render_boolean(value: Any) -> str:
    """Render a boolean as `true` or `false`."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise _type_error("boolean", value)


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float, Decimal),
    "string": (str,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def _is_integral(value: Any) -> bool:
    kind = type(value)
    if kind is Decimal:
        return bool(value.is_finite() and value == value.to_integral_value())
    return kind is float and value.is_integer()


def _json_type_check(names: Sequence[str]) -> Callable[[Any], bool]:
    if not names:
        return lambda _value: True
    allowed = tuple({python for name in names for python in _PYTHON_TYPES.get(name, (object,))})
    allows_bool = "boolean" in names
    allows_integral = "integer" in names and "number" not in names

    def check(value: Any) -> bool:
        if type(value) is bool:
            return allows_bool
        if isinstance(value, allowed):
            return True
        return allows_integral and _is_integral(value)

    return check


def _variant(names: Sequence[str]) -> Converter:
    check = _json_type_check(names)
    expected = " or ".join(names)

    def convert(value: Any) -> str:
        if not check(value):
            raise _type_error(expected, value)
        return csv_quote(_COMPACT_ENCODER.encode(value).decode())

    return convert


_SCALAR_CONVERTERS: dict[ColumnKind, Converter] = {
    ColumnKind.INTEGER: render_integer,
    ColumnKind.NUMBER: render_number,
    ColumnKind.STRING: render_string,
    ColumnKind.TIMESTAMP: render_timestamp,
    ColumnKind.DATE: render_date,
    ColumnKind.BOOLEAN: render_boolean,
}


def _for_validation(value: Any) -> Any:
    """Decimals as int/float for jsonschema's keyword checks (it mixes them with floats)."""
    if type(value) is Decimal:
        return int(value) if _is_integral(value) else float(value)
    if type(value) is list:
        return [_for_validation(item) for item in value]
    if type(value) is dict:
        return {key: _for_validation(item) for key, item in value.items()}
    return value


def build_converter(property_schema: Mapping[str, Any], column_kind: ColumnKind) -> Converter:
    """Compile the check-and-render function for one property loaded into one column.

    Args:
        property_schema: The property's JSON schema.
        column_kind: The kind of the column the value goes to (may be wider, e.g. VARIANT).

    Returns:
        A function from a non-null value to its CSV field; raises RecordRejected.
    """
    if column_kind is ColumnKind.VARIANT:
        converter = _variant(json_types(property_schema))
    elif column_kind is ColumnKind.NUMBER and json_types(property_schema) == ["integer"]:
        converter = _integer_in_number
    else:
        converter = _SCALAR_CONVERTERS[column_kind]
    if not set(property_schema) - _DESCRIPTIVE_KEYWORDS:
        return converter

    validator = Draft7Validator(dict(property_schema))

    def convert_with_constraints(value: Any) -> str:
        field = converter(value)
        error = next(iter(validator.iter_errors(_for_validation(value))), None)
        if error is not None:
            raise RecordRejected(error.message[:200])
        return field

    return convert_with_constraints
