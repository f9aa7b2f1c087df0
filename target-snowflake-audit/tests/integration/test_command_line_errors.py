"""Bad input and bad settings end in one clear line and a documented exit status."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from archive_devkit.singer_messages import (
    record_message,
    run_target_command,
    schema_message,
    singer_lines,
)

PASSWORD = "Sn0w-pa55word-not-for-logs"
PROPERTIES = {"ID": {"type": "string"}}


def _run(
    tmp_path: Path, config: dict[str, Any], text: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return run_target_command(config, text, tmp_path, env={"LOGLEVEL": "INFO", **env}, timeout=120)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| ERROR " in line or "ERROR:" in line]


def test_a_record_before_its_schema_ends_in_one_line_and_exit_3(config, tmp_path):
    result = _run(
        tmp_path,
        config,
        singer_lines(
            schema_message("invoices", PROPERTIES),
            record_message("invoices", {"ID": "i1"}),
            record_message("payments", {"ID": "p1"}),
        ),
    )

    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    (line,) = _errors(result.stderr)
    assert "input line 3 (stream 'payments'): RECORD received before the stream's SCHEMA" in line
    assert "must send a stream's SCHEMA message before its RECORDs" in line  # what to do
    assert "on_invalid_record: quarantine" in line


def test_the_traceback_appears_at_the_debug_log_level(config, tmp_path):
    result = _run(
        tmp_path,
        config,
        singer_lines(record_message("payments", {"ID": "p1"})),
        LOGLEVEL="DEBUG",
    )

    assert result.returncode == 3
    assert "Traceback" in result.stderr
    assert "RecordBeforeSchemaError" in result.stderr


def test_invalid_json_ends_in_one_line_naming_the_line_and_exit_3(config, tmp_path):
    result = _run(tmp_path, config, "{not json\n")

    assert result.returncode == 3
    (line,) = _errors(result.stderr)
    assert "input line 1: invalid JSON" in line
    assert "Traceback" not in result.stderr


def test_missing_settings_end_in_one_line_naming_them_and_exit_2(config, tmp_path):
    settings = {k: v for k, v in config.items() if k not in {"schema", "warehouse"}}
    result = _run(tmp_path, settings, singer_lines(schema_message("invoices", PROPERTIES)))

    assert result.returncode == 2
    (line,) = _errors(result.stderr)
    assert "'warehouse' is a required property" in line
    assert "'schema' is a required property" in line
    assert "meltano config set target-snowflake-audit NAME VALUE" in line  # Meltano 4.4's order
    assert "Traceback" not in result.stderr


def test_a_refused_load_ends_in_one_line_without_secrets_and_exit_4(config, tmp_path):
    settings = {**config, "warehouse": "NO_SUCH_WH", "password": PASSWORD}
    result = _run(tmp_path, settings, singer_lines(schema_message("invoices", PROPERTIES)))

    assert result.returncode == 4
    (line,) = _errors(result.stderr)
    assert "warehouse 'NO_SUCH_WH' does not exist or the role has no privilege on it" in line
    assert "check" in line  # points at the self-test
    assert PASSWORD not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_each_log_line_is_written_once(config, tmp_path):
    result = _run(tmp_path, config, singer_lines(schema_message("invoices", PROPERTIES)))

    assert result.returncode == 0
    assert result.stderr.count("target-snowflake-audit v0.1.0") == 1
