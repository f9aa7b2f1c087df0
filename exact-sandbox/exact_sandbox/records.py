"""Every live record's stored values in a canonical, type-exact form (admin `records`).

Reconciliations compare a warehouse with the source record by record and field by field, so
the values are computed here from what the store holds, not from the JSON the API serves and
not by any code of the tap:

- `Edm.Double` as a decimal string: the shortest decimal that reads back as the stored double
  (`repr`), written without an exponent (`"176.02"`, `"-12.5"`, `"0.0000001"`);
- `Edm.Byte`/`Int16`/`Int32`/`Int64` as JSON integers (never the OData string form);
- `Edm.Boolean` as `true`/`false`;
- a calendar date (catalog `calendar_date`) as `YYYY-MM-DD`: the day count of the stored
  Amsterdam-midnight wall-clock milliseconds, no time zone involved;
- any other `Edm.DateTime` (a moment) as a UTC ISO instant with milliseconds and `Z`: the stored
  milliseconds are Exact's Amsterdam wall-clock reading, placed in Europe/Amsterdam with zoneinfo
  (see `clock.wall_ms_to_utc_instant` for the hour a DST change repeats or skips);
- `Edm.Guid`, `Edm.String`, `Edm.Binary` as stored (padded codes keep their spaces).

`Customers` and `Suppliers` are role views of `Accounts` (Status 'C'; IsSupplier), as in `truth`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from exact_sandbox.catalog import (
    DIVISIONS,
    ENTITIES_BY_NAME,
    INTEGER_TYPES,
    Edm,
    Entity,
    Field,
    Kind,
)
from exact_sandbox.clock import wall_ms_to_utc_instant
from exact_sandbox.store import (
    MutationError,
    Store,
    entity_named,
    quote,
    storage_value,
    wall_ms_to_date,
)

#: Role views of Accounts: name -> the SQL condition selecting the accounts in the role.
ROLE_VIEWS: dict[str, str] = {"Customers": "Status = 'C'", "Suppliers": "IsSupplier = 1"}
#: Most records one `records` answer carries; `next_after` continues.
MAX_PAGE = 5000
#: SQLite takes at most 999 bound parameters in older builds: look rows up in chunks.
_LOOKUP_CHUNK = 500


def decimal_text(value: float) -> str:
    """A stored double as its exact shortest decimal, without an exponent."""
    return format(Decimal(repr(float(value))), "f")


def canonical_value(field: Field, value: Any) -> Any:
    """One stored value in the canonical form described in the module docstring."""
    if value is None:
        return None
    edm = field.edm
    if edm is Edm.DATETIME:
        milliseconds = int(value)
        if field.calendar_date:
            return wall_ms_to_date(milliseconds)
        return wall_ms_to_utc_instant(milliseconds)
    if edm is Edm.DOUBLE:
        return decimal_text(value)
    if edm is Edm.BOOLEAN:
        return bool(value)
    return int(value) if edm in INTEGER_TYPES else str(value)


def canonical_record(fields: Sequence[Field], row: Sequence[Any]) -> dict[str, Any]:
    """A stored row (values in `fields` order) as field name -> canonical value."""
    return {
        field.name: canonical_value(field, value) for field, value in zip(fields, row, strict=True)
    }


def source_entity(name: str) -> Entity:
    """The stored entity behind a `records` entity name (role views read Accounts)."""
    return entity_named("Accounts" if name in ROLE_VIEWS else name)


def serving_paths(entity: Entity, field: Field) -> list[str]:
    """The endpoint paths that serve `field` of `entity`.

    A shared sync feed (sales invoice lines in the invoices' feed) serves a line's column
    wherever the feed's owner declares a sync field of that name.
    """
    paths = []
    for kind in sorted(field.kinds):
        path = entity.path_for(kind)
        if path is not None and not (kind is Kind.SYNC and entity.sync_feed_owner):
            paths.append(path)
    owner = ENTITIES_BY_NAME.get(entity.sync_feed_owner or "")
    if (
        owner is not None
        and owner.sync_path
        and owner.has_field(field.name)
        and Kind.SYNC in owner.field(field.name).kinds
    ):
        paths.append(owner.sync_path)
    return paths


def field_descriptions(store: Store, entity: Entity) -> list[dict[str, Any]]:
    """Each stored field: name, Edm type, calendar date or not, the paths serving it."""
    return [
        {
            "name": field.name,
            "edm": field.edm.value,
            "calendar_date": field.calendar_date,
            "endpoints": serving_paths(entity, field),
        }
        for field in store.columns(entity)
    ]


def records_answer(
    store: Store, name: str, division: int, after: str | None, limit: int
) -> dict[str, Any]:
    """The `records` answer: one page of live records of `name` in `division`, by key.

    Args:
        store: The sandbox database.
        name: A stored entity, or a role view (`Customers`, `Suppliers`).
        division: A division code.
        after: Continue after this key (the previous answer's `next_after`).
        limit: Records per answer (at most `MAX_PAGE`).

    Returns:
        Entity, division, key field, field descriptions, records and `next_after` (None at
        the end).
    """
    entity = source_entity(name)
    fields = store.columns(entity)
    key_field = entity.field(entity.key)
    conditions, params = ["Division = ?"], [division]
    if name in ROLE_VIEWS:
        conditions.append(ROLE_VIEWS[name])
    if after is not None:
        conditions.append(f"{quote(entity.key)} > ?")
        params.append(storage_value(key_field, after))
    size = max(1, min(int(limit), MAX_PAGE))
    columns = ", ".join(quote(field.name) for field in fields)
    rows = store.query(
        f"SELECT {columns} FROM {quote(entity.name)} WHERE {' AND '.join(conditions)}"  # noqa: S608 - identifiers from the catalog, values bound
        f" ORDER BY {quote(entity.key)} LIMIT ?",
        [*params, size + 1],
    )
    more = len(rows) > size
    records = [canonical_record(fields, row) for row in rows[:size]]
    return {
        "entity": name,
        "source": entity.name,
        "division": division,
        "key": entity.key,
        "fields": field_descriptions(store, entity),
        "records": records,
        "next_after": str(records[-1][entity.key]) if more else None,
    }


def stored_rows(
    store: Store, entity: Entity, division: int, column: str, values: Iterable[Any]
) -> list[dict[str, Any]]:
    """Canonical records of `entity` whose `column` holds one of `values`.

    Divisions are looked up in every division (system/Divisions lists them all).
    """
    fields = store.columns(entity)
    columns = ", ".join(quote(field.name) for field in fields)
    wanted = list(values)
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        where = f"{quote(column)} IN ({marks})"
        params: list[Any] = list(chunk)
        if entity is not DIVISIONS:
            where = f"Division = ? AND {where}"
            params.insert(0, division)
        rows = store.query(
            f"SELECT {columns} FROM {quote(entity.name)} WHERE {where}",  # noqa: S608 - identifiers from the catalog, values bound
            params,
        )
        found.extend(canonical_record(fields, row) for row in rows)
    return found


def granted_division(divisions: Mapping[int, bool], text: str | None) -> int:
    """A `division` query parameter that names a granted division."""
    try:
        division = int(text or "")
    except ValueError:
        raise MutationError("give division=<code>") from None
    if not divisions.get(division):
        raise MutationError(f"division {division} is not a granted division of this sandbox")
    return division
