"""Validating and encoding chunks of RECORD lines, in worker processes.

Decoding, validating and rendering a 30-column record costs tens of microseconds of Python,
which one process cannot spread over several cores. The target therefore hands whole input
lines, a chunk at a time, to a pool of worker processes running `encode_chunk` and writes the
returned CSV bytes into the batch file in input order (see dispatch.py). This module imports
only what encoding needs, so a worker starts quickly and stays small.
"""

from __future__ import annotations

import ctypes
import datetime
import enum
import json
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from target_snowflake_audit.records import EncoderSpec, RowEncoder
from target_snowflake_audit.values import (
    MissingKeyProperty,
    RecordRejected,
    canonical_bytes,
    utc_now,
)

# msgspec decodes a Singer line about 2.5 times faster than the json module. Numbers with a
# fraction or exponent become Decimals with the exact digits sent (a float would turn
# 1234567890.123456789 into 1234567890.1234567); integers of any size stay ints. The SDK's
# own reader decodes floats as Decimals too (singer_sdk.singerlib.json).
_DECODER = msgspec.json.Decoder(float_hook=Decimal)
_FLOAT_DECODER = msgspec.json.Decoder()
# Encoders compiled in this process, by spec key (one per sink); bounded for long runs.
_ENCODERS: dict[str, RowEncoder] = {}
_MAX_ENCODERS = 256
_PR_SET_PDEATHSIG = 1

MALFORMED_RECORD = "RECORD message needs a 'stream' string and a 'record' object"
# The SDK's record metadata properties (Sink._add_sdc_metadata_to_schema, singer-sdk 0.54.9).
SDC_PROPERTIES = (
    "_sdc_extracted_at",
    "_sdc_received_at",
    "_sdc_batched_at",
    "_sdc_deleted_at",
    "_sdc_sequence",
    "_sdc_table_version",
    "_sdc_sync_started_at",
)


class RejectionKind(enum.StrEnum):
    """Every kind of bad input (rejections.py maps each to its error and whether it stops a run).

    Workers report the first four; the target's reader and record routing the rest.
    """

    SCHEMA = "schema"
    MISSING_KEY = "missing_key"
    MALFORMED = "malformed"
    INVALID_JSON = "invalid_json"
    BEFORE_SCHEMA = "before_schema"
    UNKNOWN_TYPE = "unknown_type"
    MALFORMED_MESSAGE = "malformed_message"


@dataclass(frozen=True)
class Rejection:
    """One line of a chunk that was not encoded."""

    index: int
    """Position of the line in the chunk."""
    kind: RejectionKind
    reason: str


@dataclass(frozen=True)
class EncodedChunk:
    """The CSV lines of a chunk's valid records, and the lines that were rejected."""

    data: bytes
    """The CSV lines, UTF-8 (the batch file is compressed as one stream in the target)."""
    rows: int
    rejections: tuple[Rejection, ...]
    size: int = 0
    """Size of the lines in bytes."""
    spilled: str | None = None
    """The file holding the lines instead of `data` (see ChunkJob.spill_dir)."""


def decode_json_floats(line: str | bytes) -> Any:
    """Decode a JSON line that holds no record values (numbers with a fraction as floats).

    Args:
        line: The line (already known to be valid JSON).

    Returns:
        The decoded value.
    """
    try:
        return _FLOAT_DECODER.decode(line)
    except msgspec.DecodeError:
        return json.loads(line)


def decode_json(line: str | bytes) -> Any:
    """Decode one JSON line; the json module judges what msgspec refuses.

    Args:
        line: The line.

    Returns:
        The decoded value.

    Raises:
        ValueError: The line is not valid JSON.
    """
    try:
        return _DECODER.decode(line)
    except msgspec.DecodeError:
        # msgspec refuses a few inputs the json module accepts (e.g. lone surrogates);
        # the json module is the judge of what is valid JSON.
        return json.loads(line, parse_float=Decimal)


@dataclass(frozen=True)
class MappedRecord:
    """A record a stream map produced in the target process, with its message's fields."""

    record: dict[str, Any]
    time_extracted: Any
    deleted_at: Any
    """The `_sdc_deleted_at` of the record as received, before any map could drop it."""
    version: Any


@dataclass(frozen=True)
class ChunkJob:
    """What a worker needs to encode one chunk (sent to it pickled)."""

    key: str
    """Identifies the spec (the sink); the compiled encoder is reused per key."""
    spec: EncoderSpec
    lines: Sequence[str | bytes | MappedRecord]
    """RECORD message lines of one stream (or records stream maps produced), in input order."""
    first_sequence: int
    """`_sequence` of the first line; line i gets first_sequence + i."""
    batch_id: str
    keep_going: bool
    """Encode the lines after a rejected one too (quarantine), or stop there."""
    spill_dir: str | None = None
    """Write the encoded lines to a file here rather than return them: handing back a
    megabyte through the pool's pipe costs the target process about three times the CPU of
    reading it from a file (measured), and the target compresses every row itself."""
    sync_started_at: int | None = None
    """Add the SDK's `_sdc_*` record metadata (`add_record_metadata`), with this
    `_sdc_sync_started_at`; None: records are loaded as received."""


