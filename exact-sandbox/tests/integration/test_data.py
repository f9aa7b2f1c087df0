"""Behaviour 3: deterministic books of a software company, with accounting invariants."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import requests
from exact_sandbox import SandboxServer
from exact_sandbox.catalog import DATA_ENTITIES


def cents(value) -> int:
    return int(Decimal(str(value)) * 100)


def test_same_seed_gives_same_data():
    answers = []
    for _ in range(2):
        with SandboxServer(region="uk", seed=11, scale="600", divisions=1) as server:
            truth = requests.get(f"{server.base_url}/_sandbox/truth", timeout=30).json()
            answers.append((server.info["divisions"], truth))
    assert answers[0] == answers[1]
    assert answers[0][0] == [300101]


def test_different_regions_have_distinct_division_codes(exact):
    assert exact.info["divisions"] == [100101, 100102, 100103]


def test_small_scale_gives_several_pages_of_transaction_lines_and_rows_everywhere(exact):
    truth = exact.admin("get", "truth")["divisions"]
    assert set(truth) == {str(code) for code in exact.info["divisions"]}
    for entities in truth.values():
        assert entities["TransactionLines"]["count"] >= 3000
        for entity in DATA_ENTITIES:
            assert entities[entity.name]["count"] > 0, entity.name
        assert entities["Accounts"]["count"] > 60
        assert entities["GLAccounts"]["count"] > 60


def test_every_entry_balances_to_zero_in_amount_dc(exact):
    rows = exact.all_rows(
        "sync/Financial/TransactionLines",
        {"$select": "EntryID,AmountDC,Type", "$filter": "Timestamp gt 1"},
    )
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["EntryID"]] += cents(row["AmountDC"])
    assert len(totals) > 500
    assert all(total == 0 for total in totals.values())
    assert {20, 30, 40, 90, 10} <= {row["Type"] for row in rows}


def test_invoice_totals_equal_the_sum_of_their_lines(exact):
    invoices = exact.all_rows(
        "bulk/SalesInvoice/SalesInvoices",
        {"$select": "InvoiceID,AmountDC,AmountFCExclVat,VATAmountDC"},
    )
    lines = exact.all_rows(
        "bulk/SalesInvoice/SalesInvoiceLines", {"$select": "InvoiceID,AmountDC,VATAmountDC"}
    )
    line_sum: dict[str, int] = defaultdict(int)
    vat_sum: dict[str, int] = defaultdict(int)
    for line in lines:
        line_sum[line["InvoiceID"]] += cents(line["AmountDC"])
        vat_sum[line["InvoiceID"]] += cents(line["VATAmountDC"])
    for invoice in invoices:
        key = invoice["InvoiceID"]
        assert cents(invoice["AmountFCExclVat"]) == line_sum[key]
        assert cents(invoice["VATAmountDC"]) == vat_sum[key]
        assert cents(invoice["AmountDC"]) == line_sum[key] + vat_sum[key]


def test_purchase_entry_totals_equal_the_sum_of_their_lines(exact):
    select = {"$select": "EntryID,AmountDC,VATAmountDC"}
    entries = exact.all_rows("purchaseentry/PurchaseEntries", select)
    lines = exact.all_rows("purchaseentry/PurchaseEntryLines", select)
    sums: dict[str, int] = defaultdict(int)
    for line in lines:
        sums[line["EntryID"]] += cents(line["AmountDC"]) + cents(line["VATAmountDC"])
    assert entries
    assert all(cents(entry["AmountDC"]) == sums[entry["EntryID"]] for entry in entries)


def test_receivables_and_payments_point_at_real_entries(exact):
    lines = exact.all_rows(
        "sync/Financial/TransactionLines",
        {"$select": "ID,EntryID,InvoiceNumber,Type", "$filter": "Timestamp gt 1"},
    )
    line_ids = {row["ID"] for row in lines}
    sales_entries = {row["EntryID"] for row in lines if row["Type"] in (20, 21)}
    invoices = exact.all_rows("bulk/SalesInvoice/SalesInvoices", {"$select": "InvoiceNumber"})
    invoice_numbers = {row["InvoiceNumber"] for row in invoices}
    receivables = exact.all_rows(
        "bulk/Cashflow/Receivables", {"$select": "EntryID,InvoiceNumber,TransactionID"}
    )
    assert receivables
    for receivable in receivables:
        assert receivable["EntryID"] in sales_entries
        assert receivable["InvoiceNumber"] in invoice_numbers
        assert receivable["TransactionID"] in line_ids
    purchase_entries = {
        row["EntryID"]
        for row in exact.all_rows("purchaseentry/PurchaseEntries", {"$select": "EntryID"})
    }
    payments = exact.all_rows("bulk/Cashflow/Payments", {"$select": "EntryID"})
    assert payments
    assert {row["EntryID"] for row in payments} <= purchase_entries


def test_gl_classifications_form_a_tree(exact):
    rows = exact.all_rows(
        "sync/Financial/GLClassifications",
        {"$select": "ID,Parent,Code", "$filter": "Timestamp gt 1"},
    )
    ids = {row["ID"] for row in rows}
    roots = [row for row in rows if row["Parent"] is None]
    assert {row["Code"] for row in roots} == {"B", "W"}
    assert all(row["Parent"] in ids for row in rows if row["Parent"] is not None)


def test_accounts_include_customers_suppliers_both_and_prospects(exact):
    rows = exact.all_rows(
        "sync/CRM/Accounts",
        {"$select": "ID,Status,IsSupplier,Blocked,Code", "$filter": "Timestamp gt 1"},
    )
    statuses = {row["Status"] for row in rows}
    assert {"C", "P", "S"} <= statuses
    assert any(row["IsSupplier"] and row["Status"] == "C" for row in rows)
    assert any(row["IsSupplier"] and row["Status"] is None for row in rows)
    assert any(row["Blocked"] for row in rows)
    assert all(len(row["Code"]) == 18 for row in rows)  # Exact left-pads codes to 18


def test_amounts_have_at_most_two_decimals(exact):
    rows = exact.get("bulk/Financial/TransactionLines", {"$select": "AmountDC,AmountVATFC"}).json()[
        "d"
    ]["results"]
    for row in rows:
        for value in (row["AmountDC"], row["AmountVATFC"]):
            if value is not None:
                assert Decimal(str(value)) == Decimal(str(value)).quantize(Decimal("0.01"))
