"""The quarantine policy: a bad line goes to `"_rejected_records"`, or the run stops at it.

`on_invalid_record: quarantine` loads every line the rejection table (rejections.py) marks as
quarantined into the `_rejected_records` table, through a sink registered under that name, and
the run goes on; with `fail` (the default), or for a kind that always stops, the target loads
everything received before the last STATE before the line, writes that STATE and stops.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import NoReturn, Protocol

from singer_sdk.sinks import Sink

from target_snowflake_audit.ddl import REJECTED_TABLE
from target_snowflake_audit.rejections import REJECTIONS, BadInputError, rejection_error
from target_snowflake_audit.sinks import QuarantineSink
from target_snowflake_audit.workers import RejectionKind

# Quarantined input is loaded like a stream, through a sink registered under this name (a tap
# stream of the same name is refused by AuditSink, since it would load into the same table).
QUARANTINE_STREAM = REJECTED_TABLE


class SinkRegistry(Protocol):
    """The target's public sink registry (the SDK's Target methods of these names)."""

    def sink_exists(self, stream_name: str) -> bool:
        """Whether a sink is registered for the stream."""
        ...  # pragma: no cover

    def add_sink(self, stream_name: str, schema: dict, key_properties: list[str]) -> Sink:  # type: ignore[type-arg]
        """Register a new sink."""
        ...  # pragma: no cover

    def get_sink(self, stream_name: str) -> Sink:
        """The registered sink of a stream."""
        ...  # pragma: no cover

    def drain_one(self, sink: Sink) -> None:
        """Load a sink's batch."""
        ...  # pragma: no cover


class QuarantinePolicy:
    """Decides, for each bad line, between `_rejected_records` and stopping the run."""

    def __init__(
        self,
        sinks: SinkRegistry,
        *,
        quarantine: bool,
        stop: Callable[[BadInputError], NoReturn],
        logger: logging.Logger,
    ) -> None:
        """Set up.

        Args:
            sinks: Where the quarantine sink is registered.
            quarantine: The `on_invalid_record` setting is `quarantine`.
            stop: Loads what arrived before the bad line, then raises its error.
            logger: For the warning each quarantined line gets.
        """
        self._sinks = sinks
        self.quarantine = quarantine
        self._stop = stop
        self._logger = logger
        self.registering = False
        """True while the quarantine sink is created (the target then hands out its class)."""

    def stops_at(self, kind: RejectionKind) -> bool:
        """Whether a line of this kind stops the run.

        Args:
            kind: The kind of bad input.

        Returns:
            True unless quarantine is on and the kind is quarantined.
        """
        return not (self.quarantine and REJECTIONS[kind].quarantined)

    def reject(
        self,
        kind: RejectionKind,
        reason: str,
        *,
        line_number: int,
        stream: str | None,
        raw_text: str,
    ) -> None:
        """Quarantine a bad line, or stop the run at it.

        Args:
            kind: What is wrong with the line.
            reason: The rejection's own reason (see rejections.rejection_error).
            line_number: The input line.
            stream: The stream, when known.
            raw_text: The line as received.
        """
        error = rejection_error(kind, reason, line_number=line_number, stream=stream)
        if self.stops_at(kind):
            self._stop(error)
        self._logger.warning("Quarantined %s", error)
        if not self._sinks.sink_exists(QUARANTINE_STREAM):
            self.registering = True
            try:
                self._sinks.add_sink(QUARANTINE_STREAM, copy.deepcopy(QuarantineSink.SCHEMA), [])
            finally:
                self.registering = False
        sink = self._sinks.get_sink(QUARANTINE_STREAM)
        sink.process_record(
            {
                "stream": error.stream,
                "line_number": error.line_number,
                "reason": error.reason,
                "raw_text": raw_text.rstrip("\n"),
            },
            {},
        )
        sink.tally_record_read()
        if sink.is_full:
            self._sinks.drain_one(sink)
