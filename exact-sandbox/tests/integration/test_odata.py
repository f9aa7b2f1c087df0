"""Behaviour 4: OData v2 as Exact speaks it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from exact_sandbox.catalog import TRANSACTION_LINES, Kind

GL = "financial/GLAccounts"


def test_json_only_when_asked_otherwise_atom_xml(exact):
    response = exact.get(GL, {"$select": "ID,Code,IsBlocked,Modified"}, accept_json=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own sandbox's output
    atom = "{http://www.w3.org/2005/Atom}"
    entries = root.findall(f"{atom}entry")
    assert len(entries) == 60
    assert root.find(f"{atom}link[@rel='next']") is not None


def test_collection_shape_with_metadata_on_rows(exact):
    body = exact.get(GL, {"$select": "ID,Code"}).json()
    assert set(body) == {"d"}
    row = body["d"]["results"][0]
    assert set(row) == {"__metadata", "ID", "Code"}
    # As recorded in Exact's own .NET SDK test data.
    assert row["__metadata"]["type"] == "Exact.Web.Api.Models.GLAccount"
    assert row["__metadata"]["uri"].endswith(f"/financial/GLAccounts(guid'{row['ID']}')")


def test_next_link_is_absolute_and_keeps_every_option(exact):
    params = {"$select": "ID,Code", "$filter": "Code ge '0000'", "$inlinecount": "allpages"}
    body = exact.get(GL, params).json()["d"]
    next_url = urlsplit(body["__next"])
    assert next_url.scheme == "http"
    assert next_url.netloc == urlsplit(exact.base_url).netloc
    query = parse_qs(next_url.query)
    assert query["$select"] == ["ID,Code"]
    assert query["$filter"] == ["Code ge '0000'"]
    assert query["$inlinecount"] == ["allpages"]
    assert query["$skiptoken"][0].startswith("guid'")
    rest = exact.get_url(body["__next"]).json()["d"]
    assert "__next" not in rest
    ids = [row["ID"] for row in body["results"] + rest["results"]]
    assert len(ids) == len(set(ids)) == int(body["__count"])


def test_dates_are_amsterdam_wall_clock_milliseconds(exact):
    created = exact.admin(
        "post",
        "mutate",
        {
            "operations": [
                {
                    "action": "create",
                    "division": exact.division,
                    "entity": "Costunits",
                    "fields": {"Code": "TZ", "Description": "Time zone check"},
                }
            ]
        },
    )["results"][0]
    row = exact.get(f"hrm/Costunits(guid'{created['ID']}')", {"$select": "ID"})
    assert row.status_code == 404  # single-entity paths are not emulated
    rows = exact.get("hrm/Costunits", {"$select": "ID,Modified", "$filter": "Code eq 'TZ'"})
    modified = rows.json()["d"]["results"][0]["Modified"]
    ms = int(modified[len("/Date(") : -len(")/")])
    now = datetime.fromtimestamp(exact.admin("get", "clock")["epoch"], tz=UTC)
    wall = now.astimezone(ZoneInfo("Europe/Amsterdam")).replace(tzinfo=UTC)
    assert abs(ms / 1000 - wall.timestamp()) < 5
    assert abs(ms / 1000 - now.timestamp()) > 3500  # CET/CEST, not UTC


@pytest.mark.parametrize(
    ("expression", "predicate"),
    [
        ("Type eq 110", lambda r: r["Type"] == 110),
        ("Type ne 110", lambda r: r["Type"] != 110),
        ("Type gt 100 and Type le 122", lambda r: 100 < r["Type"] <= 122),
        ("Type lt 20 or Type ge 150", lambda r: r["Type"] < 20 or r["Type"] >= 150),
        ("IsBlocked eq true", lambda r: r["IsBlocked"]),
        ("BalanceSide eq 'C'", lambda r: r["BalanceSide"] == "C"),
        ("Modified gt datetime'2000-01-01T00:00:00'", lambda r: True),
        ("Timestamp gt 1L", lambda r: True),
        ("substringof('Revenue', Description)", lambda r: "revenue" in r["Description"].lower()),
        ("startswith(Code, '4')", lambda r: r["Code"].startswith("4")),
    ],
)
def test_filter_operators_and_literals(exact, expression, predicate):
    select = {"$select": "ID,Type,IsBlocked,BalanceSide,Description,Code,Timestamp"}
    everything = exact.all_rows("sync/Financial/GLAccounts", select)
    expected = {row["ID"] for row in everything if predicate(row)}
    path = "financial/GLAccounts"
    if "Timestamp" in expression:
        path = "sync/Financial/GLAccounts"
    rows = exact.all_rows(path, {"$select": "ID", "$filter": expression})
    assert {row["ID"] for row in rows} == expected
    assert expected


def test_filter_by_guid_literal(exact):
    first = exact.get(GL, {"$select": "ID,Code", "$top": "1"}).json()["d"]["results"][0]
    rows = exact.get(GL, {"$select": "ID,Code", "$filter": f"ID eq guid'{first['ID']}'"})
    assert [row["Code"] for row in rows.json()["d"]["results"]] == [first["Code"]]


def test_top_limits_rows_without_next(exact):
    body = exact.get(GL, {"$select": "ID", "$top": "5"}).json()["d"]
    assert len(body["results"]) == 5
    assert "__next" not in body


def test_top_larger_than_a_page_continues_in_next(exact):
    body = exact.get(GL, {"$select": "ID", "$top": "62"}).json()["d"]
    assert len(body["results"]) == 60
    rest = exact.get_url(body["__next"]).json()["d"]
    assert len(rest["results"]) == 2
    assert "__next" not in rest


def test_orderby_on_standard_endpoints_pages_consistently(exact):
    rows = exact.all_rows(
        "crm/Accounts",
        {"$select": "ID,Name", "$orderby": "Name desc", "$filter": "Blocked eq false"},
    )
    names = [row["Name"] for row in rows]
    assert names == sorted(names, reverse=True)
    assert len(rows) > 60
    assert len({row["ID"] for row in rows}) == len(rows)


def test_error_body_has_exact_shape(exact):
    response = exact.get(GL, {"$select": "ID", "$filter": "ID eq 'not-a-guid'"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == ""
    assert error["message"]["lang"] == ""
    assert "incompatible" in error["message"]["value"]


def test_invalid_guid_literal_is_refused(exact):
    response = exact.get(GL, {"$select": "ID", "$filter": "ID eq guid'dsadsds'"})
    assert response.status_code == 400
    assert "Unrecognized 'Edm.Guid' literal" in response.json()["error"]["message"]["value"]


def test_count_path_returns_bare_integer(exact):
    response = exact.get("financial/GLAccounts/$count")
    assert response.status_code == 200
    assert int(response.text) > 60


def test_full_field_pages_equal_pages_of_explicit_field_lists(exact):
    names = [field.name for field in TRANSACTION_LINES.fields_for(Kind.SYNC)]
    params = {"$filter": "Timestamp gt 1"}
    full = exact.get("sync/Financial/TransactionLines", {**params, "$select": ",".join(names)})
    partial = exact.get(
        "sync/Financial/TransactionLines", {**params, "$select": ",".join(names[:-2])}
    )
    full_rows = full.json()["d"]["results"]
    partial_rows = partial.json()["d"]["results"]
    assert len(full_rows) == len(partial_rows) == 1000
    for whole, part in zip(full_rows, partial_rows, strict=True):
        assert {key: whole[key] for key in part} == part
        assert set(whole) == {"__metadata", *names}


def test_small_feeds_are_atom_xml_without_json_accept(exact):
    me = exact.session.get(
        f"{exact.base_url}/api/v1/current/Me", headers=exact.headers(accept_json=False)
    )
    assert me.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(me.content)  # noqa: S314 - our own sandbox's output
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    stamp = exact.get(
        "read/sync/Sync/SyncTimestamp",
        {"modified": "datetime'2024-01-01'", "endPoint": "'TransactionLines'"},
        accept_json=False,
    )
    assert stamp.status_code == 200
    assert b"TimeStampAsBigInt" in stamp.content
    error = exact.get("bulk/Financial/TransactionLines", accept_json=False)
    assert error.status_code == 400
    assert ET.fromstring(error.content).tag.endswith("error")  # noqa: S314
