"""SQLite access: the schema derived from the catalog, rowversion counters, mutations, truth.

One table per entity (named as the entity), keyed by (Division, key). Every row carries a
`Timestamp` drawn from one counter per division, like SQL Server's rowversion that Exact's
sync API exposes: unique and higher than any existing value on every insert and update.
Amounts are REAL values holding exact 2-decimal numbers; sums are taken over integer cents.
Dates are INTEGER Exact ms (Amsterdam wall-clock read as UTC).
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from exact_sandbox.catalog import (
    DATA_ENTITIES,
    DELETED,
    DIVISIONS,
    ENTITIES_BY_NAME,
    PURCHASE_ENTRIES,
    SALES_INVOICE_LINES,
    SALES_INVOICES,
    TIMESTAMP,
    Edm,
    Entity,
    Field,
    Kind,
)
from exact_sandbox.clock import parse_wall_datetime

SQL_TYPES: dict[Edm, str] = {
    Edm.GUID: "TEXT",
    Edm.STRING: "TEXT",
    Edm.BYTE: "INTEGER",
    Edm.INT16: "INTEGER",
    Edm.INT32: "INTEGER",
    Edm.INT64: "INTEGER",
    Edm.DOUBLE: "REAL",
    Edm.DATETIME: "INTEGER",
    Edm.BOOLEAN: "INTEGER",
    # OData v2 JSON writes binary values as base64 text.
    Edm.BINARY: "TEXT",
}

FIRST_TIMESTAMP = 1000
MS_PER_DAY = 86_400_000
#: Lines whose endpoint has no Modified, with the document (and its key field) they belong to.
LINE_PARENTS: dict[str, tuple[Entity, str]] = {"PurchaseEntryLines": (PURCHASE_ENTRIES, "EntryID")}
STORED_DIVISION = Field("Division", Edm.INT32, frozenset())
# Each row keeps its JSON members (every stored field but Timestamp) pre-serialised, so a page
# selecting all fields is a string concatenation per row instead of a json_object call.
JSON_COLUMN = '"_json"'


class MutationError(ValueError):
    """An admin mutation that cannot be applied (unknown entity, row or field)."""


def stored_fields(entity: Entity) -> tuple[Field, ...]:
    """The columns of an entity's table: every field of every endpoint, plus the rowversion.

    The sales-invoice sync feed's line fields are served from the lines' own table, so the
    invoices' table does not store them.
    """
    if entity is DELETED:
        return entity.fields
    served_by_lines = (
        {field.name for field in SALES_INVOICE_LINES.fields} if entity is SALES_INVOICES else set()
    )
    fields = [
        field
        for field in entity.fields
        if field.name != "Timestamp"
        and not (field.kinds == frozenset({Kind.SYNC}) and field.name in served_by_lines)
    ]
    if not entity.has_field("Division"):
        # Rows are kept per division even where Exact's page lists no Division field
        # (purchase invoices, divisions); such a column is stored but never served.
        fields.append(STORED_DIVISION)
    fields.append(TIMESTAMP)
    return tuple(fields)


def fragment_kind(entity: Entity) -> Kind:
    """The endpoint kind whose full field set each row keeps pre-serialised.

    Sync feeds carry the volume, so an entity with its own sync endpoint keeps the sync fields;
    the sales-invoice sync feed is a union built per page and gains nothing from it.
    """
    if entity.sync_path and not entity.sync_feed_owner and entity is not SALES_INVOICES:
        return Kind.SYNC
    return Kind.BULK if entity.bulk_path else Kind.STANDARD


def quote(name: str) -> str:
    """Quote an identifier taken from the catalog (never from a request)."""
    return '"' + name + '"'


class Store:
    """The sandbox database; one connection, used from the server's event-loop thread."""

    def __init__(self, path: str, *, int64_as_string: bool = True) -> None:
        """Open (or create) the database at `path`.

        Args:
            path: The SQLite file.
            int64_as_string: Write `Edm.Int64` values as JSON strings, as OData v2 does.
        """
        self.path = path
        self.int64_as_string = int64_as_string
        self.connection = sqlite3.connect(path, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode=MEMORY")
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute("PRAGMA cache_size=-65536")
        self.lock = threading.RLock()
        self._columns = {entity.name: stored_fields(entity) for entity in (*DATA_ENTITIES, DELETED)}

    # -- schema ---------------------------------------------------------------------------

    def create_schema(self) -> None:
        """Create every table and index (dropping old ones)."""
        cursor = self.connection.cursor()
        for entity in (*DATA_ENTITIES, DELETED):
            table = quote(entity.name)
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            columns = ", ".join(
                f"{quote(field.name)} {SQL_TYPES[field.edm]}"
                for field in self._columns[entity.name]
            )
            cursor.execute(
                f"CREATE TABLE {table} ({columns}, {JSON_COLUMN} TEXT,"
                f" PRIMARY KEY (Division, {quote(entity.key)}))"
            )
        cursor.execute("DROP TABLE IF EXISTS division_state")
        cursor.execute(
            "CREATE TABLE division_state (Division INTEGER PRIMARY KEY, last_timestamp INTEGER,"
            " granted INTEGER, move_date INTEGER)"
        )
        cursor.execute("DROP TABLE IF EXISTS meta")
        cursor.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        self.connection.commit()

    def create_indexes(self) -> None:
        """Index the rowversion per division (after bulk loading, which is faster)."""
        for entity in (*DATA_ENTITIES, DELETED):
            self.connection.execute(
                f"CREATE INDEX IF NOT EXISTS {quote('ix_' + entity.name + '_ts')}"
                f" ON {quote(entity.name)} (Division, Timestamp)"
            )
        self.connection.execute(
            "CREATE INDEX IF NOT EXISTS ix_si_lines_invoice ON SalesInvoiceLines"
            " (Division, InvoiceID)"
        )
        self.connection.commit()

    def fragment_fields(self, entity: Entity) -> tuple[Field, ...]:
        """The fields pre-serialised in the JSON column (those of `fragment_kind`, no Timestamp)."""
        if entity is DELETED:
            return tuple(f for f in entity.fields if f.name != "Timestamp")
        kind = fragment_kind(entity)
        return tuple(f for f in entity.fields_for(kind) if f.name != "Timestamp")

    def refresh_json(self, entity: Entity, division: int | None = None, key: Any = None) -> None:
        """Recompute the pre-serialised JSON of all rows, a division's, or one row."""
        members = json_members_sql(
            [
                f"'{f.name}', {field_json_sql(f, int64_as_string=self.int64_as_string)}"
                for f in self.fragment_fields(entity)
            ]
        )
        where, params = "", []
        if division is not None:
            where = " WHERE Division = ?"
            params.append(division)
            if key is not None:
                where += f" AND {quote(entity.key)} = ?"
                params.append(key)
        with self.lock:
            self.connection.execute(
                f"UPDATE {quote(entity.name)} SET {JSON_COLUMN} ="  # noqa: S608
                f" {members}{where}",
                params,
            )

    def refresh_all_json(self) -> None:
        """Pre-serialise every row (after generation)."""
        for entity in (*DATA_ENTITIES, DELETED):
            self.refresh_json(entity)
        self.connection.commit()

    def columns(self, entity: Entity) -> tuple[Field, ...]:
        """The stored columns of `entity`, in table order."""
        return self._columns[entity.name]

    def column_names(self, entity: Entity) -> tuple[str, ...]:
        """The stored column names of `entity`."""
        return tuple(field.name for field in self._columns[entity.name])

    def insert_rows(self, entity: Entity, rows: Iterable[Sequence[Any]]) -> None:
        """Insert rows given as tuples in `column_names(entity)` order."""
        names = self.column_names(entity)
        placeholders = ", ".join("?" for _ in names)
        column_list = ", ".join(quote(name) for name in names)
        self.connection.executemany(
            f"INSERT INTO {quote(entity.name)} ({column_list}) VALUES ({placeholders})",  # noqa: S608 - identifiers from the catalog, values bound
            rows,
        )

    def set_meta(self, values: Mapping[str, str]) -> None:
        """Remember how the data was generated (to reuse a `--db` file)."""
        self.connection.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items())
        )
        self.connection.commit()

    def meta(self) -> dict[str, str]:
        """The generation parameters stored with the data, or {} for a fresh file."""
        try:
            rows = self.connection.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.OperationalError:
            return {}
        return {str(key): str(value) for key, value in rows}

    def set_division_state(self, division: int, last_timestamp: int, *, granted: bool) -> None:
        """Record a division, its rowversion counter and whether the sandbox user may see it."""
        self.connection.execute(
            "INSERT OR REPLACE INTO division_state VALUES (?, ?, ?, NULL)",
            (division, last_timestamp, int(granted)),
        )
        self.connection.commit()

    def divisions(self) -> dict[int, bool]:
        """Every known division code and whether it is granted to the sandbox user."""
        rows = self.connection.execute("SELECT Division, granted FROM division_state").fetchall()
        return {int(code): bool(granted) for code, granted in rows}

    # -- reading ----------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query."""
        with self.lock:
            return self.connection.execute(sql, params).fetchall()

    def source_sql(self, entity: Entity, kind: Kind) -> str:
        """The FROM source serving `entity` on an endpoint of `kind`.

        The sales-invoice sync feed is a union: headers as LineNumber 0 (ID = InvoiceID) and
        lines carrying their header's context fields, as Exact's sync/SalesInvoice/SalesInvoices.
        """
        if entity.view_of is not None:
            return self._view_sql(entity)
        if entity is not SALES_INVOICES or kind is not Kind.SYNC:
            return quote(entity.name)
        header_columns = set(self.column_names(SALES_INVOICES))
        line_columns = set(self.column_names(SALES_INVOICE_LINES))
        header_select, line_select = [], []
        for field in SALES_INVOICES.fields_for(Kind.SYNC):
            name = quote(field.name)
            if field.name == "ID":
                header_value = "h.InvoiceID"
            elif field.name == "LineNumber":
                header_value = "0"
            elif field.name in header_columns:
                header_value = f"h.{name}"
            else:
                header_value = "NULL"
            if field.name in line_columns or field.name == "Timestamp":
                line_value = f"l.{name}"
            elif field.name in header_columns:
                line_value = f"h.{name}"
            else:
                line_value = "NULL"
            header_select.append(f"{header_value} AS {name}")
            line_select.append(f"{line_value} AS {name}")
        return (
            f"(SELECT {', '.join(header_select)} FROM SalesInvoices h"  # noqa: S608 - identifiers from the catalog, values bound
            f" UNION ALL SELECT {', '.join(line_select)} FROM SalesInvoiceLines l"
            " JOIN SalesInvoices h ON h.Division = l.Division AND h.InvoiceID = l.InvoiceID)"
        )

    def _view_sql(self, entity: Entity) -> str:
        """An entity served from another entity's table (hrm/Divisions from Divisions)."""
        source = ENTITIES_BY_NAME[entity.view_of or ""]
        columns = set(self.column_names(source))
        select = []
        for field in entity.fields:
            column = entity.renames.get(field.name, field.name)
            value = quote(column) if column in columns else "NULL"
            select.append(f"{value} AS {quote(field.name)}")
        select += ["Division", "Timestamp"]
        return f"(SELECT {', '.join(select)} FROM {quote(source.name)})"  # noqa: S608 - identifiers from the catalog

    def truth(self) -> dict[str, Any]:
        """Live row counts and exact amount sums per entity and division (admin `truth`)."""
        answer: dict[str, Any] = {}
        granted = [code for code, ok in sorted(self.divisions().items()) if ok]
        with self.lock:
            for division in granted:
                entities: dict[str, Any] = {}
                for entity in DATA_ENTITIES:
                    amounts = [
                        name for name in entity.amount_fields if name in self.column_names(entity)
                    ]
                    sums_sql = "".join(
                        f", SUM(CAST(ROUND({quote(name)} * 100) AS INTEGER))" for name in amounts
                    )
                    row = self.connection.execute(
                        f"SELECT COUNT(*){sums_sql} FROM {quote(entity.name)} WHERE Division = ?",  # noqa: S608 - identifiers from the catalog, values bound
                        (division,),
                    ).fetchone()
                    entities[entity.name] = {
                        "count": int(row[0]),
                        "sums": {
                            name: cents_to_text(row[index + 1] or 0)
                            for index, name in enumerate(amounts)
                        },
                    }
                customers, suppliers = self.connection.execute(
                    "SELECT SUM(Status = 'C'), SUM(IsSupplier = 1) FROM Accounts"
                    " WHERE Division = ?",
                    (division,),
                ).fetchone()
                entities["Customers"] = {"count": int(customers or 0), "sums": {}}
                entities["Suppliers"] = {"count": int(suppliers or 0), "sums": {}}
                answer[str(division)] = entities
        return {"divisions": answer}

    def calendar_dates(self) -> dict[str, Any]:
        """Every calendar date the sandbox holds, as the date itself (admin `calendar_dates`).

        A calendar date is stored as Amsterdam midnight in Exact's wall-clock milliseconds, so
        its date is the day count of those milliseconds: computed here, without any time zone,
        for reconciliations to compare with what a pipeline delivered.
        """
        answer: dict[str, Any] = {}
        granted = [code for code, ok in sorted(self.divisions().items()) if ok]
        with self.lock:
            for division in granted:
                entities: dict[str, Any] = {}
                for entity in DATA_ENTITIES:
                    stored = self.column_names(entity)
                    fields = [f.name for f in entity.fields if f.calendar_date and f.name in stored]
                    if not fields:
                        continue
                    columns = ", ".join(quote(name) for name in [entity.key, *fields])
                    rows = self.connection.execute(
                        f"SELECT {columns} FROM {quote(entity.name)} WHERE Division = ?",  # noqa: S608 - identifiers from the catalog, values bound
                        (division,),
                    ).fetchall()
                    entities[entity.name] = {
                        str(row[0]): {
                            name: wall_ms_to_date(value)
                            for name, value in zip(fields, row[1:], strict=True)
                            if value is not None
                        }
                        for row in rows
                    }
                answer[str(division)] = entities
        return {"divisions": answer}

    # -- mutations --------------------------------------------------------------------------

    def next_timestamp(self, division: int) -> int:
        """Draw the next rowversion of `division`."""
        row = self.connection.execute(
            "UPDATE division_state SET last_timestamp = last_timestamp + 1 WHERE Division = ?"
            " RETURNING last_timestamp",
            (division,),
        ).fetchone()
        if row is None:
            raise MutationError(f"unknown division {division}")
        return int(row[0])

    def row_dict(self, entity: Entity, division: int, key: Any) -> dict[str, Any] | None:
        """One stored row as a JSON-ready dict (dates as `/Date(ms)/`, booleans as bool)."""
        names = self.column_names(entity)
        column_list = ", ".join(quote(name) for name in names)
        row = self.connection.execute(
            f"SELECT {column_list} FROM {quote(entity.name)}"  # noqa: S608
            f" WHERE Division = ? AND {quote(entity.key)} = ?",
            (division, key),
        ).fetchone()
        if row is None:
            return None
        result: dict[str, Any] = {}
        for field, value in zip(self.columns(entity), row, strict=True):
            result[field.name] = json_value(field, value, int64_as_string=self.int64_as_string)
        return result

    def create(
        self, entity: Entity, division: int, fields: Mapping[str, Any], now_ms: int
    ) -> dict[str, Any]:
        """Insert a row; unspecified fields are NULL, the key is generated when absent."""
        with self.lock:
            values = self._coerce(entity, fields)
            key_field = entity.field(entity.key)
            if values.get(entity.key) is None:
                if key_field.edm is not Edm.GUID:
                    raise MutationError(f"{entity.name}: give the key field {entity.key}")
                values[entity.key] = str(uuid.uuid4())
            values["Division"] = division
            if "Created" in self.column_names(entity):
                values.setdefault("Created", now_ms)
            if "Modified" in self.column_names(entity):
                values["Modified"] = now_ms
            values["Timestamp"] = self.next_timestamp(division)
            names = self.column_names(entity)
            try:
                self.insert_rows(entity, [tuple(values.get(name) for name in names)])
            except sqlite3.IntegrityError as error:
                self.connection.rollback()
                raise MutationError(f"{entity.name}: {error}") from error
            self.refresh_json(entity, division, values[entity.key])
            self._touch_parent(entity, division, values, now_ms)
            self.connection.commit()
            return self._require(entity, division, values[entity.key])

    def update(
        self, entity: Entity, division: int, key: Any, fields: Mapping[str, Any], now_ms: int
    ) -> dict[str, Any]:
        """Change fields of a row; bumps Modified and Timestamp like an Exact edit."""
        with self.lock:
            self._require(entity, division, key)
            values = self._coerce(entity, fields)
            values.pop(entity.key, None)
            values.pop("Division", None)
            if "Modified" in self.column_names(entity):
                values["Modified"] = now_ms
            values["Timestamp"] = self.next_timestamp(division)
            assignments = ", ".join(f"{quote(name)} = ?" for name in values)
            self.connection.execute(
                f"UPDATE {quote(entity.name)} SET {assignments}"  # noqa: S608 - identifiers from the catalog, values bound
                f" WHERE Division = ? AND {quote(entity.key)} = ?",
                (*values.values(), division, key),
            )
            self.refresh_json(entity, division, key)
            if entity is SALES_INVOICES:
                # Exact: any change to a sales invoice bumps the header and line Timestamps.
                self._bump_invoice_lines(division, key)
            self._touch_parent(entity, division, self._require(entity, division, key), now_ms)
            self.connection.commit()
            return self._require(entity, division, key)

    def delete(
        self, entity: Entity, division: int, key: Any, now_ms: int, deleted_by: str
    ) -> dict[str, Any]:
        """Remove a row and, for entities Exact tracks, write a sync/Deleted entry."""
        with self.lock:
            before = self._require(entity, division, key)
            self.connection.execute(
                f"DELETE FROM {quote(entity.name)} WHERE Division = ? AND {quote(entity.key)} = ?",  # noqa: S608 - identifiers from the catalog, values bound
                (division, key),
            )
            if entity.deleted_entity_type is not None:
                row = self._deleted_row(
                    division, key, entity.deleted_entity_type, now_ms, deleted_by
                )
                self.insert_rows(DELETED, [row])
                self.refresh_json(DELETED, division, row[self.column_names(DELETED).index("ID")])
            self.connection.commit()
            return before

    def _deleted_row(
        self, division: int, key: Any, entity_type: int, now_ms: int, deleted_by: str
    ) -> tuple[Any, ...]:
        values = {
            "ID": str(uuid.uuid4()),
            "Division": division,
            "DeletedBy": deleted_by,
            "DeletedDate": now_ms,
            "EntityKey": str(key),
            "EntityType": entity_type,
            "Timestamp": self.next_timestamp(division),
        }
        return tuple(values[name] for name in self.column_names(DELETED))

    def move_division(self, division: int, now_ms: int) -> dict[str, Any]:
        """Emulate a move to another database: every Timestamp is renumbered from scratch.

        Exact: "when a division moves... the timestamps reset"; clients detect it through
        system/Divisions.DivisionMoveDate and must resync.
        """
        with self.lock:
            counter = FIRST_TIMESTAMP // 10
            for entity in (*DATA_ENTITIES, DELETED):
                count = self.connection.execute(
                    f"SELECT COUNT(*) FROM {quote(entity.name)} WHERE Division = ?",  # noqa: S608
                    (division,),
                ).fetchone()[0]
                # Renumber in key order: the new values bear no relation to the old ones.
                self.connection.execute(
                    f"UPDATE {quote(entity.name)} SET Timestamp = ? + renumbered.position FROM ("  # noqa: S608 - identifiers from the catalog, values bound
                    f"SELECT rowid AS row_id, ROW_NUMBER() OVER (ORDER BY {quote(entity.key)})"
                    f" AS position FROM {quote(entity.name)} WHERE Division = ?) AS renumbered"
                    f" WHERE {quote(entity.name)}.rowid = renumbered.row_id",
                    (counter, division),
                )
                counter += int(count)
            self.connection.execute(
                "UPDATE division_state SET last_timestamp = ?, move_date = ? WHERE Division = ?",
                (counter, now_ms, division),
            )
            self.connection.execute(
                "UPDATE Divisions SET DivisionMoveDate = ?, Modified = ? WHERE Code = ?",
                (now_ms, now_ms, division),
            )
            self.refresh_json(DIVISIONS, division)
            self.connection.commit()
            return {"division": division, "DivisionMoveDate": f"/Date({now_ms})/"}

    def _touch_parent(
        self, entity: Entity, division: int, row: Mapping[str, Any], now_ms: int
    ) -> None:
        """An edit of a document's line is an edit of the document (its Modified moves).

        Exact documents no Modified on purchase entry lines; readers follow the entry's.
        """
        parent = LINE_PARENTS.get(entity.name)
        if parent is None or row.get(parent[1]) is None:
            return
        parent_entity, key_field = parent
        parent_key = row[key_field]
        if self.row_dict(parent_entity, division, parent_key) is None:
            return
        self.connection.execute(
            f"UPDATE {quote(parent_entity.name)} SET Modified = ?, Timestamp = ?"  # noqa: S608 - identifiers from the catalog, values bound
            f" WHERE Division = ? AND {quote(parent_entity.key)} = ?",
            (now_ms, self.next_timestamp(division), division, parent_key),
        )
        self.refresh_json(parent_entity, division, parent_key)

    def _bump_invoice_lines(self, division: int, invoice_id: Any) -> None:
        line_ids = self.connection.execute(
            "SELECT ID FROM SalesInvoiceLines WHERE Division = ? AND InvoiceID = ? ORDER BY ID",
            (division, invoice_id),
        ).fetchall()
        for (line_id,) in line_ids:
            self.connection.execute(
                "UPDATE SalesInvoiceLines SET Timestamp = ? WHERE Division = ? AND ID = ?",
                (self.next_timestamp(division), division, line_id),
            )

    def _require(self, entity: Entity, division: int, key: Any) -> dict[str, Any]:
        row = self.row_dict(entity, division, key)
        if row is None:
            raise MutationError(f"{entity.name}: no row {key!r} in division {division}")
        return row

    def _coerce(self, entity: Entity, fields: Mapping[str, Any]) -> dict[str, Any]:
        stored = {field.name: field for field in self.columns(entity)}
        values: dict[str, Any] = {}
        for name, raw in fields.items():
            field = stored.get(name)
            if field is None or name == "Timestamp":
                raise MutationError(f"{entity.name} has no writable field {name!r}")
            values[name] = storage_value(field, raw)
        return values


