"""Every stream emits every documented field of its endpoints, as the sandbox serves them.

The tap (`exact_endpoints.json`) and the sandbox (its own `exact_endpoints.json`) each carry
Exact's documented field lists; these tests keep the two copies equal and the streams complete.
"""

from __future__ import annotations

import pytest
from archive_devkit.entities import STREAM_ENTITIES
from exact_sandbox import catalog
from tap_exactonline.schema import DateKind, Edm, all_endpoints, endpoint
from tap_exactonline.streams import STREAM_TYPES
from tap_exactonline.streams.kinds import SyncStream
from tap_exactonline.streams.sales import SalesInvoiceLinesStream, SalesInvoicesStream

# The catalog declares Accounts once; the truth counts customers and suppliers apart.
ENTITY_OF_STREAM = {**STREAM_ENTITIES, "customers": "Accounts", "suppliers": "Accounts"}


def test_every_stream_is_mapped():
    assert sorted(ENTITY_OF_STREAM) == sorted(s.name for s in STREAM_TYPES)


@pytest.mark.parametrize("path", [e.path for e in all_endpoints()])
def test_tap_and_sandbox_carry_the_same_documented_fields(path):
    sandbox = catalog.documented_endpoints()[path]
    tap = endpoint(path)
    assert tap.reference == sandbox["reference"]
    as_listed = [[f.name, f.edm.value, *([f.date.value] if f.date else [])] for f in tap.fields]
    assert as_listed == sandbox["fields"]


def test_every_datetime_field_is_classified_and_nothing_else_is():
    for found in (f for e in all_endpoints() for f in e.fields):
        assert (found.date is not None) == (found.edm is Edm.DATETIME), found
    dates = {f.name: f.date for e in all_endpoints() for f in e.fields if f.date}
    # Spot checks against Exact's descriptions ("Creation date", "Date that payment should be
    # done", "Entry date").
    assert dates["Created"] is DateKind.MOMENT
    assert dates["Modified"] is DateKind.MOMENT
    assert dates["InvoiceDate"] is DateKind.CALENDAR
    assert dates["DueDate"] is DateKind.CALENDAR
    assert dates["Date"] is DateKind.CALENDAR


@pytest.mark.parametrize("stream_type", STREAM_TYPES, ids=lambda s: s.name)
def test_streams_read_the_sandbox_paths_of_their_entity(stream_type):
    entity = catalog.ENTITIES_BY_NAME[ENTITY_OF_STREAM[stream_type.name]]
    if issubclass(stream_type, SyncStream):
        assert stream_type.endpoint_paths() == (entity.sync_path,)
    else:
        assert entity.standard_path in stream_type.endpoint_paths()
        if getattr(stream_type, "bulk_path", None):
            assert stream_type.bulk_path == entity.bulk_path
    assert stream_type.deleted_entity_type == entity.deleted_entity_type


@pytest.mark.parametrize("stream_type", STREAM_TYPES, ids=lambda s: s.name)
def test_streams_emit_every_documented_field_with_its_json_type(stream_type):
    documented = {f.name: f for path in stream_type.endpoint_paths() for f in endpoint(path).fields}
    declared = {f.name: f for f in stream_type.declared_fields()}
    left_out = set(documented) - set(declared)
    assert left_out == set(stream_type.excluded_fields) | set(stream_type.feed_only_fields)
    for name, found in declared.items():
        assert found == documented[name]


def test_the_shared_sales_invoice_feed_is_split_without_losing_a_field():
    feed = {f.name for f in endpoint("sync/SalesInvoice/SalesInvoices").fields}
    headers = {f.name for f in SalesInvoicesStream.declared_fields()}
    lines = {f.name for f in SalesInvoiceLinesStream.declared_fields()}
    assert headers | lines | {"LineNumber"} == feed
    # Exact's SalesInvoiceLines page: every line field; its SalesInvoices page: every header
    # field (both served in the one sync feed).
    line_page = {f.name for f in catalog.SALES_INVOICE_LINES.fields_for(catalog.Kind.STANDARD)}
    header_page = {f.name for f in catalog.SALES_INVOICES.fields_for(catalog.Kind.STANDARD)}
    assert lines - {"Timestamp"} == feed & line_page
    assert headers - {"Timestamp"} == feed & header_page - {"LineNumber"}
