"""A batch file read back as field texts (the SQL API's INSERTs send what COPY would read).

The reader works on blocks of the decompressed text; a row, a quoted field or a doubled quote
cut by a block boundary must come out whole, whatever the block size.
"""

from __future__ import annotations

import gzip
import signal
from pathlib import Path

import pytest
import zstandard
from target_snowflake_audit import staging
from target_snowflake_audit.staging import Compression, batch_rows

# The file format of ddl.csv_file_format: enclosed fields double their quotes; an empty
# unenclosed field is NULL; `""` is an empty string.
TEXT = (
    'a1,"say ""hi""",,12.50\n'
    '"multi\nline","",x,"comma, inside"\n'
    ",,,\n"
    '"Grüße 😀","back\\slash",\\N,"ends with quote"""\n'
)
ROWS = [
    ["a1", 'say "hi"', None, "12.50"],
    ["multi\nline", "", "x", "comma, inside"],
    [None, None, None, None],
    ["Grüße 😀", "back\\slash", "\\N", 'ends with quote"'],
]


def _write(path: Path, compression: Compression) -> Path:
    data = TEXT.encode()
    if compression is Compression.ZSTD:
        path.write_bytes(zstandard.ZstdCompressor().compress(data))
    else:
        path.write_bytes(gzip.compress(data))
    return path


@pytest.mark.parametrize("compression", list(Compression))
@pytest.mark.parametrize("block", [1, 2, 3, 5, 7, 1 << 20])
def test_rows_come_out_whole_at_every_block_boundary(tmp_path, monkeypatch, compression, block):
    monkeypatch.setattr(staging, "_READ_CHARS", block)
    path = _write(tmp_path / f"batch.csv{compression.extension}", compression)

    assert list(batch_rows(path, compression)) == ROWS


def test_a_cut_off_file_is_an_error_not_a_short_batch(tmp_path):
    path = tmp_path / "batch.csv.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(TEXT[:-5].encode()))

    with pytest.raises(ValueError, match="incomplete row"):
        list(batch_rows(path, Compression.ZSTD))


def test_a_long_quoted_field_cut_by_a_block_boundary_is_read_in_linear_time(tmp_path, monkeypatch):
    # A JSON document of a few kilobytes is an ordinary `_document` field; cut at a block
    # boundary, a backtracking pattern would need 2^n steps for it.
    document = '{""Description"": ""' + "x" * 4000 + '""}'
    path = tmp_path / "batch.csv.zst"
    text = f'a1,"{document}"\n' * 3
    path.write_bytes(zstandard.ZstdCompressor().compress(text.encode()))
    monkeypatch.setattr(staging, "_READ_CHARS", 1000)

    def too_slow(_signum: int, _frame: object) -> None:
        # The regex engine checks for signals while it matches, so this ends a runaway match.
        raise TimeoutError("reading three 4 kB fields took over 20 s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(20)
    try:
        rows = list(batch_rows(path, Compression.ZSTD))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

    assert rows == [["a1", document.replace('""', '"')]] * 3
