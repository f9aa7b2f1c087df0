"""Numbers as OData sends them and calendar dates that stay on their day.

Expected values are computed here independently (zoneinfo, Decimal), never by the tap's code.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from archive_devkit.sandboxes import in_process_sandbox
from archive_devkit.tap_runs import make_config, run_tap

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


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
