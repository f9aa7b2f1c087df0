"""A connection test double answering the way Snowflake documents, for what the emulator lacks.

Statements are answered from a script: each COPY takes the next scripted answer (result rows,
or an exception raised as if the network dropped the response), and the load-history query
answers from what the double records as loaded. Used by tests of behaviour only real Snowflake
shows: a retried COPY answering `Copy executed with 0 files processed.`, a COPY reporting fewer
rows than the file holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from snowflake.connector import errors as sf_errors
from target_snowflake_audit.connector import SnowflakeConnection
from target_snowflake_audit.loader import Loader
from target_snowflake_audit.staging import BatchFile, Compression

from archive_devkit.append_only import forbidden_statements

SETTINGS: dict[str, Any] = {
    "account": "a",
    "user": "u",
    "password": "p",
    "warehouse": "w",
    "database": "D",
    "schema": "S",
    "retry_max_attempts": 3,
    "retry_base_seconds": 0.001,
}
# Snowflake's answer to a COPY whose files were all loaded before
# (GH:snowflakedb/snowflake-connector-net PR #32).
ZERO_FILES = [{"status": "Copy executed with 0 files processed."}]


def history_row(file_name: str, rows: int, status: str = "LOADED") -> dict[str, Any]:
    """An INFORMATION_SCHEMA.LOAD_HISTORY row (sql-reference/info-schema/load_history)."""
    failed = None if status == "LOADED" else "Numeric value 'x' is not recognized"
    return {
        "file_name": f"_audit_stage/t/{file_name}",
        "status": status,
        "row_count": rows,
        "row_parsed": rows,
        "first_error_message": failed,
    }


class SnowflakeDouble(SnowflakeConnection):
    """Answers PUT, COPY, the load-history query and REMOVE from a script."""

    def __init__(self, *copy_answers: CopyAnswer) -> None:
        """Script the answers.

        Args:
            copy_answers: One answer per COPY, in order; each gets the double and the name of
                the file last PUT, and returns result rows or raises.
        """
        super().__init__(SETTINGS, logging.getLogger("snowflake-double"))
        self.copy_answers = list(copy_answers)
        self.history: list[dict[str, Any]] = []
        self.sent: list[str] = []
        self.file_name = ""

    def _execute_once(self, sql: str, params: Sequence[Any] | None) -> list[dict[str, Any]]:
        self.sent.append(sql)
        # The append-only audit: the target never changes or removes what was loaded.
        assert forbidden_statements([sql]) == [], sql
        if sql.startswith("PUT "):
            self.file_name = sql.split("'")[1].rsplit("/", 1)[-1]
            return [{"status": "UPLOADED"}]
        if sql.startswith("COPY INTO"):
            return self.copy_answers.pop(0)(self, self.file_name)
        if "information_schema.load_history" in sql:
            assert params is not None
            suffix = params[3]
            return [row for row in self.history if row["file_name"].endswith(suffix)]
        return []

    def copies(self) -> int:
        """How many COPY statements were sent."""
        return sum(sql.startswith("COPY INTO") for sql in self.sent)


CopyAnswer = Callable[[SnowflakeDouble, str], list[dict[str, Any]]]


def loaded(rows: int) -> CopyAnswer:
    """The COPY loads the file and reports `rows` rows loaded."""

    def answer(double: SnowflakeDouble, file_name: str) -> list[dict[str, Any]]:
        double.history.append(history_row(file_name, rows))
        return [
            {
                "file": f"_audit_stage/t/{file_name}",
                "status": "LOADED",
                "rows_parsed": rows,
                "rows_loaded": rows,
                "error_limit": 1,
                "errors_seen": 0,
                "first_error": None,
            }
        ]

    return answer


def zero_files(double: SnowflakeDouble, file_name: str) -> list[dict[str, Any]]:
    """The file was loaded before: Snowflake skips it and says `0 files processed`."""
    return ZERO_FILES


def recorded_then(rows: int, answer: CopyAnswer, status: str = "LOADED") -> CopyAnswer:
    """The load history already records the file (an earlier COPY ran), then `answer`."""

    def recorded(double: SnowflakeDouble, file_name: str) -> list[dict[str, Any]]:
        double.history.append(history_row(file_name, rows, status))
        return answer(double, file_name)

    return recorded


def response_lost(after: CopyAnswer | None = None) -> CopyAnswer:
    """The network drops the COPY's response (after Snowflake ran `after`, if given)."""

    def lost(double: SnowflakeDouble, file_name: str) -> list[dict[str, Any]]:
        if after is not None:
            after(double, file_name)
        raise sf_errors.OperationalError(msg="connection reset by peer")

    return lost


def loader_with(connection: SnowflakeConnection, staging_dir: Path) -> Loader:
    """A loader on the double (no start-up checks; the pipeline thread is not used)."""
    return Loader(
        connection=connection,
        config=SETTINGS,
        staging_dir=staging_dir,
        logger=logging.getLogger("snowflake-double"),
    )


def batch_of(loader: Loader, rows: int) -> tuple[str, BatchFile]:
    """A zstd batch file holding `rows` CSV lines."""
    batch_id, batch_file = loader.new_batch("t")
    assert batch_file.compression is Compression.ZSTD
    for n in range(rows):
        batch_file.write_line(f'"{n}"\n')
    return batch_id, batch_file
