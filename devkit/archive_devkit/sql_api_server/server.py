"""A local Snowflake SQL API (`/api/v2/statements`) in front of the emulator, for tests and demo.

It checks every request as Snowflake documents (jwt_check.py for the key-pair JWT; the
User-Agent header; JSON), runs the statement on the emulator (statements.py) and answers with the
documented status codes and bodies (developer-guide/sql-api/reference, handling-responses, and
GH:snowflakedb/snowflake-rest-api-specs `specifications/sqlapi.yaml`):

- 200 with the result; results longer than `partition_rows` come in partitions fetched with
  `GET /api/v2/statements/{handle}?partition=n`;
- 202 with the statement handle while a statement runs longer than `sync_wait_seconds`
  (Snowflake: 45 s), then the GET on the handle answers 202 until 200 or 422;
- 422 when the statement fails; 401 when the token is refused; 413 for a body larger than
  `max_body_bytes`;
- `requestId`: a request resubmitted with `retry=true` and the id of a statement received
  before is answered from that execution (still running: 202; done: its result or its 422), not
  run again; without `retry=true` it runs again (developer-guide/sql-api/submitting-requests,
  "Resubmitting a request"; the OpenAPI spec: the request id "ensures that the execution is
  idempotent"). Snowflake documents this for a statement that already ran; for one still
  running the spec's wording is the only source (README, differences).

On demand (Faults), it answers a request 202 (a slow statement), 429 or 503 (with or without
Retry-After), 408 or 413, runs a statement and then drops the connection without an answer (a
lost response), or runs a resubmission again despite `retry=true` (a duplicate execution of the
kind reported in GH:snowflakedb/snowflake-connector-nodejs#1189).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from archive_devkit.sql_api_server.jwt_check import TokenChecker, TokenRefused
from archive_devkit.sql_api_server.statements import Executor, Result, StatementFailed

STATEMENTS_PATH = "/api/v2/statements"
# What a fault answers, without running the statement: Snowflake's documented bodies where
# the reference gives one (developer-guide/sql-api/reference, "Response codes").
_ANSWERED_FAULTS: dict[int, dict[str, Any]] = {
    401: {"code": "390144", "message": "JWT token is invalid. [fault]"},
    403: {"message": "HTTP 403"},
    408: {
        "code": "000630",
        "sqlState": "57014",
        "message": "Statement reached its statement or warehouse timeout and was canceled.",
    },
    413: {"message": "Request Entity Too Large"},
    422: {
        "code": "100038",
        "sqlState": "22018",
        "message": "Numeric value 'abc' is not recognized",
    },
    429: {"message": "HTTP 429"},
    500: {"message": "HTTP 500"},
    503: {"message": "HTTP 503"},
    504: {"message": "HTTP 504"},
}


@dataclass
class Fault:
    """One answer the server gives instead of (or after) running a statement."""

    status: int
    """202 (slow statement), 401, 403, 408, 413, 422, 429, 500, 503, 504 (answered without
    running the statement); 0: run it and drop the connection (with `seconds`, while it runs)."""
    match: str = ""
    """Applies to statements containing this text (case-insensitive); empty: any."""
    times: int = 1
    """How many matching requests it hits."""
    retry_after: float | None = None
    """Retry-After header of a 429 or 503."""
    seconds: float = 0.0
    """How long a slow statement (202, or 0: a lost answer) runs."""


@dataclass
class Request:
    """What the server saw and did, for tests."""

    at: float
    method: str
    path: str
    request_id: str | None
    retry: bool
    statement: str
    status: int
    executed: bool
    body_bytes: int = 0
    """Size of the request body (POST)."""
    bindings: dict[str, Any] = field(default_factory=dict)
    """The request's bind variables (POST)."""


@dataclass
class _Statement:
    handle: str
    future: Future[Result]
    partition_rows: int
    created_on: int = field(default_factory=lambda: int(time.time() * 1000))


