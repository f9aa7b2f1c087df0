"""Exact's OData values turned into the Singer values a stream's schema declares.

Exact speaks OData v2 verbose JSON, which writes ``Edm.Int64`` and ``Edm.Decimal`` values as JSON
*strings* (``"Timestamp": "10024"``) and the other numeric types as JSON numbers (whole amounts
as integers: ``9075``). Public Exact clients read them with string-tolerant types (see the
project's Exact reference, section 11). Every numeric field is therefore accepted as a JSON
number or a numeric string and emitted as its schema type: integers as ``int``, decimals as
``Decimal`` (never through a binary float).

``Edm.DateTime`` values are ``/Date(ms)/`` of the Amsterdam wall-clock time. A field documented
as a calendar date (InvoiceDate, DueDate, ...) is midnight of that date in Amsterdam and is
emitted as the date itself (``"2024-12-02"``); a moment (Created, Modified, ...) is emitted as
an RFC 3339 UTC instant. See ``schema.DateKind`` and the tap README's classification table.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tap_exactonline.dates import exact_date_to_utc, wall_clock_milliseconds
from tap_exactonline.schema import DateKind, Edm, ExactField

logger = logging.getLogger("tap-exactonline")

_INTEGER_TYPES = frozenset({Edm.BYTE, Edm.INT16, Edm.INT32, Edm.INT64})
_DECIMAL_TYPES = frozenset({Edm.DOUBLE, Edm.DECIMAL, Edm.SINGLE})
_MS_PER_DAY = 86_400_000
_EPOCH_DATE = date(1970, 1, 1)
_DATE_PREFIX = "/Date("


class UnreadableValueError(ValueError):
    """Exact sent a value the field's documented Edm type cannot hold.

    The message names the stream, the field, the division and the endpoint path (never the
    query string), so a user can report exactly what Exact sent.
    """

    def __init__(
        self, *, stream: str, field: str, edm: Edm, value: Any, division: Any, path: str
    ) -> None:
        """Describe the value.

        Args:
            stream: The stream reading the record.
            field: The field's name.
            edm: The field's documented Edm type.
            value: What Exact sent.
            division: The division of the record.
            path: The endpoint path (no query string).
        """
        super().__init__(
            f"stream {stream!r}, field {field!r} ({edm.value}), division {division}, "
            f"endpoint {path}: cannot read {value!r:.60} as {edm.value}"
        )
        self.stream = stream
        self.field = field


def to_integer(value: Any) -> int:
    """Read an OData integer given as a JSON number or a numeric string.

    Args:
        value: ``10024``, ``"10024"`` or an integral ``Decimal`` such as ``Decimal("3.0")``.

    Returns:
        The integer.

    Raises:
        ValueError: The value is not an integer.
    """
    kind = type(value)
    if kind is int:
        return int(value)
    if kind is str:
        return int(value.strip())
    if kind is Decimal and value == value.to_integral_value():
        return int(value)
    raise ValueError(value)


def to_decimal(value: Any) -> Decimal | int:
    """Read an OData decimal given as a JSON number or a numeric string, exactly.

    Args:
        value: ``Decimal("12.5")``, ``9075`` or ``"12.50"``.

    Returns:
        A finite ``Decimal`` (or the ``int`` a whole amount arrived as).

    Raises:
        ValueError: The value is not a finite number.
    """
    kind = type(value)
    if kind is Decimal or kind is int:
        if kind is Decimal and not value.is_finite():
            raise ValueError(value)
        return value  # type: ignore[no-any-return]
    if kind is str:
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(value) from None
        if not number.is_finite():
            raise ValueError(value)
        return number
    raise ValueError(value)


def exact_date_to_calendar_date(value: str) -> tuple[str, bool] | None:
    """Read a calendar date (Amsterdam midnight as ``/Date(ms)/``) as ``YYYY-MM-DD``.

    Args:
        value: e.g. ``"/Date(1733097600000)/"`` (2024-12-02 00:00 in Amsterdam).

    Returns:
        The date text and whether the value was exactly midnight, or None if unreadable.
    """
    if value.startswith(_DATE_PREFIX):
        milliseconds = wall_clock_milliseconds(value)
        if milliseconds is None:
            return None
        days, within_day = divmod(milliseconds, _MS_PER_DAY)
        try:
            return (_EPOCH_DATE + timedelta(days=days)).isoformat(), within_day == 0
        except OverflowError:
            return None
    try:
        # Already ISO text (Atom feeds, recorded fixtures): its date part is the date.
        return date.fromisoformat(value[:10]).isoformat(), value[10:] in ("", "T00:00:00")
    except ValueError:
        return None


@dataclass(frozen=True)
class RecordShaper:
    """Converts one stream's raw Exact rows, in place, into the values its schema declares.

    Attributes:
        stream: The stream's name (for messages).
        integers: Fields of an integer Edm type.
        decimals: Fields of a decimal Edm type.
        moments: ``Edm.DateTime`` fields that are moments (emitted as UTC instants).
        calendar_dates: ``Edm.DateTime`` fields that are calendar dates (emitted as dates).
    """

    stream: str
    integers: tuple[tuple[str, Edm], ...]
    decimals: tuple[tuple[str, Edm], ...]
    moments: tuple[str, ...]
    calendar_dates: tuple[str, ...]

    @classmethod
    def for_fields(cls, stream: str, fields: tuple[ExactField, ...]) -> RecordShaper:
        """Compile the shaper of a stream's declared fields.

        Args:
            stream: The stream's name.
            fields: Its field declarations.

        Returns:
            The shaper.
        """
        return cls(
            stream=stream,
            integers=tuple((f.name, f.edm) for f in fields if f.edm in _INTEGER_TYPES),
            decimals=tuple((f.name, f.edm) for f in fields if f.edm in _DECIMAL_TYPES),
            moments=tuple(
                f.name for f in fields if f.edm is Edm.DATETIME and f.date is DateKind.MOMENT
            ),
            calendar_dates=tuple(
                f.name for f in fields if f.edm is Edm.DATETIME and f.date is DateKind.CALENDAR
            ),
        )

    def shape(self, row: dict[str, Any], *, division: Any, path: str) -> None:
        """Convert a row's numbers and dates in place.

        Runs once per record: the common case (an int that is already an int) costs one type
        check per field.

        Args:
            row: The row as decoded from Exact's JSON (non-integers already ``Decimal``).
            division: The row's division (for error messages).
            path: The endpoint path (for error messages).

        Raises:
            UnreadableValueError: A value does not fit its field's Edm type.
        """
        get = row.get
        for name, edm in self.integers:
            value = get(name)
            if value is not None and type(value) is not int:
                try:
                    row[name] = to_integer(value)
                except ValueError:
                    raise self._error(name, edm, value, division, path) from None
        for name, edm in self.decimals:
            value = get(name)
            if value is not None and type(value) is not Decimal and type(value) is not int:
                try:
                    row[name] = to_decimal(value)
                except ValueError:
                    raise self._error(name, edm, value, division, path) from None
        for name in self.moments:
            value = get(name)
            if value:
                converted = exact_date_to_utc(value) if type(value) is str else None
                if converted is None:
                    raise self._error(name, Edm.DATETIME, value, division, path)
                row[name] = converted
        for name in self.calendar_dates:
            value = get(name)
            if value:
                row[name] = self._calendar_date(name, value, division, path)

    def _calendar_date(self, name: str, value: Any, division: Any, path: str) -> str:
        read = exact_date_to_calendar_date(value) if type(value) is str else None
        if read is None:
            raise self._error(name, Edm.DATETIME, value, division, path)
        text, at_midnight = read
        if not at_midnight:
            warn_not_midnight_once(self.stream, name, value)
        return text

    def _error(
        self, name: str, edm: Edm, value: Any, division: Any, path: str
    ) -> UnreadableValueError:
        return UnreadableValueError(
            stream=self.stream, field=name, edm=edm, value=value, division=division, path=path
        )


_WARNED_NOT_MIDNIGHT: set[tuple[str, str]] = set()


def warn_not_midnight_once(stream: str, field: str, value: str) -> None:
    """Log, once per stream and field, a calendar date that is not Amsterdam midnight.

    Args:
        stream: The stream.
        field: The calendar-date field.
        value: The value Exact sent (still emitted as its Amsterdam date).
    """
    if (stream, field) in _WARNED_NOT_MIDNIGHT:
        return
    _WARNED_NOT_MIDNIGHT.add((stream, field))
    logger.warning(
        "Stream %s, field %s: %s is not midnight in Amsterdam; it is documented as a calendar "
        "date, so its Amsterdam date is emitted (logged once per field)",
        stream,
        field,
        value,
    )
