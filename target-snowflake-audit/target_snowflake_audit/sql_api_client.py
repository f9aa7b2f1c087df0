"""HTTP for the Snowflake SQL API: one statement per request, its result, every status code.

What Snowflake documents (developer-guide/sql-api/reference, .../submitting-requests,
.../handling-responses, and the OpenAPI spec in GH:snowflakedb/snowflake-rest-api-specs
`specifications/sqlapi.yaml`) and what this client does about it:

- 200: the result; further partitions are fetched with `?partition=n` and appended.
- 202: still running; the statement handle is polled with GET until 200 or 422.
- 422: the statement failed: a ProgrammingError with Snowflake's code, as the connector raises.
- 408: the statement timed out and was cancelled: it is submitted again.
- 429, 503, 504: exponential backoff with full jitter (python-backoff), honouring Retry-After.
- 401: a new JWT, once; refused again, a clear error (SnowflakeRefused).
- 413: RequestTooLarge, so the caller sends less (sql_api_loads.py halves the chunk).
- other 4xx: a ProgrammingError naming the statement kind and the status.
- 500, 502, no answer at all: OutcomeUnknown, so the caller decides whether to resubmit.

Every statement carries a `requestId`; a resubmission of the same request adds `retry=true`,
with which Snowflake does not run a statement that already ran
(developer-guide/sql-api/submitting-requests, "Resubmitting a request").
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import backoff
import msgspec
import requests
from snowflake.connector import errors as sf_errors

from target_snowflake_audit.connector import TargetSnowflakeError
from target_snowflake_audit.key_pair_jwt import KeyPairJWT

_STILL_RUNNING = 202
_DONE = 200
_FAILED = 422
_TIMED_OUT = 408
_UNAUTHORIZED = 401
_TOO_LARGE = 413
_TRY_LATER = frozenset({429, 503, 504})
_MAX_WAIT_SECONDS = 30.0


class OutcomeUnknown(sf_errors.OperationalError):
    """No answer (or a server error) after the request was sent: it may or may not have run."""


class RequestTooLarge(sf_errors.ProgrammingError):
    """Snowflake refused the request body as too large (413)."""


class SnowflakeRefused(TargetSnowflakeError):  # noqa: N818 - reads as an event
    """Snowflake refused the key-pair JWT, also a freshly issued one."""


class _TryLater(Exception):  # noqa: N818 - an answer, caught by the backoff loop
    """429, 503 or 504: the request was not processed."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


@dataclass
class ResultSet:
    """A statement's result: column names and types, and every row as Snowflake's strings."""

    row_type: list[dict[str, Any]]
    data: list[list[str | None]]
    stats: dict[str, Any] = field(default_factory=dict)
    statement_handle: str = ""


def user_agent() -> str:
    """An RFC 7231 product token naming this target and its version (required by the API)."""
    try:
        release = version("target-snowflake-audit")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        release = "0"
    return f"target-snowflake-audit/{release}"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: not sent by Snowflake's documented answers


def waits(base: float, cap: float = _MAX_WAIT_SECONDS) -> Generator[float, Any, None]:
    """Exponential waits with full jitter; a server's Retry-After wins when it sends one.

    A python-backoff wait generator: the failed attempt's exception is sent in.

    Args:
        base: Seconds of the first wait's upper bound.
        cap: Upper bound of any jittered wait.

    Yields:
        Seconds to wait before the next attempt.
    """
    error = yield 0.0
    attempt = 0
    while True:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            wait = float(retry_after)
        else:
            wait = random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - jitter
        attempt += 1
        error = yield wait


