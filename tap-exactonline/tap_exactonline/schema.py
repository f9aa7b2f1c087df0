"""Field declarations: Exact field names with their Edm types, turned into JSON schemas.

Streams declare their fields as Exact names them (``AmountDC``, ``Modified``...) with the Edm
type from Exact's reference, and this module builds the Singer schema and the ``$select`` list
from that single declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Edm(StrEnum):
    """The OData v2 primitive types Exact uses."""

    GUID = "Edm.Guid"
    STRING = "Edm.String"
    INT16 = "Edm.Int16"
    INT32 = "Edm.Int32"
    INT64 = "Edm.Int64"
    DOUBLE = "Edm.Double"
    DATETIME = "Edm.DateTime"
    BOOLEAN = "Edm.Boolean"


# Short names for the stream declarations, which list dozens of (name, type) pairs.
G, S, I16, I32, I64, D, DT, B = (
    Edm.GUID,
    Edm.STRING,
    Edm.INT16,
    Edm.INT32,
    Edm.INT64,
    Edm.DOUBLE,
    Edm.DATETIME,
    Edm.BOOLEAN,
)

_JSON_TYPES: dict[Edm, dict[str, Any]] = {
    Edm.GUID: {"type": ["string", "null"]},
    Edm.STRING: {"type": ["string", "null"]},
    Edm.INT16: {"type": ["integer", "null"]},
    Edm.INT32: {"type": ["integer", "null"]},
    Edm.INT64: {"type": ["integer", "null"]},
    # Amounts are parsed as Decimal and written as exact JSON numbers, never rounded floats.
    Edm.DOUBLE: {"type": ["number", "null"]},
    Edm.DATETIME: {"type": ["string", "null"], "format": "date-time"},
    Edm.BOOLEAN: {"type": ["boolean", "null"]},
}

#: Tombstones carry this (Singer convention): when the Deleted feed recorded the deletion.
DELETED_AT = "_sdc_deleted_at"


@dataclass(frozen=True)
class ExactField:
    """One Exact property as a stream reads it.

    Attributes:
        name: Exact's field name (case-sensitive).
        edm: Exact's Edm type.
        bulk: whether the bulk endpoint serves it (cash-flow bulk lacks Modified).
    """

    name: str
    edm: Edm
    bulk: bool = True


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
            row: A record as read from Exact.

        Returns:
            Whether the condition holds.
        """
        value = row.get(self.field)
        if self.truthy is not None:
            return bool(value) is self.truthy
        return bool(value == self.equals)


def fields(*pairs: tuple[str, Edm]) -> tuple[ExactField, ...]:
    """Build a field tuple from ``(name, Edm)`` pairs.

    Args:
        *pairs: Field names with their Edm types.

    Returns:
        The declarations, in the given order.
    """
    return tuple(ExactField(name, edm) for name, edm in pairs)


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
        properties[field.name] = dict(_JSON_TYPES[field.edm])
    for name in derived:
        properties[name] = dict(_JSON_TYPES[Edm.BOOLEAN])
    properties.setdefault("Division", dict(_JSON_TYPES[Edm.INT32]))
    properties[DELETED_AT] = dict(_JSON_TYPES[Edm.DATETIME])
    for key in key_fields:
        json_type = properties[key]["type"]
        properties[key] = {**properties[key], "type": [t for t in json_type if t != "null"]}
    return {"type": "object", "properties": properties, "required": list(key_fields)}
