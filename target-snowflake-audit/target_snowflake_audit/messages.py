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
from singer_sdk.singerlib.encoding import GenericSingerReader
from typing_extensions import override

from target_snowflake_audit.rejections import (
    BadInputError,
    rejection_error,
    sdk_rejection,
)
from target_snowflake_audit.workers import RejectionKind, decode_json, decode_json_floats


class TerminationRequested(SystemExit):
    """A termination signal arrived: raised between messages, so a stop never cuts one in half.

    A SystemExit, so that raised before the target listens it simply ends the process with
    128 + the signal number.
    """

    def __init__(self, signum: int) -> None:
        """Record the signal.

        Args:
            signum: The signal number.
        """
        super().__init__(128 + signum)
        self.signum = signum


logger = logging.getLogger("target-snowflake-audit")
BadInputHandler = Callable[[RejectionKind, str, int, "str | None"], None]
"""Called with (kind, reason, line number, stream) for a bad line; raises to stop the run."""


class RecordLineHandler(Protocol):
    """Takes RECORD lines undecoded (to encode them elsewhere) and flushes them."""

    def take_record_line(self, stream: object, line_number: int, line: str | bytes) -> None:
        """Take a RECORD line of a stream (its `stream` as sent, maybe not a string)."""
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
    """Hand a RECORD line to the handler; flush the lines it holds before any other line.

    Returns:
        Whether the line was a RECORD (and was taken).
    """
    try:
        envelope = _ENVELOPE_DECODER.decode(line)
    except msgspec.DecodeError:
        envelope = None  # the ordinary path decodes it again (or reports what is wrong)
    if envelope is not None and envelope.type == "RECORD":
        handler.take_record_line(envelope.stream, number, line)
        return True
    if envelope is None or envelope.type != "STATE":
        handler.flush_record_lines()  # a STATE is queued behind the taken lines instead
    return False


def _handed_over(
    handler: RecordLineHandler,
    message: dict[str, Any],
    callback: Callable[[dict[Any, Any]], None],
    number: int,
    line: str | bytes,
) -> bool:
    """Hand a decoded RECORD (or a STATE, queued behind the records) to the handler.

    Returns:
        Whether the handler took the message.
    """
    if message["type"] == "RECORD":
        # A line the fast decoder refused but the json module reads (lone surrogates).
        handler.take_record_line(message.get("stream"), number, line)
        return True
    if message["type"] == "STATE" and "value" in message:
        handler.after_record_lines(functools.partial(callback, message))
        return True
    return False


class LineNumberingReader(GenericSingerReader[str]):
    """A Singer reader that tracks the current input line number and text.

    A UTF-8 input is read as bytes (the JSON decoder works on bytes directly, which saves
    decoding every line into a str first); the line text is decoded only when reported.
    While a line is being handled, `busy` is true: a termination signal arriving then sets
    `stop_signal`, and the reader raises TerminationRequested once the line is done.
    """

    def __init__(self) -> None:
        """Start before the first line."""
        super().__init__()
        self.line_number = 0
        self._line: str | bytes = ""
        self.on_bad_input: BadInputHandler | None = None
        """Quarantines a bad line, or raises to stop the run (None: always raise)."""
        self.record_lines: RecordLineHandler | None = None
        """Takes every RECORD line before it is decoded (None: the SDK's callback does)."""
        self.busy = False
        """Whether a line (or the end of input, see the target) is being handled now."""
        self.stop_signal: int | None = None
        """A termination signal that arrived while busy, acted on after the line."""
        self.on_termination: Callable[[int], None] | None = None
        """Stops the run after a termination signal (None: TerminationRequested ends it)."""

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
        try:
            for number, line in enumerate(lines, start=1):
                self.line_number = number
                self._line = line
                if not line.strip():
                    continue
                self.busy = True
                try:
                    message_type = self._handle_line(number, line, callbacks)
                finally:
                    self.busy = False
                if message_type is not None:
                    stats[message_type] += 1
                if self.stop_signal is not None:
                    raise TerminationRequested(self.stop_signal)
        except TerminationRequested as stop:
            # Raised here after a line, or by the signal handler while waiting for input.
            if self.on_termination is None:
                raise
            self.on_termination(stop.signum)
            raise
        if self.record_lines is not None:
            self.record_lines.flush_record_lines()
        return stats

    def _handle_line(
        self,
        number: int,
        line: str | bytes,
        callbacks: dict[str, Callable[[dict[Any, Any]], None]],
    ) -> str | None:
        """Route one line; return its message type (None: rejected)."""
        record_lines = self.record_lines
        if record_lines is not None and _offer_record_line(record_lines, number, line):
            return "RECORD"
        try:
            message = self.deserialize_json(line)
        except ValueError as exc:
            # (UnicodeDecodeError, for bytes that are not UTF-8, is a ValueError too.)
            self._bad_input(RejectionKind.INVALID_JSON, f"invalid JSON: {exc}", number, None)
            return None
        message_type = str(message["type"])
        stream = message.get("stream")
        stream = stream if isinstance(stream, str) else None
        callback = callbacks.get(message_type)
        if callback is None:
            reason = f"unknown message type {message_type!r}"
            self._bad_input(RejectionKind.UNKNOWN_TYPE, reason, number, stream)
            return None
        if record_lines is not None and _handed_over(record_lines, message, callback, number, line):
            return message_type
        try:
            callback(message)
        except BadInputError:
            raise
        except Exception as exc:
            kind = sdk_rejection(exc)
            if kind is None:
                raise
            reason = str(exc)
            if message_type != "RECORD":
                kind, reason = (
                    RejectionKind.MALFORMED_MESSAGE,
                    f"malformed {message_type} message: {exc}",
                )
            self._bad_input(kind, reason, number, stream)
            return None
        return message_type

    def _bad_input(self, kind: RejectionKind, reason: str, number: int, stream: str | None) -> None:
        if self.on_bad_input is None:
            raise rejection_error(kind, reason, line_number=number, stream=stream)
        self.on_bad_input(kind, reason, number, stream)