class SqlApiClient:
    """Submits statements to `/api/v2/statements` and returns their complete results."""

    def __init__(
        self,
        *,
        endpoint: str,
        jwt: KeyPairJWT,
        config: Mapping[str, Any],
        logger: logging.Logger,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Set up; nothing is sent yet.

        Args:
            endpoint: `{protocol}://{host}:{port}` of the account.
            jwt: Issues the bearer token.
            config: The target settings (timeouts, poll interval, retries).
            logger: For retries (warnings).
            session: The HTTP session (tests may pass their own).
            sleep: Waits between polls.
        """
        self.statements_url = f"{endpoint.rstrip('/')}/api/v2/statements"
        self._jwt = jwt
        self._logger = logger
        self._session = session or requests.Session()
        self._sleep = sleep
        self._timeout = float(config.get("sql_api_request_timeout_seconds") or 60)
        self._poll_seconds = float(config.get("sql_api_poll_seconds") or 0.5)
        self._attempts = max(1, int(config.get("retry_max_attempts", 5)))
        self._base = float(config.get("retry_base_seconds", 1.0))

    def close(self) -> None:
        """Close the HTTP connections."""
        self._session.close()

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._jwt.token()}",
            "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT",
            "User-Agent": user_agent(),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def run(
        self, body: Mapping[str, Any], *, kind: str, request_id: str, resubmission: bool
    ) -> ResultSet:
        """Submit one statement and return its whole result.

        Args:
            body: The request body (statement, context, bindings, parameters).
            kind: What the statement is (`INSERT`, `CREATE TABLE`, ...), for messages.
            request_id: The request's id; the same for every resubmission.
            resubmission: The request was sent before (adds `retry=true`).

        Returns:
            The result, all partitions.

        Raises:
            OutcomeUnknown: No answer, or a server error: the statement may have run.
            RequestTooLarge: The body is too large (413).
            SnowflakeRefused: The JWT was refused twice.
            sf_errors.ProgrammingError: The statement failed (422) or the request is wrong.
            sf_errors.OperationalError: Snowflake kept answering 429, 503 or 504.
        """
        data = msgspec.json.encode(body)  # UTF-8 as is: sql_api_loads.py counts these bytes
        renewed, timeouts = False, 0
        while True:
            params = {"requestId": request_id}
            if resubmission:
                params["retry"] = "true"
            response = self._send("POST", self.statements_url, kind, params=params, data=data)
            resubmission = True
            status = response.status_code
            if status == _UNAUTHORIZED and not renewed:
                self._logger.info("Snowflake refused the JWT; issuing a new one")
                self._jwt.renew()
                renewed = True
                continue
            if status == _TIMED_OUT and timeouts < self._attempts - 1:
                timeouts += 1
                self._logger.warning("%s timed out and was cancelled (408); submitting again", kind)
                continue
            return self._result(response, kind)

    def _send(self, method: str, url: str, kind: str, **kwargs: Any) -> requests.Response:
        """One HTTP request, retried while Snowflake answers 429, 503 or 504."""
        try:
            return self._send_until_served(method, url, kind, **kwargs)
        except _TryLater as exc:
            msg = (
                f"{kind}: Snowflake answered HTTP {exc.status} to {self._attempts} attempts "
                "(too many requests or unavailable); try again later or raise retry_max_attempts"
            )
            raise sf_errors.OperationalError(msg=msg) from None

    def _send_until_served(
        self, method: str, url: str, kind: str, **kwargs: Any
    ) -> requests.Response:
        for attempt in backoff.retry_context(
            _TryLater,
            waits,
            max_tries=self._attempts,
            jitter=None,
            on_backoff=self._on_backoff(kind),
            raise_on_giveup=True,
            logger=None,
            base=self._base,
        ):
            with attempt:
                try:
                    response = self._session.request(
                        method, url, headers=self._headers(), timeout=self._timeout, **kwargs
                    )
                except requests.RequestException as exc:
                    msg = f"{kind}: no answer from Snowflake ({type(exc).__name__})"
                    raise OutcomeUnknown(msg=msg) from None
                if response.status_code in _TRY_LATER:
                    raise _TryLater(response.status_code, _retry_after(response))
                return response
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _on_backoff(self, kind: str) -> Callable[[Any], None]:
        def log(details: Any) -> None:
            self._logger.warning(
                "%s: Snowflake answered %s (attempt %s); retrying in %.1fs",
                kind,
                getattr(details.get("exception"), "status", "?"),
                details.get("tries"),
                details.get("wait", 0.0),
            )

        return log

    def _result(self, response: requests.Response, kind: str) -> ResultSet:
        """Follow a response to the complete result, or raise what it means."""
        while response.status_code == _STILL_RUNNING:
            handle = _answer(response).get("statementHandle")
            if not handle:
                msg = f"{kind}: Snowflake answered 202 without a statement handle"
                raise OutcomeUnknown(msg=msg)
            self._sleep(self._poll_seconds)
            response = self._poll(f"{self.statements_url}/{handle}", kind)
        status = response.status_code
        if status == _DONE:
            return self._complete(response, kind)
        answer = _answer(response)
        code, message = str(answer.get("code") or ""), str(answer.get("message") or "")
        if status == _UNAUTHORIZED:
            msg = (
                f"Snowflake refused the key-pair JWT ({code} {message}); check that the public "
                "key set on the user (ALTER USER ... SET RSA_PUBLIC_KEY) pairs with the private "
                "key, and the account and user settings"
            )
            raise SnowflakeRefused(msg)
        if status == _TOO_LARGE:
            msg = f"{kind}: the request is too large for the SQL API (413)"
            raise RequestTooLarge(msg=msg)
        if status == _FAILED or 400 <= status < 500:
            text = f"{kind} failed (HTTP {status}): {code} {message}".strip()
            # The statement handle is the query id (QUERY_HISTORY), as the connector names it.
            raise sf_errors.ProgrammingError(
                msg=text,
                errno=int(code) if code.isdigit() else -1,
                sqlstate=answer.get("sqlState"),
                sfqid=answer.get("statementHandle") or "no query id",
            )
        msg = f"{kind}: Snowflake answered {status} ({code} {message}); it may have run"
        raise OutcomeUnknown(msg=msg)

    def _poll(self, url: str, kind: str) -> requests.Response:
        """GET a statement's status; a lost answer is asked again (GET runs nothing)."""
        for attempt in range(1, self._attempts + 1):
            try:
                return self._send("GET", url, kind)
            except OutcomeUnknown:
                if attempt == self._attempts:
                    raise
                self._sleep(self._poll_seconds)
        raise AssertionError  # pragma: no cover

    def _complete(self, response: requests.Response, kind: str) -> ResultSet:
        answer = _answer(response)
        meta = answer.get("resultSetMetaData") or {}
        handle = str(answer.get("statementHandle") or "")
        data: list[list[str | None]] = list(answer.get("data") or [])
        partitions = meta.get("partitionInfo") or []
        for partition in range(1, len(partitions)):
            url = f"{self.statements_url}/{handle}"
            more = self._send("GET", url, kind, params={"partition": str(partition)})
            if more.status_code != _DONE:
                msg = f"{kind}: partition {partition} of the result answered {more.status_code}"
                raise OutcomeUnknown(msg=msg)
            data.extend(_answer(more).get("data") or [])
        return ResultSet(
            row_type=list(meta.get("rowType") or []),
            data=data,
            stats=dict(answer.get("stats") or {}),
            statement_handle=handle,
        )


def _answer(response: requests.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
