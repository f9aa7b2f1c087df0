"""Field declarations: Exact field names with their Edm types, turned into JSON schemas.

Every endpoint the tap reads is described once, in ``exact_endpoints.json``: each documented
field with the Edm type from Exact's reference page and, for ``Edm.DateTime``, whether it is a
calendar date or a moment. Streams name the endpoints they read; this module builds their Singer
schemas and ``$select`` lists from those declarations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any


class Edm(StrEnum):
    """The OData v2 primitive types Exact uses."""

    GUID = "Edm.Guid"
    STRING = "Edm.String"
    BYTE = "Edm.Byte"
    INT16 = "Edm.Int16"
    INT32 = "Edm.Int32"
    INT64 = "Edm.Int64"
    SINGLE = "Edm.Single"
    DOUBLE = "Edm.Double"
    DECIMAL = "Edm.Decimal"
    DATETIME = "Edm.DateTime"
    BOOLEAN = "Edm.Boolean"
    BINARY = "Edm.Binary"


class DateKind(StrEnum):
    """What an ``Edm.DateTime`` field holds (classified from Exact's reference pages)."""

    #: A calendar date (InvoiceDate, DueDate...): Amsterdam midnight, emitted as the date.
    CALENDAR = "calendar"
    #: A moment (Created, Modified...): Amsterdam wall-clock time, emitted as a UTC instant.
    MOMENT = "moment"


_INTEGER = {"type": ["integer", "null"]}
# Amounts are parsed as Decimal and written as exact JSON numbers, never rounded floats.
_NUMBER = {"type": ["number", "null"]}
_STRING = {"type": ["string", "null"]}
_JSON_TYPES: dict[Edm, dict[str, Any]] = {
    Edm.GUID: _STRING,
    Edm.STRING: _STRING,
    Edm.BYTE: _INTEGER,
    Edm.INT16: _INTEGER,
    Edm.INT32: _INTEGER,
    Edm.INT64: _INTEGER,
    Edm.SINGLE: _NUMBER,
    Edm.DOUBLE: _NUMBER,
    Edm.DECIMAL: _NUMBER,
    Edm.BOOLEAN: {"type": ["boolean", "null"]},
    # OData v2 JSON writes binary values as base64 text.
    Edm.BINARY: {"type": ["string", "null"], "contentEncoding": "base64"},
}
_DATE_TYPES: dict[DateKind, dict[str, Any]] = {
    DateKind.CALENDAR: {"type": ["string", "null"], "format": "date"},
    DateKind.MOMENT: {"type": ["string", "null"], "format": "date-time"},
}

#: Tombstones carry this (Singer convention): when the Deleted feed recorded the deletion.
DELETED_AT = "_sdc_deleted_at"


@dataclass(frozen=True)
class ExactField:
    """One Exact property as an endpoint serves it.

    Attributes:
        name: Exact's field name (case-sensitive).
        edm: Exact's Edm type.
        date: For ``Edm.DateTime``: a calendar date or a moment; None for other types.
    """

    name: str
    edm: Edm
    date: DateKind | None = None

    @property
    def json_schema(self) -> dict[str, Any]:
        """The Singer (JSON schema) type of the field's values."""
        if self.edm is Edm.DATETIME:
            return dict(_DATE_TYPES[self.date or DateKind.MOMENT])
        return dict(_JSON_TYPES[self.edm])


@dataclass(frozen=True)
class Where:
    """A declarative condition on one field of a row (for feed filters and derived flags).

    Attributes:
        field: The field tested.
        equals: The value it must equal (when ``truthy`` is None).
        truthy: When set, the field's truthiness must be this.
    """

    field: str
    equals: Any = None
    truthy: bool | None = None

    def __call__(self, row: dict[str, Any]) -> bool:
        """Test a row.

        Args:
            row: A record as read from Exact (values already shaped, see values.py).

        Returns:
            Whether the condition holds.
        """
        value = row.get(self.field)
        if self.truthy is not None:
            return bool(value) is self.truthy
        return bool(value == self.equals)


@dataclass(frozen=True)
class Endpoint:
    """One Exact endpoint as documented: its path, reference page and fields.

    Attributes:
        path: Relative to ``/api/v1/{division}/``, e.g. ``sync/Financial/TransactionLines``.
        reference: Exact's reference page documenting the fields.
        fields: Every documented field, in the reference page's order.
        groups: Named subsets of the fields (the header and line fields of a shared feed).
    """

    path: str
    reference: str
    fields: tuple[ExactField, ...]
    groups: dict[str, frozenset[str]]

    def field_names(self) -> tuple[str, ...]:
        """The documented field names, in order."""
        return tuple(field.name for field in self.fields)


@cache
def _endpoint_table() -> dict[str, Endpoint]:
    text = resources.files("tap_exactonline").joinpath("exact_endpoints.json").read_text("utf-8")
    table: dict[str, Endpoint] = {}
    for path, declared in json.loads(text)["endpoints"].items():
        fields = []
        for entry in declared["fields"]:
            name, edm = entry[0], Edm(entry[1])
            date = DateKind(entry[2]) if edm is Edm.DATETIME else None
            fields.append(ExactField(name, edm, date))
        groups = {name: frozenset(names) for name, names in declared.get("groups", {}).items()}
        table[path] = Endpoint(path, declared["reference"], tuple(fields), groups)
    return table


def endpoint(path: str) -> Endpoint:
    """Look up an endpoint's documented fields.

    Args:
        path: e.g. ``sync/Financial/TransactionLines``.

    Returns:
        The endpoint.
    """
    return _endpoint_table()[path]


def all_endpoints() -> tuple[Endpoint, ...]:
    """Every endpoint the tap knows, in declaration order."""
    return tuple(_endpoint_table().values())


def union_fields(*paths: str) -> tuple[ExactField, ...]:
    """The fields of several endpoints of one entity (e.g. bulk and standard), first wins.

    Args:
        *paths: Endpoint paths.

    Returns:
        Each field name once, in the order first seen.
    """
    seen: dict[str, ExactField] = {}
    for path in paths:
        for field in endpoint(path).fields:
            seen.setdefault(field.name, field)
    return tuple(seen.values())


def json_schema(
    declared: tuple[ExactField, ...],
    *,
    derived: tuple[str, ...] = (),
    key_fields: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Build a stream's JSON schema from its field declarations.

    Args:
        declared: Fields read from Exact.
        derived: Boolean flags the tap adds (e.g. ``is_customer``).
        key_fields: Primary-key fields (declared non-nullable).

    Returns:
        The JSON schema, always with ``Division`` and ``_sdc_deleted_at``.
    """
    properties: dict[str, Any] = {}
    for field in declared:
        properties[field.name] = field.json_schema
    for name in derived:
        properties[name] = dict(_JSON_TYPES[Edm.BOOLEAN])
    properties.setdefault("Division", dict(_INTEGER))
    properties[DELETED_AT] = dict(_DATE_TYPES[DateKind.MOMENT])
    for key in key_fields:
        json_type = properties[key]["type"]
        properties[key] = {**properties[key], "type": [t for t in json_type if t != "null"]}
    return {"type": "object", "properties": properties, "required": list(key_fields)}
