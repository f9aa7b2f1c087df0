"""The sandbox answers as Exact's recorded responses and reference pages show.

Each expectation names where it comes from: Exact's reference pages (field lists, Edm types),
Exact's own .NET SDK test data (whole amounts as integers, padded codes, `__metadata.type`),
OData v2 (Edm.Int64 as a JSON string), Exact's FAQ (`current/Me?$select=CurrentDivision`).
"""

from __future__ import annotations

import re

import pytest
from exact_sandbox import catalog

# Endpoints with their own shape or mandatory parameters, tested elsewhere.
SPECIAL = {"current/Me", "read/sync/Sync/SyncTimestamp", "sync/Deleted"}
DOCUMENTED = [path for path in catalog.documented_endpoints() if path not in SPECIAL]


def documented_names(path: str) -> list[str]:
    return [field[0] for field in catalog.documented_endpoints()[path]["fields"]]


def params_for(path: str, select: list[str]) -> dict[str, str]:
    params = {"$select": ",".join(select), "$top": "1"}
    entity = catalog.endpoint_table()[_kind(path), path.lower()]
    if entity.mandatory_filter_fields and _kind(path) is catalog.Kind.STANDARD:
        params["$filter"] = "Modified gt datetime'2000-01-01'"
    return params


def _kind(path: str) -> catalog.Kind:
    first = path.split("/", 1)[0]
    return {"bulk": catalog.Kind.BULK, "sync": catalog.Kind.SYNC}.get(first, catalog.Kind.STANDARD)


@pytest.mark.parametrize("path", DOCUMENTED)
def test_every_documented_field_of_every_endpoint_is_served(exact, path):
    names = documented_names(path)
    response = exact.get(path, params_for(path, names))
    assert response.status_code == 200, response.text
    rows = response.json()["d"]["results"]
    assert rows, f"{path} served no rows"
    assert sorted(rows[0]) == sorted(["__metadata", *names])


def test_stored_rows_look_like_recorded_ones(exact):
    # Exact's SDK test data: Boolean flags false (not null), Byte flags 0/1, Creator set.
    fields = catalog.ACCOUNTS.fields_for(catalog.Kind.SYNC)
    rows = exact.all_rows(
        "sync/CRM/Accounts",
        {"$select": ",".join(f.name for f in fields), "$filter": "Timestamp gt 1"},
    )
    for row in rows:
        for field in fields:
            value = row[field.name]
            if field.edm is catalog.Edm.BOOLEAN:
                assert type(value) is bool, field.name
            elif field.edm is catalog.Edm.BYTE:
                assert value in (0, 1), field.name
        assert re.fullmatch(r"[0-9a-f-]{36}", row["Creator"])
        assert row["CreatorFullName"] == "Sandbox User"


def test_int64_values_are_json_strings(exact):
    sync = exact.get(
        "sync/Financial/TransactionLines", {"$select": "ID,Timestamp", "$top": "2"}
    ).json()["d"]["results"]
    assert all(type(row["Timestamp"]) is str and row["Timestamp"].isdigit() for row in sync)
    division = exact.get("system/Divisions", {"$select": "Code,Hid"}).json()["d"]["results"][0]
    assert type(division["Code"]) is int
    assert type(division["Hid"]) is str
    me = exact.get_url(f"{exact.base_url}/api/v1/current/Me?$select=Legislation,CurrentDivision")
    row = me.json()["d"]["results"][0]
    assert type(row["Legislation"]) is str  # "1" in Exact's own SDK test data
    assert type(row["CurrentDivision"]) is int


def test_plain_number_mode_writes_int64_as_json_numbers(plain):
    client = plain
    rows = client.get(
        "sync/Financial/TransactionLines", {"$select": "ID,Timestamp", "$top": "2"}
    ).json()["d"]["results"]
    assert all(type(row["Timestamp"]) is int for row in rows)
    stamp = client.get(
        "read/sync/Sync/SyncTimestamp",
        {
            "modified": "datetime'2000-01-01T00:00:00'",
            "endPoint": "'TransactionLines'",
            "$select": "TimeStampAsBigInt",
        },
    ).json()["d"]["results"][0]
    assert type(stamp["TimeStampAsBigInt"]) is int


def test_whole_amounts_are_json_integers_and_fractions_stay_exact(exact):
    text = exact.get(
        "sync/Financial/TransactionLines",
        {"$select": "ID,AmountDC,ExchangeRate", "$filter": "Timestamp gt 1"},
    ).text
    amounts = re.findall(r'"AmountDC":(-?[0-9.]+)', text)
    assert amounts
    assert not [a for a in amounts if a.endswith(".0")], "Exact writes 9075, not 9075.0"
    assert any("." not in a for a in amounts)
    assert any("." in a for a in amounts)
    assert set(re.findall(r'"ExchangeRate":([0-9.]+)', text)) == {"1"}


def test_codes_are_padded_like_exacts(exact):
    accounts = exact.get("sync/CRM/Accounts", {"$select": "Code,Country", "$top": "20"}).json()[
        "d"
    ]["results"]
    for row in accounts:
        assert len(row["Code"]) == 18
        assert row["Code"] == row["Code"].rjust(18)
        assert row["Country"] == "NL "
    items = exact.get(
        "sync/Logistics/Items", {"$select": "Code,Unit,SalesVatCode", "$top": "20"}
    ).json()["d"]["results"]
    assert {len(row["Unit"]) for row in items} == {8}
    assert {row["SalesVatCode"] for row in items} == {"02 "}


def test_current_me_honours_select_and_refuses_unknown_fields(exact):
    url = f"{exact.base_url}/api/v1/current/Me"
    only = exact.get_url(f"{url}?$select=CurrentDivision").json()["d"]["results"][0]
    assert set(only) == {"__metadata", "CurrentDivision"}
    assert only["__metadata"]["type"] == "Exact.Web.Api.System.Me"
    full = exact.get_url(url).json()["d"]["results"][0]
    assert sorted(full) == sorted(["__metadata", *(field.name for field in catalog.ME.fields)])
    refused = exact.get_url(f"{url}?$select=NoSuchField")
    assert refused.status_code == 400


def test_hrm_divisions_lists_the_accessible_divisions(exact):
    rows = exact.get("hrm/Divisions", {"$select": "Code,HID,Main,Description"}).json()["d"][
        "results"
    ]
    assert sorted(row["Code"] for row in rows) == sorted(exact.info["divisions"])
    system = {
        row["Code"]: row
        for row in exact.get(
            "system/Divisions", {"$select": "Code,Hid,IsMainDivision,Description"}
        ).json()["d"]["results"]
    }
    for row in rows:
        assert row["HID"] == system[row["Code"]]["Hid"]
        assert row["Main"] == system[row["Code"]]["IsMainDivision"]
        assert row["Description"] == system[row["Code"]]["Description"]
