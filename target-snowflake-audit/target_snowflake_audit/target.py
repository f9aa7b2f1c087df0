"""The target: settings, message handling and the command line."""

from __future__ import annotations

import copy
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from types import FrameType
from typing import Any

from singer_sdk import Target
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.mapper import SameRecordTransform, StreamMap
from singer_sdk.sinks import Sink
from typing_extensions import override

from target_snowflake_audit.connector import SettingsError, SnowflakeConnection
from target_snowflake_audit.ddl import REJECTED_TABLE
from target_snowflake_audit.dispatch import Chunk, RecordDispatcher, spill_dir
from target_snowflake_audit.loader import Loader
from target_snowflake_audit.messages import (
    BadInputError,
    InvalidJSONLineError,
    LineNumberingReader,
    MissingKeyPropertyError,
    RecordBeforeSchemaError,
    SchemaViolationError,
    line_text,
)
from target_snowflake_audit.settings import CONFIG_SCHEMA, DEFAULT_CHUNK_ROWS, DEFAULT_MAX_WORKERS
from target_snowflake_audit.sinks import AuditSink, QuarantineSink
from target_snowflake_audit.values import MissingKeyProperty, RecordRejected
from target_snowflake_audit.workers import EncodedChunk, RejectionKind

# The error reported for each kind of line a worker rejects (MALFORMED: plain BadInputError).
_REJECTION_ERRORS: dict[str, type[BadInputError]] = {
    RejectionKind.SCHEMA: SchemaViolationError,
    RejectionKind.MISSING_KEY: MissingKeyPropertyError,
    RejectionKind.INVALID_JSON: InvalidJSONLineError,
}

# Quarantined input is loaded like a stream, through a sink registered under this name (a tap
# stream of the same name is refused by AuditSink, since it would load into the same table).
_QUARANTINE_STREAM = REJECTED_TABLE


