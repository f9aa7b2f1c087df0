"""Start-up checks and the batch load path: PUT to the named stage, one COPY, REMOVE.

Through the SQL API (transport `sql_api`), which has no PUT, a batch is loaded with bound
INSERTs instead (sql_api_loads.py); everything else is the same.

A batch is loaded exactly once and never lost: its file name is fixed, so Snowflake's load
metadata stops a second COPY of it, and a COPY whose outcome is unknown (a transient error, or
Snowflake's `0 files processed` answer to a COPY run again) is settled from the table's load
history (load_history.py). Rows loaded must equal rows written, or the run stops before the
STATE that covers the batch.
"""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowflake.connector import errors as sf_errors

from target_snowflake_audit import ddl
from target_snowflake_audit.connector import TRANSIENT_ERRORS, TargetSnowflakeError
from target_snowflake_audit.ddl import Column
from target_snowflake_audit.load_history import (
    UnexpectedLoadStatus,
    read_copy_result,
    recorded_rows,
)
from target_snowflake_audit.naming import quote, stored_name
from target_snowflake_audit.pipeline import LoadPipeline
from target_snowflake_audit.staging import BatchFile, Compression
from target_snowflake_audit.transport import Transport

# fakesnow cannot parse REMOVE; real Snowflake never answers a REMOVE with a parser error.
_EMULATOR_REMOVE_ERROR = re.compile(r"syntax error at or near \"?REMOVE", re.IGNORECASE)
# Times the load history is read for a file Snowflake says it loaded before, in case its
# record is not visible yet (no latency is documented for INFORMATION_SCHEMA.LOAD_HISTORY).
_HISTORY_READS = 4


