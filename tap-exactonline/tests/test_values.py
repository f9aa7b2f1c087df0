"""Numbers as OData sends them and calendar dates that stay on their day.

Expected values are computed here independently (zoneinfo, Decimal), never by the tap's code.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from archive_devkit.sandboxes import in_process_sandbox
from archive_devkit.tap_runs import make_config, run_tap
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


@pytest.fixture(scope="module")
def both_number_modes():
    with (
        in_process_sandbox(seed=11, scale="8000") as strings,
        in_process_sandbox(seed=11, scale="8000", int64_as_string=False) as plain,
    ):
        yield strings, plain


def test_the_sandbox_sends_int64_as_strings_unless_asked_for_plain_numbers(both_number_modes):
    strings, plain = both_number_modes
    for sandbox, expected in ((strings, str), (plain, int)):
        row = sandbox.raw_get(
            "sync/Financial/TransactionLines", {"$select": "ID,Timestamp", "$top": "1"}
        )["d"]["results"][0]
        assert type(row["Timestamp"]) is expected


def test_the_tap_emits_the_same_records_and_integer_bookmarks_in_both_number_modes(
    both_number_modes, tmp_path
):
    streams = ["transaction_lines", "gl_accounts", "divisions", "sales_invoices"]
    runs = []
    for index, sandbox in enumerate(both_number_modes):
        sandbox.unlimited()
        runs.append(run_tap(make_config(sandbox, tmp_path / str(index)), streams=streams))
    strings, plain = runs
    for stream in streams:
        assert strings.records[stream] == plain.records[stream], stream
    lines = strings.rows("transaction_lines")  # tombstones carry no Timestamp
    stamps = [row["Timestamp"] for row in lines]
    assert all(type(stamp) is int for stamp in stamps)
    # The feed crosses 9999 -> 10000: compared as text, "10000" < "9999" and the SDK stopped
    # with "Unsorted data detected".
    assert min(stamps) < 9999 < max(stamps)
    for partition in strings.final_state["bookmarks"]["transaction_lines"]["partitions"]:
        assert type(partition["replication_key_value"]) is int
        in_division = [
            r["Timestamp"] for r in lines if r["Division"] == partition["context"]["Division"]
        ]
        assert partition["replication_key_value"] == max(in_division)


def test_documents_dated_the_first_of_a_month_keep_their_date_in_winter_and_summer(
    sandbox, tmp_path
):
    division = sandbox.divisions[0]
    first = run_tap(make_config(sandbox, tmp_path), streams=["sales_invoices"])
    invoices = [row for row in first.rows("sales_invoices") if row["Division"] == division]
    winter, summer = invoices[0], invoices[1]
    dated = {
        winter["InvoiceID"]: (date(2024, 1, 1), date(2024, 1, 31)),
        summer["InvoiceID"]: (date(2024, 7, 1), date(2024, 8, 1)),
    }
    sandbox.mutate(
        *(
            {
                "action": "update",
                "division": division,
                "entity": "SalesInvoices",
                "id": invoice_id,
                # Exact's wall clock, no offset: midnight in Amsterdam.
                "fields": {"InvoiceDate": f"{invoice}T00:00:00", "DueDate": f"{due}T00:00:00"},
            }
            for invoice_id, (invoice, due) in dated.items()
        )
    )
    second = run_tap(
        make_config(sandbox, tmp_path / "again"),
        streams=["sales_invoices"],
        state=first.final_state,
    )
    emitted = {row["InvoiceID"]: row for row in second.rows("sales_invoices")}
    for invoice_id, (invoice, due) in dated.items():
        assert emitted[invoice_id]["InvoiceDate"] == invoice.isoformat()
        assert emitted[invoice_id]["DueDate"] == due.isoformat()
        # The old behaviour: the UTC instant of Amsterdam midnight is the previous day.
        utc_day = datetime.combine(invoice, datetime.min.time(), AMSTERDAM).astimezone(
            ZoneInfo("UTC")
        )
        assert utc_day.date() != invoice
