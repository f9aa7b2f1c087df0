"""Run a sandbox with uvicorn: in a background thread (pytest) or in the foreground (CLI).

The listening socket is bound before uvicorn starts, so `port=0` yields a known free port and
the start-up line can be printed before the first request arrives.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from exact_sandbox.app import DroppedConnectionError, build_app
from exact_sandbox.clock import ClockMode
from exact_sandbox.sandbox import Sandbox, SandboxConfig

START_TIMEOUT_SECONDS = 30.0


class _HideInjectedDrops(logging.Filter):
    """Keep deliberate dropped-connection faults out of uvicorn's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnectionError)


logging.getLogger("uvicorn.error").addFilter(_HideInjectedDrops())


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen; `port=0` lets the OS pick a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def uvicorn_server(sandbox: Sandbox) -> uvicorn.Server:
    """A quiet uvicorn server for the sandbox's ASGI app."""
    config = uvicorn.Config(
        build_app(sandbox),
        log_level="warning",
        access_log=False,
        # The app sends Date from the sandbox clock (virtual or real), as Exact's is its own.
        date_header=False,
        lifespan="off",
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


def base_url_of(sock: socket.socket, host: str) -> str:
    """The sandbox's base URL once bound."""
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class SandboxServer:
    """A sandbox served from a background thread; use as a context manager.

    Example:
        with SandboxServer(region="nl", seed=1, scale="small", clock="virtual") as sb:
            requests.get(sb.base_url + "/_sandbox/truth")
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "nl",
        seed: int = 1,
        scale: str = "small",
        divisions: int = 3,
        clock: ClockMode = "real",
        minutely_limit: int = 60,
        daily_limit: int = 5000,
        db: str | None = None,
        int64_as_string: bool = True,
        fault_seed: int | None = None,
    ) -> None:
        """Keep the settings; `start()` (or `with`) generates data and serves."""
        self.host = host
        self.port = port
        self.config = SandboxConfig(
            region=region,
            seed=seed,
            scale=str(scale),
            divisions=divisions,
            clock=clock,
            minutely_limit=minutely_limit,
            daily_limit=daily_limit,
            db=db,
            int64_as_string=int64_as_string,
            fault_seed=fault_seed,
        )
        self.sandbox: Sandbox | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.base_url = ""
        self.info: dict[str, Any] = {}

    def start(self) -> SandboxServer:
        """Generate the data, bind, and serve in a daemon thread."""
        self.sandbox = Sandbox(self.config)
        self._socket = bind_socket(self.host, self.port)
        self.base_url = base_url_of(self._socket, self.host)
        self.info = self.sandbox.info(self.base_url)
        self._server = uvicorn_server(self.sandbox)
        sockets = [self._socket]
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=sockets), name="exact-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("exact-sandbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and remove temporary data."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        if self.sandbox is not None:
            self.sandbox.close()
        self._server = self._thread = self._socket = self.sandbox = None

    def __enter__(self) -> SandboxServer:
        """Start on entering the block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop on leaving the block."""
        self.stop()
