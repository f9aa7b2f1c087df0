"""Singer messages for target tests, built the way a tap writes them."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterable
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
