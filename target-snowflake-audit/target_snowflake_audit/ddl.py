"""SQL text for tables, columns, views, the stage and loading.

Every statement is valid Snowflake SQL; the emulator (fakesnow) runs all of them except
`REMOVE`, which `connector.SnowflakeConnection.remove_staged` tolerates.
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


# Audit columns, in table order, after the data columns. `_loaded_at` is filled by its
# DEFAULT when COPY runs (it is left out of the COPY column list), so it is the load time.
AUDIT_COLUMNS: tuple[Column, ...] = (
    Column("_source_system", ColumnKind.STRING),
    Column("_synced_at", ColumnKind.TIMESTAMP),
    Column("_loaded_at", ColumnKind.TIMESTAMP),
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
STAGED_AUDIT_COLUMNS: tuple[str, ...] = tuple(
    column.name for column in AUDIT_COLUMNS if column.name != "_loaded_at"
)

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


def csv_file_format(compression: str) -> str:
    """Return the COPY file format of batch files.

    Args:
        compression: The COMPRESSION option (`AUTO` for zstd, `GZIP`).

    Returns:
        The format options.
    """
    return (
        f"TYPE = CSV COMPRESSION = {compression} FIELD_DELIMITER = ',' "
        "FIELD_OPTIONALLY_ENCLOSED_BY = '\"' ESCAPE_UNENCLOSED_FIELD = NONE "
        "EMPTY_FIELD_AS_NULL = TRUE"
    )


def _column_definition(column: Column) -> str:
    definition = f"{quote(column.name)} {column.kind.sql}"
    if column.name == "_loaded_at":
        definition += " DEFAULT CURRENT_TIMESTAMP()"
    return definition


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


def create_table(table: str, columns: Sequence[Column]) -> str:
    """Return CREATE TABLE IF NOT EXISTS with the given columns.

    Args:
        table: The qualified table identifier.
        columns: All columns, data and audit.

    Returns:
        The statement.
    """
    body = ", ".join(_column_definition(column) for column in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} ({body})"


def add_column(table: str, column: Column) -> str:
    """Return ALTER TABLE ... ADD COLUMN IF NOT EXISTS.

    Args:
        table: The qualified table identifier.
        column: The new column.

    Returns:
        The statement.
    """
    return f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {_column_definition(column)}"


def create_current_view(view: str, table: str) -> str:
    """Return the `__current` view: latest row per (division, record id), minus tombstones.

    Args:
        view: The qualified view identifier.
        table: The qualified table identifier.

    Returns:
        The statement.
    """
    # Identifiers come from naming.quote, never from record data.
    return (
        f"CREATE OR REPLACE VIEW {view} AS "  # noqa: S608
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
    table: str, column_names: Sequence[str], stage_location: str, compression: str
) -> str:
    """Return one COPY INTO with an explicit column list and no transform.

    Args:
        table: The qualified table identifier.
        column_names: The columns in file order.
        stage_location: `@stage/dir/` holding exactly this batch's file.
        compression: The file format's COMPRESSION (`AUTO` for zstd, `GZIP`).

    Returns:
        The statement.
    """
    columns = ", ".join(quote(name) for name in column_names)
    return (
        f"COPY INTO {table} ({columns}) FROM {stage_location} "
        f"FILE_FORMAT = ({csv_file_format(compression)}) ON_ERROR = ABORT_STATEMENT"
    )


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
