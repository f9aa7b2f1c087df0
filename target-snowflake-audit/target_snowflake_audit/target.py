"""The target: its settings, wiring, and the routing of RECORD lines to the one RECORD path."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.sinks import Sink
from typing_extensions import override

from target_snowflake_audit.connector import SettingsError
from target_snowflake_audit.dispatch import Chunk, RecordDispatcher, spill_dir
from target_snowflake_audit.loader import Loader
from target_snowflake_audit.messages import LineNumberingReader, line_text
from target_snowflake_audit.pipeline import LoadPipeline
from target_snowflake_audit.quarantine import QuarantinePolicy
from target_snowflake_audit.record_routes import RecordRouter
from target_snowflake_audit.rejections import BadInputError
from target_snowflake_audit.sdk_hooks import SDKHooks
from target_snowflake_audit.settings import CONFIG_SCHEMA, DEFAULT_CHUNK_ROWS, DEFAULT_MAX_WORKERS
from target_snowflake_audit.sinks import AuditSink, QuarantineSink
from target_snowflake_audit.transport import open_transport
from target_snowflake_audit.workers import (
    EncodedChunk,
    RejectionKind,
)


class TargetSnowflakeAudit(SDKHooks):
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
        self.quarantine = QuarantinePolicy(
            self,
            quarantine=self.config.get("on_invalid_record", "fail") == "quarantine",
            stop=self._stop_at_bad_input,
            logger=self.logger,
        )
        # Cheap to build: worker processes start only once a chunk of lines has filled up.
        self.dispatcher = RecordDispatcher(
            workers=self._workers,
            chunk_rows=int(self.config.get("parallel_chunk_rows") or DEFAULT_CHUNK_ROWS),
            keep_going=self.quarantine.quarantine,
            on_result=self._apply_chunk,
            on_batch_full=self._drain_full_batches,
        )
        if isinstance(self.message_reader, LineNumberingReader):
            self.message_reader.on_bad_input = self._reject_current_line
            self.message_reader.on_termination = self.stop_after_signal
            if self.fast_paths:
                self.message_reader.record_lines = self
        self._owned_staging_dir: Path | None = None
        self.router = RecordRouter(self, self.dispatcher, self._reject)
        # Set when a chunk's rows filled a batch (by bytes); drained before the next line.
        self._drain_requested = False

    @property
    def _workers(self) -> int:
        configured = self.config.get("parallel_workers")
        if configured is not None:
            return int(configured)
        return min(os.cpu_count() or 1, DEFAULT_MAX_WORKERS)

    # The record path (messages.RecordLineHandler): the reader hands over every RECORD line.

    def take_record_line(self, stream: object, line_number: int, line: str | bytes) -> None:
        """Route a RECORD line to its stream's chunk, or reject it.

        Args:
            stream: The message's `stream`, as sent.
            line_number: The input line number.
            line: The whole line.
        """
        self.router.route(stream, line_number, line)
        if self._drain_requested:
            self._drain_all_batches()

    def flush_record_lines(self) -> None:
        """Apply every queued RECORD line (before any other message and at the end)."""
        self.router.forget()
        if not self.dispatcher.idle:
            self.dispatcher.flush()
            if self._drain_requested:
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
            if self.quarantine.stops_at(rejection.kind):
                # Lines after this one are not loaded: the run stops here.
                self.dispatcher.abandon()
            self.quarantine.reject(
                rejection.kind,
                rejection.reason,
                line_number=chunk.line_numbers[rejection.index],
                stream=sink.stream_name,
                raw_text=line_text(chunk.lines[rejection.index]),
            )

    def _drain_all_batches(self) -> None:
        """Load every open batch, records still in chunks included, then write STATE.

        The SDK's own drains (before SCHEMA, BATCH and ACTIVATE_VERSION messages and at the end)
        need no flush here: the reader flushes before every message that is not a RECORD.
        """
        self.dispatcher.flush()
        self._drain_requested = False
        self.drain_all()

    # Bad input (the table is in rejections.py, the policy in quarantine.py).

    def _reject(
        self,
        kind: RejectionKind,
        line_number: int,
        stream: str | None,
        line: str | bytes,
        reason: str = "",
    ) -> None:
        self.quarantine.reject(
            kind, reason, line_number=line_number, stream=stream, raw_text=line_text(line)
        )

    def _reject_current_line(
        self, kind: RejectionKind, reason: str, line_number: int, stream: str | None
    ) -> None:
        """A bad line the reader found (it keeps the line's text)."""
        reader = self.message_reader
        text = reader.line_text if isinstance(reader, LineNumberingReader) else ""
        self.quarantine.reject(kind, reason, line_number=line_number, stream=stream, raw_text=text)

    def _stop_at_bad_input(self, error: BadInputError) -> NoReturn:
        """Load what arrived before the bad line (and emit the last STATE received before it).

        Then stop: nothing valid is lost and the tap can resume from that state. The error
        itself is reported once, by the command line (cli.py).
        """
        self.logger.info(
            "Bad input on line %d: loading what arrived before it, then stopping",
            error.line_number,
        )
        try:
            self._drain_all_batches()
            self.wait_for_loads()
        finally:
            self.close()
        raise error

    # Sinks and loading.

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
        connection = open_transport(self.config, self.logger)
        loader = Loader(
            connection=connection, config=self.config, staging_dir=staging_dir, logger=self.logger
        )
        loader.start()
        return loader

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        if self.quarantine.registering:
            return QuarantineSink
        return super().get_sink_class(stream_name)

    @override
    def get_sink(
        self,
        stream_name: str,
        *,
        record: dict[str, Any] | None = None,
        schema: dict[str, Any] | None = None,
        key_properties: Sequence[str] | None = None,
    ) -> Sink:
        sink = super().get_sink(
            stream_name, record=record, schema=schema, key_properties=key_properties
        )
        if record is not None and isinstance(sink, AuditSink):
            # Only the SDK's own record path passes the record (sdk_fast_paths off): the
            # sink keeps it as received, before the SDK strips `_sdc_*` and parses dates.
            sink.receive(record)
        return sink

    @property
    @override
    def load_pipeline(self) -> LoadPipeline | None:
        return self.loader.pipeline if "loader" in self.__dict__ else None

    @override
    def abandon_queued_records(self) -> None:
        self.dispatcher.abandon()

    @override
    def process_endofpipe(self) -> None:
        reader = (
            self.message_reader if isinstance(self.message_reader, LineNumberingReader) else None
        )
        if reader is not None:
            reader.busy = True  # a signal now waits until everything received is loaded
        try:
            super().process_endofpipe()
            self.wait_for_loads()
        finally:
            self.close()
            if reader is not None:
                reader.busy = False
        if reader is not None and reader.stop_signal is not None:
            self.logger.warning("Everything received is loaded; stopping as signalled")
            raise SystemExit(128 + reader.stop_signal)

    @override
    def wait_for_loads(self) -> None:
        if "loader" in self.__dict__:
            self.loader.pipeline.wait()

    @override
    def close(self) -> None:
        self.dispatcher.close()
        if "loader" in self.__dict__:
            self.loader.pipeline.close()
            self.loader.connection.close()
            # Chunks workers encoded for batches that were dropped (a bad record, a signal).
            shutil.rmtree(spill_dir(self.loader.staging_dir), ignore_errors=True)
        if self._owned_staging_dir is not None:
            shutil.rmtree(self._owned_staging_dir, ignore_errors=True)
