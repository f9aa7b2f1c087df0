"""What Exact answers for a field nothing has set, so generated rows look like recorded ones.

Read off rows Exact produced (its own .NET SDK's test data for GLAccounts, Accounts and
SalesInvoices, and a Belgian Items page in picqer/exact-php-client's fixtures): `Edm.Boolean`
flags are `false` and `Edm.Byte` flags `0`; numeric settings are `0` (percentages, credit lines,
discounts, lead days, stock); references (Guids, document numbers), free fields, measurements
and dates are `null`; `Creator`/`Modifier` name the user who made the row.
"""

from __future__ import annotations

from typing import Any

from exact_sandbox.catalog import Edm, Field

#: Doubles that are measurements or free fields: null when unset (e.g. Items GrossWeight,
#: Accounts Latitude), unlike settings such as percentages, which are 0.
_NULL_DOUBLES = ("FreeNumberField", "Latitude", "Longitude", "Weight", "CostPriceNew", "Average")
#: Integers that are references or numbers of other documents: null when unset.
_NULL_INTEGER_SUFFIXES = ("Number", "HID", "Hid")
_USER_FIELDS = frozenset({"Creator", "Modifier", "CreatorFullName", "ModifierFullName"})
#: Unset values by type; types not listed (Guid, String, DateTime, Int64, Binary) are null.
_BY_TYPE: dict[Edm, Any] = {Edm.BOOLEAN: False, Edm.BYTE: 0, Edm.INT16: 0, Edm.INT32: 0}


def unset_value(field: Field, *, user_id: str, user_name: str) -> Any:
    """The value Exact shows for a field no generator rule set.

    Args:
        field: The field.
        user_id: The sandbox user (`Creator`, `Modifier`).
        user_name: Their full name (`CreatorFullName`, `ModifierFullName`).

    Returns:
        The stored value (None for null).
    """
    name, edm = field.name, field.edm
    if name in _USER_FIELDS:
        return user_id if edm is Edm.GUID else user_name
    if edm is Edm.DOUBLE:
        return None if any(part in name for part in _NULL_DOUBLES) else 0.0
    if edm in (Edm.INT16, Edm.INT32) and name.endswith(_NULL_INTEGER_SUFFIXES):
        return None
    return _BY_TYPE.get(edm)


def unset_row(fields: tuple[Field, ...], *, user_id: str, user_name: str) -> dict[str, Any]:
    """The unset value of every field (a generated row's starting point).

    Args:
        fields: An entity's stored fields.
        user_id: The sandbox user.
        user_name: Their full name.

    Returns:
        Field name to stored value.
    """
    return {
        field.name: unset_value(field, user_id=user_id, user_name=user_name) for field in fields
    }
