"""The admin API for reconciliations: canonical `records`, the opt-in `served` log, tokens."""

from __future__ import annotations

import requests

TL_SYNC = "sync/Financial/TransactionLines"


def records(client, entity, **params):
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return client.admin("get", f"records?division={client.division}&entity={entity}&{query}")


def mutate(client, *operations):
    return client.admin("post", "mutate", {"operations": list(operations)})["results"]


def test_records_are_canonical_whatever_the_api_serves(own):
    invoice = records(own, "SalesInvoices", limit=1)["records"][0]
    mutate(
        own,
        {
            "action": "update",
            "division": own.division,
            "entity": "SalesInvoices",
            "id": invoice["InvoiceID"],
            "fields": {
                "AmountDC": "1234.56",
                "InvoiceDate": "2025-03-30T00:00:00",  # the day summer time starts
                "Created": "2025-10-26T02:30:00",  # the hour winter time repeats: first one
                "OrderDate": "2024-07-01T00:00:00",
                "YourRef": "02 ",
                "Description": "",
            },
        },
    )
    answer = records(own, "SalesInvoices", limit=5000)
    record = next(r for r in answer["records"] if r["InvoiceID"] == invoice["InvoiceID"])
    assert record["AmountDC"] == "1234.56"
    assert record["InvoiceDate"] == "2025-03-30"
    assert record["OrderDate"] == "2024-07-01"
    assert record["Created"] == "2025-10-26T00:30:00.000Z"
    assert record["YourRef"] == "02 "
    assert record["Description"] == ""
    assert record["DeliverTo"] is None
    assert isinstance(record["Timestamp"], int)  # Edm.Int64: served as a string, canonical int
    assert isinstance(record["Division"], int)
    fields = {field["name"]: field for field in answer["fields"]}
    assert fields["InvoiceDate"]["calendar_date"] is True
    assert fields["Created"]["calendar_date"] is False
    assert fields["Timestamp"]["endpoints"] == ["sync/SalesInvoice/SalesInvoices"]
    served = own.get(
        "salesinvoice/SalesInvoices",
        {"$select": "AmountDC,Created", "$filter": f"InvoiceID eq guid'{invoice['InvoiceID']}'"},
    ).json()["d"]["results"][0]
    assert served["AmountDC"] == 1234.56
    assert served["Created"] == "/Date(1761445800000)/"  # 02:30 wall clock, read as UTC


def test_moments_in_summer_and_booleans_and_lines_in_the_invoice_feed(own):
    item = records(own, "Items", limit=1)["records"][0]
    mutate(
        own,
        {
            "action": "update",
            "division": own.division,
            "entity": "Items",
            "id": item["ID"],
            "fields": {"Created": "2024-07-01T12:00:00.250", "IsSalesItem": False},
        },
    )
    again = records(own, "Items", limit=1)["records"][0]
    assert again["Created"] == "2024-07-01T10:00:00.250Z"
    assert again["IsSalesItem"] is False
    line_fields = {f["name"]: f for f in records(own, "SalesInvoiceLines", limit=1)["fields"]}
    assert "sync/SalesInvoice/SalesInvoices" in line_fields["AmountDC"]["endpoints"]


def test_records_page_by_key_and_role_views_follow_truth(own):
    truth = own.admin("get", "truth")["divisions"][str(own.division)]
    keys, after = [], None
    while True:
        params = {"limit": 100, **({"after": after} if after else {})}
        answer = records(own, "Contacts", **params)
        keys += [record["ID"] for record in answer["records"]]
        after = answer["next_after"]
        if after is None:
            break
    assert keys == sorted(keys)
    assert len(keys) == len(set(keys)) == truth["Contacts"]["count"]
    customers = records(own, "Customers")["records"]
    assert len(customers) == truth["Customers"]["count"]
    assert {record["Status"] for record in customers} == {"C"}
    suppliers = records(own, "Suppliers")["records"]
    assert len(suppliers) == truth["Suppliers"]["count"]
    assert all(record["IsSupplier"] is True for record in suppliers)


