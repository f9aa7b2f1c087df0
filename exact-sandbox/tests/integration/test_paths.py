"""Behaviour 1: the paths Exact serves, and how unknown or ungranted divisions are refused."""

from __future__ import annotations

import pytest
from exact_sandbox.catalog import ALL_ENTITIES, Kind


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("financialtransaction/TransactionLines", {"$select": "ID", "$top": "1"}),
        ("bulk/Financial/TransactionLines", {"$select": "ID"}),
        ("sync/Financial/TransactionLines", {"$select": "ID", "$filter": "Timestamp gt 1"}),
        ("sync/Deleted", {"$select": "ID,EntityKey", "$filter": "Timestamp gt 1"}),
        (
            "read/sync/Sync/SyncTimestamp",
            {
                "modified": "datetime'2024-01-01'",
                "endPoint": "'TransactionLines'",
                "$select": "TimeStampAsBigInt",
            },
        ),
        ("system/Divisions", {"$select": "Code,DivisionMoveDate"}),
    ],
)
def test_exact_paths_are_served(exact, path, params):
    response = exact.get(path, params)
    assert response.status_code == 200, response.text
    assert response.json()["d"]["results"]


def test_current_me_has_no_division_in_the_path(exact):
    response = exact.session.get(f"{exact.base_url}/api/v1/current/Me", headers=exact.headers())
    assert response.status_code == 200
    me = response.json()["d"]["results"][0]
    assert me["CurrentDivision"] == exact.info["divisions"][0]
    assert me["__metadata"]["type"] == "Exact.Web.Api.System.Me"


def test_every_catalog_endpoint_answers(exact):
    for entity in ALL_ENTITIES:
        for kind in Kind:
            path = entity.path_for(kind)
            if path is None or entity.name in ("SyncTimestamp", "Me"):
                continue
            params = {"$select": entity.key if kind is not Kind.SYNC else "Timestamp"}
            if entity.mandatory_filter_fields and kind is Kind.STANDARD:
                params["$filter"] = "Modified gt datetime'2000-01-01'"
            response = exact.get(path, params)
            assert response.status_code == 200, (path, response.text)


def test_ungranted_division_is_forbidden(exact, shared_server):
    ungranted = shared_server.sandbox.ungranted_division()
    response = exact.get("system/Divisions", {"$select": "Code"}, division=ungranted)
    assert response.status_code == 403
    assert response.headers["Reason"] == "NoDivisionAccess"
    assert response.json()["error"]["message"]["value"] == "Forbidden"


def test_unknown_division_is_forbidden(exact):
    response = exact.get("system/Divisions", {"$select": "Code"}, division=999999)
    assert response.status_code == 403
    assert response.json()["error"]["message"]["value"]


def test_unknown_endpoint_is_not_found(exact):
    response = exact.get("financial/NoSuchThing", {"$select": "ID"})
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message"}
