"""Behaviour 6: the sync/Deleted feed and its two-month retention."""

from __future__ import annotations

SELECT = "ID,EntityKey,EntityType,DeletedBy,DeletedDate,Division,Timestamp"


def delete_account(client):
    account = client.get(
        "sync/CRM/Accounts", {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"}
    ).json()["d"]["results"][0]
    client.admin(
        "post",
        "mutate",
        {
            "operations": [
                {
                    "action": "delete",
                    "division": client.division,
                    "entity": "Accounts",
                    "id": account["ID"],
                }
            ]
        },
    )
    return account


def test_delete_is_logged_with_entity_key_type_and_a_new_timestamp(own):
    before = own.all_rows("sync/Deleted", {"$select": SELECT, "$filter": "Timestamp gt 1"})
    top = max(row["Timestamp"] for row in before)
    account = delete_account(own)
    rows = own.all_rows("sync/Deleted", {"$select": SELECT, "$filter": f"Timestamp gt {top}L"})
    assert len(rows) == 1
    entry = rows[0]
    assert entry["EntityKey"] == account["ID"]
    assert entry["EntityType"] == 2
    assert entry["Division"] == own.division
    assert entry["DeletedDate"].startswith("/Date(")
    assert entry["DeletedBy"]
    assert entry["Timestamp"] > top
    accounts = own.all_rows("sync/CRM/Accounts", {"$select": "ID", "$filter": "Timestamp gt 1"})
    assert account["ID"] not in {row["ID"] for row in accounts}


def test_deleted_accepts_an_entity_type_filter(own):
    delete_account(own)
    rows = own.all_rows(
        "sync/Deleted", {"$select": SELECT, "$filter": "Timestamp gt 1 and EntityType eq 2"}
    )
    assert rows
    assert {row["EntityType"] for row in rows} == {2}


def test_deleted_entries_older_than_two_months_disappear(own):
    account = delete_account(own)
    keys = {
        row["EntityKey"]
        for row in own.all_rows("sync/Deleted", {"$select": SELECT, "$filter": "Timestamp gt 1"})
    }
    assert account["ID"] in keys
    own.advance(63 * 86_400)
    own.new_token()
    remaining = own.all_rows("sync/Deleted", {"$select": SELECT, "$filter": "Timestamp gt 1"})
    assert account["ID"] not in {row["EntityKey"] for row in remaining}
