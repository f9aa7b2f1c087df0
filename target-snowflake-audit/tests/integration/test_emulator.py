"""The patched emulator: it reads files as Snowflake does and leaves no staged files behind."""

from __future__ import annotations

import datetime
import json
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import snowflake.connector
import zstandard

from .conftest import DATABASE, EMULATOR

_SCRIPT = textwrap.dedent(
    """
    import json, os, pathlib, sys, tempfile
    import snowflake.connector
    from fakesnow.transforms import stage
    from archive_devkit.snowflake_emulator import server

    with server() as kwargs:
        connection = snowflake.connector.connect(**kwargs, database="D", schema="S")
        cursor = connection.cursor()
        cursor.execute("CREATE DATABASE IF NOT EXISTS D")
        cursor.execute("CREATE SCHEMA IF NOT EXISTS D.S")
        cursor.execute("USE SCHEMA D.S")
        cursor.execute("CREATE STAGE IF NOT EXISTS st")
        local = pathlib.Path(tempfile.mkdtemp()) / "rows.csv"
        local.write_text("1,a\\n")
        cursor.execute(f"PUT 'file://{local}' @st/x/ AUTO_COMPRESS = FALSE")
        staged = [str(p) for p in pathlib.Path(stage.LOCAL_BUCKET_PATH).rglob("rows.csv")]
        connection.close()
    print(json.dumps({"staged": staged, "bucket": stage.LOCAL_BUCKET_PATH}))
    """
)


def test_the_stage_directory_is_removed_when_the_emulator_stops(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True, timeout=120
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["staged"]  # the PUT did store a file there while the emulator ran
    assert not Path(report["bucket"]).exists()


def _buckets() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("fakesnow_bucket_*"))


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_the_emulator_command_removes_its_stage_directory_on_sigterm() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    before = _buckets()
    command = [sys.executable, "-m", "archive_devkit.snowflake_emulator", "-s"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (created := _buckets() - before):
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.2)
        while not _accepts(port):
            assert time.monotonic() < deadline, "the emulator did not listen"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
    assert not any(path.exists() for path in created)


# The patched emulator reads CSV files as Snowflake does (the dev kit's
# snowflake_emulator/copy_from_csv.py), so exactness and NULL handling can be tested locally.
@pytest.fixture
def session(schema_name: str) -> Iterator[Any]:
    """A cursor in a fresh schema of the shared emulator, with a stage."""
    with snowflake.connector.connect(**EMULATOR, database=DATABASE) as connection:
        cursor = connection.cursor()
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {DATABASE}.{schema_name}")
        cursor.execute(f"USE SCHEMA {DATABASE}.{schema_name}")
        cursor.execute("CREATE STAGE IF NOT EXISTS st")
        yield cursor


def _stage(cursor: Any, tmp_path: Path, text: str, name: str = "f.csv") -> str:
    path = tmp_path / name
    path.write_bytes(
        zstandard.ZstdCompressor().compress(text.encode())
        if name.endswith(".zst")
        else text.encode()
    )
    cursor.execute(f"PUT 'file://{path}' @st/{name}/ AUTO_COMPRESS = FALSE")
    return f"@st/{name}/"


def _copy(cursor: Any, location: str, file_format: str = "", select: str = "$1, $2") -> list[tuple]:
    sql = (
        f'COPY INTO "t" ("a", "b") FROM (SELECT {select} FROM {location}) '  # noqa: S608
        f"FILE_FORMAT = (TYPE = CSV FIELD_OPTIONALLY_ENCLOSED_BY = '\"' {file_format})"
    )
    return list(cursor.execute(sql).fetchall())


def test_emulator_reads_numbers_as_text_and_casts_them_exactly(session, tmp_path):
    session.execute('CREATE TABLE "t" ("a" VARCHAR, "b" NUMBER(38,9))')
    location = _stage(
        session,
        tmp_path,
        '"x",1234567890.123456789\n"y",-98765432109876543210987654321.123456789\n',
    )
    _copy(session, location)
    rows = session.execute('SELECT "a", "b"::VARCHAR FROM "t" ORDER BY "a"').fetchall()
    assert rows == [
        ("x", "1234567890.123456789"),
        ("y", "-98765432109876543210987654321.123456789"),
    ]


