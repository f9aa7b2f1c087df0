"""Exact's /Date(ms)/ is Amsterdam wall-clock time; filters are written in the same local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from tap_exactonline.dates import exact_date_to_utc, parse_utc, utc_to_exact_filter_literal

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


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


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


YEARS = range(2019, 2028)
SPRING = [_last_sunday(year, 3) for year in YEARS]  # 02:00 CET jumps to 03:00 CEST
AUTUMN = [_last_sunday(year, 10) for year in YEARS]  # 03:00 CEST falls back to 02:00 CET


def _exact_ms(day: date, hour: int, minute: int = 0) -> int:
    """Exact's /Date(ms)/ of an Amsterdam wall-clock reading: the reading taken as UTC."""
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize("day", SPRING, ids=str)
def test_moments_around_the_spring_transition_of_every_year(day):
    # Expected values from zoneinfo, read hour by hour on both sides of the gap.
    for hour, minute in [(0, 30), (1, 0), (1, 59), (3, 0), (3, 30), (12, 0), (23, 59)]:
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)
        value = f"/Date({_exact_ms(day, hour, minute)})/"
        assert exact_date_to_utc(value) == local.astimezone(UTC).isoformat(), (hour, minute)
    # 02:30 does not exist that night: it is read as the hour before the jump (zoneinfo fold 0)
    # and lands inside the gap's UTC hour, never on another day.
    inside_gap = exact_date_to_utc(f"/Date({_exact_ms(day, 2, 30)})/")
    assert inside_gap is not None
    assert inside_gap.startswith(f"{day.isoformat()}T0")


@pytest.mark.parametrize("day", AUTUMN, ids=str)
def test_moments_around_the_autumn_transition_of_every_year(day):
    for hour, minute in [(0, 30), (1, 59), (3, 0), (3, 30), (12, 0), (23, 59)]:
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)
        value = f"/Date({_exact_ms(day, hour, minute)})/"
        assert exact_date_to_utc(value) == local.astimezone(UTC).isoformat(), (hour, minute)
    # 02:30 happens twice; Exact's wall-clock value cannot tell which: it is read as the first
    # (CEST, UTC+2), the earlier instant, so a Modified bookmark never skips the second.
    twice = exact_date_to_utc(f"/Date({_exact_ms(day, 2, 30)})/")
    assert twice == datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC).isoformat()


@pytest.mark.parametrize("day", [*SPRING, *AUTUMN], ids=str)
def test_filter_literals_around_transitions_never_skip_a_row(day):
    """A `Modified gt <literal>` filter written from a UTC bookmark reads everything after it.

    Exact compares the literal as Amsterdam wall-clock time. For every UTC moment across the
    night of a transition, the literal's instant (as Exact reads it) is never later than the
    bookmark: nothing modified after the bookmark can be filtered out. In the repeated autumn
    hour it may be up to an hour earlier (rows are read again; duplicates, never losses).
    """
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=3)
    for step in range(0, 8 * 60, 7):
        moment = start + timedelta(minutes=step, seconds=13, milliseconds=250)
        literal = utc_to_exact_filter_literal(moment)
        wall = datetime.fromisoformat(literal.removeprefix("datetime'").removesuffix("'"))
        as_exact_reads_it = wall.replace(tzinfo=AMSTERDAM).astimezone(UTC)
        assert as_exact_reads_it <= moment, (moment, literal)
        assert moment - as_exact_reads_it <= timedelta(hours=1), (moment, literal)
        # Outside the repeated hour the literal is exact (to the millisecond).
        if wall.replace(tzinfo=AMSTERDAM).fold == 0 and wall.hour != 2:
            assert as_exact_reads_it == moment.replace(microsecond=250_000), literal