def entity_named(name: str) -> Entity:
    """Find a stored entity by name for the admin API."""
    entity = ENTITIES_BY_NAME.get(name)
    if entity is None or entity not in DATA_ENTITIES:
        raise MutationError(f"unknown entity {name!r}")
    return entity


def _to_guid(raw: Any) -> str:
    return str(uuid.UUID(str(raw)))


def _to_double(raw: Any) -> float:
    return float(Decimal(str(raw)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _to_datetime(raw: Any) -> int:
    if isinstance(raw, int):
        return raw
    text = str(raw)
    if text.startswith("/Date("):
        return int(text[6:].split(")", maxsplit=1)[0])
    return parse_wall_datetime(text)


CONVERTERS: dict[Edm, Any] = {
    Edm.GUID: _to_guid,
    Edm.STRING: str,
    Edm.BINARY: str,
    Edm.BYTE: int,
    Edm.INT16: int,
    Edm.INT32: int,
    Edm.INT64: int,
    Edm.DOUBLE: _to_double,  # amounts are exact 2-decimal values
    Edm.BOOLEAN: lambda raw: int(bool(raw)),
    Edm.DATETIME: _to_datetime,
}


def storage_value(field: Field, raw: Any) -> Any:
    """Convert a JSON value from the admin API into its stored form."""
    if raw is None:
        return None
    try:
        return CONVERTERS[field.edm](raw)
    except (ValueError, InvalidOperation) as error:
        raise MutationError(f"{field.name}: cannot read {raw!r} as {field.edm}") from error


#: SQLite functions take at most 127 arguments: wide rows are built in chunks of members.
_MEMBERS_PER_CALL = 60


def json_members_sql(members: Sequence[str]) -> str:
    """SQL building the members of a JSON object, without its braces.

    Args:
        members: `'name', <value expression>` pairs, in order.

    Returns:
        An expression: `json_object` calls of at most 60 members each, braces trimmed, joined
        with commas.
    """
    chunks = [
        f"trim(json_object({', '.join(members[start : start + _MEMBERS_PER_CALL])}), '{{}}')"
        for start in range(0, len(members), _MEMBERS_PER_CALL)
    ]
    return " || ',' || ".join(chunks)


def field_json_sql(field: Field, *, int64_as_string: bool = True) -> str:
    """The SQL expression serialising one stored value as Exact's JSON does.

    OData v2 JSON writes `Edm.Int64` as a string (Exact's `"Legislation": "1"` in its own SDK's
    test data); `Edm.Double` is a number, whole amounts without a fraction (`9075`).
    """
    column = quote(field.name)
    if field.edm is Edm.DATETIME:
        return f"'/Date(' || {column} || ')/'"
    if field.edm is Edm.BOOLEAN:
        return (
            f"CASE WHEN {column} IS NULL THEN NULL"
            f" WHEN {column} THEN json('true') ELSE json('false') END"
        )
    if field.edm is Edm.INT64 and int64_as_string:
        return f"CAST({column} AS TEXT)"
    if field.edm is Edm.DOUBLE:
        whole = f"CAST({column} AS INTEGER)"
        return f"CASE WHEN {column} = {whole} THEN {whole} ELSE {column} END"
    return column


def json_value(field: Field, value: Any, *, int64_as_string: bool = True) -> Any:
    """A stored value as Exact's JSON shows it (see `field_json_sql`)."""
    if value is None:
        return None
    if field.edm is Edm.DATETIME:
        return f"/Date({value})/"
    if field.edm is Edm.BOOLEAN:
        return bool(value)
    if field.edm is Edm.INT64 and int64_as_string:
        return str(value)
    if field.edm is Edm.DOUBLE and float(value).is_integer():
        return int(value)
    return value


def wall_ms_to_date(milliseconds: int) -> str:
    """The calendar date of Exact wall-clock milliseconds (`YYYY-MM-DD`)."""
    return (date(1970, 1, 1) + timedelta(days=milliseconds // MS_PER_DAY)).isoformat()


def cents_to_text(cents: int) -> str:
    """Integer cents as an exact decimal string ("-12.05")."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{rest:02d}"
