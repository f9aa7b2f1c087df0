"""What a failed run tells its user: one line naming what to check, and a documented exit code.

Every command of the console script (the sync, ``auth``, ``check``) ends through
:func:`exit_on_error`. A traceback is printed only when the log level is DEBUG
(``TAP_EXACTONLINE_LOGLEVEL=DEBUG`` or ``LOGLEVEL=DEBUG``). Messages never carry a secret:
they are written here from the exception's kind, the host and the endpoint path, never from
a request's query or body.
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
import traceback
from collections.abc import Callable, Iterator
from enum import IntEnum
from typing import NoReturn, TypeVar
from urllib.parse import urlparse

import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from urllib3.exceptions import NameResolutionError, NewConnectionError

from tap_exactonline.auth import AuthenticationError
from tap_exactonline.regions import SettingsError
from tap_exactonline.token_store import TokenStoreError
from tap_exactonline.values import UnreadableValueError

T = TypeVar("T")


class ExitCode(IntEnum):
    """The console script's exit codes (listed in the README)."""

    OK = 0
    #: Something this table does not name; run with DEBUG logging for the traceback.
    UNEXPECTED = 1
    #: A setting is missing or invalid.
    SETTINGS = 2
    #: Exact's daily limit or ``daily_call_budget`` stopped the run (state was emitted).
    DAILY_LIMIT = 3
    #: The token chain is broken or expired: run ``tap-exactonline auth``.
    AUTHENTICATION = 4
    #: Exact refused a request (a 4xx other than 401/429); not retried.
    REFUSED = 5
    #: Exact could not be reached, or kept failing after every retry.
    UNREACHABLE = 6
    #: Exact sent a value its documented type cannot hold.
    UNREADABLE_VALUE = 7
    #: ``tap-exactonline check`` found an endpoint that does not match the schemas.
    CHECK_FAILED = 8


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests and urllib3 nest their causes)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        nested += [arg for arg in current.args if isinstance(arg, BaseException)]
        pending.extend(item for item in nested if isinstance(item, BaseException))


def _network_line(exc: requests.RequestException, host: str) -> str:
    hostname = urlparse(host).hostname or host
    causes = list(_causes(exc))
    if any(isinstance(c, (ssl.SSLError, requests.exceptions.SSLError)) for c in causes):
        return (
            f"cannot reach Exact at {host}: the TLS connection failed (certificate or TLS "
            "version); check base_url/region, a proxy that intercepts TLS "
            "(REQUESTS_CA_BUNDLE) and the system clock"
        )
    if any(isinstance(c, (NameResolutionError, socket.gaierror)) for c in causes):
        return (
            f"cannot resolve the host {hostname!r}: check the region and base_url settings "
            "and this machine's DNS"
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return (
            f"Exact at {host} did not answer in time: check the network or a proxy, or raise "
            "request_timeout"
        )
    if any(isinstance(c, (ConnectionRefusedError, NewConnectionError)) for c in causes):
        return (
            f"cannot connect to {host} (connection refused): check the region and base_url "
            "settings, and that a firewall or proxy lets this machine reach it"
        )
    return f"the connection to Exact at {host} failed: check the network, region and base_url"


class RunStoppedEarly(Exception):  # noqa: N818 - reads as what happened, like SystemExit
    """A daily limit stopped some streams; the state reached was emitted."""


def describe(exc: BaseException, host: str) -> tuple[ExitCode, str]:
    """Map a failure to its exit code and the one line a user reads.

    Args:
        exc: What ended the run.
        host: The Exact host the run talked to (region host or base_url).

    Returns:
        The exit code and the message.
    """
    if isinstance(exc, requests.RequestException):
        return _describe_request_failure(exc, host)
    for kinds, code, text in _MESSAGES:
        if isinstance(exc, kinds):
            return code, text(exc)
    return (
        ExitCode.UNEXPECTED,
        f"unexpected error: {type(exc).__name__}: {exc}; run with "
        "TAP_EXACTONLINE_LOGLEVEL=DEBUG for details",
    )


def _describe_request_failure(exc: requests.RequestException, host: str) -> tuple[ExitCode, str]:
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)):
        return ExitCode.SETTINGS, f"invalid settings: base_url {host!r} is not an http(s) URL"
    return ExitCode.UNREACHABLE, _network_line(exc, host)


def _settings_text(exc: BaseException) -> str:
    errors = exc.errors if isinstance(exc, ConfigValidationError) else []
    return f"invalid settings: {'; '.join(errors) or exc}"


#: Failure kinds, most specific first, with their exit code and message.
_MESSAGES: tuple[
    tuple[tuple[type[BaseException], ...], ExitCode, Callable[[BaseException], str]], ...
] = (
    ((ConfigValidationError, SettingsError), ExitCode.SETTINGS, _settings_text),
    (
        (AuthenticationError, TokenStoreError),
        ExitCode.AUTHENTICATION,
        lambda exc: f"authentication failed: {exc}",
    ),
    (
        (RunStoppedEarly,),
        ExitCode.DAILY_LIMIT,
        lambda exc: f"run stopped early by a daily API limit: {exc}",
    ),
    (
        (FatalAPIError,),
        ExitCode.REFUSED,
        lambda exc: f"Exact refused a request (not retried): {exc}",
    ),
    (
        (RetriableAPIError,),
        ExitCode.UNREACHABLE,
        lambda exc: f"Exact kept failing after every retry: {exc}; try again later",
    ),
    (
        (UnreadableValueError,),
        ExitCode.UNREADABLE_VALUE,
        lambda exc: f"Exact sent a value the tap cannot read: {exc}; please report this line",
    ),
)


def debug_logging() -> bool:
    """Whether the user asked for DEBUG logs (then tracebacks are shown)."""
    level = os.environ.get("TAP_EXACTONLINE_LOGLEVEL") or os.environ.get("LOGLEVEL") or ""
    return level.strip().upper() == "DEBUG"


def fail(exc: BaseException, host: str) -> NoReturn:
    """Print one line for a failure (a traceback only at DEBUG) and exit with its code.

    Args:
        exc: The failure.
        host: The Exact host of the run.
    """
    code, line = describe(exc, host)
    if debug_logging():
        traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.write(f"tap-exactonline: {line} (exit code {int(code)})\n")
    sys.stderr.flush()
    raise SystemExit(int(code))


def exit_on_error(run: Callable[[], T], host: Callable[[], str]) -> T:
    """Run a command; any failure ends in :func:`fail`.

    Args:
        run: The command.
        host: Gives the Exact host (settings may be invalid, so it is looked up only then).

    Returns:
        What the command returned.
    """
    try:
        return run()
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:
        fail(exc, _safe(host))


def _safe(host: Callable[[], str]) -> str:
    try:
        return host()
    except Exception:
        return "the configured host"
