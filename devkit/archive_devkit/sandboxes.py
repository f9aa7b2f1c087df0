"""Start the Exact sandbox and talk to its admin API: the one copy every test tier uses.

`in_process_sandbox` serves it from a thread of this process (fast; tests may reach its
virtual clock directly). `SandboxProcess` runs `exact-sandbox serve` as a child process, as the
demo, the end-to-end tests, the chaos run and the benchmarks need. Both give a `SandboxAdmin`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from exact_sandbox import SandboxServer

from archive_devkit.paths import BIN_DIR

# What the tap's tests start with unless they say otherwise: small, deterministic, virtual time.
IN_PROCESS_DEFAULTS: dict[str, Any] = {
    "region": "nl",
    "seed": 7,
    "scale": "small",
    "divisions": 2,
    "clock": "virtual",
}


class SandboxAdmin:
    """A running sandbox: its start-up facts and its `/_sandbox/*` admin API over HTTP."""

    def __init__(self, info: dict[str, Any], server: SandboxServer | None = None) -> None:
        """Wrap what `exact-sandbox serve` printed (or `SandboxServer.info`)."""
        self.info = info
        self.server = server
        self.base_url: str = str(info["base_url"])
        self.divisions: list[int] = [int(code) for code in info["divisions"]]
        self._session = requests.Session()
        self._access_token = ""

    def admin(self, method: str, path: str, payload: Any = None) -> Any:
        """Call `/_sandbox/<path>` and return the decoded answer (raises on a non-2xx)."""
        response = self._session.request(
            method.upper(), f"{self.base_url}/_sandbox/{path}", json=payload, timeout=120
        )
        response.raise_for_status()
        return response.json()

    def truth(self) -> dict[str, Any]:
        """Per division and entity: live row count and exact amount sums."""
        return dict(self.admin("GET", "truth")["divisions"])

    def stats(self) -> dict[str, Any]:
        """Calls, statuses, tokens issued and refresh tokens reused."""
        return dict(self.admin("GET", "stats"))

    def reset_stats(self) -> None:
        """Start counting from zero."""
        self.admin("DELETE", "stats")

    def advance(self, seconds: float) -> None:
        """Move a virtual clock on."""
        self.admin("POST", "clock", {"advance_seconds": seconds})

    def limits(self, minutely: int, daily: int) -> None:
        """Set Exact's per-minute and per-day call limits (and reset what was spent)."""
        self.admin("POST", "limits", {"minutely": minutely, "daily": daily, "reset": True})

    def unlimited(self) -> None:
        """Limits no test reaches (for tests that are not about rate limits)."""
        self.limits(1_000_000, 10_000_000)

    def mutate(self, *operations: dict[str, Any]) -> list[dict[str, Any]]:
        """Create, update or delete records as users do in Exact."""
        return list(self.admin("POST", "mutate", {"operations": list(operations)})["results"])

    def records(self, division: int, entity: str) -> dict[str, Any]:
        """Every live record of `entity` in `division`, canonical (all pages of `records`)."""
        answer = dict(self.admin("GET", f"records?division={division}&entity={entity}"))
        records: list[dict[str, Any]] = list(answer["records"])
        while answer.get("next_after") is not None:
            after = quote(str(answer["next_after"]), safe="")
            answer = dict(
                self.admin("GET", f"records?division={division}&entity={entity}&after={after}")
            )
            records.extend(answer["records"])
        return {**answer, "records": records}

    def served(self, division: int, entity: str) -> list[dict[str, Any]]:
        """Every served version of `entity` in `division` the opt-in log holds."""
        return list(self.admin("GET", f"served?division={division}&entity={entity}")["served"])

    def issued_tokens(self) -> list[str]:
        """Every access token, refresh token and authorization code the sandbox handed out."""
        answer = self.admin("GET", "issued_tokens")
        return [token for tokens in answer.values() for token in tokens]

    def new_refresh_token(self) -> str:
        """A fresh token chain (as if the user authorized the app again)."""
        return str(self.admin("POST", "tokens")["refresh_token"])

    def raw_get(
        self, path: str, params: dict[str, str], division: int | None = None
    ) -> dict[str, Any]:
        """GET an Exact path as a client would (own token chain), answering the JSON body."""
        if not self._access_token:
            answer = self._session.post(
                f"{self.base_url}/api/oauth2/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self.new_refresh_token(),
                    "client_id": self.info["client_id"],
                    "client_secret": self.info["client_secret"],
                },
                timeout=30,
            )
            answer.raise_for_status()
            self._access_token = str(answer.json()["access_token"])
        where = path if path.startswith("current/") else f"{division or self.divisions[0]}/{path}"
        response = self._session.get(
            f"{self.base_url}/api/v1/{where}",
            params=params,
            headers={"Authorization": f"Bearer {self._access_token}", "Accept": "application/json"},
            timeout=60,
        )
        response.raise_for_status()
        return dict(response.json())


@contextmanager
def in_process_sandbox(**options: Any) -> Iterator[SandboxAdmin]:
    """A sandbox served from a thread of this process (`IN_PROCESS_DEFAULTS`, overridable)."""
    with SandboxServer(**{**IN_PROCESS_DEFAULTS, **options}) as server:
        yield SandboxAdmin(server.info, server)


class SandboxProcess(SandboxAdmin):
    """`exact-sandbox serve` as a child process in its own process group, logging to a file."""

    def __init__(self, args: list[str], log_path: Path, cwd: Path | None = None) -> None:
        """Start `exact-sandbox serve <args>` and read the facts it prints first."""
        self.log_path = log_path
        log = log_path.open("a")
        self.process = subprocess.Popen(
            [str(BIN_DIR / "exact-sandbox"), "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
            cwd=cwd,
        )
        assert self.process.stdout is not None  # noqa: S101 - Popen was asked for a pipe
        line = self.process.stdout.readline()
        if not line:
            self.stop()
            msg = f"exact-sandbox printed nothing at start-up; see {log_path}"
            raise RuntimeError(msg)
        self._drain()
        super().__init__(json.loads(line))

    def _drain(self) -> None:
        """Copy the rest of the child's stdout to its log in the background.

        An unread pipe fills after 64 KiB of access-log lines and then blocks the server.
        """
        stdout = self.process.stdout

        def copy() -> None:
            assert stdout is not None  # noqa: S101 - Popen was asked for a pipe
            with self.log_path.open("a") as log:
                for line in stdout:
                    log.write(line)
                    log.flush()

        threading.Thread(target=copy, name=f"drain {self.log_path.name}", daemon=True).start()

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM the process group; SIGKILL it if it has not stopped within `timeout`."""
        stop_process_group(self.process, timeout)


def stop_process_group(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """Stop a child started with `start_new_session=True`, and everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
