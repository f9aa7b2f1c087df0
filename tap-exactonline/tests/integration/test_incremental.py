"""Incremental runs: creates, updates and deletes arrive; state is per stream and division."""

from __future__ import annotations

import math
from decimal import Decimal

from archive_devkit.tap_runs import calls_by_endpoint, make_config, run_tap

STREAMS = [
    "transaction_lines",
    "journal_entries",
    "customers",
    "suppliers",
    "sales_invoices",
    "sales_invoice_lines",
    "payments",
    "gl_accounts",
]


def test_incremental_runs_pick_up_creates_updates_and_deletes(sandbox_each_number_mode, tmp_path):
    sandbox = sandbox_each_number_mode
    config = make_config(sandbox, tmp_path)
    first = run_tap(config, streams=STREAMS)
    division = sandbox.divisions[0]
    line = next(r for r in first.rows("transaction_lines") if r["Division"] == division)
    entry = next(r for r in first.rows("journal_entries") if r["Division"] == division)
    customer = next(r for r in first.rows("customers") if r["Division"] == division)
    invoice = next(r for r in first.rows("sales_invoices") if r["Division"] == division)
    payment = next(r for r in first.rows("payments") if r["Division"] == division)
    created = sandbox.mutate(
        {
            "action": "create",
            "division": division,
            "entity": "TransactionLines",
            "fields": {"EntryID": line["EntryID"], "AmountDC": 0.1, "Description": "new"},
        },
        {
            "action": "update",
            "division": division,
            "entity": "TransactionLines",
            "id": line["ID"],
            "fields": {"Description": "changed line"},
        },
        {
            "action": "update",
            "division": division,
            "entity": "GeneralJournalEntries",
            "id": entry["EntryID"],
            "fields": {"JournalDescription": "changed entry"},
        },
        {
            "action": "update",
            "division": division,
            "entity": "Payments",
            "id": payment["ID"],
            "fields": {"Description": "changed payment"},
        },
        {"action": "delete", "division": division, "entity": "Accounts", "id": customer["ID"]},
        {
            "action": "delete",
            "division": division,
            "entity": "SalesInvoices",
            "id": invoice["InvoiceID"],
        },
    )
    new_line_id = created[0]["ID"]

    second = run_tap(config, streams=STREAMS, state=first.final_state)

    lines = {r["ID"]: r for r in second.rows("transaction_lines")}
    assert lines[line["ID"]]["Description"] == "changed line"
    assert lines[new_line_id]["AmountDC"] == Decimal("0.1")
    assert len(lines) == 2, "an incremental run reads only what changed"
    entries = {r["EntryID"]: r for r in second.rows("journal_entries")}
    assert entries[entry["EntryID"]]["JournalDescription"] == "changed entry"
    payments = {r["ID"]: r for r in second.rows("payments")}
    assert payments[payment["ID"]]["Description"] == "changed payment"
    customer_tombstones = second.tombstones("customers")
    assert [(t["ID"], t["Division"]) for t in customer_tombstones] == [(customer["ID"], division)]
    assert customer_tombstones[0]["_sdc_deleted_at"].endswith("+00:00")
    assert [t["InvoiceID"] for t in second.tombstones("sales_invoices")] == [invoice["InvoiceID"]]
    assert second.tombstones("transaction_lines") == []

    third = run_tap(config, streams=STREAMS, state=second.final_state)
    assert third.tombstones("customers") == [], "a deletion is reported once"
    assert third.rows("transaction_lines") == []


def test_state_is_kept_per_stream_and_division(sandbox, tmp_path):
    result = run_tap(make_config(sandbox, tmp_path), streams=["transaction_lines", "payments"])
    bookmarks = result.final_state["bookmarks"]
    for stream, key in (("transaction_lines", "Timestamp"), ("payments", "Modified")):
        partitions = bookmarks[stream]["partitions"]
        assert sorted(p["context"]["Division"] for p in partitions) == sandbox.divisions
        assert all(p["replication_key"] == key for p in partitions)
        assert all("progress_markers" not in p for p in partitions)
        assert all(p["replication_key_value"] for p in partitions)
    assert all(
        isinstance(p["replication_key_value"], int)
        for p in bookmarks["transaction_lines"]["partitions"]
    )


