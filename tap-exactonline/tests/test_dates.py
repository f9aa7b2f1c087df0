"""Exact's /Date(ms)/ is Amsterdam wall-clock time; filters are written in the same local time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tap_exactonline.dates import exact_date_to_utc, parse_utc, utc_to_exact_filter_literal


def _wall_clock_ms(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("wall_clock", "expected_utc"),
    [
        ((2024, 1, 15, 12), "2024-01-15T11:00:00+00:00"),  # CET, UTC+1
        ((2024, 7, 1, 12), "2024-07-01T10:00:00+00:00"),  # CEST, UTC+2
        ((2024, 3, 31, 1, 30), "2024-03-31T00:30:00+00:00"),  # just before the spring jump
        ((2024, 3, 31, 3, 30), "2024-03-31T01:30:00+00:00"),  # just after it
        ((2024, 10, 27, 1, 0), "2024-10-26T23:00:00+00:00"),  # before the autumn fall-back
    ],
)
def test_exact_dates_are_amsterdam_wall_clock_converted_to_utc(wall_clock, expected_utc):
    value = f"/Date({_wall_clock_ms(*wall_clock)})/"
    assert exact_date_to_utc(value) == expected_utc


def test_exact_date_with_offset_suffix_and_garbage():
    ms = _wall_clock_ms(2024, 1, 15, 12)
    assert exact_date_to_utc(f"/Date({ms}+0100)/") == "2024-01-15T11:00:00+00:00"
    assert exact_date_to_utc("/Date(abc)/") is None
    assert exact_date_to_utc("2024-01-01T00:00:00Z") == "2024-01-01T00:00:00Z"


def test_exacts_minimum_date_sentinel_does_not_crash():
    assert exact_date_to_utc("/Date(-62135596800000)/") == "0001-01-01T00:00:00+00:00"


def test_filter_literals_are_amsterdam_local_time_without_offset():
    assert (
        utc_to_exact_filter_literal(datetime(2024, 7, 1, 10, 0, 30, 999000, tzinfo=UTC))
        == "datetime'2024-07-01T12:00:30.999'"
    )
    assert (
        utc_to_exact_filter_literal(parse_utc("2024-01-15T11:00:00Z"))
        == "datetime'2024-01-15T12:00:00.000'"
    )
