"""Records encoded by worker processes load exactly like records encoded in the target."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import multiprocessing
import uuid
from pathlib import Path
from typing import Any

import pytest
import zstandard
from archive_devkit.singer_messages import record_message, schema_message, state_message
from fakesnow.transforms.stage import LOCAL_BUCKET_PATH
from singer_sdk import Target
from target_snowflake_audit.loader import Loader
from target_snowflake_audit.rejections import BadInputError
from target_snowflake_audit.target import TargetSnowflakeAudit

from .conftest import DATABASE, base_config

PROPERTIES: dict[str, Any] = {
    "ID": {"type": "integer"},
    "Division": {"type": "integer"},
    "Amount": {"type": ["number", "null"]},
    "Description": {"type": ["string", "null"]},
    "Modified": {"type": ["string", "null"], "format": "date-time"},
    "InvoiceDate": {"type": ["string", "null"], "format": "date"},
    "Paid": {"type": ["boolean", "null"]},
    "Extra": {"type": ["object", "null"]},
}
WORKERS = {"parallel_workers": 2, "parallel_chunk_rows": 100}


def _record(n: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "ID": n,
        "Division": 100 + n % 3,
        "Amount": None if n % 11 == 0 else round(n * 1.37 - 500, 2),
        "Description": f'line {n}: "quoted", comma, ünïcode\nsecond line' if n % 7 else "",
        "Modified": f"2024-03-{1 + n % 28:02d}T10:{n % 60:02d}:00+0{n % 3}:00",
        "InvoiceDate": f"2024-02-{1 + n % 28:02d}",
        "Paid": n % 2 == 0,
        "Extra": {"n": n, "tags": ["a", n % 5]},
    }
    if n % 13 == 0:
        record["_sdc_deleted_at"] = "2024-04-01T00:00:00Z"
    return record


def _stream(n: int) -> str:
    return "credit_notes" if n % 4 == 3 else "invoices"


def _extracted(n: int) -> dict[str, str]:
    return {"time_extracted": "2024-05-01T12:00:00+02:00" if n % 2 else "2024-05-01T10:00:00Z"}


def _messages(records: int, *, state_every: int, bad: dict[int, Any] | None = None) -> list[str]:
    """Two interleaved streams; `bad` replaces some invoice records (by n) with others."""
    lines = [
        json.dumps(schema_message("invoices", PROPERTIES)),
        json.dumps(schema_message("credit_notes", PROPERTIES)),
    ]
    for n in range(records):
        stream = _stream(n)
        record = (bad or {}).get(n, _record(n))
        lines.append(json.dumps(record_message(stream, record, **_extracted(n))))
        if (n + 1) % state_every == 0:
            lines.append(json.dumps(state_message({"sent": n + 1})))
    return lines


def _run(config: dict[str, Any], lines: list[str]) -> tuple[TargetSnowflakeAudit, list[str]]:
    target = TargetSnowflakeAudit(config=config)
    stdout = io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout):
            target.listen(io.StringIO("".join(line + "\n" for line in lines)))
    finally:
        target.printed = stdout.getvalue().splitlines()  # type: ignore[attr-defined]
    return target, target.printed  # type: ignore[attr-defined]


_COMPARED = (
    '"id", "division", "amount", "description", "modified", "invoice_date", "paid", '
    '"extra", "_source_system", "_synced_at", "_division_id", "_record_id", "_record_hash", '
    '"_deleted_at", "_document"'
)


def _ordered_rows(schema: str, table: str) -> str:
    return f'SELECT {_COMPARED} FROM "{schema}"."{table}" ORDER BY "_sequence"'  # noqa: S608


def _loaded_ids(warehouse: Any) -> set[int]:
    rows = warehouse('SELECT "id" FROM "invoices" UNION ALL SELECT "id" FROM "credit_notes"')
    return {row[0] for row in rows}


@pytest.mark.parametrize("compression", ["zstd", "gzip"])
def test_workers_load_the_same_rows_in_the_same_order_as_the_target_process(
    config, schema_name, warehouse, compression
):
    lines = _messages(3_000, state_every=700)
    serial_schema = schema_name
    parallel_schema = f"T_{uuid.uuid4().hex[:10].upper()}"
    settings = {"stage_compression": compression}
    _, serial_states = _run({**config, **settings, "parallel_workers": 0}, lines)
    target, parallel_states = _run({**base_config(parallel_schema), **settings, **WORKERS}, lines)

    assert target.dispatcher.pool_started
    assert multiprocessing.active_children() == []  # the workers stopped with the run
    assert parallel_states == serial_states
    assert json.loads(parallel_states[-1]) == {"sent": 2_800}
    for table in ("invoices", "credit_notes"):
        serial = warehouse(_ordered_rows(serial_schema, table))
        parallel = warehouse(_ordered_rows(parallel_schema, table))
        assert len(parallel) == (750 if table == "credit_notes" else 2_250)
        assert parallel == serial
        # `_sequence` follows the input order.
        assert [row[0] for row in parallel] == sorted(row[0] for row in parallel)


def test_staged_files_are_one_zstd_frame_holding_every_row(config, schema_name, warehouse):
    lines = [json.dumps(schema_message("invoices", PROPERTIES))]
    lines += [json.dumps(record_message("invoices", _record(n))) for n in range(1_000)]
    _run({**config, **WORKERS}, lines)

    # The emulator keeps staged files (it cannot REMOVE); read the one this run uploaded.
    stage_dir = Path(LOCAL_BUCKET_PATH) / DATABASE / schema_name / "_audit_stage" / "invoices"
    (staged,) = stage_dir.glob("*/*.csv.zst")
    data = staged.read_bytes()
    assert data.startswith(b"\x28\xb5\x2f\xfd")  # zstd magic number
    # One frame, as the zstd tool writes: nothing follows the first frame (Snowflake
    # documents Zstandard, not files of concatenated frames).
    frame = zstandard.ZstdDecompressor().decompressobj()
    text = frame.decompress(data).decode()
    assert frame.eof
    assert frame.unused_data == b""
    assert len(next(csv.reader(io.StringIO(text)))) == len(PROPERTIES) + 9  # + audit columns
    assert len(list(csv.reader(io.StringIO(text)))) == 1_000
    assert warehouse('SELECT COUNT(*) FROM "invoices"') == [(1_000,)]


def test_a_chunk_never_spans_two_batches(config, warehouse):
    lines = [json.dumps(schema_message("invoices", PROPERTIES))]
    lines += [json.dumps(record_message("invoices", _record(n))) for n in range(2_000)]
    _run({**config, **WORKERS, "batch_size_rows": 450}, lines)

    sizes = warehouse(
        'SELECT COUNT(*) FROM "invoices" GROUP BY "_batch_id" ORDER BY MIN("_sequence")'
    )
    assert [size for (size,) in sizes] == [450, 450, 450, 450, 200]


def test_batch_max_bytes_also_closes_batches_encoded_by_workers(config, warehouse):
    lines = [json.dumps(schema_message("invoices", PROPERTIES))]
    lines += [json.dumps(record_message("invoices", _record(n))) for n in range(4_000)]
    _run({**config, **WORKERS, "batch_max_bytes": 100_000}, lines)  # about 90 rows

    sizes = [size for (size,) in warehouse('SELECT COUNT(*) FROM "invoices" GROUP BY "_batch_id"')]
    assert sum(sizes) == 4_000
    assert len(sizes) >= 4
    # A batch overshoots by the chunks already handed out when it fills (3 per worker, plus
    # the one being filled): bounded, and small next to the default 512 MB.
    assert max(sizes) <= 100 * (2 * 3 + 2)


def test_a_bad_record_in_a_chunk_stops_the_run_at_its_line(config, warehouse):
    bad_n = 1_234
    bad = {bad_n: {**_record(bad_n), "Amount": "not a number"}}
    lines = _messages(2_000, state_every=100, bad=bad)
    bad_line = 1 + next(
        number
        for number, line in enumerate(lines)
        if '"record"' in line and json.loads(line)["record"]["ID"] == bad_n
    )
    target = TargetSnowflakeAudit(config={**config, **WORKERS})
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), pytest.raises(BadInputError) as raised:
        target.listen(io.StringIO("".join(line + "\n" for line in lines)))

    assert target.dispatcher.pool_started
    message = str(raised.value)
    assert f"input line {bad_line} (stream 'invoices')" in message
    assert "'Amount'" in message
    # The last STATE written is the last one received before the bad record, and every
    # record before it is committed (records after it are sent again when the tap resumes).
    states = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert states[-1] == {"sent": 1_200}
    loaded = _loaded_ids(warehouse)
    assert loaded >= set(range(1_200))
    assert bad_n not in loaded


def test_quarantine_with_workers_keeps_every_good_record(config, warehouse):
    bad = {
        150: {**_record(150), "Amount": "a lot"},
        640: {key: value for key, value in _record(640).items() if key != "ID"},
        641: {**_record(641), "Modified": "yesterday"},
    }
    lines = _messages(1_500, state_every=400, bad=bad)
    _run({**config, **WORKERS, "on_invalid_record": "quarantine"}, lines)

    loaded = _loaded_ids(warehouse)
    assert loaded == set(range(1_500)) - {150, 640, 641}
    rejected = warehouse(
        'SELECT "line_number", "reason", "raw_text" FROM "_rejected_records" ORDER BY "line_number"'
    )
    assert [row[0] for row in rejected] == [
        1 + lines.index(json.dumps(record_message(_stream(n), bad[n], **_extracted(n))))
        for n in (150, 640, 641)
    ]
    assert [row[2] for row in rejected] == [lines[row[0] - 1] for row in rejected]
    assert "'Amount'" in rejected[0][1]
    assert "missing" in rejected[1][1]
    assert "'Modified'" in rejected[2][1]


@pytest.mark.parametrize(("cpus", "expected"), [(1, 1), (2, 2), (16, 4), (None, 1)])
def test_default_workers_are_one_per_cpu_at_most_four(config, monkeypatch, cpus, expected):
    monkeypatch.setattr("os.cpu_count", lambda: cpus)
    assert TargetSnowflakeAudit(config=config).dispatcher.workers == expected
    assert TargetSnowflakeAudit(config={**config, "parallel_workers": 7}).dispatcher.workers == 7


def test_chunks_handed_over_through_files_are_deleted_as_they_are_compressed(
    config, warehouse, tmp_path, monkeypatch
):
    staging = tmp_path / "staging"
    waiting: list[int] = []
    original = Loader.load

    def counting_load(self: Loader, **kwargs: Any) -> int:
        waiting.append(len(list((staging / "encoded-chunks").glob("*"))))
        return original(self, **kwargs)

    monkeypatch.setattr(Loader, "load", counting_load)
    lines = [json.dumps(schema_message("invoices", PROPERTIES))]
    lines += [json.dumps(record_message("invoices", _record(n))) for n in range(3_000)]
    target, _ = _run(
        {**config, **WORKERS, "staging_dir": str(staging), "batch_size_rows": 300}, lines
    )

    assert target.dispatcher.pool_started
    assert warehouse('SELECT COUNT(*) FROM "invoices"') == [(3_000,)]
    assert len(waiting) == 10
    # Only chunks not yet compressed wait (at most 3 per worker plus the one being filled),
    # whatever the length of the run.
    assert max(waiting) <= 2 * 3 + 1
    assert list(staging.rglob("*")) == []  # and nothing is left at the end


def test_zero_workers_take_the_one_record_path_in_the_target_process(
    config, warehouse, monkeypatch
):
    def sdk_record_path(self: Any, message: dict[str, Any]) -> None:
        raise AssertionError("a RECORD went through the SDK's record path")

    monkeypatch.setattr(Target, "_process_record_message", sdk_record_path)
    settings = {"parallel_workers": 0, "parallel_chunk_rows": 50}
    target, states = _run({**config, **settings}, _messages(400, state_every=100))

    assert target.dispatcher.workers == 0
    assert not target.dispatcher.pool_started
    assert multiprocessing.active_children() == []
    assert json.loads(states[-1]) == {"sent": 400}
    assert _loaded_ids(warehouse) == set(range(400))
