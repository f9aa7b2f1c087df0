"""SQL text for tables, columns, views, the stage and loading: the one module that builds SQL.

Every statement is valid Snowflake SQL and the same for Snowflake and the local emulator
(the dev kit's patched emulator runs them), except `REMOVE`, which the loader tolerates failing.
Both transports (connector.py, sql_api.py) send these statements; they differ only in how a
batch gets in: PUT + COPY through the connector, bound INSERTs through the SQL API
(`insert_rows`), both from the same canonical CSV fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from target_snowflake_audit.naming import quote
from target_snowflake_audit.types import ColumnKind


@dataclass(frozen=True)
class Column:
    """A table column: its quoted-lowercase name and type."""

    name: str
    kind: ColumnKind


LOADED_AT = "_loaded_at"
# Audit columns, in table order, after the data columns. `_loaded_at` is not in the staged
# file: the COPY fills it with METADATA$START_SCAN_TIME (see copy_into).
AUDIT_COLUMNS: tuple[Column, ...] = (
    Column("_source_system", ColumnKind.STRING),
    Column("_synced_at", ColumnKind.TIMESTAMP),
    Column(LOADED_AT, ColumnKind.TIMESTAMP),
    Column("_division_id", ColumnKind.STRING),
    Column("_record_id", ColumnKind.STRING),
    Column("_record_hash", ColumnKind.STRING),
    Column("_batch_id", ColumnKind.STRING),
    Column("_sequence", ColumnKind.INTEGER),
    Column("_deleted_at", ColumnKind.TIMESTAMP),
    Column("_document", ColumnKind.VARIANT),
)
AUDIT_COLUMN_NAMES: frozenset[str] = frozenset(column.name for column in AUDIT_COLUMNS)
# Audit columns written into the staged file, in file order.
STAGED_AUDIT_COLUMNS: tuple[Column, ...] = tuple(c for c in AUDIT_COLUMNS if c.name != LOADED_AT)

REJECTED_TABLE = "_rejected_records"
REJECTED_COLUMNS: tuple[Column, ...] = (
    Column("stream", ColumnKind.STRING),
    Column("line_number", ColumnKind.INTEGER),
    Column("reason", ColumnKind.STRING),
    Column("raw_text", ColumnKind.STRING),
    Column("rejected_at", ColumnKind.TIMESTAMP),
    Column("_source_system", ColumnKind.STRING),
    Column("_batch_id", ColumnKind.STRING),
)


# The forms values.py renders; named in the file format so that neither the account's
# DATE_INPUT_FORMAT / TIMESTAMP_INPUT_FORMAT nor AUTO detection decides how they are read
# ("When specified, these options override the corresponding input format",
# sql-reference/date-time-input-output; file format options, sql-reference/sql/create-file-format).
DATE_FORMAT = "YYYY-MM-DD"
TIMESTAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM"


def csv_file_format(compression: str) -> str:
    r"""Return the COPY file format of batch files.

    Only an empty unenclosed field is NULL (`EMPTY_FIELD_AS_NULL = TRUE`); `NULL_IF = ()`
    drops the default `('\\N')`, under which a string that is exactly `\\N` would load as
    NULL (sql-reference/sql/create-file-format, NULL_IF and EMPTY_FIELD_AS_NULL).

    Args:
        compression: The COMPRESSION option (`ZSTD`, `GZIP`), always named: one zstd frame
            per file is what Snowflake documents as "Zstandard v0.8 (and higher)".

    Returns:
        The format options.
    """
    return (
        f"TYPE = CSV COMPRESSION = {compression} FIELD_DELIMITER = ',' "
        "FIELD_OPTIONALLY_ENCLOSED_BY = '\"' ESCAPE_UNENCLOSED_FIELD = NONE "
        "EMPTY_FIELD_AS_NULL = TRUE NULL_IF = () "
        f"DATE_FORMAT = '{DATE_FORMAT}' TIMESTAMP_FORMAT = '{TIMESTAMP_FORMAT}'"
    )


def _column_definition(column: Column) -> str:
    # No DEFAULT: Snowflake refuses a non-constant DEFAULT when a column is added to an
    # existing table ("Only adding a column as a constant is supported"), and the COPY
    # supplies `_loaded_at` anyway, so CREATE TABLE and ADD COLUMN define columns alike.
    return f"{quote(column.name)} {column.kind.sql}"


def string_literal(text: str) -> str:
    """Quote text as a SQL string literal (backslash is an escape character in Snowflake).

    Args:
        text: The text.

    Returns:
        The literal (sql-reference/data-types-text, string constants).
    """
    escaped = text.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'"


def show_warehouses(warehouse: str) -> str:
    """Return SHOW WAREHOUSES LIKE for one warehouse (sql-reference/sql/show-warehouses).

    Args:
        warehouse: The configured warehouse name.

    Returns:
        The statement (the pattern is a literal: SHOW takes no bind variables).
    """
    return f"SHOW WAREHOUSES LIKE {string_literal(warehouse)}"


def use_schema(schema: str) -> str:
    """Return USE SCHEMA (connector sessions only: the SQL API names it in each request).

    Args:
        schema: The formatted (database-qualified) schema identifier.

    Returns:
        The statement.
    """
    return f"USE SCHEMA {schema}"


def create_schema(schema: str) -> str:
    """Return CREATE SCHEMA IF NOT EXISTS.

    Args:
        schema: The formatted (database-qualified) schema identifier.

    Returns:
        The statement.
    """
    return f"CREATE SCHEMA IF NOT EXISTS {schema}"


def create_stage(stage: str) -> str:
    """Return CREATE STAGE IF NOT EXISTS for the target's named internal stage.

    Args:
        stage: The qualified stage identifier.

    Returns:
        The statement.
    """
    return f"CREATE STAGE IF NOT EXISTS {stage} COMMENT = 'target-snowflake-audit load files'"


def create_table(table: str, columns: Sequence[Column], *, temporary: bool = False) -> str:
    """Return CREATE [TEMPORARY] TABLE IF NOT EXISTS with the given columns.

    Args:
        table: The qualified table identifier.
        columns: All columns, data and audit.
        temporary: A table of this session only, dropped by Snowflake when it ends
            (used by `check`; sql-reference/sql/create-table).

    Returns:
        The statement.
    """
    body = ", ".join(_column_definition(column) for column in columns)
    kind = "TEMPORARY TABLE" if temporary else "TABLE"
    return f"CREATE {kind} IF NOT EXISTS {table} ({body})"


def add_column(table: str, column: Column) -> str:
    """Return ALTER TABLE ... ADD COLUMN IF NOT EXISTS.

    Args:
        table: The qualified table identifier.
        column: The new column.

    Returns:
        The statement.
    """
    return f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {_column_definition(column)}"


def create_current_view(view: str, table: str, *, replace: bool) -> str:
    """Return the `__current` view: latest row per (division, record id), minus tombstones.

    Args:
        view: The qualified view identifier.
        table: The qualified table identifier.
        replace: Replace an existing view (it must be re-created to show new columns), keeping
            the grants analysts were given on it: without COPY GRANTS, CREATE OR REPLACE
            drops them (sql-reference/sql/create-view, COPY GRANTS).

    Returns:
        The statement.
    """
    create = (
        f"CREATE OR REPLACE VIEW {view} COPY GRANTS"
        if replace
        else (f"CREATE VIEW IF NOT EXISTS {view}")
    )
    # Identifiers come from naming.quote, never from record data.
    return (
        f"{create} AS "  # noqa: S608
        f"SELECT * FROM (SELECT * FROM {table} "
        'QUALIFY ROW_NUMBER() OVER (PARTITION BY "_division_id", "_record_id" '
        'ORDER BY "_sequence" DESC) = 1) AS latest '
        'WHERE "_deleted_at" IS NULL'
    )


def put_file(local_path: str, stage_location: str, source_compression: str) -> str:
    """Return PUT of a local compressed file into a stage directory.

    Args:
        local_path: Absolute local path (forward slashes).
        stage_location: `@stage/dir/` location.
        source_compression: How the file is compressed (`ZSTD`, `GZIP`).

    Returns:
        The statement.
    """
    escaped = local_path.replace("'", "\\'")
    return (
        f"PUT 'file://{escaped}' {stage_location} AUTO_COMPRESS = FALSE "
        f"SOURCE_COMPRESSION = {source_compression} OVERWRITE = TRUE PARALLEL = 4"
    )


def copy_into(
    table: str,
    file_columns: Sequence[Column],
    stage_location: str,
    compression: str,
    *,
    loaded_at: bool,
) -> str:
    """Return one COPY INTO with a positional transformation of the batch file.

    The transformation (user-guide/data-load-transform, "Supported functions") parses JSON
    text with PARSE_JSON, so VARIANT columns hold OBJECT/ARRAY values rather than JSON
    strings, and fills `_loaded_at` with METADATA$START_SCAN_TIME, which Snowflake recommends
    over a CURRENT_TIMESTAMP default for the load time (same page, and
    user-guide/querying-metadata). Other fields are `$n` without a cast function, so the file
    format's DATE_FORMAT and TIMESTAMP_FORMAT apply to them (an explicit TO_DATE or
    TO_TIMESTAMP would ignore both, as the same page notes).

    Args:
        table: The qualified table identifier.
        file_columns: The columns in file order.
        stage_location: `@stage/dir/` holding exactly this batch's file.
        compression: The file format's COMPRESSION (`ZSTD`, `GZIP`).
        loaded_at: Also fill the `_loaded_at` column.

    Returns:
        The statement.
    """
    names = [quote(column.name) for column in file_columns]
    fields = [
        f"PARSE_JSON(${n})" if column.kind is ColumnKind.VARIANT else f"${n}"
        for n, column in enumerate(file_columns, start=1)
    ]
    if loaded_at:
        names.append(quote(LOADED_AT))
        fields.append("METADATA$START_SCAN_TIME")
    return (
        f"COPY INTO {table} ({', '.join(names)}) FROM (SELECT {', '.join(fields)} "  # noqa: S608
        f"FROM {stage_location}) "
        f"FILE_FORMAT = ({csv_file_format(compression)}) ON_ERROR = ABORT_STATEMENT"
    )


def _from_field_text(kind: ColumnKind, text: str) -> str:
    """The SQL reading one canonical CSV field's text (values.py) as its column's type.

    The same text COPY reads with the file format above; the formats are named here as the
    file format names them, so account defaults never decide how a value is read. Numbers
    arrive as text and are cast, so they stay exact (a JSON number may become a double).
    """
    if kind is ColumnKind.TIMESTAMP:
        return f"TO_TIMESTAMP_TZ({text}, '{TIMESTAMP_FORMAT}')"
    if kind is ColumnKind.DATE:
        return f"TO_DATE({text}, '{DATE_FORMAT}')"
    if kind is ColumnKind.VARIANT:
        return f"PARSE_JSON({text})"
    if kind is ColumnKind.STRING:
        return text
    return f"CAST({text} AS {kind.sql})"


def chunk_select(file_columns: Sequence[Column], *, loaded_at: bool) -> str:
    """Return the SELECT reading one chunk of a batch through the SQL API, which has no PUT.

    The chunk is one TEXT bind variable holding a JSON array of rows, each row a JSON array of
    the batch file's fields as text (JSON null for NULL), read with TABLE(FLATTEN(...)): one
    statement per chunk, whatever its row count (sql-reference/functions/flatten). A JSON
    null element becomes SQL NULL with STRIP_NULL_VALUE
    (sql-reference/functions/strip_null_value), so an empty string stays an empty string.
    `_loaded_at` is the statement's CURRENT_TIMESTAMP(), its load time.

    Args:
        file_columns: The columns in batch-file order.
        loaded_at: Also read `_loaded_at` (audit tables; not `_rejected_records`).

    Returns:
        The query, with one `%s` for the chunk, its columns named as the table's.
    """
    fields = [
        _from_field_text(column.kind, f"STRIP_NULL_VALUE(chunk_row.value[{index}])::VARCHAR")
        + f" AS {quote(column.name)}"
        for index, column in enumerate(file_columns)
    ]
    if loaded_at:
        fields.append(f"CURRENT_TIMESTAMP() AS {quote(LOADED_AT)}")
    return (
        f"SELECT {', '.join(fields)} "  # noqa: S608 - fixed SQL, values are bound
        "FROM TABLE(FLATTEN(INPUT => PARSE_JSON(%s))) AS chunk_row"
    )


def insert_rows(table: str, file_columns: Sequence[Column], *, loaded_at: bool) -> str:
    """Return the INSERT of one chunk of a batch: `chunk_select` into the table.

    Args:
        table: The qualified table identifier.
        file_columns: The columns in batch-file order.
        loaded_at: Also fill `_loaded_at`.

    Returns:
        The statement, with one `%s` for the chunk.
    """
    names = [quote(column.name) for column in file_columns]
    if loaded_at:
        names.append(quote(LOADED_AT))
    select = chunk_select(file_columns, loaded_at=loaded_at)
    return f"INSERT INTO {table} ({', '.join(names)}) {select}"


def batch_rows_query(table: str, *, with_sequence: bool) -> str:
    """Return how many rows of a batch (and of one chunk of it) a table holds.

    Binds: the batch id; with `with_sequence`, first the chunk's lowest and highest
    `_sequence`. Asked when an INSERT's outcome is unknown (sql_api_loads.py).

    Args:
        table: The qualified table identifier.
        with_sequence: The table has `_sequence` (audit tables), which identifies the chunk.

    Returns:
        The query, answering `batch_rows` (and `chunk_rows`).
    """
    chunk = 'COUNT_IF("_sequence" BETWEEN %s AND %s) AS chunk_rows, ' if with_sequence else ""
    return f'SELECT {chunk}COUNT(*) AS batch_rows FROM {table} WHERE "_batch_id" = %s'  # noqa: S608


def load_history_query() -> str:
    """Return the query for a file's record in this database's load history.

    Binds: schema name as stored, table name, file name, `/` + file name. LOAD_HISTORY has
    one row per file COPY loaded into a table in the last 14 days, with its status and
    ROW_COUNT (sql-reference/info-schema/load_history); FILE_NAME holds the file's path in
    the stage, hence the suffix match.
    """
    return (
        "SELECT file_name, status, row_count, row_parsed, first_error_message "
        "FROM information_schema.load_history "
        "WHERE schema_name = %s AND table_name = %s AND (file_name = %s OR ENDSWITH(file_name, %s))"
    )


def show_grants_on_schema(schema: str) -> str:
    """Return SHOW GRANTS ON SCHEMA (sql-reference/sql/show-grants).

    Args:
        schema: The formatted (database-qualified) schema identifier.

    Returns:
        The statement.
    """
    return f"SHOW GRANTS ON SCHEMA {schema}"


def remove_staged(stage_location: str) -> str:
    """Return REMOVE for a batch's stage directory.

    Args:
        stage_location: `@stage/dir/`.

    Returns:
        The statement.
    """
    return f"REMOVE {stage_location}"


def table_columns_query() -> str:
    """Return the query listing a table's columns (binds: schema, table)."""
    return (
        "SELECT column_name, data_type, numeric_scale FROM information_schema.columns "
        "WHERE table_schema = CURRENT_SCHEMA() AND table_name = %s ORDER BY ordinal_position"
    )