class LoadError(TargetSnowflakeError):
    """Loading a batch failed; the message names the stream, table and batch."""


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

    connection: Transport
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
            connection.use_schema()
        except sf_errors.ProgrammingError as exc:
            msg = (
                f"cannot use schema {connection.schema} (does it exist, and may the role "
                f"create or use it?): {connection.redact(str(exc))}"
            )
            raise TargetSnowflakeError(msg) from None
        warehouse = str(self.config["warehouse"])
        try:
            rows = connection.execute(ddl.show_warehouses(warehouse))
        except sf_errors.ProgrammingError as exc:
            msg = f"cannot check warehouse {warehouse!r}: {connection.redact(str(exc))}"
            raise TargetSnowflakeError(msg) from None
        if warning := warehouse_warning(warehouse, rows):
            self.logger.warning(warning)
        if not connection.stages_files:
            return  # bound INSERTs need no stage
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
        columns: Sequence[Column],
        batch_id: str,
        batch_file: BatchFile,
        loaded_at: bool = True,
    ) -> int:
        """PUT a batch file to its own stage directory and COPY it into the table, once.

        Args:
            stream_name: The stream (for messages).
            table: The table name.
            columns: The table columns in file order.
            batch_id: The batch id (also the stage directory).
            batch_file: The filled batch file.
            loaded_at: Fill `_loaded_at` (audit tables; not `_rejected_records`).

        Returns:
            Rows loaded (always the rows written).

        Raises:
            LoadError: PUT or COPY failed, or Snowflake loaded another number of rows than
                the file holds; the message names the stream, table and batch.
        """
        path = batch_file.close()
        qualified_table = self.connection.qualified(table)
        if not self.connection.stages_files:
            return self._insert_batch(
                stream_name=stream_name,
                table=qualified_table,
                columns=columns,
                batch_id=batch_id,
                batch_file=batch_file,
                loaded_at=loaded_at,
            )
        location = f"@{self.stage}/{table}/{batch_id}/"
        compression = batch_file.compression
        put = ddl.put_file(path.resolve().as_posix(), location, compression.source_compression)
        copy = ddl.copy_into(
            qualified_table, columns, location, compression.copy_compression, loaded_at=loaded_at
        )
        where = f"loading batch {batch_id} of stream {stream_name!r} into table {qualified_table}"
        try:
            self.connection.execute(put)
            loaded = self._copy_once(copy, table, path.name)
        except (UnexpectedLoadStatus, sf_errors.Error, TargetSnowflakeError) as exc:
            raise LoadError(f"{where} failed: {self.connection.redact(str(exc))}") from None
        if loaded != batch_file.rows:
            msg = (
                f"{where}: Snowflake loaded {loaded} rows but the file holds "
                f"{batch_file.rows}; stopping before the STATE that covers this batch (the "
                "rows that did load stay; the next run loads the batch again)"
            )
            raise LoadError(msg)
        self._remove(location)
        path.unlink(missing_ok=True)
        return loaded

    def _insert_batch(
        self,
        *,
        stream_name: str,
        table: str,
        columns: Sequence[Column],
        batch_id: str,
        batch_file: BatchFile,
        loaded_at: bool,
    ) -> int:
        """Load a batch with bound INSERTs (the SQL API transport; sql_api_loads.py)."""
        from target_snowflake_audit.settings import DEFAULT_MAX_REQUEST_BYTES  # noqa: PLC0415
        from target_snowflake_audit.sql_api import SqlApiTransport  # noqa: PLC0415
        from target_snowflake_audit.sql_api_loads import SqlApiBatchLoad  # noqa: PLC0415

        transport = self.connection
        if not isinstance(transport, SqlApiTransport):  # pragma: no cover - stages_files said so
            msg = "bound INSERTs need the SQL API transport"
            raise TypeError(msg)
        load = SqlApiBatchLoad(
            transport,
            table=table,
            columns=columns,
            batch_id=batch_id,
            loaded_at=loaded_at,
            max_request_bytes=int(
                self.config.get("sql_api_max_request_bytes") or DEFAULT_MAX_REQUEST_BYTES
            ),
            attempts=int(self.config.get("retry_max_attempts", 5)),
            logger=self.logger,
        )
        where = f"loading batch {batch_id} of stream {stream_name!r} into table {table}"
        try:
            loaded = load.load(batch_file.path, batch_file.compression)
        except (sf_errors.Error, TargetSnowflakeError, ValueError) as exc:
            raise LoadError(f"{where} failed: {transport.redact(str(exc))}") from None
        if loaded != batch_file.rows:
            msg = (
                f"{where}: Snowflake inserted {loaded} rows but the file holds {batch_file.rows};"
                " stopping before the STATE that covers this batch"
            )
            raise LoadError(msg)
        batch_file.path.unlink(missing_ok=True)
        return loaded

    def _copy_once(self, copy: str, table: str, file_name: str) -> int:
        """Run the COPY until its outcome is known; return the rows Snowflake loaded.

        The COPY is never retried blindly: after a transient error the load history says
        whether it ran, and a COPY run again is harmless because Snowflake skips a file
        it loaded before (and then says so with its `0 files processed` row).
        """
        attempts = max(1, int(self.config.get("retry_max_attempts", 5)))
        for attempt in range(1, attempts + 1):
            try:
                rows = self.connection.execute(copy, retry=False)
            except TRANSIENT_ERRORS as exc:
                self.logger.warning(
                    "COPY of %s: outcome unknown (%s); reading the load history",
                    file_name,
                    self.connection.redact(str(exc)),
                )
                recorded = recorded_rows(self._history(table, file_name), file_name)
                if recorded is not None:
                    return recorded
                if attempt == attempts:
                    raise
                self._pause(attempt)
                continue
            result = read_copy_result(rows, file_name)
            if result.rows_loaded is not None:
                return result.rows_loaded
            self.logger.info(
                "COPY skipped %s as loaded before; reading the load history", file_name
            )
            return self._recorded_load(table, file_name)
        msg = f"COPY of {file_name} did not complete"  # pragma: no cover - loop returns or raises
        raise TargetSnowflakeError(msg)

    def _recorded_load(self, table: str, file_name: str) -> int:
        """Rows the load history records for a file Snowflake says it loaded before."""
        for attempt in range(1, _HISTORY_READS + 1):
            recorded = recorded_rows(self._history(table, file_name), file_name)
            if recorded is not None:
                return recorded
            if attempt < _HISTORY_READS:
                self._pause(attempt)
        msg = (
            f"Snowflake skipped {file_name} as loaded before, but its load history has no "
            "record of it, so whether (and how much of) it loaded is unknown; not loading it "
            f"again. Check: {ddl.load_history_query()}"
        )
        raise TargetSnowflakeError(msg)

    def _history(self, table: str, file_name: str) -> list[dict[str, Any]]:
        schema = stored_name(str(self.config["schema"]))
        params = (schema, table, file_name, f"/{file_name}")
        return self.connection.execute(ddl.load_history_query(), params)

    def _pause(self, attempt: int) -> None:
        """Exponential backoff with full jitter, like the connection's retries."""
        base = float(self.config.get("retry_base_seconds", 1.0))
        time.sleep(random.uniform(0, min(30.0, base * 2**attempt)))  # noqa: S311 - jitter

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
