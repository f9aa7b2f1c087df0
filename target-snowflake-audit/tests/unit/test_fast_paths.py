"""The hot path's shortcuts give exactly what the plain converters give (no emulator needed)."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import math
from decimal import Decimal
from typing import Any

import pytest
from target_snowflake_audit import messages
from target_snowflake_audit.messages import LineNumberingReader
from target_snowflake_audit.records import (
    ColumnPlan,
    RecordRejected,
    RowEncoder,
    build_converter,
    canonical_bytes,
    canonical_json,
)
from target_snowflake_audit.types import column_kind, is_nullable
from target_snowflake_audit.values import render_date, render_utc, utc_timestamp

PROPERTIES: dict[str, Any] = {
    "id": {"type": "string"},
    "count": {"type": ["integer", "null"]},
    "amount": {"type": ["number", "null"]},
    "name": {"type": ["string", "null"]},
    "stamp": {"type": ["string", "null"], "format": "date-time"},
    "day": {"type": ["string", "null"], "format": "date"},
    "flag": {"type": ["boolean", "null"]},
    "extra": {"type": ["object", "null"]},
}


def _encoder(**overrides: Any) -> RowEncoder:
    plans = [
        ColumnPlan(name, name, is_nullable(schema), build_converter(schema, column_kind(schema)))
        for name, schema in PROPERTIES.items()
    ]
    settings: dict[str, Any] = {
        "columns": plans,
        "required": [],
        "allow_additional": True,
        "key_properties": ["id"],
        "tenant_property": "count",
        "source_system": "src",
        "store_document": True,
    } | overrides
    return RowEncoder(**settings)


def test_a_missing_non_nullable_property_is_an_empty_field() -> None:
    assert _row({"name": "n"}, _encoder(key_properties=[]))[0] == ""


def _row(record: dict[str, Any], encoder: RowEncoder | None = None) -> list[str]:
    line = (encoder or _encoder()).encode(
        record, canonical_bytes(record), synced_at="s", deleted_at="", sequence=7, batch_id="b"
    )
    assert line.endswith("\n")
    (row,) = csv.reader(io.StringIO(line))
    return row


def _slow_field(name: str, value: Any) -> str:
    schema = PROPERTIES[name]
    text = build_converter(schema, column_kind(schema))(value)
    return next(csv.reader([text]))[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("amount", Decimal("1.5")),
        ("amount", Decimal("-0.1")),
        ("amount", Decimal("12.50")),
        ("amount", Decimal("1E+16")),
        ("amount", Decimal("1.5E-7")),
        ("amount", Decimal("0.30000000000000004")),
        ("amount", Decimal("12345678901234567890123456789.123456789")),
        ("amount", 12),
        ("amount", 2**70),
        ("count", 3),
        ("count", 10**37),
        ("count", Decimal("4.0")),
        ("name", 'He said "hi", then left\nnew line'),
        ("name", ""),
        ("name", "comma,separated"),
        ("stamp", "2024-01-01T10:00:00+02:00"),
        ("stamp", "2024-01-01T10:00:00Z"),
        ("stamp", "2024-01-01T10:00:00"),
        ("day", "2024-01-31"),
        ("day", "2024-01-31T23:00:00+00:00"),
        ("flag", True),
        ("flag", False),
        ("extra", {"a": '"q"'}),
    ],
)
def test_inlined_fields_match_the_converters(name: str, value: Any) -> None:
    row = _row({"id": "k", name: value})
    column = list(PROPERTIES).index(name)
    assert row[column] == _slow_field(name, value)


def test_null_and_missing_are_empty_and_empty_string_is_quoted() -> None:
    line = _encoder().encode(
        {"id": "k", "name": "", "count": None},
        canonical_bytes({"id": "k", "name": "", "count": None}),
        synced_at="s",
        deleted_at="",
        sequence=1,
        batch_id="b",
    )
    fields = line.split(",")
    assert fields[1] == ""  # count: null
    assert fields[2] == ""  # amount: missing
    assert fields[3] == '""'  # name: empty string, distinct from NULL


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("amount", math.nan),
        ("amount", math.inf),
        ("amount", "1.5"),
        ("amount", True),
        ("amount", Decimal("1E+29")),
        ("amount", 10**29),
        ("count", Decimal("1.5")),
        ("count", 10**38),
        ("count", False),
        ("name", 5),
        ("stamp", "not a time"),
        ("stamp", 5),
        ("day", "2024-02-30"),
        ("flag", 1),
        ("extra", [1]),
        ("id", None),
    ],
)
def test_inlined_fields_reject_what_the_converters_reject(name: str, value: Any) -> None:
    with pytest.raises(RecordRejected, match=name):
        _row({"id": "k", name: value})


def test_remembered_date_times_stay_per_column_kind_and_never_remember_bad_values() -> None:
    encoder = _encoder()
    stamp = "2024-03-01T12:00:00+01:00"
    for _ in range(3):
        row = _row({"id": "k", "stamp": stamp, "day": stamp}, encoder)
        assert row[4] == "2024-03-01 11:00:00.000000 +00:00"
        assert row[5] == "2024-03-01"
    for _ in range(2):
        with pytest.raises(RecordRejected, match="stamp"):
            _row({"id": "k", "stamp": "2024-13-01T00:00:00"}, encoder)


def test_audit_fields_from_the_document_bytes() -> None:
    record = {"id": 'a"b', "count": 100101, "name": "é ü", "extra": {"z": 1, "a": [1, "x"]}}
    row = _row(record)
    audit = row[len(PROPERTIES) :]
    canonical = canonical_json(record)
    assert audit[2] == "100101"  # _division_id
    assert audit[3] == 'a"b'  # _record_id
    assert audit[4] == hashlib.sha256(canonical.encode()).hexdigest()
    assert audit[8] == canonical  # _document
    assert audit[6] == "7"


def test_record_id_of_a_non_string_key_and_of_a_keyless_stream() -> None:
    assert _row({"id": "x", "count": 5}, _encoder(key_properties=["count"]))[-6] == "5"
    assert _row({"id": "x", "count": 5}, _encoder(key_properties=["id", "count"]))[-6] == '["x",5]'
    keyless = _row({"id": "x"}, _encoder(key_properties=[]))
    assert keyless[len(PROPERTIES) + 3] == keyless[len(PROPERTIES) + 4]


def _read(data: bytes, *, binary: bool) -> list[tuple[int, str]]:
    reader = LineNumberingReader()
    seen: list[tuple[int, str]] = []

    def record(message: dict[str, Any]) -> None:
        seen.append((reader.line_number, str(message["n"])))

    def invalid(kind: str, reason: str, number: int, stream: str | None) -> None:
        seen.append((number, f"bad {reader.line_text!r} {reason[:12]}"))

    reader.on_bad_input = invalid
    source: io.TextIOBase
    if binary:
        source = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    else:
        source = io.StringIO(data.decode("utf-8", errors="replace"), newline=None)
    reader.process_lines(source, {"RECORD": record})  # type: ignore[arg-type]
    return seen


def test_binary_input_reads_lines_like_text_mode() -> None:
    data = (
        b'{"type":"RECORD","n":1}\r\n{"type":"RECORD","n":2}\r{"type":"RECORD","n":3}\n'
        b'\n{"type":"RECORD","n":"\xc3\xa9"}\n{"type":"RECORD","n":4}'
    )
    assert _read(data, binary=True) == _read(data, binary=False)
    assert _read(data, binary=True)[-1] == (6, "4")


def test_binary_input_reports_a_line_that_is_not_utf8_as_invalid() -> None:
    seen = _read(b'{"type":"RECORD","n":1}\n{"type":"RECORD","n":"\xff"}\n', binary=True)
    assert seen[0] == (1, "1")
    assert seen[1][0] == 2
    assert seen[1][1].startswith("bad ")
    assert "invalid JSON" in seen[1][1]


@pytest.mark.parametrize("read_size", [1, 2, 7, 64])
def test_binary_input_lines_survive_any_chunk_boundary(
    read_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (
        b'{"type":"RECORD","n":1}\r\n{"type":"RECORD","n":2}\r{"type":"RECORD","n":3}\n'
        b'\n{"type":"RECORD","n":"\xc3\xa9"}\n{"type":"RECORD","n":4}'
    )
    expected = _read(data, binary=False)
    monkeypatch.setattr(messages, "_READ_SIZE", read_size)
    assert _read(data, binary=True) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T10:00:00+00:00",
        "2024-01-01T10:00:00Z",
        "2024-01-01T10:00:00",
        "2024-01-01T10:00:00.123456Z",
        "2024-01-01T10:00:00.123456+00:00",
        "2024-01-01T10:00:00.123Z",
        "0999-12-31T23:59:59.000001",
        "2024-01-01T10:00:00-00:00",
    ],
)
def test_utc_texts_respelled_without_rendering_match_the_rendering(text: str) -> None:
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    assert utc_timestamp(text) == render_utc(parsed)


@pytest.mark.parametrize("text", ["2024-01-31", "2024-W05-3", "20240131", "0999-01-02"])
def test_dates_render_as_yyyy_mm_dd(text: str) -> None:
    assert render_date(text) == datetime.date.fromisoformat(text).isoformat()
