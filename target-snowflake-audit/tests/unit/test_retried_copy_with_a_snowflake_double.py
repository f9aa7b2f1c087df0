"""A retried or short COPY settled from LOAD_HISTORY, with a double answering as Snowflake does."""

from __future__ import annotations

from pathlib import Path

import pytest
from archive_devkit.snowflake_double import (
    SnowflakeDouble,
    batch_of,
    loaded,
    loader_with,
    recorded_then,
    response_lost,
    zero_files,
)
from target_snowflake_audit.ddl import Column
from target_snowflake_audit.loader import LoadError
from target_snowflake_audit.types import ColumnKind

COLUMNS = [Column("id", ColumnKind.STRING)]


def _load(double: SnowflakeDouble, tmp_path: Path, rows: int = 3) -> int:
    loader = loader_with(double, tmp_path)
    batch_id, batch_file = batch_of(loader, rows)
    try:
        return loader.load(
            stream_name="s", table="t", columns=COLUMNS, batch_id=batch_id, batch_file=batch_file
        )
    finally:
        loader.pipeline.close()


def test_a_copy_whose_response_was_lost_is_settled_from_load_history_and_not_run_again(tmp_path):
    # Sent again, the COPY would get Snowflake's "0 files processed" answer.
    double = SnowflakeDouble(response_lost(after=loaded(3)), zero_files)

    assert _load(double, tmp_path) == 3
    assert double.copies() == 1
    assert any("information_schema.load_history" in sql for sql in double.sent)


def test_a_copy_run_again_answers_zero_files_and_is_accepted_from_load_history(tmp_path):
    double = SnowflakeDouble(recorded_then(3, zero_files))

    assert _load(double, tmp_path) == 3
    assert double.copies() == 1


def test_zero_files_without_a_load_history_record_stops_and_never_loads_again(tmp_path):
    double = SnowflakeDouble(zero_files, zero_files)

    with pytest.raises(LoadError, match="load history has no record of it") as raised:
        _load(double, tmp_path)

    assert double.copies() == 1  # never FORCE, never a second COPY of the same file
    assert "not loading it again" in str(raised.value)


def test_a_lost_response_with_no_record_runs_the_copy_again_so_nothing_is_lost(tmp_path):
    double = SnowflakeDouble(response_lost(), loaded(3))

    assert _load(double, tmp_path) == 3
    assert double.copies() == 2


def test_a_copy_loading_fewer_rows_than_written_stops_naming_the_batch_and_both_counts(
    tmp_path,
):
    double = SnowflakeDouble(loaded(2))

    with pytest.raises(LoadError) as raised:
        _load(double, tmp_path, rows=3)

    message = str(raised.value)
    assert "-t-000001" in message  # the batch id
    assert "loaded 2 rows but the file holds 3" in message


def test_a_recorded_load_with_another_row_count_stops_the_run(tmp_path):
    double = SnowflakeDouble(recorded_then(2, zero_files))

    with pytest.raises(LoadError, match="loaded 2 rows but the file holds 3"):
        _load(double, tmp_path, rows=3)


def test_a_recorded_failed_load_stops_the_run_with_snowflakes_error(tmp_path):
    double = SnowflakeDouble(recorded_then(0, zero_files, status="LOAD FAILED"))

    with pytest.raises(LoadError, match="LOAD FAILED: Numeric value 'x' is not recognized"):
        _load(double, tmp_path)
