"""The local Snowflake emulator (fakesnow) with one fix, for tests, benchmarks and demos.

fakesnow 0.12.1 translates `COPY INTO t (c1, ..., cN) FROM @stage` from CSV into
`INSERT INTO t (...) SELECT column0, ..., columnN-1 FROM read_csv(...)`, but DuckDB names
the CSV columns `column00`, `column01`, ... once a file has ten or more columns, so every
COPY with an explicit list of ten or more columns fails with a binder error. The fix selects
the file's columns positionally (`SELECT *`), which is what Snowflake does. The target's SQL
is unchanged; only the emulator is patched, in this process.

`python -m target_snowflake_audit.emulator -s --host 127.0.0.1 -p PORT` is a drop-in
replacement for `fakesnow -s ...` (same arguments) that serves the fixed emulator.

fakesnow keeps every staged file in a temporary directory it creates at import and never
removes (hundreds of MB per benchmark run); both entry points here remove it when the emulator
stops.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_POSITIONAL_COLUMN = re.compile(r"column\d+")
_patch_lock = threading.Lock()
_patched = False
_servers_running = 0


def remove_staged_files() -> None:
    """Delete fakesnow's stage directory of this process (recreated on the next PUT)."""
    from fakesnow.transforms import stage  # noqa: PLC0415 - optional test-only dependency

    shutil.rmtree(stage.LOCAL_BUCKET_PATH, ignore_errors=True)


def apply_copy_column_fix() -> None:
    """Patch fakesnow's COPY translation (idempotent; affects this process only)."""
    global _patched  # noqa: PLW0603 - a process-wide, apply-once patch
    with _patch_lock:
        if _patched:
            return
        from fakesnow import copy_into  # noqa: PLC0415 - optional test-only dependency
        from sqlglot import exp  # noqa: PLC0415

        original = copy_into._inserts

        def inserts(*args: Any, **kwargs: Any) -> Any:
            statements = original(*args, **kwargs)
            for statement in statements:
                select = statement.expression
                names = [getattr(e, "name", "") for e in select.expressions]
                if names and all(_POSITIONAL_COLUMN.fullmatch(name) for name in names):
                    select.set("expressions", [exp.Star()])
            return statements

        copy_into._inserts = inserts
        _patched = True


@contextmanager
def server(host: str = "127.0.0.1", port: int | None = None) -> Iterator[dict[str, Any]]:
    """Serve the patched emulator in a background thread.

    Args:
        host: Interface to bind (keep it on loopback).
        port: Port, or None for a free one.

    Yields:
        Connection keyword arguments (host, port, protocol, user, password, account).
    """
    import fakesnow  # noqa: PLC0415

    global _servers_running  # noqa: PLW0603 - counts servers sharing this process's stage dir
    apply_copy_column_fix()
    with _patch_lock:
        _servers_running += 1
    try:
        with fakesnow.server(host=host, port=port) as kwargs:
            yield dict(kwargs)
    finally:
        with _patch_lock:
            _servers_running -= 1
            if not _servers_running:
                remove_staged_files()


def main() -> None:
    """Run fakesnow's own command line (`fakesnow -s ...`) with the fix applied."""
    from fakesnow.cli import main as fakesnow_main  # noqa: PLC0415

    apply_copy_column_fix()
    atexit.register(remove_staged_files)
    # fakesnow's server stops cleanly only on SIGINT; SIGTERM (how process managers and the
    # demo stop it) would end the process without running the clean-up above.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: os.kill(os.getpid(), signal.SIGINT))
    sys.exit(fakesnow_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
