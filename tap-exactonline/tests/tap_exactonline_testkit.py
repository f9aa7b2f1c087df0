"""Test kit: in-process sandboxes, tap configs with their own token chains, tap runners."""

from __future__ import annotations

import contextlib
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

import requests
from cryptography.fernet import Fernet
from exact_sandbox import SandboxServer
from tap_exactonline.tap import TapExactOnline

TAP_BIN = str(Path(sys.executable).with_name("tap-exactonline"))


class Sandbox:
    """A running sandbox and its admin API."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.info: dict[str, Any] = server.info
        self.base_url: str = server.base_url
        self.divisions: list[int] = list(self.info["divisions"])

    def admin(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        response = requests.request(
            method, f"{self.base_url}/_sandbox/{path}", json=payload, timeout=60
        )
        response.raise_for_status()
        return response.json()

    def truth(self) -> dict[str, Any]:
        return self.admin("GET", "truth")["divisions"]

    def stats(self) -> dict[str, Any]:
        return self.admin("GET", "stats")

    def reset_stats(self) -> None:
        self.admin("DELETE", "stats")

    def advance(self, seconds: float) -> None:
        self.admin("POST", "clock", {"advance_seconds": seconds})

    def limits(self, minutely: int, daily: int) -> None:
        self.admin("POST", "limits", {"minutely": minutely, "daily": daily, "reset": True})

    def unlimited(self) -> None:
        self.limits(1_000_000, 10_000_000)

    def mutate(self, *operations: dict[str, Any]) -> list[dict[str, Any]]:
        return self.admin("POST", "mutate", {"operations": list(operations)})["results"]

    def new_refresh_token(self) -> str:
        return str(self.admin("POST", "tokens")["refresh_token"])

    def raw_get(
        self, path: str, params: dict[str, str], division: int | None = None
    ) -> dict[str, Any]:
        """GET an Exact path as a client would (own token chain), answering the JSON body."""
        if not hasattr(self, "_access_token"):
            answer = requests.post(
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
            self._access_token = answer.json()["access_token"]
        where = path if path.startswith("current/") else f"{division or self.divisions[0]}/{path}"
        response = requests.get(
            f"{self.base_url}/api/v1/{where}",
            params=params,
            headers={"Authorization": f"Bearer {self._access_token}", "Accept": "application/json"},
            timeout=60,
        )
        response.raise_for_status()
        return dict(response.json())


def start_sandbox(**kwargs: Any) -> contextlib.AbstractContextManager[Any]:
    options = {"region": "nl", "seed": 7, "scale": "small", "divisions": 2, "clock": "virtual"}
    options.update(kwargs)
    return SandboxServer(**options)


def make_config(sandbox: Sandbox, directory: Path, **overrides: Any) -> dict[str, Any]:
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
    sandbox: Sandbox,
    *,
    seconds_per_call: float = 0.0,
    before_call: Callable[[int], None] | None = None,
) -> tuple[Callable[[TapExactOnline], None], VirtualTime]:
    """Run an in-process tap on the sandbox's (virtual) clock, deterministically.

    Token lifetimes and rate-limit waits read the sandbox's clock; a wait advances it instead of
    sleeping; each API call may move it on by `seconds_per_call` (a long run in a short test)
    and may be preceded by `before_call(n)` (n = 1 for the first call).
    """
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


# Stream name -> the entity name of the sandbox's `/_sandbox/truth` answer.
TRUTH_ENTITY = {
    "transaction_lines": "TransactionLines",
    "gl_accounts": "GLAccounts",
    "gl_classifications": "GLClassifications",
    "gl_schemes": "GLSchemes",
    "gl_account_classification_mappings": "GLAccountClassificationMappings",
    "journal_entries": "GeneralJournalEntries",
    "journal_entry_lines": "GeneralJournalEntryLines",
    "cost_centers": "Costcenters",
    "cost_units": "Costunits",
    "divisions": "Divisions",
    "purchase_invoices": "PurchaseInvoices",
    "purchase_invoice_lines": "PurchaseInvoiceLines",
    "purchase_entries": "PurchaseEntries",
    "purchase_entry_lines": "PurchaseEntryLines",
    "payments": "Payments",
    "receivables": "Receivables",
    "sales_orders": "SalesOrders",
    "sales_order_lines": "SalesOrderLines",
    "sales_invoices": "SalesInvoices",
    "sales_invoice_lines": "SalesInvoiceLines",
    "customers": "Customers",
    "suppliers": "Suppliers",
    "contacts": "Contacts",
    "items": "Items",
}
