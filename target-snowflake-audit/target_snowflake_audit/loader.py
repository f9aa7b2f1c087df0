"""Start-up checks and the batch load path: PUT to the named stage, one COPY, REMOVE."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowflake.connector import errors as sf_errors

from target_snowflake_audit import ddl
from target_snowflake_audit.connector import SnowflakeConnection, TargetSnowflakeError
from target_snowflake_audit.naming import quote
from target_snowflake_audit.pipeline import LoadPipeline
from target_snowflake_audit.staging import BatchFile, Compression

# fakesnow cannot parse REMOVE; real Snowflake never answers a REMOVE with a parser error.
_EMULATOR_REMOVE_ERROR = re.compile(r"syntax error at or near \"?REMOVE", re.IGNORECASE)


class LoadError(TargetSnowflakeError):
    """Loading a batch failed; the message names the stream and table."""


def warehouse_warning(warehouse: str, rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Interpret `SHOW WAREHOUSES LIKE '<warehouse>'` rows.

    Args:
        warehouse: The configured warehouse name.
        rows: Result rows keyed by lowercase column name.

    Returns:
        A warning when the warehouse will not resume by itself, else None.

    Raises:
        TargetSnowflakeError: The warehouse is missing or the role cannot see it.
    """
    matches = [row for row in rows if str(row.get("name", "")).upper() == warehouse.upper()]
    if not matches:
        msg = (
            f"warehouse {warehouse!r} does not exist or the role has no privilege on it "
            "(SHOW WAREHOUSES returned no match); grant USAGE on it or fix the "
            "'warehouse' setting"
        )
        raise TargetSnowflakeError(msg)
    stored_name = str(matches[0]["name"])
    auto_resume = matches[0].get("auto_resume")
    resumes = auto_resume if isinstance(auto_resume, bool) else str(auto_resume).lower() == "true"
    if resumes:
        return None
    return (
        f"warehouse {warehouse!r} has AUTO_RESUME disabled: loads fail whenever it is "
        f"suspended. Fix: ALTER WAREHOUSE {quote(stored_name)} SET AUTO_RESUME = TRUE"
    )


class SequenceCounter:
    """A stream's `_sequence` values: taken one at a time, or reserved for a chunk of rows."""

    def __init__(self, start: int) -> None:
        """Start counting.

        Args:
            start: The first value.
        """
        self._next = start

    def __iter__(self) -> SequenceCounter:
        """Return the counter itself (it is its own iterator)."""
        return self

    def __next__(self) -> int:
        """Take the next value."""
        value = self._next
        self._next += 1
        return value

    def reserve(self, count: int) -> int:
        """Take `count` consecutive values at once.

        Args:
            count: How many values.

        Returns:
            The first of them.
        """
        first = self._next
        self._next += count
        return first


