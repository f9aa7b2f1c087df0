"""Reading Singer messages with input line numbers.

The SDK's reader does not count lines; every error this target reports about bad input
names the line, so the reader is replaced (through the SDK's `message_reader_class` hook).
"""

from __future__ import annotations

import codecs
import functools
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Protocol, cast

import msgspec
from singer_sdk.exceptions import (
    InvalidInputLine,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from singer_sdk.singerlib.encoding import GenericSingerReader
from typing_extensions import override

from target_snowflake_audit.workers import decode_json, decode_json_floats


class BadInputError(Exception):
    """Bad Singer input; the message names the input line and the stream."""

    hint = (
        "Fix the tap's output, or set on_invalid_record: quarantine to load bad lines into "
        '"_rejected_records" and go on'
    )
    """What the user can do about it (the command line adds it to the message)."""

    def __init__(self, reason: str, *, line_number: int, stream: str | None) -> None:
        """Build the message.

        Args:
            reason: What is wrong.
            line_number: 1-based input line.
            stream: The stream, when known.
        """
        where = f"input line {line_number}"
        if stream is not None:
            where += f" (stream {stream!r})"
        super().__init__(f"{where}: {reason}")
        self.reason = reason
        self.line_number = line_number
        self.stream = stream


class InvalidJSONLineError(BadInputError, InvalidInputLine):
    """A line is not a JSON Singer message."""


class RecordBeforeSchemaError(BadInputError, RecordsWithoutSchemaException):
    """A RECORD arrived before its stream's SCHEMA."""

    hint = (
        "A tap must send a stream's SCHEMA message before its RECORDs: fix the tap, or set "
        'on_invalid_record: quarantine to load such lines into "_rejected_records" and go on'
    )


class SchemaViolationError(BadInputError):
    """A record does not match its stream's schema."""


class MissingKeyPropertyError(BadInputError, MissingKeyPropertiesError):
    """A record lacks a key property."""


logger = logging.getLogger("target-snowflake-audit")
InvalidLineHandler = Callable[[int, str, str], None]


class RecordLineHandler(Protocol):
    """Takes RECORD lines undecoded (to encode them elsewhere) and flushes them."""

    def take_record_line(self, stream: object, line_number: int, line: str | bytes) -> bool:
        """Take a RECORD line of a stream; False leaves it to the ordinary path."""
        ...  # pragma: no cover

    def flush_record_lines(self) -> None:
        """Finish every taken line; called before most other messages and at the end."""
        ...  # pragma: no cover

    def after_record_lines(self, action: Callable[[], None]) -> None:
        """Run an action (a STATE message) once every line taken before it is applied."""
        ...  # pragma: no cover


class _Envelope(msgspec.Struct):
    """The part of a message the reader needs to route it (the rest is skipped)."""

    type: str
    stream: object = None


_ENVELOPE_DECODER = msgspec.json.Decoder(_Envelope)


def _utf8_buffer(source: IO[str]) -> IO[bytes] | None:
    """Return the binary stream under a UTF-8 text stream that nothing has read from yet."""
    buffer = getattr(source, "buffer", None)
    encoding = getattr(source, "encoding", None)
    if buffer is None or not isinstance(encoding, str):
        return None
    try:
        if codecs.lookup(encoding).name != "utf-8" or source.tell() != 0:
            return None
    except (LookupError, OSError, ValueError):
        return None  # a pipe cannot tell(): fine only when it is standard input, see below
    return cast("IO[bytes]", buffer)


def _stdin_buffer(source: IO[str]) -> IO[bytes] | None:
    """Standard input (a pipe, no tell()) is read as bytes when it is UTF-8."""
    buffer = getattr(source, "buffer", None)
    encoding = getattr(source, "encoding", None)
    if source is not sys.stdin or buffer is None or not isinstance(encoding, str):
        return None
    try:
        return cast("IO[bytes]", buffer) if codecs.lookup(encoding).name == "utf-8" else None
    except LookupError:
        return None


# Input is read in chunks of this size: few reads, so few GIL hand-overs to the other threads
# (each blocking read releases the GIL, and getting it back can wait a whole switch interval).
_READ_SIZE = 1 << 20


def _binary_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Split a binary stream into lines like text mode does (universal newlines).

    Lines come without their LF; a line broken by a lone CR keeps that CR.
    """
    read = getattr(stream, "read1", stream.read)  # read1: whatever a pipe has, no waiting
    pending: list[bytes] = []
    while chunk := read(_READ_SIZE):
        lines = chunk.split(b"\n")
        if len(lines) == 1:
            pending.append(chunk)
            continue
        has_cr = b"\r" in chunk
        if pending:
            pending.append(lines[0])
            lines[0] = b"".join(pending)
            pending.clear()
            has_cr = has_cr or b"\r" in lines[0]
        last = lines.pop()
        if last:
            pending.append(last)
        if not has_cr:
            yield from lines
            continue
        for line in lines:
            if b"\r" in line:
                yield from line.splitlines(keepends=True)
            else:
                yield line
    if pending:
        rest = b"".join(pending)
        yield from rest.splitlines(keepends=True) if b"\r" in rest else (rest,)


def line_text(line: str | bytes) -> str:
    """Return an input line as text with its line break (bytes lines come without their LF).

    Args:
        line: The line as read.

    Returns:
        The text, bytes that are not UTF-8 replaced.
    """
    if isinstance(line, str):
        return line
    return line.removesuffix(b"\r").decode("utf-8", errors="replace") + "\n"


def _offer_record_line(handler: RecordLineHandler, number: int, line: str | bytes) -> bool:
    """Offer a RECORD line to the handler; flush it before any other line.

    Returns:
        Whether the handler took the line.
    """
    try:
        envelope = _ENVELOPE_DECODER.decode(line)
    except msgspec.DecodeError:
        envelope = None  # the ordinary path reports what is wrong
    if envelope is not None and envelope.type == "RECORD":
        return handler.take_record_line(envelope.stream, number, line)
    if envelope is None or envelope.type != "STATE":
        handler.flush_record_lines()  # a STATE is queued behind the taken lines instead
    return False


class LineNumberingReader(GenericSingerReader[str]):
    """A Singer reader that tracks the current input line number and text.

    A UTF-8 input is read as bytes (the JSON decoder works on bytes directly, which saves
    decoding every line into a str first); the line text is decoded only when reported.
    """

    def __init__(self) -> None:
        """Start before the first line."""
        super().__init__()
        self.line_number = 0
        self._line: str | bytes = ""
        self.on_invalid_line: InvalidLineHandler | None = None
        """Called with (line number, text, reason) for a non-JSON line; raises to stop."""
        self.record_lines: RecordLineHandler | None = None
        """Offered every RECORD line before it is decoded."""

    @property
    def line_text(self) -> str:
        """The current input line (with its line break)."""
        return line_text(self._line)

    @property
    @override
    def default_input(self) -> IO[str]:
        return sys.stdin

    @override
    def deserialize_json(self, line: str | bytes) -> dict[str, Any]:
        message = decode_json(line)
        if not isinstance(message, dict) or "type" not in message:
            msg = "not a Singer message (a JSON object with a 'type')"
            raise ValueError(msg)
        if message["type"] != "RECORD":
            # Exact decimals are for record values; STATE is written back with the json
            # module, which cannot serialize Decimal, and schemas are read as written.
            return cast("dict[str, Any]", decode_json_floats(line))
        return message

    @override
    def process_lines(
        self,
        file_input: IO[str] | None,
        callbacks: dict[str, Callable[[dict[Any, Any]], None]],
    ) -> Counter[str]:
        stats: Counter[str] = Counter()
        source = file_input or self.default_input
        binary = _utf8_buffer(source) or _stdin_buffer(source)
        lines: Iterable[str | bytes] = source if binary is None else _binary_lines(binary)
        deserialize = self.deserialize_json
        record_lines = self.record_lines
        for number, line in enumerate(lines, start=1):
            self.line_number = number
            self._line = line
            if not line.strip():
                continue
            if record_lines is not None and _offer_record_line(record_lines, number, line):
                stats["RECORD"] += 1
                continue
            try:
                message = deserialize(line)
            except ValueError as exc:
                # (UnicodeDecodeError, for bytes that are not UTF-8, is a ValueError too.)
                reason = f"invalid JSON: {exc}"
                if self.on_invalid_line is None:
                    raise InvalidJSONLineError(reason, line_number=number, stream=None) from None
                self.on_invalid_line(number, self.line_text, reason)
                continue
            message_type = message["type"]
            callback = callbacks.get(message_type)
            if callback is None:
                reason = f"unknown message type {message_type!r}"
                raise BadInputError(reason, line_number=number, stream=message.get("stream"))
            if record_lines is not None and message_type == "STATE" and "value" in message:
                record_lines.after_record_lines(functools.partial(callback, message))
                stats[message_type] += 1
                continue
            try:
                callback(message)
            except BadInputError:
                raise
            except (InvalidInputLine, KeyError) as exc:
                raise BadInputError(
                    f"malformed {message_type} message: {exc}",
                    line_number=number,
                    stream=message.get("stream"),
                ) from exc
            stats[message_type] += 1
        if record_lines is not None:
            record_lines.flush_record_lines()
        return stats
