"""Behaviour 5: standard, bulk and sync endpoints differ in paging and allowed options."""

from __future__ import annotations

TL_SYNC = "sync/Financial/TransactionLines"


def message(response):
    return response.json()["error"]["message"]["value"]


def test_standard_endpoints_page_at_60(exact):
    body = exact.get("crm/Contacts", {"$select": "ID"}).json()["d"]
    assert len(body["results"]) == 60
    assert "$skiptoken=guid'" in body["__next"]


def test_standard_and_bulk_page_by_id_keyset(exact):
    rows = exact.all_rows("crm/Contacts", {"$select": "ID"})
    ids = [row["ID"] for row in rows]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids)) > 120


def test_bulk_endpoints_page_at_1000(exact):
    body = exact.get("bulk/Financial/TransactionLines", {"$select": "ID,AmountDC"}).json()["d"]
    assert len(body["results"]) == 1000
    assert "__next" in body


def test_bulk_without_select_is_refused(exact):
    response = exact.get("bulk/Financial/TransactionLines")
    assert response.status_code == 400
    assert "$select" in message(response)


def test_bulk_filter_outside_the_allowed_list_is_refused(exact):
    response = exact.get(
        "bulk/Cashflow/Receivables",
        {"$select": "ID", "$filter": "Modified gt datetime'2020-01-01'"},
    )
    assert response.status_code == 400
    assert message(response) == "Filtering on these fields is not supported: Modified"


def test_bulk_filter_inside_the_allowed_list_is_served(exact):
    response = exact.get("bulk/Cashflow/Receivables", {"$select": "ID", "$filter": "Status eq 50"})
    assert response.status_code == 200
    assert response.json()["d"]["results"]


def test_bulk_payments_serve_modified_but_only_standard_payments_filter_on_it(exact):
    # Exact's BulkCashflowPayments page documents Modified, but not among its filters.
    bulk = exact.get("bulk/Cashflow/Payments", {"$select": "ID,Modified"})
    assert bulk.status_code == 200
    assert bulk.json()["d"]["results"][0]["Modified"].startswith("/Date(")
    refused = exact.get(
        "bulk/Cashflow/Payments",
        {"$select": "ID", "$filter": "Modified gt datetime'2000-01-01'"},
    )
    assert message(refused) == "Filtering on these fields is not supported: Modified"
    standard = exact.get(
        "cashflow/Payments",
        {"$select": "ID,Modified", "$filter": "Modified gt datetime'2000-01-01'"},
    )
    assert standard.status_code == 200
    assert standard.json()["d"]["results"][0]["Modified"].startswith("/Date(")


def test_sync_pages_at_1000_ordered_by_timestamp_with_timestamp_skiptoken(exact):
    body = exact.get(TL_SYNC, {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"}).json()["d"]
    # Edm.Int64 is a JSON string in OData v2 (see test_numbers.py).
    stamps = [int(row["Timestamp"]) for row in body["results"]]
    assert len(stamps) == 1000
    assert stamps == sorted(stamps)
    assert body["__next"].endswith(f"$skiptoken={stamps[-1]}L")


def test_sync_accepts_timestamp_gt_with_or_without_l_suffix(exact):
    plain = exact.get(TL_SYNC, {"$select": "ID", "$filter": "Timestamp gt 5000"}).json()
    suffixed = exact.get(TL_SYNC, {"$select": "ID", "$filter": "Timestamp gt 5000L"}).json()
    assert plain["d"]["results"] == suffixed["d"]["results"]
    assert plain["d"]["results"]


def test_sync_refuses_other_filters_select_star_and_orderby(exact):
    other = exact.get(TL_SYNC, {"$select": "ID", "$filter": "Modified gt datetime'2020-01-01'"})
    assert other.status_code == 400
    ge = exact.get(TL_SYNC, {"$select": "ID", "$filter": "Timestamp ge 1"})
    assert ge.status_code == 400
    star = exact.get(TL_SYNC, {"$select": "*", "$filter": "Timestamp gt 1"})
    assert star.status_code == 400
    ordered = exact.get(TL_SYNC, {"$select": "ID", "$orderby": "Timestamp desc"})
    assert ordered.status_code == 400


def test_mandatory_filter_on_standard_accounts_and_items(exact):
    for path in ("crm/Accounts", "logistics/Items"):
        refused = exact.get(path, {"$select": "ID"})
        assert refused.status_code == 400
        assert message(refused).startswith("This endpoint has mandatory filtering applied.")
        allowed = exact.get(
            path, {"$select": "ID", "$filter": "Modified gt datetime'2000-01-01T00:00:00'"}
        )
        assert allowed.status_code == 200


def test_timestamp_is_a_per_division_rowversion(exact):
    first, second = exact.info["divisions"][:2]
    rows = exact.get(
        "sync/CRM/Accounts", {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"}
    ).json()["d"]["results"]
    target = rows[0]
    top_before = max(
        int(row["Timestamp"])
        for row in exact.all_rows(TL_SYNC, {"$select": "Timestamp", "$filter": "Timestamp gt 1"})
    )
    updated = exact.admin(
        "post",
        "mutate",
        {
            "operations": [
                {
                    "action": "update",
                    "division": first,
                    "entity": "Accounts",
                    "id": target["ID"],
                    "fields": {"Name": "Renamed B.V."},
                },
                {
                    "action": "update",
                    "division": first,
                    "entity": "Accounts",
                    "id": target["ID"],
                    "fields": {"Name": "Renamed again B.V."},
                },
            ]
        },
    )["results"]
    stamps = [int(target["Timestamp"]), top_before, *(int(row["Timestamp"]) for row in updated)]
    assert stamps == sorted(set(stamps))
    other = exact.get(
        "sync/CRM/Accounts",
        {"$select": "ID", "$filter": f"Timestamp gt {updated[0]['Timestamp']}"},
        division=second,
    ).json()["d"]["results"]
    assert other == [] or all(row["ID"] != target["ID"] for row in other)
    changed = exact.get(
        "sync/CRM/Accounts",
        {"$select": "ID,Name,Timestamp", "$filter": f"Timestamp gt {top_before}"},
        division=first,
    ).json()["d"]["results"]
    assert [row["Name"] for row in changed if row["ID"] == target["ID"]] == ["Renamed again B.V."]


def test_sales_invoice_sync_feed_carries_headers_and_lines(exact):
    rows = exact.all_rows(
        "sync/SalesInvoice/SalesInvoices",
        {"$select": "ID,InvoiceID,LineNumber,AmountDC,Timestamp", "$filter": "Timestamp gt 1"},
    )
    headers = [row for row in rows if row["LineNumber"] == 0]
    lines = [row for row in rows if row["LineNumber"] >= 1]
    assert headers
    assert lines
    assert {row["InvoiceID"] for row in lines} <= {row["InvoiceID"] for row in headers}
    assert all(row["ID"] == row["InvoiceID"] for row in headers)
    stamps = [row["Timestamp"] for row in rows]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