def test_records_refuse_unknown_entities_and_divisions(own):
    for query in (
        f"records?division={own.division}&entity=Nope",
        "records?division=999999&entity=Items",
        "records?entity=Items",
    ):
        response = requests.get(f"{own.base_url}/_sandbox/{query}", timeout=10)
        assert response.status_code == 400, query


def test_the_served_log_is_off_until_asked_and_keeps_each_version_with_its_runs(own):
    own.get(TL_SYNC, {"$select": "ID", "$filter": "Timestamp gt 1"})
    assert own.admin("get", "served") == {"enabled": False}
    own.admin("post", "served", {"enabled": True, "run": "first"})
    page = own.get(TL_SYNC, {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"})
    rows = page.json()["d"]["results"]
    served = own.admin("get", f"served?division={own.division}&entity=TransactionLines")["served"]
    assert {(v["key"], v["timestamp"]) for v in served} == {
        (row["ID"], int(row["Timestamp"])) for row in rows
    }
    assert {tuple(v["runs"]) for v in served} == {("first",)}
    line = served[0]
    assert line["record"]["ID"] == line["key"]
    assert line["record"]["Timestamp"] == line["timestamp"]

    own.admin("post", "served", {"run": "second"})
    mutate(
        own,
        {
            "action": "update",
            "division": own.division,
            "entity": "TransactionLines",
            "id": line["key"],
            "fields": {"Description": "changed"},
        },
        {"action": "delete", "division": own.division, "entity": "Items", "id": _item(own)},
    )
    own.get(TL_SYNC, {"$select": "ID", "$filter": f"Timestamp gt {line['timestamp'] - 1}"})
    own.get("sync/Deleted", {"$select": "EntityKey", "$filter": "Timestamp gt 1"})
    own.get("logistics/Items", {"$select": "ID", "$filter": "IsSalesItem eq true"})
    log = own.admin("get", f"served?division={own.division}&entity=TransactionLines")
    versions = {(v["key"], v["timestamp"]): v for v in log["served"] if v["key"] == line["key"]}
    assert len(versions) == 2
    old, new = sorted(versions.values(), key=lambda v: v["timestamp"])
    assert old["runs"] == ["first"]
    assert new["runs"] == ["second"]
    assert new["record"]["Description"] == "changed"
    deletions = own.admin("get", f"served?division={own.division}&entity=Deleted")["served"]
    assert any(entry["record"]["EntityType"] == 9 for entry in deletions)
    items = own.admin("get", f"served?division={own.division}&entity=Items")["served"]
    assert items
    assert {tuple(item["runs"]) for item in items} == {("second",)}
    assert own.admin("delete", "served") == {"enabled": False}


def _item(client):
    return records(client, "Items", limit=1)["records"][0]["ID"]


def test_the_served_log_splits_the_invoice_feed_into_headers_and_lines(own):
    own.admin("post", "served", {"enabled": True, "run": "feed"})
    own.get("sync/SalesInvoice/SalesInvoices", {"$select": "ID", "$filter": "Timestamp gt 1"})
    division = own.division
    headers = own.admin("get", f"served?division={division}&entity=SalesInvoices")["served"]
    lines = own.admin("get", f"served?division={division}&entity=SalesInvoiceLines")["served"]
    assert headers
    assert lines
    assert all("InvoiceDate" in header["record"] for header in headers)
    assert all("LineNumber" in line["record"] for line in lines)
    own.admin("delete", "served")


def test_issued_tokens_lists_every_token_handed_out(own):
    chain = own.admin("post", "tokens")["refresh_token"]
    answer = own.token(grant_type="refresh_token", refresh_token=chain).json()
    issued = own.admin("get", "issued_tokens")
    assert answer["access_token"] in issued["access_tokens"]
    assert {chain, answer["refresh_token"]} <= set(issued["refresh_tokens"])
