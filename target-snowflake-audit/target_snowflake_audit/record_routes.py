"""Routing RECORD lines to the one RECORD path (dispatch.py), stream by stream.

A stream whose records pass through unchanged (no stream maps, no flattening) hands its lines
to the dispatcher undecoded; a stream with maps is decoded here, its maps applied, and the
records they make are queued in the same chunks. A line of a stream without a SCHEMA, or one
that is not a RECORD with a `record` object, is rejected (rejections.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Protocol

from singer_sdk.mapper import PluginMapper, SameRecordTransform, StreamMap
from singer_sdk.sinks import Sink

from target_snowflake_audit.dispatch import RecordDispatcher
from target_snowflake_audit.sinks import AuditSink
from target_snowflake_audit.workers import MappedRecord, RejectionKind, decode_json

# How one stream's RECORD lines are handled until the next message that is not a RECORD.
Route = Callable[[int, "str | bytes"], None]
RejectLine = Callable[[RejectionKind, int, "str | None", "str | bytes", str], None]


class SinkLookup(Protocol):
    """What routing needs from the target: its public stream maps and sink registry."""

    @property
    def mapper(self) -> PluginMapper:
        """The SDK's stream maps."""
        ...  # pragma: no cover

    def sink_exists(self, stream_name: str) -> bool:
        """Whether a sink is registered for the stream."""
        ...  # pragma: no cover

    def get_sink(self, stream_name: str) -> Sink:
        """The registered sink of a stream."""
        ...  # pragma: no cover


class RecordRouter:
    """Routes each RECORD line to its sink's chunk (see the module docstring)."""

    def __init__(
        self, target: SinkLookup, dispatcher: RecordDispatcher, reject: RejectLine
    ) -> None:
        """Set up.

        Args:
            target: Where stream maps and sinks are looked up.
            dispatcher: Collects the lines into chunks.
            reject: Quarantines a bad line or stops the run (kind, line number, stream,
                line, reason).
        """
        self._target = target
        self._dispatcher = dispatcher
        self._reject = reject
        # How each stream's RECORD lines are handled; forgotten before every other message,
        # since a SCHEMA may replace a sink or its stream maps.
        self._routes: dict[str, Route] = {}
        # Stream maps known to pass records through unchanged, by id (the map is kept so the
        # id cannot be reused); one entry per SCHEMA message.
        self._pass_through: dict[int, tuple[StreamMap, bool]] = {}

    def route(self, stream: object, line_number: int, line: str | bytes) -> None:
        """Queue a RECORD line for its stream's sink, or reject it.

        Args:
            stream: The message's `stream`, as sent.
            line_number: The input line number.
            line: The whole line.
        """
        if not isinstance(stream, str):
            self._reject(RejectionKind.MALFORMED, line_number, None, line, "")
            return
        route = self._routes.get(stream)
        if route is None:
            route = self._routes[stream] = self._route(stream)
        route(line_number, line)

    def forget(self) -> None:
        """Forget every route (a message that is not a RECORD may change sinks or maps)."""
        self._routes.clear()

    def _route(self, stream: str) -> Route:
        """How this stream's lines are handled until the next message that is not a RECORD."""
        stream_maps = self._target.mapper.stream_maps.get(stream)
        if stream_maps is None:
            return lambda number, line: self._reject_unknown_stream(stream, number, line)
        sinks = [
            self._target.get_sink(stream_map.stream_alias)
            if self._target.sink_exists(stream_map.stream_alias)
            else None
            for stream_map in stream_maps
        ]
        if len(stream_maps) == 1 and self._passes_through(stream_maps[0]):
            sink = sinks[0]
            if isinstance(sink, AuditSink):
                add = self._dispatcher.add
                return lambda number, line: add(sink, number, line)
        pairs = list(zip(stream_maps, sinks, strict=True))
        return lambda number, line: self._add_mapped(stream, pairs, number, line)

    def _add_mapped(
        self,
        stream: str,
        pairs: Sequence[tuple[StreamMap, Sink | None]],
        line_number: int,
        line: str | bytes,
    ) -> None:
        """Decode a line, apply the stream's maps and queue each record they produce."""
        try:
            message = decode_json(line)
        except ValueError as exc:
            self._reject(
                RejectionKind.INVALID_JSON, line_number, stream, line, f"invalid JSON: {exc}"
            )
            return
        raw_record = message.get("record") if isinstance(message, dict) else None
        if not isinstance(raw_record, dict):
            self._reject(RejectionKind.MALFORMED, line_number, stream, line, "")
            return
        single = len(pairs) == 1
        for stream_map, sink in pairs:
            record = stream_map.transform(raw_record if single else copy.copy(raw_record))
            if record is None:
                continue
            if not isinstance(sink, AuditSink):
                self._reject(RejectionKind.BEFORE_SCHEMA, line_number, stream, line, "")
                continue
            mapped = MappedRecord(
                record,
                time_extracted=message.get("time_extracted"),
                deleted_at=raw_record.get("_sdc_deleted_at"),
                version=message.get("version"),
            )
            self._dispatcher.add(sink, line_number, line, mapped)

    def _reject_unknown_stream(self, stream: str, line_number: int, line: str | bytes) -> None:
        try:
            message = decode_json(line)
        except ValueError:
            message = None
        record = message.get("record") if isinstance(message, dict) else None
        kind = RejectionKind.BEFORE_SCHEMA if isinstance(record, dict) else RejectionKind.MALFORMED
        self._reject(kind, line_number, stream, line, "")

    def _passes_through(self, stream_map: StreamMap) -> bool:
        """Whether a stream map returns records unchanged (no stream maps, no flattening)."""
        known = self._pass_through.get(id(stream_map))
        if known is None or known[0] is not stream_map:
            passes = type(stream_map) is SameRecordTransform and not stream_map.flattening_enabled
            known = self._pass_through[id(stream_map)] = (stream_map, passes)
        return known[1]
