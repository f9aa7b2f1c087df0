"""The console script: the Singer target, or `check`; errors end in one line and an exit code.

Kept free of heavy imports: worker processes are started with multiprocessing's `spawn`, which
re-imports the main script in every worker, so a worker loads only what encoding needs
(workers.py), not the SDK and the Snowflake connector.

Exit statuses (documented in the README): 0 done; 1 `check` found a difference; 2 bad
settings; 3 bad input; 4 Snowflake refused or a load failed; 70 an unexpected error (a bug);
128 + N stopped by signal N. A traceback is logged only when the log level is DEBUG
(`LOGLEVEL=DEBUG` or `TARGET_SNOWFLAKE_AUDIT_LOGLEVEL=DEBUG`).
"""

from __future__ import annotations

import ctypes
import enum
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# Buffers from this size up (input chunks, encoded chunks of ~1 MB) are mapped on allocation
# and returned to the system when freed.
_MMAP_THRESHOLD_BYTES = 256 * 1024
PROGRAM = "target-snowflake-audit"
#: Singer CLI options that take a value (so a value named "check" is not the subcommand).
_OPTIONS_WITH_VALUES = frozenset({"--config", "--input", "--format", "--state", "--catalog"})
_SECRET_SETTINGS = ("password", "private_key", "private_key_passphrase")


class ExitCode(enum.IntEnum):
    """How the command ended (see the module docstring and the README)."""

    OK = 0
    CHECK_FAILED = 1
    BAD_SETTINGS = 2
    BAD_INPUT = 3
    SNOWFLAKE = 4
    INTERNAL = 70


def limit_heap_growth() -> None:
    """Keep the heap from growing with the run's length (glibc only; a no-op elsewhere).

    Megabyte-sized buffers pass between threads (reader, compressor, loads) for the whole
    run. glibc raises its mmap threshold after the first such buffers are freed and keeps one
    arena per thread, so the freed space stays fragmented in several heaps and the RSS creeps
    up (measured: 179 MB after 400,000 rows, 241 MB after 1,000,000). A fixed threshold and
    two arenas keep it flat (153 MB at both sizes).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return
    mallopt(_M_ARENA_MAX, 2)
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


def subcommand_position(args: Sequence[str], name: str) -> int | None:
    """Index of a subcommand, skipping option values (`meltano invoke` puts `--config` first).

    Args:
        args: The command-line arguments.
        name: The subcommand.

    Returns:
        Its index, or None.
    """
    index = 0
    while index < len(args):
        if args[index] == name:
            return index
        index += 2 if args[index] in _OPTIONS_WITH_VALUES else 1
    return None


class _SinkSetupEcho(logging.Filter):
    """Drops the SDK's "Error initializing target sink" line: `report` says what failed.

    singer-sdk 0.54.9 (``Target.add_sink``) logs it, without the cause, before it re-raises
    the error that `report` turns into the run's one clear line. A test of a refused CREATE
    TABLE (tests/integration/test_sql_api_transport.py) counts the error lines.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Error initializing target sink")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line; exits with one of ExitCode (or 128 + a signal number).

    Args:
        argv: Arguments (defaults to `sys.argv[1:]`).
    """
    limit_heap_growth()
    logging.getLogger(PROGRAM).addFilter(_SinkSetupEcho())
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        position = subcommand_position(args, "check")
        if position is not None:
            _log_to_stderr()
            from target_snowflake_audit.check import run_check  # noqa: PLC0415 - see above

            sys.exit(run_check(args[:position] + args[position + 1 :]))
        from target_snowflake_audit.target import TargetSnowflakeAudit  # noqa: PLC0415

        TargetSnowflakeAudit.cli.main(args=args, prog_name=PROGRAM)
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:  # every error ends in one line and a status
        sys.exit(report(exc, args))


def report(error: BaseException, args: Sequence[str]) -> ExitCode:
    """Log one line saying what went wrong and what to do; return the exit status.

    Args:
        error: The error that ended the run.
        args: The command-line arguments (secrets from `--config` files are redacted).

    Returns:
        The exit status for the kind of error.
    """
    from target_snowflake_audit.connector import (  # noqa: PLC0415 - loaded by now anyway
        SettingsError,
        TargetSnowflakeError,
        redact,
    )
    from target_snowflake_audit.rejections import BadInputError  # noqa: PLC0415

    if isinstance(error, BadInputError):
        code, line = ExitCode.BAD_INPUT, f"{error}. {error.hint}"
    elif isinstance(error, SettingsError):
        code = ExitCode.BAD_SETTINGS
        line = f"{error}. Fix the target's settings (meltano config set {PROGRAM} NAME VALUE)"
    elif isinstance(error, TargetSnowflakeError):
        code = ExitCode.SNOWFLAKE
        line = f"{error}. `{PROGRAM} --config FILE check` tests the account and privileges"
    else:
        code = ExitCode.INTERNAL
        line = (
            f"unexpected error: {type(error).__name__}: {error}. This is a bug in the target: "
            "rerun with LOGLEVEL=DEBUG to see the traceback, and report it"
        )
    logger = _log_to_stderr()
    logger.error("%s", " ".join(redact(line, _configured_secrets(args)).split("\n")))
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("Traceback of the error above", exc_info=error)
    return code


def _log_to_stderr() -> logging.Logger:
    """The target's logger, with a stderr handler and the configured level if none is set."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s | %(levelname)-8s | %(name)s | %(message)s")
        )
        root.addHandler(handler)
        prefix = PROGRAM.upper().replace("-", "_")
        level = os.environ.get(f"{prefix}_LOGLEVEL") or os.environ.get("LOGLEVEL") or "INFO"
        root.setLevel(level.upper())
    return logging.getLogger(PROGRAM)


def _configured_secrets(args: Sequence[str]) -> list[str]:
    """Secret settings in the `--config` files and the environment (no message prints them)."""
    prefix = PROGRAM.upper().replace("-", "_")
    secrets = [
        os.environ[f"{prefix}_{name.upper()}"]
        for name in _SECRET_SETTINGS
        if os.environ.get(f"{prefix}_{name.upper()}")
    ]
    for index, arg in enumerate(args[:-1]):
        if arg != "--config":
            continue
        try:
            settings = json.loads(Path(args[index + 1]).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(settings, dict):
            secrets += [str(settings[name]) for name in _SECRET_SETTINGS if settings.get(name)]
    return secrets
