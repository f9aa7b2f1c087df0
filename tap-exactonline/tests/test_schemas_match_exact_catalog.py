"""Every stream's declared fields match Exact's names and Edm types (the sandbox catalog)."""

from __future__ import annotations

import pytest
from exact_sandbox import catalog
from tap_exactonline.client import FullTableStream, ModifiedStream, SyncStream
from tap_exactonline.streams import STREAM_TYPES
from tap_exactonline.streams.financial import DivisionsStream
from tap_exactonline_testkit import TRUTH_ENTITY

# The catalog declares Accounts once; the truth counts customers and suppliers apart.
ENTITY_OF_STREAM = {**TRUTH_ENTITY, "customers": "Accounts", "suppliers": "Accounts"}


def test_every_stream_is_mapped():
    assert sorted(ENTITY_OF_STREAM) == sorted(s.name for s in STREAM_TYPES)


@pytest.mark.parametrize("stream_type", STREAM_TYPES, ids=lambda s: s.name)
def test_stream_fields_are_exacts_names_and_types(stream_type):
    entity = catalog.ENTITIES_BY_NAME[ENTITY_OF_STREAM[stream_type.name]]
    if issubclass(stream_type, SyncStream):
        kind = catalog.Kind.SYNC
        feed = catalog.ENTITIES_BY_NAME[entity.sync_feed_owner or entity.name]
        served = {f.name: f.edm.value for f in feed.fields_for(kind)}
        assert stream_type.sync_path == entity.sync_path
    else:
        kind = catalog.Kind.STANDARD
        served = {f.name: f.edm.value for f in entity.fields_for(kind)}
        if issubclass(stream_type, (ModifiedStream, FullTableStream, DivisionsStream)):
            assert stream_type.standard_path == entity.standard_path
    declared = {f.name: f.edm.value for f in stream_type.exact_fields}
    for name in stream_type.feed_only_fields:
        assert name in served
    assert declared.items() <= served.items(), set(declared.items()) - set(served.items())
    own_fields = {f.name for f in entity.fields_for(kind)} | {"Timestamp"}
    assert set(declared) <= own_fields | set(served)
    # Nothing the entity serves is left out (except line fields of a shared sync feed).
    expected = {f.name for f in entity.fields_for(kind)}
    if kind is catalog.Kind.SYNC:
        expected |= {"Timestamp"}
    if entity.name == "SalesInvoices":
        expected = {f.name for f in entity.fields} - {
            "ID",
            "CostCenter",
            "CostUnit",
            "GLAccount",
            "Item",
            "ItemCode",
            "LineNumber",
            "Quantity",
            "UnitPrice",
            "VATCode",
            "VATPercentage",
        }
    assert expected <= set(declared), expected - set(declared)


@pytest.mark.parametrize("stream_type", STREAM_TYPES, ids=lambda s: s.name)
def test_deleted_entity_types_match(stream_type):
    entity = catalog.ENTITIES_BY_NAME[ENTITY_OF_STREAM[stream_type.name]]
    assert stream_type.deleted_entity_type == entity.deleted_entity_type


def test_bulk_paths_match():
    for stream_type in STREAM_TYPES:
        bulk_path = getattr(stream_type, "bulk_path", None)
        if bulk_path:
            entity = catalog.ENTITIES_BY_NAME[ENTITY_OF_STREAM[stream_type.name]]
            assert bulk_path == entity.bulk_path
            bulk_served = {f.name for f in entity.fields_for(catalog.Kind.BULK)}
            selected = {f.name for f in stream_type.exact_fields if f.bulk}
            assert selected <= bulk_served