def with_sdc_metadata(
    record: dict[str, Any],
    *,
    time_extracted: Any,
    deleted_at: Any,
    version: Any,
    sync_started_at: int,
) -> dict[str, Any]:
    """Return the record with the SDK's `_sdc_*` metadata properties added.

    The same properties as the SDK's `Sink._add_sdc_metadata_to_record` (singer-sdk 0.54.9),
    with the received and batched times rendered canonically.
    """
    enriched = dict(record)
    received_at = utc_now()
    enriched["_sdc_extracted_at"] = time_extracted
    enriched["_sdc_received_at"] = received_at
    enriched["_sdc_batched_at"] = received_at
    enriched["_sdc_deleted_at"] = deleted_at
    enriched["_sdc_sequence"] = int(datetime.datetime.now(datetime.UTC).timestamp() * 1000)
    enriched["_sdc_table_version"] = version
    enriched["_sdc_sync_started_at"] = sync_started_at
    return enriched


def _message_fields(
    item: str | bytes | MappedRecord,
) -> tuple[dict[str, Any], Any, Any, Any] | None:
    """A chunk item's record, `time_extracted`, `_sdc_deleted_at` and `version`.

    Returns:
        The fields, or None when the line is not a message with a `record` object.

    Raises:
        ValueError: The line is not valid JSON.
    """
    if isinstance(item, MappedRecord):
        return item.record, item.time_extracted, item.deleted_at, item.version
    message = decode_json(item)
    record = message.get("record") if isinstance(message, dict) else None
    if not isinstance(record, dict):
        return None
    return (
        record,
        message.get("time_extracted"),
        record.get("_sdc_deleted_at"),
        message.get("version"),
    )


def encode_chunk(job: ChunkJob) -> EncodedChunk:
    """Validate and encode the RECORD lines of a chunk.

    Args:
        job: The chunk.

    Returns:
        The encoded rows and the rejected lines.
    """
    key, spec, first_sequence, batch_id = job.key, job.spec, job.first_sequence, job.batch_id
    encoder = _ENCODERS.get(key)
    if encoder is None:
        if len(_ENCODERS) >= _MAX_ENCODERS:
            _ENCODERS.clear()
        encoder = _ENCODERS[key] = spec.build()
    encode = encoder.encode_record
    started_at = job.sync_started_at
    rows: list[str] = []
    rejections: list[Rejection] = []
    for index, line in enumerate(job.lines):
        try:
            fields = _message_fields(line)
            if fields is None:
                rejections.append(Rejection(index, RejectionKind.MALFORMED, MALFORMED_RECORD))
            else:
                record, time_extracted, deleted_at, version = fields
                document = None
                if started_at is not None:
                    document = canonical_bytes(record)
                    record = with_sdc_metadata(
                        record,
                        time_extracted=time_extracted,
                        deleted_at=deleted_at,
                        version=version,
                        sync_started_at=started_at,
                    )
                rows.append(
                    encode(
                        record,
                        time_extracted=time_extracted,
                        deleted_at=deleted_at,
                        sequence=first_sequence + index,
                        batch_id=batch_id,
                        document=document,
                    )
                )
                continue
        except MissingKeyProperty as exc:
            rejections.append(Rejection(index, RejectionKind.MISSING_KEY, str(exc)))
        except RecordRejected as exc:
            rejections.append(Rejection(index, RejectionKind.SCHEMA, str(exc)))
        except ValueError as exc:
            rejections.append(Rejection(index, RejectionKind.INVALID_JSON, f"invalid JSON: {exc}"))
        if not job.keep_going:
            break
    data = "".join(rows).encode()
    if job.spill_dir and data:
        path = os.path.join(job.spill_dir, f"{key}-{first_sequence}.csv")
        with open(path, "wb") as spill:
            spill.write(data)
        return EncodedChunk(
            data=b"", rows=len(rows), rejections=tuple(rejections), size=len(data), spilled=path
        )
    return EncodedChunk(data=data, rows=len(rows), rejections=tuple(rejections), size=len(data))


def init_worker(parent_pid: int) -> None:
    """Prepare a worker process: Ctrl-C is the parent's to handle, and it dies with it.

    Args:
        parent_pid: The target's process id (a parent killed while this worker started
            leaves it orphaned before the death signal is armed; it then exits at once).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # pragma: no cover - exotic libc
            pass
    if os.getppid() != parent_pid:
        os._exit(1)
