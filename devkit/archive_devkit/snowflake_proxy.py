"""A seeded HTTP proxy between the target and the Snowflake emulator that misbehaves on purpose.

The connector speaks HTTP/1.1 to the emulator (`protocol: http`). Every statement is one
`POST /queries/v1/query-request`; the proxy reads each request whole, and for statements draws
from a seeded RNG whether to:

- drop the connection before forwarding (the statement never ran),
- forward, read the emulator's whole answer, then drop the connection (the statement ran and
  its answer was lost: the case a COPY must settle from the load history),
- answer slowly (wait before forwarding).

Other requests (login, stage uploads) pass through untouched. One upstream connection is kept
per client connection. Counts of what fired are in `stats`. Request bodies are never logged:
the login request carries the password.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass

from archive_devkit.ports import free_port

STATEMENT_PATH = b"/queries/v1/query-request"
HEAD_LIMIT = 1 << 20


@dataclass(frozen=True)
class ProxyFaults:
    """Probabilities per statement, and how slow a slow answer is (seconds, uniform)."""

    drop_before: float = 0.02
    drop_after: float = 0.02
    slow: float = 0.05
    slow_seconds: tuple[float, float] = (0.5, 2.5)


@dataclass
class ProxyStats:
    """What the proxy saw and did."""

    requests: int = 0
    statements: int = 0
    dropped_before: int = 0
    dropped_after: int = 0
    slowed: int = 0

    @property
    def faults(self) -> int:
        """Every fault that fired."""
        return self.dropped_before + self.dropped_after + self.slowed


class ConnectionDropped(Exception):  # noqa: N818 - a decision, not an error
    """The proxy decided to close this client connection."""


async def read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """One HTTP/1.1 message: (head, body); None when the peer closed between messages.

    Bodies are delimited by Content-Length or chunked encoding, or run to the end of the
    connection when neither is given (a response with `Connection: close`).
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial:
            raise ConnectionDropped from error
        return None
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = await read_chunked(reader)
    elif head.startswith(b"HTTP/") and not head.split(b" ")[1].startswith((b"204", b"304")):
        body = await reader.read()
    else:
        body = b""
    return head, body


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body, kept in its chunked form (it is passed on unchanged)."""
    parts = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        parts.append(size_line)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            parts.append(await reader.readuntil(b"\r\n"))
            return b"".join(parts)
        parts.append(await reader.readexactly(size + 2))


class SnowflakeProxy:
    """Listens on a free loopback port and forwards to `upstream_port`, with seeded faults."""

    def __init__(self, upstream_port: int, seed: int, faults: ProxyFaults | None = None) -> None:
        """Prepare; `start()` serves from a background thread."""
        self.upstream_port = upstream_port
        self.faults = faults or ProxyFaults()
        self.rng = random.Random(seed)  # noqa: S311 - reproducible faults, not security
        self.stats = ProxyStats()
        self.port = free_port()
        self.enabled = True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start(self) -> SnowflakeProxy:
        """Serve in a daemon thread; return once listening."""
        self._thread = threading.Thread(target=self._serve, name="snowflake-proxy", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout=30):
            msg = "the Snowflake proxy did not start"
            raise RuntimeError(msg)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def _shutdown(self) -> None:
        """Close the listener, cancel every connection's task, then stop the loop."""
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.get_running_loop().stop()

    def __enter__(self) -> SnowflakeProxy:
        """Start on entering the block."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop on leaving it."""
        self.stop()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", self.port, limit=HEAD_LIMIT)
        )
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _decide(self) -> str:
        """`drop_before`, `drop_after`, `slow` or `pass` for one statement (seeded)."""
        draw = self.rng.random()
        faults = self.faults
        if draw < faults.drop_before:
            return "drop_before"
        if draw < faults.drop_before + faults.drop_after:
            return "drop_after"
        if draw < faults.drop_before + faults.drop_after + faults.slow:
            return "slow"
        return "pass"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: Upstream | None = None
        try:
            while True:
                request = await read_message(reader)
                if request is None:
                    return
                decision = self._decision_for(request[0])
                if decision == "slow":
                    await asyncio.sleep(self.rng.uniform(*self.faults.slow_seconds))
                upstream = upstream or await self._connect()
                answer = await exchange(request, upstream)
                if answer is None:  # the emulator closed a kept-alive connection: reconnect
                    upstream[1].close()
                    upstream = await self._connect()
                    answer = await exchange(request, upstream)
                if answer is None:
                    return
                if decision == "drop_after":
                    self.stats.dropped_after += 1
                    return
                writer.write(answer[0] + answer[1])
                await writer.drain()
        except (ConnectionDropped, ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
            if upstream is not None:
                upstream[1].close()

    async def _connect(self) -> Upstream:
        return await asyncio.open_connection("127.0.0.1", self.upstream_port, limit=HEAD_LIMIT)

    def _decision_for(self, head: bytes) -> str:
        """Count the request and decide its fate; a drop before forwarding raises at once."""
        stats = self.stats
        stats.requests += 1
        parts = head.split(b" ")
        if not self.enabled or len(parts) < 2 or not parts[1].startswith(STATEMENT_PATH):
            return "pass"
        stats.statements += 1
        decision = self._decide()
        if decision == "drop_before":
            stats.dropped_before += 1
            raise ConnectionDropped
        if decision == "slow":
            stats.slowed += 1
        return decision


Upstream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def exchange(request: tuple[bytes, bytes], upstream: Upstream) -> tuple[bytes, bytes] | None:
    """Send one request upstream and read its response (None: the upstream had closed)."""
    reader, writer = upstream
    writer.write(request[0] + request[1])
    await writer.drain()
    return await read_message(reader)
