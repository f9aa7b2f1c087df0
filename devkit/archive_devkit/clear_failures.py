"""Checks for the house rule on failures: one clear line, a documented exit code, no secret."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable


def assert_one_clear_line(
    done: subprocess.CompletedProcess[str], program: str, code: int, *said: str
) -> str:
    """`done` exited with `code`, no traceback, one `<program>: ` line saying each of `said`."""
    assert done.returncode == code, done.stderr  # noqa: S101 - a test helper
    assert "Traceback" not in done.stderr  # noqa: S101
    lines = [line for line in done.stderr.splitlines() if line.startswith(f"{program}: ")]
    assert len(lines) == 1, done.stderr  # noqa: S101
    for text in said:
        assert text in lines[0], lines[0]  # noqa: S101
    assert f"(exit code {int(code)})" in lines[0]  # noqa: S101
    return lines[0]


def assert_no_secret(done: subprocess.CompletedProcess[str], secrets: Iterable[str]) -> None:
    """None of `secrets` appears in what the process printed."""
    for secret in secrets:
        assert secret not in done.stdout + done.stderr  # noqa: S101 - a test helper
