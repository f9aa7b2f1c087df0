"""Run the tap against a sandbox: configs with their own token chains, in-process and as a process.

In-process runs are fast and can put the tap on the sandbox's virtual clock; process runs use
the console script exactly as Meltano does.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from tap_exactonline.tap import TapExactOnline

from archive_devkit.paths import BIN_DIR
from archive_devkit.sandboxes import SandboxAdmin

TAP_BIN = str(BIN_DIR / "tap-exactonline")


def make_config(sandbox: SandboxAdmin, directory: Path, **overrides: Any) -> dict[str, Any]:
    """A tap config with its own token chain and encrypted store under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "region": "nl",
        "base_url": sandbox.base_url,
        "client_id": sandbox.info["client_id"],
        "client_secret": sandbox.info["client_secret"],
        "refresh_token": sandbox.new_refresh_token(),
        "token_store_path": str(directory / "tokens.json"),
        "token_store_key": Fernet.generate_key().decode(),
        "divisions": ["all"],
        "retry_backoff_factor": 0.05,
        "request_timeout": 30,
    }
    config.update(overrides)
    return config


@dataclass
class RunResult:
    """Messages of one tap run, grouped."""

    messages: list[dict[str, Any]]
    exit_code: int = 0
    stderr: str = ""
    stdout: str = ""
    stdout_bytes: bytes = b""
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for message in self.messages:
            if message["type"] == "RECORD":
                self.records.setdefault(message["stream"], []).append(message["record"])
            elif message["type"] == "STATE":
                self.states.append(message["value"])

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}

    def rows(self, stream: str) -> list[dict[str, Any]]:
        """Records that are not tombstones."""
        return [r for r in self.records.get(stream, []) if not r.get("_sdc_deleted_at")]

    def tombstones(self, stream: str) -> list[dict[str, Any]]:
        return [r for r in self.records.get(stream, []) if r.get("_sdc_deleted_at")]


def catalog_for(config: dict[str, Any], streams: list[str] | None) -> dict[str, Any]:
    """The discovered catalog with only ``streams`` selected (all when None)."""
    catalog = TapExactOnline(config=config).catalog_dict
    for entry in catalog["streams"]:
        selected = streams is None or entry["tap_stream_id"] in streams
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = selected
    return catalog


def parse_messages(text: bytes | str) -> list[dict[str, Any]]:
    if isinstance(text, bytes):
        text = text.decode()
    return [json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()]


def run_tap(
    config: dict[str, Any],
    *,
    streams: list[str] | None = None,
    state: dict[str, Any] | None = None,
    prepare: Callable[[TapExactOnline], None] | None = None,
) -> RunResult:
    """Run the tap in this process (fast); returns its messages.

    ``prepare`` may adjust the tap before the sync (e.g. make the rate limiter's sleep move
    the sandbox's virtual clock instead of waiting in real time).
    """
    tap = TapExactOnline(config=config, state=state, catalog=catalog_for(config, streams))
    if prepare is not None:
        prepare(tap)
    buffer = io.BytesIO()
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8")
    original = sys.stdout
    sys.stdout = wrapper
    try:
        tap.sync_all()
    finally:
        wrapper.flush()
        sys.stdout = original
    exit_code = 3 if tap.run_report.stops else 0
    raw = buffer.getvalue()
    return RunResult(parse_messages(raw), exit_code=exit_code, stdout_bytes=raw)


def write_json(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value), encoding="utf-8")
    return str(path)


def tap_command(
    config: dict[str, Any],
    directory: Path,
    *,
    streams: list[str] | None = None,
    state: dict[str, Any] | None = None,
) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    command = [TAP_BIN, "--config", write_json(directory / "config.json", config)]
    command += ["--catalog", write_json(directory / "catalog.json", catalog_for(config, streams))]
    if state is not None:
        command += ["--state", write_json(directory / "state.json", state)]
    return command


def run_tap_process(
    config: dict[str, Any],
    directory: Path,
    *,
    streams: list[str] | None = None,
    state: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> RunResult:
    """Run the tap as its console script (as Meltano does)."""
    completed = subprocess.run(
        tap_command(config, directory, streams=streams, state=state),
        capture_output=True,
        timeout=600,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return RunResult(
        parse_messages(completed.stdout),
        exit_code=completed.returncode,
        stderr=completed.stderr.decode(),
        stdout=completed.stdout.decode(),
    )


@dataclass
class VirtualTime:
    """What happened on the sandbox's clock during a run."""

    waits: list[float] = field(default_factory=list)
    #: The clock's reading when each wait ended.
    woke_at: list[float] = field(default_factory=list)
    calls: int = 0


def on_sandbox_clock(
    sandbox: SandboxAdmin,
    *,
    seconds_per_call: float = 0.0,
    before_call: Callable[[int], None] | None = None,
) -> tuple[Callable[[TapExactOnline], None], VirtualTime]:
    """Run an in-process tap on the sandbox's (virtual) clock, deterministically.

    Token lifetimes and rate-limit waits read the sandbox's clock; a wait advances it instead of
    sleeping; each API call may move it on by `seconds_per_call` (a long run in a short test)
    and may be preceded by `before_call(n)` (n = 1 for the first call).
    """
    if sandbox.server is None or sandbox.server.sandbox is None:
        msg = "on_sandbox_clock needs an in-process sandbox (in_process_sandbox)"
        raise ValueError(msg)
    clock = sandbox.server.sandbox.clock
    happened = VirtualTime()

    def sleep(seconds: float) -> None:
        happened.waits.append(seconds)
        happened.woke_at.append(clock.advance(max(seconds, 0.0)))

    def prepare(tap: TapExactOnline) -> None:
        tap.clock = clock.now
        tap.sleep = sleep
        fetch = tap.client.fetch_page

        def fetch_on_the_clock(*args: Any, **kwargs: Any) -> Any:
            happened.calls += 1
            if before_call is not None:
                before_call(happened.calls)
            if seconds_per_call:
                clock.advance(seconds_per_call)
            return fetch(*args, **kwargs)

        tap.client.fetch_page = fetch_on_the_clock  # type: ignore[method-assign]

    return prepare, happened


def calls_by_endpoint(stats: dict[str, Any]) -> dict[tuple[int, str], int]:
    """Flatten ``/_sandbox/stats`` calls into {(division, endpoint): count}."""
    return {
        (int(division), endpoint): count
        for division, endpoints in stats["calls"].items()
        for endpoint, count in endpoints.items()
    }


# Secrets of `offline_config`: they must never appear in what the tap prints.
OFFLINE_SECRETS = ("s3cret-client-secret", "Gcp7!IAAA-secret-refresh-token")


def offline_config(directory: Path, **overrides: Any) -> dict[str, Any]:
    """A complete tap config for no particular server (failure tests set `base_url`)."""
    config: dict[str, Any] = {
        "client_id": "client",
        "client_secret": OFFLINE_SECRETS[0],
        "refresh_token": OFFLINE_SECRETS[1],
        "token_store_path": str(directory / "tokens.json"),
        "token_store_key": "qh0sOSr0bDkS1_r5ly7JH9DDWYl-c5T3XjlGZhMSt3I=",
        "max_retries": 2,
        "retry_backoff_factor": 0.01,
        "request_timeout": 2,
    }
    config.update(overrides)
    return config


def run_tap_cli(
    config: dict[str, Any], directory: Path, *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`tap-exactonline --config ...` (a sync with discovery), its exit code and output."""
    directory.mkdir(parents=True, exist_ok=True)
    command = [TAP_BIN, "--config", write_json(directory / "config.json", config)]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )
