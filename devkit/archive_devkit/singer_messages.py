"""Singer messages for target tests, built the way a tap writes them."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def singer_lines(*messages: dict[str, Any] | str) -> str:
    """Render messages as Singer input (strings are passed through as raw lines)."""
    return "".join((m if isinstance(m, str) else json.dumps(m)) + "\n" for m in messages)


def schema_message(
    stream: str, properties: dict[str, Any], keys: Iterable[str] = ("ID",)
) -> dict[str, Any]:
    """A SCHEMA message for an object with `properties`, keyed by `keys`."""
    return {
        "type": "SCHEMA",
        "stream": stream,
        "key_properties": list(keys),
        "schema": {"type": "object", "properties": properties},
    }


def record_message(stream: str, record: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A RECORD message (`extra`: time_extracted and the like)."""
    return {"type": "RECORD", "stream": stream, "record": record, **extra}


def state_message(value: dict[str, Any]) -> dict[str, Any]:
    """A STATE message."""
    return {"type": "STATE", "value": value}


def run_target(config: dict[str, Any], text: str) -> tuple[Any, list[str]]:
    """Run the target in-process on `text`; return it and the STATE lines it printed."""
    from target_snowflake_audit.target import TargetSnowflakeAudit  # noqa: PLC0415

    target = TargetSnowflakeAudit(config=config)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        target.listen(io.StringIO(text))
    return target, stdout.getvalue().splitlines()


#: The target's console script in the running interpreter's environment.
TARGET_EXECUTABLE = Path(sys.executable).parent / "target-snowflake-audit"


def run_target_command(
    config: Mapping[str, Any],
    text: str,
    directory: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the target's console script on `text` with `config` (files written to `directory`)."""
    config_path = directory / "config.json"
    config_path.write_text(json.dumps(dict(config)))
    input_path = directory / "input.singer"
    input_path.write_text(text, encoding="utf-8")
    return subprocess.run(
        [str(TARGET_EXECUTABLE), "--config", str(config_path), "--input", str(input_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
