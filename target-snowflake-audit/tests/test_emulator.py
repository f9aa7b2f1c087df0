"""The emulator wrapper removes the staged files fakesnow would leave in the temp directory."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

_SCRIPT = textwrap.dedent(
    """
    import json, os, pathlib, sys, tempfile
    import snowflake.connector
    from fakesnow.transforms import stage
    from target_snowflake_audit.emulator import server

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
    command = [sys.executable, "-m", "target_snowflake_audit.emulator", "-s"]
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
