"""Compressed CSV batch files on local disk, one open file per stream.

Rows are appended as CSV lines as records arrive, so memory holds a few small buffers per
stream whatever the batch size. Compression runs in a helper thread (zlib and zstandard release
the GIL), so it overlaps with decoding and validating the next records. File names are
deterministic per batch (`<batch_id>.csv.zst`), and each batch gets its own stage directory, so a
retried PUT overwrites the same object and a retried COPY is skipped by Snowflake's load metadata.

Zstandard (the default) compresses this CSV about three times faster than gzip level 1 and
smaller. Each file is one zstd frame (one gzip stream for gzip), as the `zstd` tool writes
it: RFC 8878 allows several frames per file, but Snowflake only documents "Zstandard v0.8 (and
higher)" (sql-reference/sql/create-file-format, COMPRESSION) and promises nothing about
multi-frame files, which other loaders have seen it fail on (GH:slingdata-io/sling-cli#436).
So worker processes hand over uncompressed rows and the whole file is compressed here, in one
stream.
"""

from __future__ import annotations

import codecs
import enum
import gzip
import queue
import re
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol, cast

import zstandard

# Lines are joined and handed to the compressor in chunks of this many characters.
_CHUNK_CHARS = 1 << 20
# At most this many chunks wait for the compressor: bounds memory at a few MB per stream.
_MAX_PENDING_CHUNKS = 4
# Level 1 compresses CSV about 5x at several times the speed of the default level 6.
_COMPRESSION_LEVEL = 1
_GZIP_WBITS = 31


class Compression(enum.Enum):
    """How batch files are compressed (the `stage_compression` setting)."""

    ZSTD = "zstd"
    GZIP = "gzip"

    @property
    def extension(self) -> str:
        """File name suffix after `.csv`."""
        return ".zst" if self is Compression.ZSTD else ".gz"

    @property
    def source_compression(self) -> str:
        """The PUT's SOURCE_COMPRESSION (the file is uploaded as it is)."""
        return self.name

    @property
    def copy_compression(self) -> str:
        """The COPY file format's COMPRESSION, named rather than detected (AUTO)."""
        return self.name


class _Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


def _compressor(compression: Compression) -> _Compressor:
    """One stream for a whole file: a single zstd frame, or a single gzip member."""
    if compression is Compression.ZSTD:
        return cast("_Compressor", zstandard.ZstdCompressor(level=_COMPRESSION_LEVEL).compressobj())
    return zlib.compressobj(_COMPRESSION_LEVEL, zlib.DEFLATED, _GZIP_WBITS)


class BatchFile:
    """A compressed CSV file being filled with one batch of rows."""

    def __init__(self, path: Path, compression: Compression = Compression.ZSTD) -> None:
        """Create the file (truncating a leftover from a crashed run).

        Args:
            path: Where to write.
            compression: How the file is compressed.
        """
        self.path = path
        self.compression = compression
        self.rows = 0
        self.raw_bytes = 0
        """Characters written so far (the uncompressed size, for batch_max_bytes)."""
        self._buffer: list[str] = []
        self._buffered = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")
        self._closed = False
        self._chunks: queue.Queue[str | bytes | Path | None] = queue.Queue(
            maxsize=_MAX_PENDING_CHUNKS
        )
        self._error: BaseException | None = None
        self._writer = threading.Thread(
            target=self._compress_chunks, name=f"compress {path.name}", daemon=True
        )
        self._writer.start()

    def _compress_chunks(self) -> None:
        compressor = _compressor(self.compression)
        try:
            while (piece := self._chunks.get()) is not None:
                if isinstance(piece, Path):  # rows a worker wrote to a file
                    data = piece.read_bytes()
                    piece.unlink(missing_ok=True)
                else:
                    data = piece.encode() if isinstance(piece, str) else piece
                self._file.write(compressor.compress(data))
            self._file.write(compressor.flush())
        except BaseException as exc:
            self._error = exc
            while self._chunks.get() is not None:  # unblock the producer until close()
                pass
        finally:
            self._file.close()

    def write_line(self, line: str) -> None:
        """Append one CSV line (with its trailing newline).

        Args:
            line: The encoded row.
        """
        self._buffer.append(line)
        self.rows += 1
        size = len(line)
        self.raw_bytes += size
        self._buffered += size
        if self._buffered >= _CHUNK_CHARS:
            self._hand_over()

    def write_encoded(self, data: bytes | Path, rows: int, size: int) -> None:
        """Append CSV lines a worker process encoded.

        Args:
            data: Whole lines, each with its trailing newline, UTF-8, or a file holding them
                (read and deleted by the compressing thread, in order).
            rows: How many lines `data` holds.
            size: Their size in bytes.
        """
        self._hand_over()
        self.rows += rows
        self.raw_bytes += size
        if size:
            self._chunks.put(data)

    def _hand_over(self) -> None:
        if self._buffer:
            self._chunks.put("".join(self._buffer))
            self._buffer.clear()
            self._buffered = 0

    def close(self) -> Path:
        """Finish the compressed stream and close the file.

        Returns:
            The file path.

        Raises:
            OSError: Writing the file failed.
        """
        if not self._closed:
            self._closed = True
            self._hand_over()
            self._chunks.put(None)
            self._writer.join()
        if self._error is not None:
            raise OSError(f"writing {self.path} failed: {self._error}") from self._error
        return self.path

    def discard(self) -> None:
        """Close and delete the file."""
        try:
            self.close()
        finally:
            self.path.unlink(missing_ok=True)


