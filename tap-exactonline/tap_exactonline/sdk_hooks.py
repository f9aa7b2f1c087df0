"""Every private Singer SDK method the tap overrides, fenced in this one module.

Each override mirrors the SDK's own code in singer-sdk 0.54.9 (``singer_sdk/streams/core.py``)
and exists only for throughput: on a 74-field record the SDK spends most of its per-record time
in walks this tap does not need (deselected fields, child contexts, a state lookup per record,
a message object per record). Every override falls back to the SDK's own path whenever its
shortcut's preconditions do not hold, and all of them are switched off by the ``sdk_fast_paths``
setting (false). ``tests/integration/test_sdk_hooks.py`` runs the same input through both paths
and compares the Singer output byte for byte; ``tests/unit/test_sdk_hook_signatures.py`` checks
that the SDK still has the methods overridden here with the signatures mirrored: an SDK upgrade
that changes any of this fails a test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from singer_sdk import Stream, Tap
from singer_sdk.helpers._state import increment_state
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from typing_extensions import override

from tap_exactonline.output import RecordBufferingWriter

if TYPE_CHECKING:
    from collections.abc import Generator

    from singer_sdk.helpers.types import Context

#: The SDK release whose private code the overrides below mirror.
MIRRORED_SDK_VERSION = "0.54.9"


class SDKFastPaths(Stream):
    """The record path's overrides of private SDK methods (see the module docstring)."""

    #: The tap this stream belongs to (set by the stream; the SDK keeps its own privately).
    exact_tap: Tap
    #: The partition whose state ``_increment_stream_state`` advances, with that state.
    _partition_state: tuple[Context | None, dict[str, Any]] | None = None

    @cached_property
    def fast_paths(self) -> bool:
        """Whether the shortcuts below may run (the ``sdk_fast_paths`` setting)."""
        return bool(self.config.get("sdk_fast_paths", True))

    @override
    def _generate_record_messages(self, record: dict[str, Any]) -> Generator[RecordMessage]:
        # Mirrors Stream._generate_record_messages (0.54.9) minus two walks: dropping
        # deselected fields (none when the catalog deselects nothing) and conforming types
        # (TYPE_CONFORMANCE_LEVEL NONE: records already hold values of their schema types).
        if not self.fast_paths or self._has_deselected_fields:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped_record = stream_map.transform(record)
            if mapped_record is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped_record,
                    version=self._stream_version,
                    time_extracted=datetime.now(UTC),
                )

    @override
    def _write_record_message(self, record: dict[str, Any]) -> None:
        # Mirrors Stream._write_record_message (0.54.9): with nothing deselected, no stream map
        # or flattening and this tap's writer, the record is encoded straight into the output
        # buffer (the same bytes, without a message object per record).
        writer = self._direct_writer if self.fast_paths else None
        if writer is None:
            super()._write_record_message(record)
            return
        writer.write_record(self.name, record, self._stream_version)
        self.state_manager.is_flushed = False

    @override
    def _process_record(
        self,
        record: dict[str, Any],
        child_context: Context | None = None,
        partition_context: Context | None = None,
    ) -> None:
        # Mirrors Stream._process_record (0.54.9): without child streams its per-record
        # child-context and filter calls do nothing, so only the partition keys are copied.
        if not self.fast_paths or self.child_streams:
            super()._process_record(record, child_context, partition_context)
            return
        if partition_context:
            for key, value in partition_context.items():
                if key not in record:
                    record[key] = value

    @override
    def _increment_stream_state(
        self,
        latest_record: dict[str, Any],
        *,
        context: Context | None = None,
    ) -> None:
        # Mirrors Stream._increment_stream_state and StreamStateManager.increment_state
        # (0.54.9), which look the partition's state up for every record (a quarter of their
        # per-record cost); here it is looked up once per partition and advanced by the SDK's
        # own rule (bookmark, progress markers, sort check).
        if not self.fast_paths or not latest_record:
            super()._increment_stream_state(latest_record, context=context)
            return
        cached = self._partition_state
        if cached is None or cached[0] is not context:
            if not self.replication_key or self.replication_method != REPLICATION_INCREMENTAL:
                super()._increment_stream_state(latest_record, context=context)
                return
            cached = self._partition_state = (context, self.get_context_state(context))
        increment_state(
            cached[1],
            replication_key=cast("str", self.replication_key),
            latest_record=latest_record,
            is_sorted=self.is_sorted and self.state_partitioning_keys is None,
            check_sorted=self.check_sorted,
        )

    @cached_property
    def _direct_writer(self) -> RecordBufferingWriter | None:
        """This tap's writer, when records pass through unchanged (no map, no flattening)."""
        writer = self.exact_tap.message_writer
        maps = self.stream_maps
        if (
            isinstance(writer, RecordBufferingWriter)
            and not self._has_deselected_fields
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
            and maps[0].stream_alias == self.name
        ):
            return writer
        return None

    @cached_property
    def _has_deselected_fields(self) -> bool:
        mask = self.mask
        return not all(mask[("properties", name)] for name in self.schema["properties"])
