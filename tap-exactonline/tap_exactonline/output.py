"""Singer message output: the SDK's msgspec encoding, written to stdout in large chunks."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

from singer_sdk.contrib import msgspec as msgspec_encoding
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding import SingerMessageType
from singer_sdk.singerlib.encoding.simple import Message
from typing_extensions import override


class RecordBufferingWriter(MsgSpecWriter):
    """The SDK's msgspec writer, writing RECORD messages to stdout in large chunks.

    The stock writer makes one system call per message (with ``PYTHONUNBUFFERED`` set,
    ``sys.stdout.buffer`` is the raw file, so every message is a ``write``) and flushes after
    each; every such call also hands the interpreter lock to the page-prefetch thread.
    Records are encoded straight into one buffer instead, written out when it passes
    ``FLUSH_BYTES``; every other message (STATE, SCHEMA...) writes the buffered records first
    and then itself, and flushes, so a target never sees a state ahead of its records.
    """

    #: Write buffered records once this many bytes are waiting.
    FLUSH_BYTES = 256 * 1024

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__()
        self._pending = bytearray()

    @override
    def write_message(self, message: Message) -> None:
        pending = self._pending
        # Same encoder (and Decimal/datetime handling) as the SDK's msgspec writer.
        msgspec_encoding.encoder.encode_into(message.to_dict(), pending, -1)
        pending += b"\n"
        if message.type != SingerMessageType.RECORD:
            self.flush()
        elif len(pending) >= self.FLUSH_BYTES:
            self._write_pending()

    def write_record(self, stream: str, record: dict[str, Any], version: int | None) -> None:
        """Write one RECORD message without building a message object.

        The bytes are those of ``RecordMessage(...).to_dict()`` through the SDK's encoder:
        same keys in the same order, ``time_extracted`` the current UTC time.

        Args:
            stream: The stream name (after any alias).
            record: The record.
            version: The stream version, if any.
        """
        message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        message["time_extracted"] = datetime.now(UTC)
        pending = self._pending
        msgspec_encoding.encoder.encode_into(message, pending, -1)
        pending += b"\n"
        if len(pending) >= self.FLUSH_BYTES:
            self._write_pending()

    def flush(self) -> None:
        """Write every buffered message and flush stdout."""
        self._write_pending()
        sys.stdout.flush()

    def _write_pending(self) -> None:
        pending = self._pending
        if not pending:
            return
        # stdout is looked up per write: tests and Meltano may swap it.
        out = sys.stdout.buffer
        view = memoryview(pending)
        try:
            while view:
                written = out.write(view)
                # A raw (unbuffered) stdout may write only part of a large chunk.
                view = view[written if written is not None else len(view) :]
        finally:
            view.release()
        pending.clear()