def csv_quote(text: str) -> str:
    """Enclose a text field in double quotes, doubling embedded quotes.

    Args:
        text: The field value.

    Returns:
        The CSV field.
    """
    return '"' + text.replace('"', '""') + '"'


# One field of a batch file and its separator: enclosed in quotes (quotes doubled inside, any
# other character allowed) or not (no comma, quote or line break). An empty unenclosed field
# is NULL (EMPTY_FIELD_AS_NULL in the COPY's file format, ddl.csv_file_format).
# Possessive quantifiers: a quoted field cut off at the end of a block fails in linear time
# (with `(?:[^"]+|"")*` the engine would try every split of the text: exponential).
_FIELD = re.compile(r'"((?:[^"]++|"")*+)"(?=[,\n])|([^,\n"]*+)(?=[,\n])')
_READ_CHARS = 1 << 20


def _open_text(path: Path, compression: Compression) -> Iterator[str]:
    """The file's text, in blocks (UTF-8 decoded across block boundaries)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as raw:
        stream: IO[bytes]
        if compression is Compression.ZSTD:
            stream = zstandard.ZstdDecompressor().stream_reader(raw)
        else:
            stream = cast("IO[bytes]", gzip.GzipFile(fileobj=raw))
        with stream:
            while block := stream.read(_READ_CHARS):
                yield decoder.decode(block)
    yield decoder.decode(b"", final=True)


def batch_rows(path: Path, compression: Compression) -> Iterator[list[str | None]]:
    """Read a batch file back as rows of field texts (None for NULL), in file order.

    The SQL API transport loads these texts with INSERTs (ddl.insert_rows): the same text
    COPY would read, so both transports load the same values.

    Args:
        path: The closed batch file.
        compression: How it is compressed.

    Yields:
        Each row's fields.

    Raises:
        ValueError: The file is not a complete batch file.
    """
    pending = ""
    for text in _open_text(path, compression):
        buffer = pending + text
        position = 0
        while True:
            row, end = _row_at(buffer, position)
            if row is None:
                break
            yield row
            position = end
        pending = buffer[position:]
    if pending:
        msg = f"{path.name} ends in an incomplete row"
        raise ValueError(msg)


def _row_at(buffer: str, position: int) -> tuple[list[str | None] | None, int]:
    """The complete row starting at `position`, and where the next one starts (None: more text)."""
    fields: list[str | None] = []
    match = _FIELD.match
    while (found := match(buffer, position)) is not None:
        enclosed, plain = found.groups()
        fields.append(enclosed.replace('""', '"') if enclosed is not None else plain or None)
        position = found.end() + 1
        if buffer[found.end()] == "\n":
            return fields, position
    return None, position
