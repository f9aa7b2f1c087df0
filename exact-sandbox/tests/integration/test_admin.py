"""Behaviour 9: the admin API (truth, stats, mutate, faults, tokens)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from exact_sandbox.catalog import DIVISIONS

TL_SYNC = "sync/Financial/TransactionLines"


def test_truth_reconciles_with_what_the_api_serves(own):
    truth = own.admin("get", "truth")["divisions"][str(own.division)]
    rows = own.all_rows(TL_SYNC, {"$select": "AmountDC,AmountVATFC", "$filter": "Timestamp gt 1"})
    assert truth["TransactionLines"]["count"] == len(rows)
    assert truth["TransactionLines"]["sums"]["AmountDC"] == "0.00"
    vat = sum(Decimal(str(row["AmountVATFC"] or 0)) for row in rows)
    assert Decimal(truth["TransactionLines"]["sums"]["AmountVATFC"]) == vat
    accounts = own.all_rows(
        "sync/CRM/Accounts", {"$select": "Status,IsSupplier", "$filter": "Timestamp gt 1"}
    )
    assert truth["Customers"]["count"] == sum(row["Status"] == "C" for row in accounts)
    assert truth["Suppliers"]["count"] == sum(row["IsSupplier"] for row in accounts)


def test_stats_count_calls_pages_and_errors(own):
    own.get(TL_SYNC, {"$select": "ID", "$filter": "Timestamp gt 1"})
    own.get("bulk/Financial/TransactionLines")
    stats = own.admin("get", "stats")
    calls = stats["calls"][str(own.division)]
    assert calls[TL_SYNC] == 1
    assert calls["bulk/Financial/TransactionLines"] == 1
    assert stats["pages_served"] == 1
    assert stats["rows_served"] == 1000
    assert stats["errors"]["400"] == 1


def test_mutate_creates_updates_and_deletes_like_exact_users(own):
    division = own.division
    created = own.admin(
        "post",
        "mutate",
        {
            "operations": [
                {
                    "action": "create",
                    "division": division,
                    "entity": "Items",
                    "fields": {"Code": "NEW-1", "Description": "New item", "IsSalesItem": True},
                }
            ]
        },
    )["results"][0]
    assert created["Modified"].startswith("/Date(")
    updated = own.admin(
        "post",
        "mutate",
        {
            "operations": [
                {
                    "action": "update",
                    "division": division,
                    "entity": "Items",
                    "id": created["ID"],
                    "fields": {"Description": "Renamed item", "StandardSalesPrice": "12.345"},
                }
            ]
        },
    )["results"][0]
    assert updated["Timestamp"] > created["Timestamp"]
    assert updated["StandardSalesPrice"] == 12.35
    served = own.get(
        "sync/Logistics/Items",
        {"$select": "ID,Description", "$filter": f"Timestamp gt {created['Timestamp']}"},
    ).json()["d"]["results"]
    assert served == [
        {
            "__metadata": served[0]["__metadata"],
            "ID": created["ID"],
            "Description": "Renamed item",
        }
    ]
    own.admin(
        "post",
        "mutate",
        {
            "operations": [
                {"action": "delete", "division": division, "entity": "Items", "id": created["ID"]}
            ]
        },
    )
    deleted = own.all_rows(
        "sync/Deleted",
        {"$select": "EntityKey,EntityType", "$filter": "Timestamp gt 1 and EntityType eq 9"},
    )
    assert created["ID"] in {row["EntityKey"] for row in deleted}


def test_mutate_refuses_unknown_entities_and_fields(own):
    response = requests.post(
        f"{own.base_url}/_sandbox/mutate",
        json={"operations": [{"action": "create", "division": own.division, "entity": "Nope"}]},
        timeout=10,
    )
    assert response.status_code == 400
    assert "unknown entity" in response.json()["error"]


def test_move_division_resets_timestamps_and_sets_division_move_date(own):
    before = own.get(TL_SYNC, {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"}).json()
    own.admin(
        "post", "mutate", {"operations": [{"action": "move_division", "division": own.division}]}
    )
    after = own.get(TL_SYNC, {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"}).json()
    old = {row["ID"]: row["Timestamp"] for row in before["d"]["results"]}
    new = {row["ID"]: row["Timestamp"] for row in after["d"]["results"]}
    assert old != new
    divisions = own.get("system/Divisions", {"$select": "Code,DivisionMoveDate"}).json()
    assert divisions["d"]["results"][0]["DivisionMoveDate"].startswith("/Date(")
    every_field = ",".join(field.name for field in DIVISIONS.fields)
    full = own.get("system/Divisions", {"$select": every_field}).json()["d"]["results"][0]
    assert full["DivisionMoveDate"] == divisions["d"]["results"][0]["DivisionMoveDate"]


def test_fault_on_the_nth_call_returns_the_status_once(own):
    own.admin("post", "faults", {"faults": [{"kind": "status", "status": 503, "nth": 2}]})
    statuses = [own.get("system/Divisions", {"$select": "Code"}).status_code for _ in range(3)]
    assert statuses == [200, 503, 200]
    own.admin("delete", "faults")


def test_faults_by_rate_are_reproducible_with_a_seed(own):
    def run():
        own.admin("delete", "faults")
        own.admin(
            "post",
            "faults",
            {"seed": 42, "faults": [{"kind": "status", "status": 500, "rate": 0.5}]},
        )
        return [own.get("system/Divisions", {"$select": "Code"}).status_code for _ in range(12)]

    first, second = run(), run()
    assert first == second
    assert 500 in first
    assert 200 in first
    own.admin("delete", "faults")


def test_truncated_json_body_fault(own):
    own.admin("post", "faults", {"kind": "truncate", "nth": 1})
    response = own.get(TL_SYNC, {"$select": "ID", "$filter": "Timestamp gt 1"})
    assert response.status_code == 200
    with pytest.raises(ValueError, match=r".+"):
        response.json()


def test_dropped_connection_fault(own):
    own.admin("post", "faults", {"kind": "drop", "nth": 1})
    with pytest.raises(requests.exceptions.RequestException):
        own.get(TL_SYNC, {"$select": "ID", "$filter": "Timestamp gt 1"})
    assert own.get("system/Divisions", {"$select": "Code"}).status_code == 200


def test_slow_response_fault(own):
    own.admin("post", "faults", {"kind": "slow", "nth": 1, "delay_seconds": 0.5})
    response = own.get("system/Divisions", {"$select": "Code"})
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.5
    assert own.admin("get", "stats")["faults_injected"] == {"slow": 1}


def test_tokens_issues_an_independent_refresh_token_chain(own):
    first = own.admin("post", "tokens")
    second = own.admin("post", "tokens")
    assert first["refresh_token"] != second["refresh_token"]
    assert own.token(grant_type="refresh_token", refresh_token=first["refresh_token"]).ok
    assert own.token(grant_type="refresh_token", refresh_token=second["refresh_token"]).ok
