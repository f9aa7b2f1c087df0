"""One field of one record: the sandbox's canonical value against the warehouse's, by Edm type.

The sandbox's `/_sandbox/records` answers values in one canonical form (decimal strings,
integers, booleans, `YYYY-MM-DD` calendar dates, UTC ISO instants, strings as stored). The
connector answers Snowflake types (Decimal, int, bool, date, aware datetime, str). Only the
representation is normalised here, never the value:

- `Edm.Double`: Decimal equality after rounding the sandbox's value half-even to the column's 9
  decimals, which is what the target documents for `NUMBER(38,9)` (its README, "Type
  mapping"); every amount Exact holds has at most 2 decimals, so this only matters for noise
  such as `0.30000000000000004`;
- integers: numeric equality (`5 == Decimal("5")`);
- booleans: both must be booleans and equal;
- calendar dates: the DATE's ISO text equals the sandbox's day (a TIMESTAMP there is a
  mismatch: the type is part of the contract);
- moments: equal instants of timezone-aware datetimes (a naive one is a mismatch);
- GUIDs and strings: exact equality (padding, case and empty-vs-NULL all count).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

NUMBER_SCALE = Decimal("0.000000001")  # NUMBER(38,9), the target's column for JSON numbers
INTEGER_EDMS = frozenset({"Edm.Byte", "Edm.Int16", "Edm.Int32", "Edm.Int64"})
MAX_SHOWN = 60

Comparator = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class FieldSpec:
    """A stored field as the sandbox describes it in a `records` answer."""

    name: str
    edm: str
    calendar_date: bool = False
    endpoints: tuple[str, ...] = ()

    @classmethod
    def from_answer(cls, described: dict[str, Any]) -> FieldSpec:
        """Read one entry of the answer's `fields`."""
        return cls(
            name=str(described["name"]),
            edm=str(described["edm"]),
            calendar_date=bool(described.get("calendar_date")),
            endpoints=tuple(str(path) for path in described.get("endpoints", ())),
        )


def _decimals_equal(expected: Any, actual: Any) -> bool:
    try:
        wanted = Decimal(str(expected)).quantize(NUMBER_SCALE, rounding=ROUND_HALF_EVEN)
        return isinstance(actual, Decimal | int) and wanted == Decimal(actual)
    except InvalidOperation:
        return False


def _integers_equal(expected: Any, actual: Any) -> bool:
    return isinstance(actual, Decimal | int) and not isinstance(actual, bool) and expected == actual


def _booleans_equal(expected: Any, actual: Any) -> bool:
    return isinstance(actual, bool) and expected is actual


def _dates_equal(expected: Any, actual: Any) -> bool:
    if not isinstance(actual, date | str):
        return False
    # A TIMESTAMP (a datetime) spells its time too, so it never equals a day.
    text = actual.isoformat() if isinstance(actual, date) else actual
    return bool(text == expected)


def _instants_equal(expected: Any, actual: Any) -> bool:
    if not isinstance(actual, datetime) or actual.tzinfo is None:
        return False
    return datetime.fromisoformat(str(expected).replace("Z", "+00:00")) == actual


def _texts_equal(expected: Any, actual: Any) -> bool:
    return isinstance(actual, str) and expected == actual


def comparator(spec: FieldSpec) -> Comparator:
    """The equality test for one field; both None is equal, one None is not."""
    if spec.edm == "Edm.Double":
        test = _decimals_equal
    elif spec.edm in INTEGER_EDMS:
        test = _integers_equal
    elif spec.edm == "Edm.Boolean":
        test = _booleans_equal
    elif spec.edm == "Edm.DateTime":
        test = _dates_equal if spec.calendar_date else _instants_equal
    else:
        test = _texts_equal

    def equal(expected: Any, actual: Any) -> bool:
        if expected is None or actual is None:
            return expected is None and actual is None
        return test(expected, actual)

    return equal


def shown(value: Any) -> str:
    """A value for a mismatch line: NULL, ISO text for dates, a type-revealing form otherwise."""
    if value is None:
        return "NULL"
    if isinstance(value, date | datetime):
        text = value.isoformat()
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."