def test_emulator_keeps_a_quoted_empty_field_an_empty_string_and_applies_null_if(session, tmp_path):
    session.execute('CREATE TABLE "t" ("a" VARCHAR, "b" VARCHAR)')
    text = '"",\n\\N,"\\N"\n'
    default = _stage(session, tmp_path, text, "default.csv")
    _copy(session, default)  # NULL_IF defaults to ('\N'), for enclosed fields too
    empty_null_if = _stage(session, tmp_path, text, "none.csv")
    _copy(session, empty_null_if, "NULL_IF = ()", select="$1, $2 || '!'")
    rows = session.execute('SELECT "a", "b" FROM "t"').fetchall()
    assert sorted(rows, key=repr) == sorted(
        [("", None), (None, None), ("", None), ("\\N", "\\N!")], key=repr
    )


def test_emulator_reads_zstd_named_in_the_file_format_and_enforces_timestamp_format(
    session, tmp_path
):
    session.execute('CREATE TABLE "t" ("a" VARCHAR, "b" TIMESTAMP_TZ)')
    good = _stage(session, tmp_path, '"x",2024-01-01 10:00:00.000000 +02:00\n', "good.csv.zst")
    fmt = "COMPRESSION = ZSTD TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM'"
    assert _copy(session, good, fmt)[0][1] == "LOADED"
    assert session.execute('SELECT "b" FROM "t"').fetchall() == [
        (datetime.datetime(2024, 1, 1, 8, 0, tzinfo=datetime.UTC),)
    ]
    other_form = _stage(session, tmp_path, '"y",2024-01-01T10:00:00+02:00\n', "other.csv.zst")
    with pytest.raises(snowflake.connector.errors.ProgrammingError):
        _copy(session, other_form, fmt)


def test_emulator_answers_a_copy_of_loaded_files_with_zero_files_processed(
    session, schema_name, tmp_path
):
    session.execute('CREATE TABLE "t" ("a" VARCHAR, "b" VARCHAR)')
    location = _stage(session, tmp_path, '"x","y"\n')
    assert _copy(session, location)[0][1:4] == ("LOADED", 1, 1)
    assert _copy(session, location) == [("Copy executed with 0 files processed.",)]
    history = session.execute(
        "SELECT status, row_count FROM information_schema.load_history "
        "WHERE schema_name = %s AND table_name = 't'",
        (schema_name,),
    ).fetchall()
    assert history == [("LOADED", 1)]


def test_emulator_loads_a_field_without_parse_json_into_a_variant_as_a_string(session, tmp_path):
    session.execute('CREATE TABLE "t" ("a" VARIANT, "b" VARIANT)')
    location = _stage(session, tmp_path, '"{""k"":1}","{""k"":1}"\n')
    _copy(session, location, select="$1, PARSE_JSON($2)")
    assert session.execute('SELECT TYPEOF("a"), TYPEOF("b") FROM "t"').fetchall() == [
        ("VARCHAR", "OBJECT")
    ]


def test_emulator_refuses_a_non_constant_default_when_adding_a_column(session):
    session.execute('CREATE TABLE "t" ("a" VARCHAR)')
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="as a constant"):
        session.execute('ALTER TABLE "t" ADD COLUMN "b" TIMESTAMP_TZ DEFAULT CURRENT_TIMESTAMP()')
    session.execute('ALTER TABLE "t" ADD COLUMN "c" VARCHAR DEFAULT \'x\'')


def test_emulator_temporary_tables_belong_to_their_session(schema_name):
    qualified = f'{DATABASE}.{schema_name}."tmp"'
    with snowflake.connector.connect(**EMULATOR, database=DATABASE) as first:
        cursor = first.cursor()
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {DATABASE}.{schema_name}")
        cursor.execute(f'CREATE TEMPORARY TABLE {qualified} ("a" VARCHAR)')
        cursor.execute(f"INSERT INTO {qualified} VALUES ('x')")  # noqa: S608
        assert cursor.execute(f"SELECT * FROM {qualified}").fetchall() == [("x",)]  # noqa: S608
    with (
        snowflake.connector.connect(**EMULATOR, database=DATABASE) as second,
        pytest.raises(snowflake.connector.errors.ProgrammingError, match="does not exist"),
    ):
        second.cursor().execute(f"SELECT * FROM {qualified}")  # noqa: S608