class SqlApiServer:
    """The local SQL API server (see the module docstring); start it with `running()`."""

    def __init__(
        self,
        emulator: Mapping[str, Any],
        *,
        account: str,
        public_keys: Mapping[str, rsa.RSAPublicKey],
        host: str = "127.0.0.1",
        port: int = 0,
        sync_wait_seconds: float = 45.0,
        partition_rows: int = 10_000,
        max_body_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        """Configure; nothing listens yet.

        Args:
            emulator: Connector keyword arguments of the emulator.
            account: The account identifier (upper case, as in the JWT).
            public_keys: Users' registered public keys, by upper-case user name.
            host: Interface to bind (keep it on loopback).
            port: Port, 0 for a free one.
            sync_wait_seconds: How long a POST waits for its statement before answering 202.
            partition_rows: Rows per result partition.
            max_body_bytes: Larger request bodies are answered 413.
        """
        self.checker = TokenChecker(account.upper(), {k.upper(): v for k, v in public_keys.items()})
        self.executor = Executor(emulator)
        self.sync_wait_seconds = sync_wait_seconds
        self.partition_rows = partition_rows
        self.max_body_bytes = max_body_bytes
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.login_failures: dict[str, tuple[str, str]] = {}
        """The specific reason of each refused token, by the uuid in the 401's message."""
        self.ignore_retry_flag = False
        """Run a resubmission again although it carries `retry=true` (a duplicate execution)."""
        self._statements: dict[str, _Statement] = {}
        self._received: dict[str, str] = {}  # requestId -> handle of its execution
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sql-api statement")
        self._http = ThreadingHTTPServer((host, port), _handler(self))
        self._http.daemon_threads = True
        self.port = int(self._http.server_address[1])
        self.host = host

    def add_fault(self, fault: Fault) -> None:
        """Answer matching requests with `fault` (in order of addition)."""
        with self._lock:
            self.faults.append(fault)

    def executions(self, text: str) -> int:
        """How many statements containing `text` were run (not counting answers from a rerun)."""
        return sum(r.executed and text.upper() in r.statement.upper() for r in self.requests)

    @contextmanager
    def running(self) -> Iterator[SqlApiServer]:
        """Serve from a background thread until the block ends."""
        thread = threading.Thread(target=self._http.serve_forever, name="sql api", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()
            thread.join()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self.executor.close()

    def _take_fault(self, statement: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.match.upper() in statement.upper():
                    fault.times -= 1
                    return fault
        return None

    def submit(
        self, handler: _Handler, body: dict[str, Any], query: Mapping[str, str], size: int
    ) -> None:
        """Handle `POST /api/v2/statements` (`size`: the body's bytes)."""
        statement = str(body.get("statement") or "")
        product = str(handler.headers.get("User-Agent", "")).split("/", 1)[0]
        request_id = query.get("requestId") or str(uuid.uuid4())
        retry = query.get("retry", "").lower() == "true"
        bindings = body.get("bindings")
        record = Request(
            time.time(),
            "POST",
            handler.path,
            request_id,
            retry,
            statement,
            0,
            False,
            size,
            dict(bindings) if isinstance(bindings, dict) else {},
        )
        self.requests.append(record)
        fault = self._take_fault(statement)
        if fault is not None and fault.status in _ANSWERED_FAULTS:
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(int(fault.retry_after))
            answer = _ANSWERED_FAULTS[fault.status]
            record.status = fault.status
            handler.answer(fault.status, answer, headers)
            return
        previous = self._received.get(request_id) if retry else None
        if previous is not None and not self.ignore_retry_flag:
            # Still running or done: answered from that execution, never run again.
            record.status = self._respond(handler, self._statements[previous], wait=True)
            return
        delay = fault.seconds if fault is not None and fault.status in {0, 202} else 0.0
        record.executed = True
        entry = self._start(statement, {**body, "application": product}, request_id, delay)
        if fault is not None and fault.status == 0:  # lose the answer
            if not delay:  # after the statement ran; with `seconds`, while it still runs
                with contextlib.suppress(StatementFailed):
                    entry.future.result()
            record.status = 0
            handler.drop()
            return
        record.status = self._respond(handler, entry, wait=True)

    def _start(
        self, statement: str, body: Mapping[str, Any], request_id: str, delay: float
    ) -> _Statement:
        names = ("database", "schema", "warehouse", "role", "application")
        context = {name: body.get(name) for name in names}
        parameters = body.get("parameters") or {}
        bindings = body.get("bindings") or {}

        def run() -> Result:
            if delay:
                time.sleep(delay)
            return self.executor.run(
                statement, context=context, parameters=parameters, bindings=bindings
            )

        handle = str(uuid.uuid4())
        entry = _Statement(handle, self._pool.submit(run), self.partition_rows)
        self._statements[handle] = entry
        self._received.setdefault(request_id, handle)
        return entry

    def _respond(
        self, handler: _Handler, entry: _Statement, *, wait: bool, partition: int = 0
    ) -> int:
        try:
            result = entry.future.result(timeout=self.sync_wait_seconds if wait else 0)
        except TimeoutError:
            handler.answer(202, _status(entry, "333334", "Asynchronous execution in progress."))
            return 202
        except StatementFailed as failed:
            answer = _status(entry, failed.code, failed.message) | {"sqlState": failed.sql_state}
            handler.answer(422, answer)
            return 422
        rows = entry.partition_rows
        partitions = [result.data[i : i + rows] for i in range(0, len(result.data), rows)] or [[]]
        if partition >= len(partitions):
            handler.answer(422, _status(entry, "000001", f"partition {partition} does not exist"))
            return 422
        answer = _status(entry, "090001", "Statement executed successfully.") | {
            "resultSetMetaData": {
                "format": "jsonv2",
                "numRows": len(result.data),
                "rowType": result.row_type,
                "partitionInfo": [{"rowCount": len(part)} for part in partitions],
            },
            "data": partitions[partition],
        }
        if result.stats:
            answer["stats"] = result.stats
        handler.answer(200, answer)
        return 200

    def status(self, handler: _Handler, handle: str, query: Mapping[str, str]) -> None:
        """Handle `GET /api/v2/statements/{handle}[?partition=n]`."""
        record = Request(time.time(), "GET", handler.path, None, False, "", 0, False)
        self.requests.append(record)
        entry = self._statements.get(handle)
        if entry is None:
            record.status = 404
            handler.answer(404, {"message": f"statement {handle} not found"})
            return
        partition = int(query.get("partition") or 0)
        record.status = self._respond(handler, entry, wait=False, partition=partition)


def _status(entry: _Statement, code: str, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "statementHandle": entry.handle,
        "createdOn": entry.created_on,
        "statementStatusUrl": f"{STATEMENTS_PATH}/{entry.handle}",
    }


class _Handler(BaseHTTPRequestHandler):
    server_api: SqlApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `SqlApiServer.requests` instead."""

    def answer(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def drop(self) -> None:
        """Close the connection without an answer (the client sees the response lost)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _authorized(self) -> bool:
        if not self.headers.get("User-Agent"):
            self.answer(400, {"code": "391903", "message": "User-Agent header is required."})
            return False
        try:
            self.server_api.checker.check(
                self.headers.get("X-Snowflake-Authorization-Token-Type"),
                self.headers.get("Authorization"),
                time.time(),
            )
        except TokenRefused as refused:
            failure = str(uuid.uuid4())
            self.server_api.login_failures[failure] = refused.reason
            self.answer(401, {"code": "390144", "message": f"JWT token is invalid. [{failure}]"})
            return False
        return True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        url = urlsplit(self.path)
        if url.path.rstrip("/") != STATEMENTS_PATH:
            self.answer(404, {"message": "not found"})
            return
        if not self._authorized():
            return
        if length > self.server_api.max_body_bytes:
            self.answer(413, {"message": "Request Entity Too Large"})
            return
        content_type = self.headers.get("Content-Type", "application/json")
        if not content_type.startswith("application/json"):
            self.answer(415, {"message": f"unsupported media type {content_type}"})
            return
        try:
            body = json.loads(data)
        except ValueError:
            self.answer(400, {"message": "the body is not JSON"})
            return
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        self.server_api.submit(self, body, query, length)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        prefix = f"{STATEMENTS_PATH}/"
        if not url.path.startswith(prefix) or not self._authorized():
            if not url.path.startswith(prefix):
                self.answer(404, {"message": "not found"})
            return
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        self.server_api.status(self, url.path[len(prefix) :], query)


def _handler(server: SqlApiServer) -> type[_Handler]:
    return type("SqlApiHandler", (_Handler,), {"server_api": server})
