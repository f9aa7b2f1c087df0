"""Reading what Snowflake says about one batch file: the COPY result and the load history.

A COPY's outcome is known only from its result. When the result is lost (a network error after
Snowflake ran it) or the COPY is run again, Snowflake's load metadata makes it skip the file, and
it answers one row, `Copy executed with 0 files processed.`, instead of a row for the file
(GH:snowflakedb/snowflake-connector-net PR #32; load metadata:
user-guide/data-load-considerations-load).
Whether the file was loaded, and how many rows it gave, is then read from the table's load
history (sql-reference/info-schema/load_history: one row per file with STATUS and ROW_COUNT),
never assumed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ZERO_FILES_STATUS = "COPY EXECUTED WITH 0 FILES PROCESSED."
# Per-file statuses: COPY results use underscores, LOAD_HISTORY spaces.
_LOADED = "LOADED"
_SKIPPED = "LOAD_SKIPPED"


class UnexpectedLoadStatus(Exception):  # noqa: N818 - reads as an event
    """Snowflake reports the file as not (fully) loaded; the message quotes its error."""


@dataclass(frozen=True)
class CopyResult:
    """What a COPY result says about one batch file."""

    rows_loaded: int | None
    """Rows loaded from the file by this COPY; None when the COPY did not load it now."""

    @property
    def settled(self) -> bool:
        """Whether the result alone says what happened (else: ask the load history)."""
        return self.rows_loaded is not None


def _status(row: Mapping[str, Any]) -> str:
    return str(row.get("status") or "").strip().upper()


def _names_file(row: Mapping[str, Any], file_name: str) -> bool:
    named = str(row.get("file") or row.get("file_name") or "")
    return named == file_name or named.endswith(f"/{file_name}")


def read_copy_result(rows: Sequence[Mapping[str, Any]], file_name: str) -> CopyResult:
    """Interpret the result rows of a COPY of one batch file.

    Args:
        rows: The COPY's result rows, keyed by lowercase column name.
        file_name: The batch file's name (the stage directory holds only this file).

    Returns:
        The rows loaded, or an unsettled result when Snowflake skipped the file as already
        loaded (one `0 files processed` row, or a LOAD_SKIPPED row).

    Raises:
        UnexpectedLoadStatus: The file failed to load or loaded partly.
    """
    if len(rows) == 1 and _status(rows[0]) == ZERO_FILES_STATUS:
        return CopyResult(rows_loaded=None)
    loaded: int | None = None
    for row in rows:
        status = _status(row)
        if not _names_file(row, file_name):
            msg = f"COPY reported an unexpected file {row.get('file')!r} ({status})"
            raise UnexpectedLoadStatus(msg)
        if status == _SKIPPED:
            continue
        if status != _LOADED:
            msg = f"COPY reported {status}: {row.get('first_error')}"
            raise UnexpectedLoadStatus(msg)
        loaded = (loaded or 0) + int(row.get("rows_loaded") or 0)
    return CopyResult(rows_loaded=loaded)


def recorded_rows(rows: Sequence[Mapping[str, Any]], file_name: str) -> int | None:
    """Interpret LOAD_HISTORY rows of one batch file (see ddl.load_history_query).

    Args:
        rows: The history rows, keyed by lowercase column name.
        file_name: The batch file's name.

    Returns:
        ROW_COUNT of the file's load, or None when the history has no record of it.

    Raises:
        UnexpectedLoadStatus: The history records a failed or partial load, or more than one
            load of the same file.
    """
    records = [row for row in rows if _names_file(row, file_name)]
    if not records:
        return None
    if len(records) > 1:
        msg = f"the load history records {len(records)} loads of {file_name}"
        raise UnexpectedLoadStatus(msg)
    (record,) = records
    status = _status(record)
    if status != _LOADED:
        msg = f"the load history records {status}: {record.get('first_error_message')}"
        raise UnexpectedLoadStatus(msg)
    return int(record.get("row_count") or 0)
