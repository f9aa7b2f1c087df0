"""The one RECORD path: lines collected per sink into chunks, encoded, applied in input order.

The main process only splits the input and reads each line's message type and stream; whole
RECORD lines (or the records stream maps made of them) are collected per sink into chunks, and
each chunk is validated and rendered by `encode_chunk` (workers.py): in a pool of worker
processes, or in this process when `parallel_workers` is 0. Results are taken strictly in
submission order, so rows reach their batch file in input order and `_sequence` follows the
input. A chunk never spans two batches: its `_batch_id` and `_sequence` range are fixed when it
is submitted, and the batch is drained when the rows submitted to it reach the batch size.

A STATE message is queued behind the chunks holding the records received before it and handled
when they are applied, so frequent STATE messages do not stall the workers; other messages
(SCHEMA, ACTIVATE_VERSION, BATCH) wait for every chunk. Small inputs never start the pool:
until a few chunks' worth of lines has arrived, chunks are encoded in this process, with the
same function.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from target_snowflake_audit.workers import (
    ChunkJob,
    EncodedChunk,
    MappedRecord,
    encode_chunk,
    init_worker,
)

if TYPE_CHECKING:
    from target_snowflake_audit.sinks import AuditSink


def spill_dir(staging_dir: Path) -> Path:
    """The directory workers write encoded chunks to, under the staging directory.

    Args:
        staging_dir: Where batch files are written.

    Returns:
        The directory (may not exist yet).
    """
    return staging_dir / "encoded-chunks"


# Chunks waiting for or being encoded, per worker: enough to keep every worker busy while
# the main process collects results, few enough to bound memory (a chunk is ~1 MB).
_IN_FLIGHT_PER_WORKER = 3
_keys = itertools.count()


@dataclass
class Chunk:
    """RECORD lines of one sink, encoded together."""

    sink: AuditSink
    capacity: int
    line_numbers: list[int] = field(default_factory=list)
    lines: list[str | bytes] = field(default_factory=list)
    """The input lines (what a rejected line is reported and quarantined with)."""
    records: list[str | bytes | MappedRecord] | None = None
    """What is encoded when stream maps made records of the lines; None: the lines."""
    batch_id: str = ""
    result: Future[EncodedChunk] | EncodedChunk | None = None


ResultHandler = Callable[[Chunk, EncodedChunk], None]
Action = Callable[[], None]
# The pool starts once this many chunks' worth of lines has been taken.
_POOL_AFTER_CHUNKS = 2


class RecordDispatcher:
    """Collects RECORD lines per sink and encodes them, in a process pool once worth it."""

    def __init__(
        self,
        *,
        workers: int,
        chunk_rows: int,
        keep_going: bool,
        on_result: ResultHandler,
        on_batch_full: Callable[[], None],
    ) -> None:
        """Set up; no process starts before the first full chunk.

        Args:
            workers: Worker processes to start; 0 encodes every chunk in this process.
            chunk_rows: Lines per chunk.
            keep_going: Encode past a rejected line (quarantine) instead of stopping there.
            on_result: Applies a chunk's result (called in submission order).
            on_batch_full: Called when the rows submitted to a sink's batch reach its size.
        """
        self._workers = max(0, workers)
        # Encoded chunks allowed to wait before the oldest is applied: in this process a chunk
        # is encoded when submitted, so it is applied at once.
        self._max_in_flight = self._workers * _IN_FLIGHT_PER_WORKER
        self._chunk_rows = max(1, chunk_rows)
        self._keep_going = keep_going
        self._on_result = on_result
        self._on_batch_full = on_batch_full
        self._pool: ProcessPoolExecutor | None = None
        self._open: dict[AuditSink, Chunk] = {}
        self._in_flight: collections.deque[Chunk | Action] = collections.deque()
        self._chunks_in_flight = 0
        self._in_flight_rows: collections.Counter[AuditSink] = collections.Counter()
        self._lines_taken = 0
        self._pool_started = False
        self._spec_keys: dict[AuditSink, str] = {}
        self._spill_dirs: set[Path] = set()

    @property
    def workers(self) -> int:
        """Worker processes the pool starts (0: none, chunks are encoded in this process)."""
        return self._workers

    @property
    def pool_started(self) -> bool:
        """Whether worker processes were started (inputs of a few chunks never start them)."""
        return self._pool_started

    @property
    def idle(self) -> bool:
        """Whether no line is waiting to be encoded or applied."""
        return not self._open and not self._in_flight

    def add(
        self,
        sink: AuditSink,
        line_number: int,
        line: str | bytes,
        mapped: MappedRecord | None = None,
    ) -> None:
        """Queue one RECORD line of a sink.

        Args:
            sink: The stream's sink.
            line_number: The input line number (for errors).
            line: The whole input line.
            mapped: The record a stream map made of the line (None: the line is the record).
        """
        chunk = self._open.get(sink)
        if chunk is None:
            room = sink.max_size - sink.batch_rows - self._in_flight_rows[sink]
            chunk = self._open[sink] = Chunk(sink, max(1, min(self._chunk_rows, room)))
            if mapped is not None:
                chunk.records = []
        chunk.line_numbers.append(line_number)
        chunk.lines.append(line)
        if chunk.records is not None:
            chunk.records.append(line if mapped is None else mapped)
        self._lines_taken += 1
        if len(chunk.lines) >= chunk.capacity:
            self._submit(chunk)
            if sink.batch_rows + self._in_flight_rows[sink] >= sink.max_size:
                self._on_batch_full()

    def defer(self, action: Action) -> None:
        """Run an action once every line taken before it has been applied.

        Args:
            action: What to run (it is dropped if the run stops at an earlier bad line).
        """
        if self.idle:
            action()
            return
        self._submit_open()
        if not self._in_flight:  # every chunk was encoded and applied in this process
            action()
            return
        self._in_flight.append(action)

    def flush(self) -> None:
        """Encode every queued line and apply every result, in order."""
        self._submit_open()
        while self._in_flight:
            self._complete_oldest()

    def _submit_open(self) -> None:
        while self._open:
            self._submit(next(iter(self._open.values())))

    def abandon(self) -> None:
        """Drop queued lines and pending results (after a fatal rejection)."""
        self._open.clear()
        for item in self._in_flight:
            if isinstance(item, Chunk) and isinstance(item.result, Future):
                item.result.cancel()
        self._in_flight.clear()
        self._chunks_in_flight = 0
        self._in_flight_rows.clear()

    def close(self) -> None:
        """Stop the worker processes."""
        self.abandon()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self, chunk: Chunk) -> None:
        sink = chunk.sink
        del self._open[sink]
        key = self._spec_keys.get(sink)
        if key is None:
            key = self._spec_keys[sink] = f"{next(_keys)}"
        count = len(chunk.lines)
        first_sequence = sink.sequence.reserve(count)
        chunk.batch_id = sink.current_batch_id
        job = ChunkJob(
            key=key,
            spec=sink.encoder_spec,
            lines=chunk.lines if chunk.records is None else chunk.records,
            first_sequence=first_sequence,
            batch_id=chunk.batch_id,
            keep_going=self._keep_going,
            sync_started_at=sink.sdc_sync_started_at,
        )
        if self._pool is not None or (
            self._workers > 0 and self._lines_taken >= self._chunk_rows * _POOL_AFTER_CHUNKS
        ):
            job = dataclasses.replace(job, spill_dir=str(self._spill_dir(sink)))
            chunk.result = self._start_pool().submit(encode_chunk, job)
        else:
            chunk.result = encode_chunk(job)
        self._in_flight.append(chunk)
        self._chunks_in_flight += 1
        self._in_flight_rows[sink] += count
        while self._chunks_in_flight > self._max_in_flight:
            self._complete_oldest()

    def _spill_dir(self, sink: AuditSink) -> Path:
        """Where workers leave encoded chunks (removed with the staging files, see target.py)."""
        path = spill_dir(sink.loader.staging_dir)
        if path not in self._spill_dirs:
            path.mkdir(parents=True, exist_ok=True)
            self._spill_dirs.add(path)
        return path

    def _complete_oldest(self) -> None:
        chunk = self._in_flight.popleft()
        if not isinstance(chunk, Chunk):
            chunk()  # a deferred action: everything before it is applied
            return
        self._chunks_in_flight -= 1
        self._in_flight_rows[chunk.sink] -= len(chunk.lines)
        result = chunk.result
        encoded = result.result() if isinstance(result, Future) else result
        if encoded is None:  # pragma: no cover - every queued chunk has a result
            return
        self._on_result(chunk, encoded)

    def _start_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker,
                initargs=(os.getpid(),),
            )
            self._pool_started = True
        return self._pool
