"""Field comparison normalises representation only: each case differs in value or type."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from archive_devkit.field_values import FieldSpec, comparator, shown

DOUBLE = FieldSpec("AmountDC", "Edm.Double")
INT64 = FieldSpec("Timestamp", "Edm.Int64")
FLAG = FieldSpec("IsBlocked", "Edm.Boolean")
DAY = FieldSpec("InvoiceDate", "Edm.DateTime", calendar_date=True)
MOMENT = FieldSpec("Modified", "Edm.DateTime")
TEXT = FieldSpec("Code", "Edm.String")


@pytest.mark.parametrize(
    ("spec", "sandbox", "warehouse"),
    [
        (DOUBLE, "12.5", Decimal("12.500000000")),
        (DOUBLE, "-0.01", Decimal("-0.010000000")),
        (DOUBLE, "0.30000000000000004", Decimal("0.300000000")),  # the target rounds to 9
        (DOUBLE, "9075.0", 9075),
        (INT64, 10024, 10024),
        (INT64, 10024, Decimal("10024")),
        (FLAG, False, False),
        (DAY, "2024-12-02", date(2024, 12, 2)),
        (DAY, "2024-12-02", "2024-12-02"),
        (MOMENT, "2024-07-01T10:00:00.000Z", datetime(2024, 7, 1, 10, tzinfo=UTC)),
        (
            MOMENT,
            "2024-07-01T10:00:00.125Z",
            datetime(2024, 7, 1, 12, 0, 0, 125000, tzinfo=timezone(timedelta(hours=2))),
        ),
        (TEXT, "02 ", "02 "),
        (TEXT, "", ""),
        (TEXT, None, None),
    ],
)
def test_equal_values_in_another_representation_are_equal(spec, sandbox, warehouse):
    assert comparator(spec)(sandbox, warehouse)


@pytest.mark.parametrize(
    ("spec", "sandbox", "warehouse"),
    [
        (DOUBLE, "12.5", Decimal("12.510000000")),
        (DOUBLE, "12.5", 12.5),  # a float in the warehouse is a type error, not a value
        (DOUBLE, "12.5", None),
        (INT64, 10024, 10025),
        (INT64, 1, True),
        (FLAG, True, 1),
        (FLAG, False, None),
        (DAY, "2024-12-02", date(2024, 12, 1)),  # the UTC-instant mistake: a day early
        (DAY, "2024-12-02", datetime(2024, 12, 2, tzinfo=UTC)),  # TIMESTAMP where a DATE was due
        (MOMENT, "2024-07-01T10:00:00.000Z", datetime(2024, 7, 1, 12, tzinfo=UTC)),
        (MOMENT, "2024-07-01T10:00:00.000Z", datetime(2024, 7, 1, 10)),  # naive: no instant
        (TEXT, "02 ", "02"),  # padding is part of the value
        (TEXT, "", None),
        (TEXT, None, ""),
    ],
)
def test_different_values_or_types_are_not_equal(spec, sandbox, warehouse):
    assert not comparator(spec)(sandbox, warehouse)


def test_shown_values_say_what_they_are():
    assert shown(None) == "NULL"
    assert shown("02 ") == "'02 '"
    assert shown(date(2024, 1, 2)) == "2024-01-02"
    assert shown(Decimal("1.500000000")) == "1.500000000"
    assert shown("x" * 100).endswith("...")
