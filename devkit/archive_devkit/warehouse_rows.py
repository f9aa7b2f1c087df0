"""Read a table's (or view's) rows with the types the connector answers, NULLs made safe.

The emulator hands NULL `TIMESTAMP_TZ` values back as 1970-01-01 (the target's README, "Local
Snowflake"), so every timestamp column is read together with its own `IS NULL`, and a NULL is
answered as None whatever the emulator sends.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from target_snowflake_audit.naming import quote


def column_types(cursor: Any, table: str) -> dict[str, str]:
    """Column name -> data type (`NUMBER`, `TEXT`, `TIMESTAMP_TZ`, ...) of one table or view."""
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = CURRENT_SCHEMA() AND table_name = %s",
        (table,),
    )
    return {str(name): str(kind).upper() for name, kind in cursor.fetchall()}


def existing_relations(cursor: Any) -> set[str]:
    """Names of every table and view in the current schema (exact strings)."""
    names: set[str] = set()
    for catalog in ("tables", "views"):  # the emulator lists views in `views` only
        cursor.execute(
            f"SELECT table_name FROM information_schema.{catalog} "  # noqa: S608 - fixed names
            "WHERE table_schema = CURRENT_SCHEMA()"
        )
        names.update(str(row[0]) for row in cursor.fetchall())
    return names


def read_rows(
    cursor: Any,
    relation: str,
    columns: Sequence[str],
    types: dict[str, str],
    *,
    where: str = "",
    batch: int = 5000,
) -> Iterator[tuple[Any, ...]]:
    """Rows of `relation` as tuples of `columns` (in that order), fetched `batch` at a time.

    Args:
        cursor: A connector cursor on the warehouse's schema.
        relation: Table or view name, unquoted.
        columns: Column names, unquoted; each must exist.
        types: The relation's column types (`column_types`).
        where: An SQL condition without `WHERE` (built from our own names), or "".
        batch: Rows per fetch.

    Yields:
        One tuple per row; a NULL timestamp is None.
    """
    select: list[str] = []
    null_flags: list[int] = []
    for index, column in enumerate(columns):
        select.append(quote(column))
        if types.get(column, "").startswith("TIMESTAMP"):
            null_flags.append(index)
    select += [f"{quote(columns[index])} IS NULL" for index in null_flags]
    condition = f" WHERE {where}" if where else ""
    cursor.execute(f"SELECT {', '.join(select)} FROM {quote(relation)}{condition}")  # noqa: S608 - names are ours
    width = len(columns)
    while True:
        fetched = cursor.fetchmany(batch)
        if not fetched:
            return
        for raw in fetched:
            if not null_flags:
                yield tuple(raw)
                continue
            row = list(raw[:width])
            for position, index in enumerate(null_flags):
                if raw[width + position]:
                    row[index] = None
            yield tuple(row)
