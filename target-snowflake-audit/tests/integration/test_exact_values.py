"""Values reach Snowflake exactly: numbers as decimals, strings as sent, dates and times in one
canonical form, NULL only for null. Checked in the staged file and in the table, by SQL.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import pytest
import zstandard
from archive_devkit.singer_messages import run_target, schema_message, singer_lines
from fakesnow.transforms.stage import LOCAL_BUCKET_PATH
from target_snowflake_audit.rejections import SchemaViolationError

from .conftest import DATABASE

PROPERTIES = {
    "ID": {"type": "string"},
    "Amount": {"type": ["number", "null"]},
    "Text": {"type": ["string", "null"]},
    "Modified": {"type": ["string", "null"], "format": "date-time"},
    "Day": {"type": ["string", "null"], "format": "date"},
}
# (JSON text sent, CSV field staged, NUMBER(38,9) value stored as text). Written as raw JSON:
# a float would already have lost the digits under test.
AMOUNTS = {
    "19 digits": ("1234567890.123456789", "1234567890.123456789", "1234567890.123456789"),
    "2 decimals": ("12345678901234567.12", "12345678901234567.12", "12345678901234567.120000000"),
    "29 digits": (
        "12345678901234567890.123456789",
        "12345678901234567890.123456789",
        "12345678901234567890.123456789",
    ),
    "38 digits": (
        "-98765432109876543210987654321.123456789",
        "-98765432109876543210987654321.123456789",
        "-98765432109876543210987654321.123456789",
    ),
    "trailing zero": ("12.50", "12.50", "12.500000000"),
    "exponent": ("1.5e3", "1500", "1500.000000000"),
    "double noise": ("0.30000000000000004", "0.300000000", "0.300000000"),
    "half-even down": ("1.0000000005", "1.000000000", "1.000000000"),
    "half-even up": ("1.0000000015", "1.000000002", "1.000000002"),
}
# File columns follow the sorted property names: Amount, Day, ID, Modified, Text.
AMOUNT, DAY, ID, MODIFIED = 0, 1, 2, 3


def _record_line(record_json: str) -> str:
    return f'{{"type": "RECORD", "stream": "amounts", "record": {record_json}}}'


def _amounts_input() -> str:
    lines = [json.dumps(schema_message("amounts", PROPERTIES))]
    lines += [
        _record_line(f'{{"ID": "{name}", "Amount": {raw}}}')
        for name, (raw, _, _) in AMOUNTS.items()
    ]
    return "\n".join(lines) + "\n"


def _staged_rows(schema: str, table: str) -> list[list[str]]:
    stage_dir = Path(LOCAL_BUCKET_PATH) / DATABASE / schema / "_audit_stage" / table
    rows: list[list[str]] = []
    for staged in sorted(stage_dir.glob("*/*.csv.zst")):
        text = zstandard.ZstdDecompressor().decompressobj().decompress(staged.read_bytes())
        rows += list(csv.reader(io.StringIO(text.decode(), newline="")))
    return rows


def test_numbers_with_20_and_more_significant_digits_are_staged_and_stored_exactly(
    config, schema_name, warehouse
):
    run_target(config, _amounts_input())

    staged = {row[ID]: row[AMOUNT] for row in _staged_rows(schema_name, "amounts")}
    assert staged == {name: text for name, (_, text, _) in AMOUNTS.items()}
    for name, (_, _, stored) in AMOUNTS.items():
        equal = 'SELECT "amount"::VARCHAR = %s FROM "amounts" WHERE "id" = %s'
        assert warehouse(equal % (f"'{stored}'", f"'{name}'")) == [(True,)], name


def test_the_document_keeps_numbers_as_sent_and_the_hash_covers_that_text(config, warehouse):
    run_target(config, _amounts_input())

    rows = {
        name: (document, record_hash)
        for name, document, record_hash in warehouse(
            'SELECT "id", "_document"::VARCHAR, "_record_hash" FROM "amounts"'
        )
    }
    document, record_hash = rows["trailing zero"]
    assert '"Amount":12.50' in document
    canonical = '{"Amount":12.50,"ID":"trailing zero"}'  # not 12.5, as a float would give
    assert record_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert "-98765432109876543210987654321.123456789" in rows["38 digits"][0]


TOO_LARGE = "100000000000000000000000000000"  # 10**29: does not fit NUMBER(38,9)


def test_a_number_too_large_for_its_column_is_a_clear_rejection(config, warehouse):
    text = singer_lines(
        schema_message("amounts", PROPERTIES),
        _record_line('{"ID": "fits", "Amount": 99999999999999999999999999999.999999999}'),
        _record_line(f'{{"ID": "too large", "Amount": {TOO_LARGE}}}'),
    )
    with pytest.raises(SchemaViolationError) as raised:
        run_target(config, text)

    assert "input line 3 (stream 'amounts')" in str(raised.value)
    assert "property 'Amount'" in str(raised.value)
    assert "does not fit a NUMBER(38,9) column" in str(raised.value)
    assert warehouse('SELECT "amount"::VARCHAR FROM "amounts"') == [
        ("99999999999999999999999999999.999999999",)
    ]


def test_a_number_too_large_is_quarantined_when_asked(config, warehouse):
    text = singer_lines(
        schema_message("amounts", PROPERTIES),
        _record_line(f'{{"ID": "too large", "Amount": -{TOO_LARGE}.5}}'),
        _record_line('{"ID": "fits", "Amount": 1}'),
    )
    run_target({**config, "on_invalid_record": "quarantine"}, text)

    assert warehouse('SELECT "id" FROM "amounts"') == [("fits",)]
    ((reason,),) = warehouse('SELECT "reason" FROM "_rejected_records"')
    assert "does not fit a NUMBER(38,9) column" in reason


STRINGS = {
    "empty": "",
    "backslash-n": "\\N",
    "null word": "NULL",
    "quotes": 'He said "hi", then \'bye\' ""',
    "newlines": "a\nb\r\nc\n",
    "non-ascii": "Zürich, 東京, 😀",
}


def test_strings_load_as_sent_and_only_null_is_null(config, warehouse):
    records = [{"ID": name, "Text": text} for name, text in STRINGS.items()]
    records.append({"ID": "null", "Text": None})
    run_target(
        config,
        singer_lines(
            schema_message("texts", PROPERTIES),
            *({"type": "RECORD", "stream": "texts", "record": r} for r in records),
        ),
    )

    stored = dict(warehouse('SELECT "id", "text" FROM "texts"'))
    assert stored == {**STRINGS, "null": None}
    assert warehouse('SELECT "id" FROM "texts" WHERE "text" IS NULL') == [("null",)]


def test_dates_and_times_load_in_one_canonical_form_whatever_form_they_arrive_in(
    config, schema_name, warehouse
):
    arrivals = {
        "compact": ("20240101T103000+0200", "20240131"),
        "week date": ("2024-W01-1T08:30:00Z", "2024-W05-3"),
        "fraction": ("2024-01-01T08:30:00.5-00:30", "2024-01-31T23:30:00-05:00"),
        "naive": ("2024-01-01T08:30:00", "2024-01-31"),
    }
    records = [
        {"ID": name, "Modified": moment, "Day": day} for name, (moment, day) in arrivals.items()
    ]
    run_target(
        config,
        singer_lines(
            schema_message("times", PROPERTIES),
            *({"type": "RECORD", "stream": "times", "record": r} for r in records),
        ),
    )

    staged = {row[ID]: (row[MODIFIED], row[DAY]) for row in _staged_rows(schema_name, "times")}
    assert staged == {
        "compact": ("2024-01-01 08:30:00.000000 +00:00", "2024-01-31"),
        "week date": ("2024-01-01 08:30:00.000000 +00:00", "2024-01-31"),
        "fraction": ("2024-01-01 09:00:00.500000 +00:00", "2024-01-31"),
        "naive": ("2024-01-01 08:30:00.000000 +00:00", "2024-01-31"),
    }
    stored = warehouse(
        'SELECT DISTINCT "modified"::VARCHAR, "day"::VARCHAR FROM "times" '
        "WHERE \"id\" <> 'fraction'"
    )
    assert stored == [("2024-01-01 08:30:00+00", "2024-01-31")]


def test_the_copy_names_its_null_handling_and_its_date_and_time_formats(config):
    target, _ = run_target(
        config,
        singer_lines(
            schema_message("times", PROPERTIES),
            {"type": "RECORD", "stream": "times", "record": {"ID": "x"}},
        ),
    )
    (copy,) = [s for s in target.loader.connection.statements if s.startswith("COPY INTO")]
    assert "NULL_IF = ()" in copy
    assert "EMPTY_FIELD_AS_NULL = TRUE" in copy
    assert "DATE_FORMAT = 'YYYY-MM-DD'" in copy
    assert "TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM'" in copy
    assert "COMPRESSION = ZSTD" in copy
    assert re.search(r"FROM \(SELECT \$1, \$2, .* FROM @", copy)
