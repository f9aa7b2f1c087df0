"""`target-snowflake-audit check`: the self-test users run against their account before loading."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import snowflake.connector
import snowflake.connector.cursor
from target_snowflake_audit.check import run_check
from target_snowflake_audit.check_cases import CASES
from target_snowflake_audit.records import RowEncoder

from .conftest import DATABASE, EMULATOR

EXECUTABLE = Path(sys.executable).parent / "target-snowflake-audit"
REPO_ROOT = Path(__file__).resolve().parents[3]
MELTANO = Path(sys.executable).parent / "meltano"
LINE = re.compile(r"^(OK|FAIL|EMULATOR-DIFFERENCE) +(.*)$")


def _config_file(config: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def _check(config: dict[str, Any], tmp_path: Path) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = run_check(["--config", str(_config_file(config, tmp_path))], write=lines.append)
    return code, lines


def _outcomes(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines[:-1]:
        match = LINE.match(line)
        assert match, line
        subject = match.group(2)
        if subject.startswith("case '"):
            subject = subject[: subject.index("'", len("case '")) + 1]
        else:
            subject = subject.split(":")[0]
        found[subject] = match.group(1)
    return found


def test_check_passes_on_the_emulator_and_marks_its_differences(config, tmp_path, monkeypatch):
    sent: list[str] = []
    original = snowflake.connector.cursor.SnowflakeCursor.execute

    def recording_execute(self: Any, command: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(command)
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(snowflake.connector.cursor.SnowflakeCursor, "execute", recording_execute)
    code, lines = _check(config, tmp_path)

    assert code == 0, "\n".join(lines)
    outcomes = _outcomes(lines)
    assert outcomes["connection"] == "OK"
    assert outcomes["warehouse"] == "EMULATOR-DIFFERENCE"
    assert outcomes["privileges"] == "EMULATOR-DIFFERENCE"
    assert outcomes["case '38-digit integer'"] == "EMULATOR-DIFFERENCE"
    for case in CASES:
        if case.emulator_difference is None:
            assert outcomes[f"case {case.name!r}"] == "OK", case.name
    assert lines[-1].startswith("check passed:")
    difference_lines = [line for line in lines if line.startswith("EMULATOR-DIFFERENCE")]
    assert all("(Snowflake: https://docs.snowflake.com/" in line for line in difference_lines)
    # Loaded through the real path into a temporary table; nothing dropped or rewritten.
    assert any(s.startswith("CREATE TEMPORARY TABLE") for s in sent)
    assert sum(s.startswith("PUT ") for s in sent) == 2
    assert sum(s.startswith("COPY INTO") for s in sent) == 2
    mutating = re.compile(r"^\s*(UPDATE|DELETE|MERGE|TRUNCATE|DROP)\b", re.IGNORECASE)
    assert [s for s in sent if mutating.search(s)] == []


def test_check_leaves_no_table_behind(config, schema_name, tmp_path):
    code, _ = _check(config, tmp_path)

    assert code == 0
    with snowflake.connector.connect(**EMULATOR, database=DATABASE) as connection:
        tables = connection.cursor().execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema_name,),
        )
        assert tables.fetchall() == []  # the temporary table went with the check's session


def test_check_prints_expected_vs_got_and_exits_1_when_a_case_loads_wrong(
    config, tmp_path, monkeypatch
):
    original = RowEncoder.encode_record

    def broken_for_commas(self: RowEncoder, record: Any, **kwargs: Any) -> str:
        if record.get("id") == "commas":
            record = {**record, "text": "a,b"}
        return original(self, record, **kwargs)

    monkeypatch.setattr(RowEncoder, "encode_record", broken_for_commas)
    code, lines = _check(config, tmp_path)

    assert code == 1
    assert "FAIL                 case 'commas': text text: expected ',a,b,,c,', got 'a,b'" in lines
    assert lines[-1].startswith("check FAILED: ")
    assert "1 failed" in lines[-1]


def test_check_runs_as_the_console_script_with_the_subcommand_after_the_options(config, tmp_path):
    result = subprocess.run(
        [str(EXECUTABLE), "--config", str(_config_file(config, tmp_path)), "check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "EMULATOR-DIFFERENCE  privileges" in result.stdout
    assert re.search(
        r"^check passed: \d+ OK, 0 failed, 3 emulator differences$", result.stdout, re.M
    )


def test_check_with_bad_settings_exits_2_naming_them(config, tmp_path):
    settings = {k: v for k, v in config.items() if k != "database"}
    result = subprocess.run(
        [str(EXECUTABLE), "check", "--config", str(_config_file(settings, tmp_path))],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 2
    assert "'database' is a required property" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def meltano_loader_installed() -> None:
    """The project's loader plugin installed by Meltano (as `make demo` and CI do)."""
    if not (REPO_ROOT / ".meltano/loaders/target-snowflake-audit/venv/bin").is_dir():
        constraints = str(REPO_ROOT / "constraints.txt")
        env = {**os.environ, "UV_CONSTRAINT": constraints, "PIP_CONSTRAINT": constraints}
        subprocess.run(
            [str(MELTANO), "install", "loader", "target-snowflake-audit"],
            cwd=REPO_ROOT,
            env=env,
            check=True,
            timeout=900,
        )


@pytest.mark.parametrize(
    "invocation",
    [("target-snowflake-audit", "check"), ("target-snowflake-audit:check",)],
    ids=["invoke-with-argument", "meltano-command"],
)
def test_check_runs_through_meltano_invoke(
    meltano_loader_installed: None, invocation: tuple[str, ...]
) -> None:
    env = {
        **os.environ,
        "SNOWFLAKE_PORT": str(EMULATOR["port"]),
        "SNOWFLAKE_PASSWORD": "snow",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [str(MELTANO), "--environment", "demo", "invoke", *invocation],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "OK                   case 'newlines'" in result.stdout
    assert "check passed:" in result.stdout


def test_check_reports_an_unreachable_account_as_a_failed_connection(config, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = {**config, "port": closed_port, "login_timeout_seconds": 5, "retry_max_attempts": 1}
    code, lines = _check(settings, tmp_path)

    assert code == 1
    assert lines[0].startswith("FAIL                 connection: ")
    assert "snow" not in lines[0].split("connection: ", 1)[1].split()  # the password
    assert lines[-1].startswith("check FAILED: 0 OK, 1 failed")
