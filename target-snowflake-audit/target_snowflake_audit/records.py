"""Compiled record validation and CSV row encoding.

The SDK validates each record with jsonschema and then parses every date-time field, which
costs about 150 microseconds per 30-column record. Here the stream's schema is compiled once
into one small function per column that checks the value's JSON type and nullability and
renders the CSV field in the same step (values.py). Keywords a type check cannot express
(`enum`, `pattern`, `minimum`, nested `properties`, ...) are still enforced: those columns, and
only those, are additionally checked with a jsonschema validator built for that property.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from target_snowflake_audit.staging import csv_quote
from target_snowflake_audit.types import ColumnKind, is_nullable
from target_snowflake_audit.values import (
    Converter,
    MissingKeyProperty,
    RecordRejected,
    build_converter,
    canonical_bytes,
    canonical_json,
    render_boolean,
    render_date,
    render_integer,
    render_number,
    render_string,
    render_timestamp,
    utc_now,
    utc_timestamp,
)

_MISSING = object()
# Quote characters for CSV quoting in f-strings (which cannot hold a quote literal here).
_Q, _QQ, _BQ, _BQQ = '"', '""', b'"', b'""'


@dataclass(frozen=True)
class ColumnPlan:
    """Where one property goes and how it is checked."""

    property_name: str
    column_name: str
    nullable: bool
    convert: Converter


def _null_rejecter(name: str) -> Callable[[], str]:
    def reject() -> str:
        msg = f"null is not allowed for {name!r}"
        raise RecordRejected(msg)

    return reject


def _compile_data_encoder(columns: Sequence[ColumnPlan]) -> Callable[[Mapping[str, Any]], str]:
    """Generate one straight-line function rendering all data fields of a record.

    Running one generated function instead of a loop over per-column closures halves the
    per-record cost on wide streams. Per column, the common case is tested first: a value of
    the column's own type (strings, integers, floats, booleans) is rendered inline, valid
    date-time and date texts are remembered (tap data repeats them a lot: `Created`,
    `Modified`, dates); then null and missing (both an empty field, but null is refused for a
    non-nullable column); anything else goes to the column's compiled converter, which renders
    it or raises.
    """
    namespace: dict[str, Any] = {
        "_MISSING": _MISSING,
        "timestamp_cache": {},
        "date_cache": {},
        "_CACHE_LIMIT": _CACHE_LIMIT,
        "_Q": '"',
        "_QQ": '""',
        "Decimal": Decimal,
    }
    body = ["def encode_data(record):", "    get = record.get"]
    fields = []
    for index, plan in enumerate(columns):
        convert = f"convert_{index}"
        namespace[convert] = plan.convert
        namespace[f"reject_null_{index}"] = _null_rejecter(plan.property_name)
        namespace[f"name_{index}"] = plan.property_name
        field = f"f{index}"
        branches = _fast_path(plan.convert, convert, field)
        if plan.nullable:
            # Missing and null render alike (an empty field): one lookup without a sentinel.
            body.append(f"    v = get(name_{index})")
            branches += [("v is None", [f'{field} = ""'])]
        else:
            body.append(f"    v = get(name_{index}, _MISSING)")
            branches += [
                ("v is None", [f"{field} = reject_null_{index}()"]),
                ("v is _MISSING", [f'{field} = ""']),
            ]
        for number, (condition, lines) in enumerate(branches):
            body.append(f"    {'if' if number == 0 else 'elif'} {condition}:")
            body += [f"        {line}" for line in lines]
        body += ["    else:", f"        {field} = {convert}(v)"]
        fields.append(field)
    body.append(f"    return ','.join(({', '.join(fields)}{',' if len(fields) == 1 else ''}))")
    exec(compile("\n".join(body), "<row encoder>", "exec"), namespace)  # noqa: S102 - generated from a fixed template, no input text
    return cast("Callable[[Mapping[str, Any]], str]", namespace["encode_data"])


# Remembered date-time/date renderings per encoder before the memo starts over (bounds memory).
_CACHE_LIMIT = 4096


def _fast_path(converter: Converter, convert: str, field: str) -> list[tuple[str, list[str]]]:
    """Return (condition, lines) branches rendering a value of the column's own type inline.

    Each branch produces exactly what the column's converter returns for the values its
    condition admits; every other value (null and missing aside) goes to the converter.
    """
    if converter is render_string:
        return [("type(v) is str", [f"{field} = f'\"{{v.replace(_Q, _QQ)}}\"'"])]
    if converter is render_integer:
        # Up to 38 digits inline; longer (or negative 38-digit) values get range-checked.
        return [
            (
                "type(v) is int",
                [f"{field} = str(v)", f"if len({field}) > 38:", f"    {field} = {convert}(v)"],
            )
        ]
    if converter is render_number:
        # str() of a decoded Decimal is its exact text; exponents, more than 9 decimals and
        # more than 20 characters take the converter's rounding and range check.
        return [
            (
                "type(v) is Decimal",
                [
                    f"{field} = str(v)",
                    f"if 'E' in {field} or len({field}) > 20 or '.' in {field}[:-10]"
                    f" or not {field}[-1].isdigit():",
                    f"    {field} = {convert}(v)",
                ],
            ),
            (
                "type(v) is int",
                [f"{field} = str(v)", f"if len({field}) > 20:", f"    {field} = {convert}(v)"],
            ),
        ]
    if converter is render_boolean:
        return [("v is True", [f'{field} = "true"']), ("v is False", [f'{field} = "false"'])]
    if converter is render_timestamp or converter is render_date:
        cache = "timestamp_cache" if converter is render_timestamp else "date_cache"
        return [
            (
                "type(v) is str",
                [
                    f"{field} = {cache}.get(v)",
                    f"if {field} is None:",
                    f"    {field} = {convert}(v)",
                    f"    if len({cache}) >= _CACHE_LIMIT:",
                    f"        {cache}.clear()",
                    f"    {cache}[v] = {field}",
                ],
            )
        ]
    return []


class RowEncoder:
    """Validates a record against its stream's schema and renders it as one CSV line."""

    def __init__(
        self,
        *,
        columns: Sequence[ColumnPlan],
        required: Sequence[str],
        allow_additional: bool,
        key_properties: Sequence[str],
        tenant_property: str,
        source_system: str,
        store_document: bool,
    ) -> None:
        """Compile the encoder.

        Args:
            columns: One plan per schema property, in file column order.
            required: Properties the schema marks as required.
            allow_additional: False when the schema sets `additionalProperties: false`.
            key_properties: The stream's key properties (for `_record_id`).
            tenant_property: The property holding the division (for `_division_id`).
            source_system: Value of `_source_system`.
            store_document: Whether to fill `_document`.
        """
        self._encode_data = _compile_data_encoder(columns) if columns else None
        self._columns = [(c.property_name, c.nullable, c.convert) for c in columns]
        self._required = tuple(required)
        self._known = frozenset(c.property_name for c in columns)
        self._allow_additional = allow_additional
        self._keys = tuple(key_properties)
        self._single_key = self._keys[0] if len(self._keys) == 1 else None
        self._tenant = tenant_property
        self._source = csv_quote(source_system)
        self._store_document = store_document
        self._last_extracted: tuple[Any, str] = (None, "")

    def encode_record(
        self,
        record: Mapping[str, Any],
        *,
        time_extracted: Any,
        deleted_at: Any,
        sequence: int,
        batch_id: str,
        document: bytes | None = None,
    ) -> str:
        """Validate a record as received in a RECORD message and return its CSV line.

        Args:
            record: The record (after stream maps).
            time_extracted: The message's `time_extracted` (None when absent).
            deleted_at: The record's `_sdc_deleted_at`, captured before any stripping.
            sequence: `_sequence`.
            batch_id: `_batch_id`.
            document: The `_document` bytes when they are not the record's own canonical
                JSON (the record carries added `_sdc_*` metadata); see `canonical_bytes`.

        Returns:
            The CSV line including the newline.

        Raises:
            RecordRejected: The record violates the schema or lacks a key property.
        """
        if deleted_at is None:
            deleted_text = ""
        else:
            try:
                deleted_text = utc_timestamp(str(deleted_at))
            except ValueError:
                msg = f"property '_sdc_deleted_at': invalid date-time {deleted_at!r:.80}"
                raise RecordRejected(msg) from None
        last = self._last_extracted
        if time_extracted is not None and time_extracted == last[0]:
            synced_at = last[1]
        else:
            synced_at = self._synced_at(time_extracted)
        return self.encode(
            record,
            canonical_bytes(record) if document is None else document,
            synced_at=synced_at,
            deleted_at=deleted_text,
            sequence=sequence,
            batch_id=batch_id,
        )

    def _synced_at(self, time_extracted: Any) -> str:
        """Return `_synced_at`: the message's extraction time, else the receive time."""
        if time_extracted:
            try:
                value = utc_timestamp(str(time_extracted))
            except ValueError:
                return utc_now()
            self._last_extracted = (time_extracted, value)
            return value
        return utc_now()

    def encode(
        self,
        record: Mapping[str, Any],
        document: bytes,
        *,
        synced_at: str,
        deleted_at: str,
        sequence: int,
        batch_id: str,
    ) -> str:
        """Validate a record and return its CSV line (data columns, then audit columns).

        Args:
            record: The record as received (after stream maps).
            document: `canonical_json(record)`, UTF-8 encoded (see `canonical_bytes`).
            synced_at: `_synced_at` field text.
            deleted_at: `_deleted_at` field text (empty for live records).
            sequence: `_sequence`.
            batch_id: `_batch_id`.

        Returns:
            The CSV line including the newline.

        Raises:
            RecordRejected: The record violates the schema or lacks a key property.
        """
        try:
            data = self._encode_data(record) if self._encode_data is not None else None
        except RecordRejected as exc:
            raise RecordRejected(self._explain(record, exc)) from None
        for name in self._required:
            if name not in record:
                msg = f"required property {name!r} is missing"
                raise RecordRejected(msg)
        if not self._allow_additional:
            extra = [k for k in record if k not in self._known and not k.startswith("_sdc_")]
            if extra:
                msg = f"additional properties are not allowed: {sorted(extra)}"
                raise RecordRejected(msg)

        record_hash = hashlib.sha256(document).hexdigest()
        division = record.get(self._tenant)
        if division is None:
            division_field = ""
        elif type(division) is int:  # canonical JSON of an integer is its decimal text
            division_field = f'"{division}"'
        else:
            division_field = csv_quote(_as_text(division))
        single = self._single_key
        record_id = record.get(single, _MISSING) if single is not None else _MISSING
        if type(record_id) is str:
            record_id_field = f'"{record_id.replace(_Q, _QQ)}"'
        else:
            record_id_field = csv_quote(self._record_id(record, record_hash))
        document_field = f'"{document.replace(_BQ, _BQQ).decode()}"' if self._store_document else ""
        audit = (
            f"{self._source},{synced_at},{division_field},{record_id_field},{record_hash},"
            f"{batch_id},{sequence},{deleted_at},{document_field}\n"
        )
        return audit if data is None else f"{data},{audit}"

    def _explain(self, record: Mapping[str, Any], error: RecordRejected) -> str:
        """Name the property behind a rejection (the generated code does not track it)."""
        for name, nullable, convert in self._columns:
            value = record.get(name)
            try:
                if value is None:
                    if not nullable and name in record:
                        return f"property {name!r}: null is not allowed"
                else:
                    convert(value)
            except RecordRejected as exc:
                return f"property {name!r}: {exc}"
        return str(error)

    def _record_id(self, record: Mapping[str, Any], record_hash: str) -> str:
        single = self._single_key
        if single is not None and single in record:
            return _as_text(record[single])
        if not self._keys:
            # Without keys every distinct content is its own identity.
            return record_hash
        missing = [key for key in self._keys if key not in record]
        if missing:
            msg = f"key properties {missing} are missing"
            raise MissingKeyProperty(msg)
        return canonical_json([record[key] for key in self._keys])


@dataclass(frozen=True)
class ColumnSpec:
    """One property's column, as plain data (sent to worker processes)."""

    property_name: str
    column_name: str
    property_schema: Mapping[str, Any]
    kind: ColumnKind


@dataclass(frozen=True)
class EncoderSpec:
    """Everything a RowEncoder is compiled from; plain data, so it can be pickled."""

    columns: tuple[ColumnSpec, ...]
    required: tuple[str, ...]
    allow_additional: bool
    key_properties: tuple[str, ...]
    tenant_property: str
    source_system: str
    store_document: bool

    def build(self) -> RowEncoder:
        """Compile the encoder this spec describes.

        Returns:
            A new RowEncoder.
        """
        plans = [
            ColumnPlan(
                property_name=column.property_name,
                column_name=column.column_name,
                nullable=is_nullable(column.property_schema),
                convert=build_converter(column.property_schema, column.kind),
            )
            for column in self.columns
        ]
        return RowEncoder(
            columns=plans,
            required=self.required,
            allow_additional=self.allow_additional,
            key_properties=self.key_properties,
            tenant_property=self.tenant_property,
            source_system=self.source_system,
            store_document=self.store_document,
        )


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else canonical_json(value)
