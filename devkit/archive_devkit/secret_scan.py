"""Invariant: no secret appears in any log file, in plain or URL-encoded form.

Secrets are given by name (e.g. `refresh token #3 (nl)`), and failures name the secret and the
file, never the secret's value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote


def log_files(directories: Iterable[Path], since: float = 0.0) -> list[Path]:
    """Every regular file under `directories` modified at or after `since` (epoch seconds)."""
    found = []
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*")):
            if path.is_file() and path.stat().st_mtime >= since:
                found.append(path)
    return found


def leaked_secrets(files: Iterable[Path], secrets: Mapping[str, str]) -> list[str]:
    """`<secret name> appears in <file>` for every secret found in a file."""
    forms = {
        name: {value.encode(), quote(value, safe="").encode()}
        for name, value in secrets.items()
        if value
    }
    failures = []
    for path in files:
        try:
            content = path.read_bytes()
        except OSError:
            continue
        for name, encodings in forms.items():
            if any(form in content for form in encodings):
                failures.append(f"{name} appears in {path}")
    return failures