@dataclass
class Loader:
    """Everything sinks share: the session, the stage, the run identity and counters."""

    connection: SnowflakeConnection
    config: Mapping[str, Any]
    staging_dir: Path
    logger: logging.Logger
    run_id: str = field(
        default_factory=lambda: f"{time.strftime('%Y%m%dT%H%M%S')}{uuid.uuid4().hex[:8]}"
    )
    run_started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    pipeline: LoadPipeline = field(init=False)
    _sequences: dict[str, SequenceCounter] = field(default_factory=dict)
    _batch_numbers: dict[str, int] = field(default_factory=dict)
    _remove_supported: bool = True

    def __post_init__(self) -> None:
        """Start the background load pipeline."""
        self.pipeline = LoadPipeline(self.logger)

    @property
    def compression(self) -> Compression:
        """How batch files are compressed (`stage_compression`)."""
        return Compression(str(self.config.get("stage_compression") or "zstd"))

    @property
    def stage(self) -> str:
        """The qualified named internal stage."""
        return self.connection.qualified(str(self.config.get("stage_name", "_audit_stage")))

    def start(self) -> None:
        """Create the schema and stage and check the warehouse, before any data arrives.

        Raises:
            TargetSnowflakeError: A start-up check failed.
        """
        connection = self.connection
        try:
            if self.config.get("create_schema", True):
                connection.execute(ddl.create_schema(connection.schema))
            connection.execute(f"USE SCHEMA {connection.schema}")
        except sf_errors.ProgrammingError as exc:
            msg = (
                f"cannot use schema {connection.schema} (does it exist, and may the role "
                f"create or use it?): {connection.redact(str(exc))}"
            )
            raise TargetSnowflakeError(msg) from None
        warehouse = str(self.config["warehouse"])
        try:
            rows = connection.execute("SHOW WAREHOUSES LIKE %s", (warehouse,))
        except sf_errors.ProgrammingError as exc:
            msg = f"cannot check warehouse {warehouse!r}: {connection.redact(str(exc))}"
            raise TargetSnowflakeError(msg) from None
        if warning := warehouse_warning(warehouse, rows):
            self.logger.warning(warning)
        try:
            connection.execute(ddl.create_stage(self.stage))
        except sf_errors.ProgrammingError as exc:
            msg = f"cannot create stage {self.stage}: {connection.redact(str(exc))}"
            raise TargetSnowflakeError(msg) from None

    def sequence_counter(self, stream_name: str) -> SequenceCounter:
        """Return the stream's `_sequence` counter for this run.

        Values are `<run start in ms> * 10**6 + n`: increasing within a run, and a run that
        starts after an earlier one ended starts above all of its values (that would need
        more than a million rows per millisecond). The values fit a signed 64-bit integer,
        which keeps them exact in every client and in the emulator.

        Args:
            stream_name: The stream.

        Returns:
            The stream's shared counter.
        """
        if stream_name not in self._sequences:
            self._sequences[stream_name] = SequenceCounter(self.run_started_ms * 10**6)
        return self._sequences[stream_name]

    def new_batch(self, table: str) -> tuple[str, BatchFile]:
        """Open the local file for a new batch.

        Batches are numbered per table across the run, so a sink re-created after a SCHEMA
        change never reuses an earlier batch's name.

        Args:
            table: The table name.

        Returns:
            The batch id and its file.
        """
        number = self._batch_numbers[table] = self._batch_numbers.get(table, 0) + 1
        batch_id = f"{self.run_id}-{table}-{number:06d}"
        compression = self.compression
        path = self.staging_dir / f"{batch_id}.csv{compression.extension}"
        return batch_id, BatchFile(path, compression)

    def load(
        self,
        *,
        stream_name: str,
        table: str,
        columns: Sequence[str],
        batch_id: str,
        batch_file: BatchFile,
    ) -> int:
        """PUT a batch file to its own stage directory and COPY it into the table.

        Args:
            stream_name: The stream (for messages).
            table: The table name.
            columns: The table columns in file order.
            batch_id: The batch id (also the stage directory).
            batch_file: The filled batch file.

        Returns:
            Rows loaded.

        Raises:
            LoadError: PUT or COPY failed; the message names the stream and table.
        """
        path = batch_file.close()
        qualified_table = self.connection.qualified(table)
        location = f"@{self.stage}/{table}/{batch_id}/"
        compression = batch_file.compression
        put = ddl.put_file(path.resolve().as_posix(), location, compression.source_compression)
        copy = ddl.copy_into(qualified_table, columns, location, compression.copy_compression)
        try:
            self.connection.execute(put)
            results = self.connection.execute(copy)
        except (sf_errors.Error, TargetSnowflakeError) as exc:
            msg = (
                f"loading stream {stream_name!r} into table {qualified_table} failed: "
                f"{self.connection.redact(str(exc))}"
            )
            raise LoadError(msg) from None
        loaded = 0
        for result in results:
            status = str(result.get("status", "")).upper()
            if status not in {"LOADED", "LOAD_SKIPPED"}:
                msg = (
                    f"loading stream {stream_name!r} into table {qualified_table} failed: "
                    f"COPY reported {status}: {result.get('first_error')}"
                )
                raise LoadError(msg)
            if status == "LOAD_SKIPPED":
                self.logger.info("Batch %s was already loaded; COPY skipped it", batch_id)
            loaded += int(result.get("rows_loaded") or 0)
        self._remove(location)
        path.unlink(missing_ok=True)
        return loaded

    def _remove(self, location: str) -> None:
        # A stale staged file is harmless (COPY load metadata skips it), so REMOVE failures
        # only warn; the emulator cannot parse REMOVE at all and is detected once.
        if not self._remove_supported:
            return
        try:
            self.connection.execute(ddl.remove_staged(location))
        except sf_errors.ProgrammingError as exc:
            if _EMULATOR_REMOVE_ERROR.search(str(exc)):
                self.logger.debug("REMOVE is not supported here (fakesnow); skipping it")
                self._remove_supported = False
            else:
                self.logger.warning("Could not remove staged files %s: %s", location, exc)
