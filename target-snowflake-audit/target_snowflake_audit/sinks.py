"""The append-only sink: records stream into a compressed CSV per batch, loaded with one COPY."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

from singer_sdk.sinks import Sink
from snowflake.connector import errors as sf_errors
from typing_extensions import override

from target_snowflake_audit import ddl
from target_snowflake_audit.connector import TargetSnowflakeError
from target_snowflake_audit.ddl import Column
from target_snowflake_audit.loader import Loader, SequenceCounter
from target_snowflake_audit.naming import column_names, table_name
from target_snowflake_audit.records import ColumnSpec, EncoderSpec
from target_snowflake_audit.staging import BatchFile, csv_quote
from target_snowflake_audit.types import (
    ColumnKind,
    can_load_into,
    column_kind,
    kind_from_information_schema,
)
from target_snowflake_audit.values import canonical_bytes, utc_now
from target_snowflake_audit.workers import SDC_PROPERTIES, EncodedChunk

DEFAULT_BATCH_SIZE_ROWS = 100_000
DEFAULT_BATCH_MAX_BYTES = 512 * 1024 * 1024


class HasLoader(Protocol):
    """What sinks need from the target."""

    @property
    def loader(self) -> Loader:
        """The shared loader."""
        ...  # pragma: no cover


class _BatchingSink(Sink):
    """Shared batching: one open compressed CSV file per sink, flushed by rows or bytes."""

    def __init__(
        self,
        target: Any,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        self.loader = cast("HasLoader", target).loader
        self.table = table_name(stream_name)
        self._batch: tuple[str, BatchFile] | None = None
        self._max_bytes = int(target.config.get("batch_max_bytes") or DEFAULT_BATCH_MAX_BYTES)
        # With `sdk_fast_paths` off the SDK's own record path calls process_record and writes
        # STATE as soon as drain_all() returns, so batches load before process_batch returns.
        self.sdk_record_path = not bool(target.config.get("sdk_fast_paths", True))
        super().__init__(target, stream_name, schema, key_properties)

    @property
    @override
    def max_size(self) -> int:
        return self.batch_size_rows or DEFAULT_BATCH_SIZE_ROWS

    @property
    @override
    def is_full(self) -> bool:
        batch = self._batch
        return batch is not None and (
            batch[1].rows >= self.max_size or batch[1].raw_bytes >= self._max_bytes
        )

    def _open_batch(self) -> tuple[str, BatchFile]:
        self._batch = self.loader.new_batch(self.table)
        return self._batch

    def _write(self, line: str) -> None:
        batch = self._batch or self._open_batch()
        batch[1].write_line(line)

    @property
    def batch_rows(self) -> int:
        """Rows written to the open batch so far (0 when none is open)."""
        return self._batch[1].rows if self._batch is not None else 0

    @property
    def current_batch_id(self) -> str:
        """The id of the batch the next row goes to (opens it if needed)."""
        batch = self._batch or self._open_batch()
        return batch[0]

    @override
    def start_drain(self) -> dict[str, Any]:
        context = {"batch": self._batch}
        self._batch = None
        return context

    def _load_batch(
        self, context: Mapping[str, Any], columns: Sequence[Column], *, loaded_at: bool
    ) -> None:
        """Hand the batch to the background loader (STATE waits for it; see pipeline.py)."""
        batch = context.get("batch")
        if batch is None:
            return
        batch_id, batch_file = batch
        if batch_file.rows == 0:
            batch_file.discard()
            return

        def load() -> None:
            loaded = self.loader.load(
                stream_name=self.stream_name,
                table=self.table,
                columns=columns,
                batch_id=batch_id,
                batch_file=batch_file,
                loaded_at=loaded_at,
            )
            self.logger.info("Loaded %d rows into %s (batch %s)", loaded, self.table, batch_id)

        if self.sdk_record_path:
            load()
        else:
            self.loader.pipeline.submit(load)

    @override
    def activate_version(self, new_version: int) -> None:
        # An audit log never hides or deletes rows, so table versions change nothing.
        self.logger.info(
            "Ignoring ACTIVATE_VERSION %s for stream %r (append-only target)",
            new_version,
            self.stream_name,
        )

    @override
    def clean_up(self) -> None:
        if self._batch is not None:
            self._batch[1].discard()
            self._batch = None
        super().clean_up()


class AuditSink(_BatchingSink):
    """Appends every record of one stream to its table, with audit columns.

    Records reach the batch file two ways: encoded in chunks by the target's record path
    (`write_encoded`), or one by one from the SDK's own record path (`process_record`, with
    `sdk_fast_paths` off). Both use the same compiled encoder.
    """

    @property
    @override
    def include_sdc_metadata_properties(self) -> bool:
        # The SDK's own record path carries `time_extracted` and the table version to a sink
        # only as `_sdc_*` record metadata, so it is asked for on that path; the columns stay
        # those of `add_record_metadata` (see _loaded_properties).
        return self.sdk_record_path or bool(self.config.get("add_record_metadata", False))

    @property
    def sdc_sync_started_at(self) -> int | None:
        """`_sdc_sync_started_at` when `add_record_metadata` is on, else None (no metadata)."""
        return self.sync_started_at if self.config.get("add_record_metadata", False) else None

    def _loaded_properties(self) -> dict[str, Any]:
        properties: dict[str, Any] = dict(self.schema.get("properties") or {})
        if not self.config.get("add_record_metadata", False):
            for name in SDC_PROPERTIES:
                properties.pop(name, None)
        return properties

    @override
    def setup(self) -> None:
        if self.table == ddl.REJECTED_TABLE:
            msg = f"stream {self.stream_name!r} would load into the reserved table {self.table!r}"
            raise TargetSnowflakeError(msg)
        config = self.config
        properties = self._loaded_properties()
        self._received: dict[str, Any] | None = None
        try:
            columns = self._reconcile_columns(properties)
        except sf_errors.ProgrammingError as exc:
            connection = self.loader.connection
            msg = (
                f"setting up table {connection.qualified(self.table)} for stream "
                f"{self.stream_name!r} failed: {connection.redact(str(exc))}"
            )
            raise TargetSnowflakeError(msg) from None
        self.encoder_spec = EncoderSpec(
            columns=tuple(
                ColumnSpec(
                    property_name=prop,
                    column_name=column.name,
                    property_schema=properties[prop],
                    kind=column.kind,
                )
                for prop, column in columns.items()
            ),
            required=tuple(self.schema.get("required") or ()),
            allow_additional=self.schema.get("additionalProperties", True) is not False,
            key_properties=tuple(self.key_properties or ()),
            tenant_property=str(config.get("tenant_property", "Division")),
            source_system=str(config.get("source_system", "Exact Online")),
            store_document=bool(config.get("store_document", True)),
        )
        self.file_columns = [*columns.values(), *ddl.STAGED_AUDIT_COLUMNS]
        self.encoder = self.encoder_spec.build()
        self._sequence = self.loader.sequence_counter(self.stream_name)

    def _reconcile_columns(self, properties: Mapping[str, Any]) -> dict[str, Column]:
        """Create or evolve the table and return the column each property loads into."""
        connection = self.loader.connection
        qualified = connection.qualified(self.table)
        existing: dict[str, ColumnKind | None] = {
            row["column_name"]: kind_from_information_schema(
                str(row["data_type"]), row.get("numeric_scale")
            )
            for row in connection.execute(ddl.table_columns_query(), (self.table,))
        }
        names = column_names(properties, reserved=ddl.AUDIT_COLUMN_NAMES)
        wanted = {prop: Column(names[prop], column_kind(properties[prop])) for prop in names}
        if not existing:
            connection.execute(ddl.create_table(qualified, [*wanted.values(), *ddl.AUDIT_COLUMNS]))
            self._create_view(replace=True)
            return wanted

        resolved: dict[str, Column] = {}
        added: list[Column] = []
        for prop, column in wanted.items():
            if column.name not in existing:
                added.append(column)
                resolved[prop] = column
                continue
            current = existing[column.name]
            if current is not None and can_load_into(current, column.kind):
                resolved[prop] = Column(column.name, current)
                continue
            # Snowflake cannot change this column's type in place: load into a sibling column
            # and keep the old one (and its history) untouched.
            sibling = Column(f"{column.name}__{column.kind.suffix}", column.kind)
            self.logger.warning(
                "Property %r of stream %r changed type (column %r is %s, schema wants %s); "
                "loading it into column %r instead",
                prop,
                self.stream_name,
                column.name,
                current.sql if current else "an unknown type",
                column.kind.sql,
                sibling.name,
            )
            if sibling.name not in existing:
                added.append(sibling)
            resolved[prop] = sibling
        added += [c for c in ddl.AUDIT_COLUMNS if c.name not in existing]
        for column in added:
            connection.execute(ddl.add_column(qualified, column))
        self._create_view(replace=bool(added))
        return resolved

    def _create_view(self, *, replace: bool) -> None:
        connection = self.loader.connection
        view = connection.qualified(f"{self.table}__current")
        table = connection.qualified(self.table)
        connection.execute(ddl.create_current_view(view, table, replace=replace))

    def receive(self, record: dict[str, Any]) -> None:
        """Keep a record as the SDK's record path hands it to `get_sink` (see target.py).

        That is the record as received (after stream maps), before the SDK strips or adds
        `_sdc_*` properties and parses date-times into objects: what `_document`,
        `_record_hash` and every column are made of, on either path.
        """
        self._received = dict(record)

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Validate a record from the SDK's own record path and append its row to the batch.

        Raises:
            RecordRejected: The record does not match the schema.
        """
        received, self._received = self._received, None
        if received is None:  # pragma: no cover - the SDK calls get_sink(record=...) first
            received = record
        time_extracted = _as_text(record.get("_sdc_extracted_at"))
        document = None
        values = received
        if self.config.get("add_record_metadata", False):
            document = canonical_bytes(received)
            values = {**received, **{name: _as_text(record.get(name)) for name in SDC_PROPERTIES}}
        batch = self._batch or self._open_batch()
        batch[1].write_line(
            self.encoder.encode_record(
                values,
                time_extracted=time_extracted,
                deleted_at=received.get("_sdc_deleted_at"),
                sequence=next(self._sequence),
                batch_id=batch[0],
                document=document,
            )
        )

    def write_encoded(self, batch_id: str, encoded: EncodedChunk) -> None:
        """Append rows a worker process encoded for this sink's current batch.

        Args:
            batch_id: The batch the rows were encoded for (must be the open batch).
            encoded: The worker's result.
        """
        batch = self._batch or self._open_batch()
        if batch[0] != batch_id:  # pragma: no cover - the dispatcher never crosses batches
            msg = f"rows encoded for batch {batch_id} arrived while {batch[0]} is open"
            raise RuntimeError(msg)
        data = Path(encoded.spilled) if encoded.spilled else encoded.data
        batch[1].write_encoded(data, encoded.rows, encoded.size)

    @property
    def sequence(self) -> SequenceCounter:
        """The stream's `_sequence` counter."""
        return self._sequence

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        self._load_batch(context, self.file_columns, loaded_at=True)


