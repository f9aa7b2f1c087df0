"""Values as Exact sends them, shaped for Singer: numbers from numbers or strings, dates."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from tap_exactonline.schema import DateKind, Edm, ExactField
from tap_exactonline.values import (
    RecordShaper,
    UnreadableValueError,
    exact_date_to_calendar_date,
    to_decimal,
    to_integer,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def exact_ms(local: datetime) -> int:
    """Exact's /Date(ms)/ of an Amsterdam wall-clock time: the wall clock read as UTC."""
    naive = local.replace(tzinfo=None)
    return int((naive - datetime(1970, 1, 1)).total_seconds() * 1000)


def test_odata_integers_arrive_as_numbers_or_strings():
    assert to_integer(10024) == 10024
    assert to_integer("10024") == 10024
    assert to_integer(" 99 ") == 99
    assert to_integer(Decimal("3.0")) == 3
    for bad in ("12a", "", "1.5", Decimal("1.5"), True, 1.0):
        with pytest.raises(ValueError):  # noqa: PT011 - any ValueError is a refusal
            to_integer(bad)


def test_odata_decimals_stay_exact_from_numbers_or_strings():
    assert to_decimal("12.50") == Decimal("12.50")
    assert str(to_decimal("1234567890.123456789")) == "1234567890.123456789"
    assert to_decimal(9075) == 9075
    assert type(to_decimal(Decimal("0.1"))) is Decimal
    for bad in ("NaN", "INF", "abc", 0.1, None):
        with pytest.raises(ValueError):  # noqa: PT011
            to_decimal(bad)


@pytest.mark.parametrize(
    "local",
    [
        datetime(2024, 1, 1, tzinfo=AMSTERDAM),  # winter, CET
        datetime(2024, 7, 1, tzinfo=AMSTERDAM),  # summer, CEST
        datetime(2024, 3, 31, tzinfo=AMSTERDAM),  # the day the clocks jump forward
        datetime(2024, 10, 27, tzinfo=AMSTERDAM),  # the day the clocks fall back
        datetime(2024, 12, 2, tzinfo=AMSTERDAM),  # the example
    ],
)
def test_a_calendar_date_is_its_amsterdam_date(local):
    assert exact_date_to_calendar_date(f"/Date({exact_ms(local)})/") == (
        local.date().isoformat(),
        True,
    )


def test_a_calendar_date_that_is_not_midnight_is_flagged_and_still_its_amsterdam_date():
    late_evening = datetime(2024, 12, 1, 23, 0, tzinfo=AMSTERDAM)
    assert exact_date_to_calendar_date(f"/Date({exact_ms(late_evening)})/") == (
        "2024-12-01",
        False,
    )
    assert exact_date_to_calendar_date("/Date(-62135596800000)/") == ("0001-01-01", True)
    assert exact_date_to_calendar_date("/Date(abc)/") is None


def test_shaper_converts_every_numeric_and_date_field_and_names_what_it_cannot_read(caplog):
    fields = (
        ExactField("Timestamp", Edm.INT64),
        ExactField("Status", Edm.INT16),
        ExactField("AmountDC", Edm.DOUBLE),
        ExactField("InvoiceDate", Edm.DATETIME, DateKind.CALENDAR),
        ExactField("Modified", Edm.DATETIME, DateKind.MOMENT),
    )
    shaper = RecordShaper.for_fields("sales_invoices", fields)
    winter = exact_ms(datetime(2024, 2, 1, tzinfo=AMSTERDAM))
    modified = exact_ms(datetime(2024, 7, 1, 14, 30, tzinfo=AMSTERDAM))
    row = {
        "Timestamp": "10024",
        "Status": 50,
        "AmountDC": "-12.50",
        "InvoiceDate": f"/Date({winter})/",
        "Modified": f"/Date({modified})/",
    }
    shaper.shape(row, division=100101, path="/api/v1/100101/sync/SalesInvoice/SalesInvoices")
    assert row == {
        "Timestamp": 10024,
        "Status": 50,
        "AmountDC": Decimal("-12.50"),
        "InvoiceDate": "2024-02-01",
        "Modified": "2024-07-01T12:30:00+00:00",
    }
    with pytest.raises(UnreadableValueError) as refused:
        shaper.shape({"Timestamp": "ten"}, division=100101, path="/api/v1/100101/sync/X")
    message = str(refused.value)
    for part in ("sales_invoices", "'Timestamp'", "Edm.Int64", "100101", "/api/v1/100101/sync/X"):
        assert part in message
    with caplog.at_level(logging.WARNING, logger="tap-exactonline"):
        for _ in range(3):
            late = exact_ms(datetime(2024, 2, 1, 9, 0, tzinfo=AMSTERDAM))
            shaper.shape({"InvoiceDate": f"/Date({late})/"}, division=1, path="/p")
    warnings = [r for r in caplog.records if "not midnight" in r.getMessage()]
    assert len(warnings) == 1, "logged once per stream and field"