class TargetSnowflakeAudit(Target):
    """Append-only Singer target that turns Snowflake into an audit log."""

    name = "target-snowflake-audit"
    default_sink_class = AuditSink
    message_reader_class = LineNumberingReader

    config_jsonschema = CONFIG_SCHEMA

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,
        file_input: Any = None,
    ) -> None:
        """Run the target; invalid settings become one SettingsError (see cli.py)."""
        try:
            super().invoke(
                about=about, about_format=about_format, config=config, file_input=file_input
            )
        except ConfigValidationError as exc:
            problems = "; ".join(exc.errors) or str(exc)
            msg = f"invalid settings: {problems}"
            raise SettingsError(msg) from None

    @override
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Cheap to build: worker processes start only once a chunk of lines has filled up.
        self.dispatcher = RecordDispatcher(
            workers=self._workers,
            chunk_rows=int(self.config.get("parallel_chunk_rows") or DEFAULT_CHUNK_ROWS),
            keep_going=self._quarantine,
            on_result=self._apply_chunk,
            on_batch_full=self._drain_full_batches,
        )
        if isinstance(self.message_reader, LineNumberingReader):
            self.message_reader.on_invalid_line = self._reject_line
            if self._workers > 0:
                self.message_reader.record_lines = self
        self._owned_staging_dir: Path | None = None
        self._registering_quarantine = False
        # Stream maps known to pass records through unchanged, by id (the map is kept so the
        # id cannot be reused); one entry per SCHEMA message.
        self._pass_through: dict[int, tuple[StreamMap, bool]] = {}
        # Sinks whose RECORD lines go to the dispatcher, by stream (None: ordinary path);
        # forgotten before every non-RECORD message, since a SCHEMA may replace a sink.
        self._parallel_sinks: dict[object, AuditSink | None] = {}
        # Set when a worker's rows filled a batch by bytes; drained before the next line.
        self._drain_requested = False

    @property
    def _workers(self) -> int:
        configured = self.config.get("parallel_workers")
        if configured is not None:
            return int(configured)
        return min(os.cpu_count() or 1, DEFAULT_MAX_WORKERS)

    def take_record_line(self, stream: object, line_number: int, line: str | bytes) -> bool:
        """Queue a RECORD line for a worker when its stream allows it (see dispatch.py).

        Args:
            stream: The message's `stream`.
            line_number: The input line number.
            line: The whole line.

        Returns:
            Whether the line was taken (False: the ordinary per-message path handles it).
        """
        if stream in self._parallel_sinks:
            sink = self._parallel_sinks[stream]
        else:
            sink = self._parallel_sinks[stream] = self._parallel_sink(stream)
        if sink is None:
            return False
        self.dispatcher.add(sink, line_number, line)
        if self._drain_requested:
            self._drain_all_batches()
        return True

    def _parallel_sink(self, stream: object) -> AuditSink | None:
        """The sink of a stream whose records pass through unchanged, else None."""
        if not isinstance(stream, str):
            return None
        stream_maps = self.mapper.stream_maps.get(stream)
        if not stream_maps or len(stream_maps) != 1 or not self._passes_through(stream_maps[0]):
            return None
        sink = self._sinks_active.get(stream_maps[0].stream_alias)
        return sink if isinstance(sink, AuditSink) and sink.parallel_capable else None

    def flush_record_lines(self) -> None:
        """Apply every queued RECORD line (before any other message and at the end)."""
        self._parallel_sinks.clear()
        if not self.dispatcher.idle:
            self.dispatcher.flush()
            if any(sink.is_full for sink in self._sinks_active.values()):
                self._drain_all_batches()

    def after_record_lines(self, action: Callable[[], None]) -> None:
        """Handle a STATE message once the records received before it are applied.

        Args:
            action: Handles the message.
        """
        self.dispatcher.defer(action)

    def _drain_full_batches(self) -> None:
        self.logger.info("A batch is full; loading all batches")
        self._drain_all_batches()

    def _apply_chunk(self, chunk: Chunk, encoded: EncodedChunk) -> None:
        """Write a chunk's rows to its batch, then handle its rejected lines in order."""
        sink = chunk.sink
        if encoded.rows:
            sink.write_encoded(chunk.batch_id, encoded)
            sink.tally_record_read(encoded.rows)
            sink.record_counter_metric.increment(encoded.rows)
            # Rows filling a batch are drained at dispatch; `batch_max_bytes` shows only here.
            self._drain_requested = self._drain_requested or sink.is_full
        for rejection in encoded.rejections:
            error = _REJECTION_ERRORS.get(rejection.kind, BadInputError)(
                rejection.reason,
                line_number=chunk.line_numbers[rejection.index],
                stream=sink.stream_name,
            )
            if not self._quarantine:
                # Lines after this one are not loaded: the run stops here.
                self.dispatcher.abandon()
            self._reject(error, raw_text=line_text(chunk.lines[rejection.index]))

    def _drain_all_batches(self) -> None:
        """Load every open batch, records still in chunks included, then write STATE.

        The SDK's own drains (before SCHEMA, BATCH and ACTIVATE_VERSION messages and at the end)
        need no flush here: the reader flushes before every message that is not a RECORD.
        """
        self.dispatcher.flush()
        self._drain_requested = False
        self.drain_all()

    @cached_property
    def loader(self) -> Loader:
        """The shared loader: opened, checked and ready on first use."""
        configured = self.config.get("staging_dir")
        if configured:
            staging_dir = Path(configured)
            staging_dir.mkdir(parents=True, exist_ok=True)
        else:
            staging_dir = Path(tempfile.mkdtemp(prefix="target-snowflake-audit-"))
            self._owned_staging_dir = staging_dir
        connection = SnowflakeConnection(self.config, self.logger)
        loader = Loader(
            connection=connection, config=self.config, staging_dir=staging_dir, logger=self.logger
        )
        loader.start()
        return loader

    @property
    def _line_number(self) -> int:
        reader = self.message_reader
        return reader.line_number if isinstance(reader, LineNumberingReader) else 0

    @property
    def _line_text(self) -> str:
        reader = self.message_reader
        return reader.line_text if isinstance(reader, LineNumberingReader) else ""

    @property
    def _quarantine(self) -> bool:
        return bool(self.config.get("on_invalid_record", "fail") == "quarantine")

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        if self._registering_quarantine:
            return QuarantineSink
        return super().get_sink_class(stream_name)

    def _reject(self, error: BadInputError, *, raw_text: str | None = None) -> None:
        """Quarantine bad input, or commit everything before it and stop."""
        if not self._quarantine:
            # Load what arrived before the bad line (and emit the last STATE received before
            # it), then stop: nothing valid is lost and the tap can resume from that state.
            # The error itself is reported once, by the command line (cli.py).
            self.logger.info(
                "Bad input on line %d: loading what arrived before it, then stopping",
                error.line_number,
            )
            try:
                self._drain_all_batches()
                self._wait_for_loads()
            finally:
                self._close()
            raise error
        self.logger.warning("Quarantined %s", error)
        if not self.sink_exists(_QUARANTINE_STREAM):
            self._registering_quarantine = True
            try:
                self.add_sink(_QUARANTINE_STREAM, copy.deepcopy(QuarantineSink.SCHEMA), [])
            finally:
                self._registering_quarantine = False
        sink = self.get_sink(_QUARANTINE_STREAM)
        sink.process_record(
            {
                "stream": error.stream,
                "line_number": error.line_number,
                "reason": error.reason,
                "raw_text": (self._line_text if raw_text is None else raw_text).rstrip("\n"),
            },
            {},
        )
        sink.tally_record_read()
        if sink.is_full:
            self.drain_one(sink)

    def _reject_line(self, line_number: int, text: str, reason: str) -> None:
        _ = text  # the reader keeps the current line text; _reject reads it from there
        self._reject(BadInputError(reason, line_number=line_number, stream=None))

    # The one private SDK hook this target overrides (an abstract method of the SDK's
    # plugin base). The SDK version strips `_sdc_*` fields (tombstones included) unless
    # add_record_metadata is on, then validates with jsonschema and parses every date-time;
    # here `_sdc_deleted_at` is captured first and validation is the sink's compiled encoder.
    @override
    def _process_record_message(self, message_dict: dict[str, Any]) -> None:
        # The hot path: keep the work per record small (about 30 columns are checked and
        # rendered per record elsewhere; this is just the routing around it).
        stream_name = message_dict.get("stream")
        raw_record = message_dict.get("record")
        if not isinstance(stream_name, str) or not isinstance(raw_record, dict):
            error = BadInputError(
                "RECORD message needs a 'stream' string and a 'record' object",
                line_number=self._line_number,
                stream=stream_name if isinstance(stream_name, str) else None,
            )
            self._reject(error)
            return
        stream_maps = self.mapper.stream_maps.get(stream_name)
        if stream_maps is None:
            self._reject(
                RecordBeforeSchemaError(
                    "RECORD received before the stream's SCHEMA",
                    line_number=self._line_number,
                    stream=stream_name,
                )
            )
            return
        context = {
            "time_extracted": message_dict.get("time_extracted"),
            "deleted_at": raw_record.get("_sdc_deleted_at"),
            "version": message_dict.get("version"),
        }
        single = len(stream_maps) == 1
        for stream_map in stream_maps:
            if single and self._passes_through(stream_map):
                record: dict[str, Any] | None = raw_record
            else:
                record = stream_map.transform(raw_record if single else copy.copy(raw_record))
            if record is None:
                continue
            sink = self.get_sink(stream_map.stream_alias, record=record)
            try:
                sink.process_record(record, context)
            except MissingKeyProperty as exc:
                self._reject(
                    MissingKeyPropertyError(
                        str(exc), line_number=self._line_number, stream=stream_name
                    )
                )
                continue
            except RecordRejected as exc:
                self._reject(
                    SchemaViolationError(
                        str(exc), line_number=self._line_number, stream=stream_name
                    )
                )
                continue
            sink.tally_record_read()
            sink.record_counter_metric.increment()
            if sink.is_full:
                # Drain every sink, not just the full one: the SDK emits STATE only after
                # drain_all, so this makes a long backfill resumable at each batch boundary.
                self.logger.info("Batch for stream %r is full; loading all batches", stream_name)
                self._drain_all_batches()

    def _passes_through(self, stream_map: StreamMap) -> bool:
        """Whether a stream map returns records unchanged (no stream maps, no flattening)."""
        known = self._pass_through.get(id(stream_map))
        if known is None or known[0] is not stream_map:
            passes = type(stream_map) is SameRecordTransform and not stream_map.flattening_enabled
            known = self._pass_through[id(stream_map)] = (stream_map, passes)
        return known[1]

    # The second private SDK hook: the SDK writes STATE right after drain_all() returns, but
    # batches load in the background (pipeline.py), so the STATE is queued behind them and
    # written by the load worker once everything received before it is committed.
    @override
    def _write_state_message(self, state: dict[str, Any]) -> None:
        if "loader" not in self.__dict__:
            super()._write_state_message(state)
            return
        write = super()._write_state_message
        self.loader.pipeline.submit(lambda: write(state))

    @override
    def process_endofpipe(self) -> None:
        try:
            super().process_endofpipe()
            self._wait_for_loads()
        finally:
            self._close()

    # The SDK's SIGTERM/SIGINT handler drains every sink and exits with status 0 at once: the
    # loads it starts run in the background here, so they would be cut off, and 0 would tell a
    # scheduler that the run finished. This one drops the records still in worker chunks (their
    # STATE was not handled yet), loads everything else, writes the STATE that covers it, and
    # exits with 128 + the signal number.
    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.logger.warning(
            "Received signal %d: loading the records received so far, then stopping", signum
        )
        try:
            self.dispatcher.abandon()
            self.drain_all(is_endofpipe=True)
            self._wait_for_loads()
        finally:
            self._close()
        sys.exit(128 + signum)

    def _wait_for_loads(self) -> None:
        if "loader" in self.__dict__:
            self.loader.pipeline.wait()

    def _close(self) -> None:
        self.dispatcher.close()
        if "loader" in self.__dict__:
            self.loader.pipeline.close()
            self.loader.connection.close()
            # Chunks workers encoded for batches that were dropped (a bad record, a signal).
            shutil.rmtree(spill_dir(self.loader.staging_dir), ignore_errors=True)
        if self._owned_staging_dir is not None:
            shutil.rmtree(self._owned_staging_dir, ignore_errors=True)