class QuarantineSink(_BatchingSink):
    """Appends rejected input to the `_rejected_records` table."""

    SCHEMA: dict[str, Any] = {  # noqa: RUF012 - read-only schema handed to the SDK
        "type": "object",
        "properties": {
            "stream": {"type": ["string", "null"]},
            "line_number": {"type": "integer"},
            "reason": {"type": "string"},
            "raw_text": {"type": "string"},
        },
    }

    @override
    def setup(self) -> None:
        connection = self.loader.connection
        connection.execute(
            ddl.create_table(connection.qualified(ddl.REJECTED_TABLE), ddl.REJECTED_COLUMNS)
        )
        self._source = csv_quote(str(self.config.get("source_system", "Exact Online")))

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        stream = record.get("stream")
        fields = [
            "" if stream is None else csv_quote(str(stream)),
            str(int(record["line_number"])),
            csv_quote(str(record["reason"])),
            csv_quote(str(record["raw_text"])),
            utc_now(),
            self._source,
            self.current_batch_id,
        ]
        self._write(",".join(fields) + "\n")

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        self._load_batch(context, ddl.REJECTED_COLUMNS, loaded_at=False)


def _as_text(value: Any) -> Any:
    """A date-time the SDK parsed into an object, back as ISO 8601 text."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value