def test_integer_bookmarks_never_receive_the_start_date(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    baseline = run_tap(config, streams=["transaction_lines", "gl_accounts"])
    modified = sorted(r["Modified"] for r in baseline.rows("transaction_lines"))
    start_date = modified[len(modified) // 2]
    config = make_config(sandbox, tmp_path / "second", start_date=start_date)
    result = run_tap(config, streams=["transaction_lines", "gl_accounts"])
    lines = result.rows("transaction_lines")
    assert 0 < len(lines) < len(baseline.rows("transaction_lines"))
    # SyncTimestamp gives the first Timestamp modified on or after start_date: nothing
    # modified since start_date is missed.
    wanted = {r["ID"] for r in baseline.rows("transaction_lines") if r["Modified"] >= start_date}
    assert wanted <= {r["ID"] for r in lines}
    # GLAccounts has no SyncTimestamp support: read from Timestamp > 1 (everything).
    assert len(result.rows("gl_accounts")) == len(baseline.rows("gl_accounts"))


def test_division_move_resyncs_that_division_in_full(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    first = run_tap(config, streams=["gl_accounts", "transaction_lines"])
    moved, untouched = sandbox.divisions
    sandbox.mutate({"action": "move_division", "division": moved})
    second = run_tap(config, streams=["gl_accounts", "transaction_lines"], state=first.final_state)
    truth = sandbox.truth()
    for stream, entity in (
        ("gl_accounts", "GLAccounts"),
        ("transaction_lines", "TransactionLines"),
    ):
        rows = second.rows(stream)
        assert sum(r["Division"] == moved for r in rows) == truth[str(moved)][entity]["count"]
        assert sum(r["Division"] == untouched for r in rows) == 0
    third = run_tap(config, streams=["gl_accounts"], state=second.final_state)
    assert third.rows("gl_accounts") == [], "the move is handled once"


def test_full_refresh_without_state_rereads_everything(shared_sandbox, tmp_path):
    config = make_config(shared_sandbox, tmp_path)
    streams = ["gl_accounts", "cost_centers", "receivables", "gl_schemes", "divisions"]
    first = run_tap(config, streams=streams)
    again = run_tap(config, streams=streams)
    for stream in streams:
        assert len(again.rows(stream)) == len(first.rows(stream)) > 0


def test_call_budget_full_load_and_incremental(sandbox, tmp_path):
    """ceil(N/1000)+1 calls per sync/bulk stream and division; 1 call when nothing changed."""
    config = make_config(sandbox, tmp_path)
    truth = sandbox.truth()
    sandbox.reset_stats()
    first = run_tap(config)
    calls = calls_by_endpoint(sandbox.stats())
    feeds = {
        "sync/Financial/TransactionLines": (["TransactionLines"], 1),
        "sync/Financial/GLAccounts": (["GLAccounts"], 1),
        "sync/CRM/Accounts": (["Accounts"], 2),  # customers and suppliers
        "sync/SalesInvoice/SalesInvoices": (["SalesInvoices", "SalesInvoiceLines"], 2),
        "sync/SalesOrder/SalesOrderLines": (["SalesOrderLines"], 1),
        "bulk/Cashflow/Receivables": (["Receivables"], 1),
        "bulk/Cashflow/Payments": (["Payments"], 1),
    }
    for division in sandbox.divisions:
        for endpoint, (entities, streams) in feeds.items():
            rows = sum(truth[str(division)][e]["count"] for e in entities)
            budget = streams * (math.ceil(rows / 1000) + 1)
            assert calls[division, endpoint] <= budget, (endpoint, division)
        assert calls[division, "sync/Deleted"] == 1
    sandbox.reset_stats()
    second = run_tap(config, state=first.final_state)
    assert {stream: len(rows) for stream, rows in second.records.items() if rows} == {}, (
        "a run with nothing new emits no records (unchanged full tables are not re-sent)"
    )
    calls = calls_by_endpoint(sandbox.stats())
    full_table = {"financial/GLAccountClassificationMappings", "financial/GLSchemes"}
    # Two streams share each of these; purchase entry lines (no Modified of their own) list
    # the purchase entries modified since the last run.
    shared = {
        "sync/CRM/Accounts": 2,
        "sync/SalesInvoice/SalesInvoices": 2,
        "purchaseentry/PurchaseEntries": 2,
    }
    for (division, endpoint), count in calls.items():
        if endpoint in full_table:
            continue
        if endpoint == "system/Divisions":
            assert count == 1
            continue
        assert count == shared.get(endpoint, 1), (division, endpoint, count)


def test_a_changed_full_table_is_emitted_again_in_full(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    first = run_tap(config, streams=["gl_schemes"])
    scheme = first.rows("gl_schemes")[0]
    sandbox.mutate(
        {
            "action": "update",
            "division": scheme["Division"],
            "entity": "GLSchemes",
            "id": scheme["ID"],
            "fields": {"Description": "renamed scheme"},
        }
    )
    second = run_tap(config, streams=["gl_schemes"], state=first.final_state)
    changed = [r for r in second.rows("gl_schemes") if r["Division"] == scheme["Division"]]
    assert len(changed) == sum(
        r["Division"] == scheme["Division"] for r in first.rows("gl_schemes")
    )
    assert {r["ID"]: r["Description"] for r in changed}[scheme["ID"]] == "renamed scheme"
    assert all(r["Division"] == scheme["Division"] for r in second.rows("gl_schemes"))
