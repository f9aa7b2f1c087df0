"""Loading a batch through the SQL API: bound INSERTs in chunks bounded by bytes, none twice.

The SQL API has no PUT, so a batch file is read back (staging.batch_rows) and sent as INSERTs
(ddl.insert_rows), each holding as many rows as fit in `sql_api_max_request_bytes`: the
statements per batch grow with its bytes, never with its rows. A 413 halves the chunk.

Nothing is inserted twice and nothing is lost:

- every INSERT has its own `requestId`; a resubmission carries the same one with `retry=true`,
  so Snowflake does not run it again (developer-guide/sql-api/submitting-requests);
- duplicate executions have been reported anyway (GH:snowflakedb/snowflake-connector-nodejs#1189),
  so when an INSERT's outcome is unknown the table is asked first: the rows of this batch
  (`_batch_id`) and of this chunk (its `_sequence` range) say whether it landed; only when it
  did not is it sent again;
- after the last chunk, the rows of the batch in the table must equal the rows written, or the
  load fails before the STATE that covers it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from target_snowflake_audit import ddl
from target_snowflake_audit.connector import TargetSnowflakeError
from target_snowflake_audit.ddl import Column
from target_snowflake_audit.sql_api import SqlApiTransport
from target_snowflake_audit.sql_api_client import OutcomeUnknown, RequestTooLarge, ResultSet
from target_snowflake_audit.staging import Compression, batch_rows

_ENCODE = msgspec.json.Encoder().encode
# The binding's JSON text is itself a JSON string in the body: `"` and `\\` take two bytes
# there (the row texts hold no control characters: msgspec escapes them).
_QUOTE, _BACKSLASH = b'"', b"\\"


class ChunkOutcomeError(TargetSnowflakeError):
    """The table holds a number of rows of a batch that no chunk outcome explains."""


@dataclass
class RowChunk:
    """Rows sent in one INSERT: each a JSON array of field texts."""

    rows: list[bytes] = field(default_factory=list)
    body_bytes: int = 0
    """The bytes the rows take in the request body."""
    first_sequence: int | None = None
    last_sequence: int | None = None

    def add(self, row: bytes, size: int, sequence: int | None) -> None:
        """Append one row (its size in the body, its `_sequence` if the table has one)."""
        self.rows.append(row)
        self.body_bytes += size
        if sequence is not None:
            if self.first_sequence is None:
                self.first_sequence = sequence
            self.last_sequence = sequence

    def halves(self, sequence_column: int | None) -> tuple[RowChunk, RowChunk]:
        """The chunk split in two (after a 413)."""
        middle = len(self.rows) // 2
        return _rechunk(self.rows[:middle], sequence_column), _rechunk(
            self.rows[middle:], sequence_column
        )

    @property
    def value(self) -> str:
        """The bound text: a JSON array of the rows."""
        return (b"[" + b",".join(self.rows) + b"]").decode()


def _body_size(row: bytes) -> int:
    return len(row) + row.count(_QUOTE) + row.count(_BACKSLASH) + 1  # + the comma


def _rechunk(rows: Sequence[bytes], sequence_column: int | None) -> RowChunk:
    chunk = RowChunk()
    for row in rows:
        sequence = None
        if sequence_column is not None:
            sequence = int(msgspec.json.decode(row)[sequence_column])
        chunk.add(row, _body_size(row), sequence)
    return chunk


def chunks(
    rows: Iterable[list[str | None]], budget: int, sequence_column: int | None
) -> Iterator[RowChunk]:
    """Group rows into chunks whose bound text fits `budget` body bytes.

    Args:
        rows: The batch's rows of field texts.
        budget: Body bytes the rows of one request may take.
        sequence_column: Position of `_sequence` in a row (None: the table has none).

    Yields:
        The chunks, in file order (a row larger than the budget is a chunk of its own).
    """
    chunk = RowChunk()
    for fields in rows:
        row = _ENCODE(fields)
        size = _body_size(row)
        if chunk.rows and chunk.body_bytes + size > budget:
            yield chunk
            chunk = RowChunk()
        sequence = None
        if sequence_column is not None and fields[sequence_column] is not None:
            sequence = int(str(fields[sequence_column]))
        chunk.add(row, size, sequence)
    if chunk.rows:
        yield chunk


class SqlApiBatchLoad:
    """Loads one batch file into its table with bound INSERTs (see the module docstring)."""

    def __init__(
        self,
        transport: SqlApiTransport,
        *,
        table: str,
        columns: Sequence[Column],
        batch_id: str,
        loaded_at: bool,
        max_request_bytes: int,
        attempts: int,
        logger: logging.Logger,
    ) -> None:
        """Prepare the statement; nothing is sent yet.

        Args:
            transport: The SQL API transport.
            table: The qualified table identifier.
            columns: The table's columns in batch-file order.
            batch_id: The batch id (what every row's `_batch_id` holds).
            loaded_at: Fill `_loaded_at` (audit tables).
            max_request_bytes: Upper bound of one request body.
            attempts: Submissions of one chunk whose outcome stays unknown.
            logger: For resubmissions.
        """
        self._transport = transport
        self._table = table
        self._batch_id = batch_id
        self._attempts = max(1, attempts)
        self._logger = logger
        self.statement = ddl.insert_rows(table, columns, loaded_at=loaded_at).replace("%s", "?")
        names = [column.name for column in columns]
        self._sequence_column = names.index("_sequence") if "_sequence" in names else None
        empty = _ENCODE(transport.body(self.statement, {"1": {"type": "TEXT", "value": "[]"}}))
        self.budget = max_request_bytes - len(empty)

    def load(self, path: Path, compression: Compression) -> int:
        """Insert every row of the batch file; return the rows the batch has in the table.

        Args:
            path: The closed batch file.
            compression: How it is compressed.

        Returns:
            Rows inserted (checked against the table).

        Raises:
            ChunkOutcomeError: The table holds rows of the batch no outcome explains.
        """
        inserted = 0
        for chunk in chunks(batch_rows(path, compression), self.budget, self._sequence_column):
            inserted += self._insert(chunk, confirmed=inserted)
        in_table = self._batch_rows(None)[0]
        if in_table != inserted:
            msg = (
                f"the table holds {in_table} rows of batch {self._batch_id} after {inserted} "
                "were inserted"
            )
            raise ChunkOutcomeError(msg)
        return inserted

    def _insert(self, chunk: RowChunk, *, confirmed: int) -> int:
        """Insert one chunk exactly once; return its row count."""
        try:
            return self._insert_once(chunk, confirmed=confirmed)
        except RequestTooLarge:
            if len(chunk.rows) == 1:
                msg = (
                    f"one row of batch {self._batch_id} is larger than the SQL API accepts "
                    "in a request (413); raise sql_api_max_request_bytes only if Snowflake "
                    "accepts more"
                )
                raise ChunkOutcomeError(msg) from None
            self._logger.info(
                "INSERT of %d rows was too large for the SQL API (413); halving it",
                len(chunk.rows),
            )
            first, second = chunk.halves(self._sequence_column)
            done = self._insert(first, confirmed=confirmed)
            return done + self._insert(second, confirmed=confirmed + done)

    def _insert_once(self, chunk: RowChunk, *, confirmed: int) -> int:
        request_id = str(uuid.uuid4())
        bindings = {"1": {"type": "TEXT", "value": chunk.value}}
        for attempt in range(1, self._attempts + 1):
            try:
                result = self._transport.submit(
                    self.statement, bindings, request_id=request_id, resubmission=attempt > 1
                )
            except OutcomeUnknown as exc:
                if self._landed(chunk, confirmed=confirmed):
                    self._logger.warning(
                        "%s; the table holds the chunk's rows, so it is not sent again",
                        self._transport.redact(str(exc)),
                    )
                    return len(chunk.rows)
                if attempt == self._attempts:
                    raise
                self._logger.warning(
                    "%s; the table does not hold the chunk: submitting it again (same requestId)",
                    self._transport.redact(str(exc)),
                )
                continue
            inserted = _rows_inserted(result)
            if inserted != len(chunk.rows):
                msg = (
                    f"an INSERT of {len(chunk.rows)} rows of batch {self._batch_id} "
                    f"inserted {inserted}"
                )
                raise ChunkOutcomeError(msg)
            return inserted
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _landed(self, chunk: RowChunk, *, confirmed: int) -> bool:
        """Whether a chunk whose INSERT has no known outcome is in the table."""
        in_batch, in_chunk = self._batch_rows(chunk)
        count = len(chunk.rows)
        if in_batch == confirmed + count and in_chunk in (None, count):
            return True
        if in_batch == confirmed and not in_chunk:
            return False
        msg = (
            f"the table holds {in_batch} rows of batch {self._batch_id} "
            f"({in_chunk} of the chunk being inserted); expected {confirmed} or "
            f"{confirmed + count}"
        )
        raise ChunkOutcomeError(msg)

    def _batch_rows(self, chunk: RowChunk | None) -> tuple[int, int | None]:
        with_sequence = chunk is not None and chunk.first_sequence is not None
        query = ddl.batch_rows_query(self._table, with_sequence=with_sequence)
        params: list[object] = [self._batch_id]
        if with_sequence and chunk is not None:
            params = [chunk.first_sequence, chunk.last_sequence, self._batch_id]
        (row,) = self._transport.execute(query, params)
        chunk_rows = row.get("chunk_rows")
        return int(row["batch_rows"]), None if chunk_rows is None else int(chunk_rows)


def _rows_inserted(result: ResultSet) -> int:
    """Rows an INSERT inserted: its stats, else its one-row result (`number of rows inserted`)."""
    if "numRowsInserted" in result.stats:
        return int(result.stats["numRowsInserted"])
    return int(result.data[0][0] or 0) if result.data and result.data[0] else 0
