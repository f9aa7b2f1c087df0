"""The local Snowflake emulator (fakesnow), patched to act like Snowflake where the target needs it.

fakesnow 0.12.1 is patched in this process (the target's SQL is the same for both):

- COPY from CSV reads every field as text and casts it per column, honours `NULL_IF`,
  `EMPTY_FIELD_AS_NULL`, `COMPRESSION = ZSTD`, `DATE_FORMAT`, `TIMESTAMP_FORMAT` and the
  positional COPY transformation the target sends, and answers a COPY whose files were all
  loaded before with Snowflake's `Copy executed with 0 files processed.` (copy_from_csv.py);
- qualified `CREATE TEMPORARY TABLE`, Snowflake's `TYPEOF` names, and the refusal of a
  non-constant DEFAULT in `ALTER TABLE ... ADD COLUMN` (session.py).

What still differs is listed in the target's README.

`python -m archive_devkit.snowflake_emulator -s --host 127.0.0.1 -p PORT` is a drop-in
replacement for `fakesnow -s ...` (same arguments) that serves the patched emulator.

fakesnow keeps every staged file in a temporary directory it creates at import and never
removes (hundreds of MB per benchmark run); both entry points here remove it when the emulator
stops.
"""

from __future__ import annotations

import atexit
import importlib
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_patch_lock = threading.Lock()
_patched = False
_servers_running = 0


def remove_staged_files() -> None:
    """Delete fakesnow's stage directory of this process (recreated on the next PUT)."""
    from fakesnow.transforms import stage  # noqa: PLC0415 - optional test-only dependency

    shutil.rmtree(stage.LOCAL_BUCKET_PATH, ignore_errors=True)


def apply_snowflake_behaviour() -> None:
    """Patch fakesnow as the module docstring says (idempotent; this process only)."""
    global _patched  # noqa: PLW0603 - a process-wide, apply-once patch
    with _patch_lock:
        if _patched:
            return
        # Optional test-only dependency, imported only when the emulator is used.
        from fakesnow import cursor as fakesnow_cursor  # noqa: PLC0415

        from archive_devkit.snowflake_emulator import (  # noqa: PLC0415
            copy_from_csv,
            session,
            statement_audit,
        )

        statement_audit.install(_web_module())
        fakesnow_copy_into = fakesnow_cursor.copy_into  # type: ignore[attr-defined]

        def copy_into(  # noqa: PLR0917 - fakesnow's signature
            duck_conn: Any,
            current_database: str | None,
            current_schema: str | None,
            expr: Any,
            table_stages: Any,
            params: Any = None,
        ) -> str:
            if copy_from_csv.is_csv_copy(expr):
                return copy_from_csv.copy_csv_into(
                    duck_conn, current_database, current_schema, expr, table_stages
                )
            return fakesnow_copy_into(
                duck_conn, current_database, current_schema, expr, table_stages, params
            )

        cursor_class = fakesnow_cursor.FakeSnowflakeCursor
        fakesnow_transform = cursor_class._transform

        def transform(self: Any, expression: Any, params: Any) -> Any:
            return fakesnow_transform(self, session.apply(expression, self._conn), params)

        fakesnow_cursor.copy_into = copy_into  # type: ignore[attr-defined]
        cursor_class._transform = transform  # type: ignore[method-assign]
        _patched = True


def _web_module() -> Any:
    """Fakesnow's web module (`fakesnow.server` also names a function; import it by name)."""
    return importlib.import_module("fakesnow.server")


def _start_in_thread(host: str, port: int) -> tuple[Any, threading.Thread]:
    """Uvicorn serving the patched app from a thread (it then leaves signals alone)."""
    import uvicorn  # noqa: PLC0415 - optional test-only dependency

    config = uvicorn.Config(_web_module().app, host=host, port=port, log_level="warning")
    web_server = uvicorn.Server(config)
    thread = threading.Thread(target=web_server.run, name="snowflake emulator", daemon=True)
    thread.start()
    while thread.is_alive() and not web_server.started:
        time.sleep(0.05)
    if not web_server.started:
        msg = f"the Snowflake emulator did not start on {host}:{port}"
        raise RuntimeError(msg)
    return web_server, thread


@contextmanager
def server(host: str = "127.0.0.1", port: int | None = None) -> Iterator[dict[str, Any]]:
    """Serve the patched emulator in a background thread.

    Args:
        host: Interface to bind (keep it on loopback).
        port: Port, or None for a free one.

    Yields:
        Connection keyword arguments (host, port, protocol, user, password, account), as
        fakesnow's own `server()` gives them.
    """
    global _servers_running  # noqa: PLW0603 - counts servers sharing this process's stage dir
    apply_snowflake_behaviour()
    if not port:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
    web_server, thread = _start_in_thread(host, port)
    with _patch_lock:
        _servers_running += 1
    try:
        yield {
            "user": "fake",
            "password": "snow",
            "account": "fakesnow",
            "host": host,
            "port": port,
            "protocol": "http",
            "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
            # no connector retries against a local server
            "network_timeout": 1,
        }
    finally:
        web_server.should_exit = True
        thread.join()
        with _patch_lock:
            _servers_running -= 1
            if not _servers_running:
                remove_staged_files()


def main(argv: list[str] | None = None) -> None:
    """Serve the patched emulator: `-s --host HOST -p PORT [-d PATH]` as `fakesnow -s` takes.

    Unlike fakesnow 0.12.1's server, `-d PATH` is honoured: each database is a DuckDB file
    there, so the demo's warehouse outlives the demo (`.demo/snowflake`) and a later emulator
    started on the same path reads it back. `--statement-log PATH` appends every statement the
    target sends (the append-only audit reads it).
    """
    import argparse  # noqa: PLC0415

    from fakesnow import instance  # noqa: PLC0415 - optional test-only dependency

    parser = argparse.ArgumentParser(prog="python -m archive_devkit.snowflake_emulator")
    parser.add_argument("-s", "--server", action="store_true", help="serve HTTP (the only mode)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0)
    parser.add_argument("-d", "--db_path", default=None, help="keep databases in this folder")
    parser.add_argument("--statement-log", default=None, help="append the target's SQL here")
    args = parser.parse_args(argv)

    apply_snowflake_behaviour()
    if args.statement_log:
        from archive_devkit.snowflake_emulator import statement_audit  # noqa: PLC0415

        statement_audit.record_into(Path(args.statement_log))
    atexit.register(remove_staged_files)
    if args.db_path:
        _web_module().shared_fs = instance.FakeSnow(db_path=args.db_path)
    # SIGINT or SIGTERM (how process managers and the demo stop it) stops it cleanly, so the
    # clean-up above runs.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    web_server, thread = _start_in_thread(args.host, args.port)
    while thread.is_alive() and not stop.wait(0.2):
        pass
    web_server.should_exit = True
    thread.join()
    sys.exit(0)
