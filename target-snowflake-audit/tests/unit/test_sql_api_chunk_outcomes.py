"""A batch's INSERTs against a connection double that answers as the SQL API documents.

The double keeps the table's rows of the batch; each test makes one documented outcome happen
(an answer lost before or after the INSERT ran, a duplicate execution) and checks that the
batch ends in the table exactly once, or that the load stops before its STATE.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import zstandard
from target_snowflake_audit.ddl import Column
from target_snowflake_audit.sql_api_client import OutcomeUnknown, ResultSet
from target_snowflake_audit.sql_api_loads import ChunkOutcomeError, SqlApiBatchLoad
from target_snowflake_audit.staging import Compression
from target_snowflake_audit.types import ColumnKind

BATCH = "20261202T000000-invoices-000001"
COLUMNS = [
    Column("id", ColumnKind.STRING),
    Column("_batch_id", ColumnKind.STRING),
    Column("_sequence", ColumnKind.INTEGER),
]


class TableDouble:
    """The SQL API transport's surface SqlApiBatchLoad uses, over an in-memory table."""

    def __init__(self, outcomes: Sequence[str]) -> None:
        self.outcomes = list(outcomes)  # per INSERT submission: ok, lost-after, lost-before, twice
        self.rows: list[int] = []  # the _sequence of every row of the batch in the table
        self.submissions: list[bool] = []  # the resubmission flag of each INSERT

    def body(self, sql: str, bindings: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return {"statement": sql, "bindings": dict(bindings or {})}

    def redact(self, text: str) -> str:
        return text

    def submit(
        self,
        sql: str,
        bindings: Mapping[str, Any] | None,
        *,
        request_id: str,
        resubmission: bool = False,
    ) -> ResultSet:
        self.submissions.append(resubmission)
        sequences = [int(row[2]) for row in json.loads(bindings["1"]["value"])]  # type: ignore[index]
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if outcome == "lost-before":
            raise OutcomeUnknown(msg="INSERT: no answer from Snowflake (ConnectionError)")
        self.rows += sequences * (2 if outcome == "twice" else 1)
        if outcome == "lost-after":
            raise OutcomeUnknown(msg="INSERT: no answer from Snowflake (ReadTimeout)")
        return ResultSet(row_type=[], data=[], stats={"numRowsInserted": len(sequences)})

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        values = list(params or ())
        if "COUNT_IF" in sql:
            low, high = int(values[0]), int(values[1])
            in_chunk = sum(low <= s <= high for s in self.rows)
            return [{"chunk_rows": in_chunk, "batch_rows": len(self.rows)}]
        return [{"batch_rows": len(self.rows)}]


def _batch_file(tmp_path: Path, rows: int) -> Path:
    text = "".join(f"i{n},{BATCH},{n + 1}\n" for n in range(rows))
    path = tmp_path / "batch.csv.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(text.encode()))
    return path


def _load(table: TableDouble, tmp_path: Path, rows: int = 30) -> int:
    load = SqlApiBatchLoad(
        table,  # type: ignore[arg-type]
        table='"invoices"',
        columns=COLUMNS,
        batch_id=BATCH,
        loaded_at=True,
        max_request_bytes=1200,  # a few chunks of about ten rows
        attempts=3,
        logger=logging.getLogger("test"),
    )
    return load.load(_batch_file(tmp_path, rows), Compression.ZSTD)


def test_chunks_are_bounded_by_bytes(tmp_path):
    table = TableDouble([])

    assert _load(table, tmp_path) == 30
    assert len(table.submissions) >= 3
    assert sorted(table.rows) == list(range(1, 31))


def test_a_chunk_whose_answer_was_lost_after_it_ran_is_not_sent_again(tmp_path):
    table = TableDouble(["ok", "lost-after"])

    assert _load(table, tmp_path) == 30
    assert sorted(table.rows) == list(range(1, 31))
    assert True not in table.submissions  # no resubmission: the table held the chunk


def test_a_chunk_whose_answer_was_lost_before_it_ran_is_resubmitted(tmp_path):
    table = TableDouble(["ok", "lost-before"])

    assert _load(table, tmp_path) == 30
    assert sorted(table.rows) == list(range(1, 31))
    assert table.submissions.count(True) == 1


def test_a_duplicate_execution_stops_the_load_before_its_state(tmp_path):
    # Snowflake ran an INSERT twice (GH:snowflakedb/snowflake-connector-nodejs#1189) and
    # answered once: the rows counted at the end of the batch tell.
    table = TableDouble(["twice"])

    with pytest.raises(ChunkOutcomeError, match=r"holds 4\d rows of batch .* after 30"):
        _load(table, tmp_path)


def test_a_table_holding_part_of_a_chunk_is_reported_not_guessed(tmp_path):
    table = TableDouble(["lost-after"])
    table.rows.append(5)  # one row of the chunk was there before (another writer)

    with pytest.raises(ChunkOutcomeError, match="expected 0 or"):
        _load(table, tmp_path)
