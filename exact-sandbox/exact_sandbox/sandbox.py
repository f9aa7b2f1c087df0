"""The assembled sandbox: configuration, data, clock, OAuth, limits, faults and statistics.

One `Sandbox` stands for one region's Exact instance; `app.build_app` serves it over HTTP.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exact_sandbox.admin import Stats
from exact_sandbox.clock import Clock, ClockMode, wall_ms_from_epoch
from exact_sandbox.datagen import REGIONS, division_codes, generate, parse_scale
from exact_sandbox.faults import FaultInjector
from exact_sandbox.oauth import OAuthServer
from exact_sandbox.odata import Drift
from exact_sandbox.ratelimit import Limits, RateLimiter
from exact_sandbox.served_log import ServedLog
from exact_sandbox.store import Store


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the CLI and `SandboxServer` accept."""

    region: str = "nl"
    seed: int = 1
    scale: str = "small"
    divisions: int = 3
    clock: ClockMode = "real"
    minutely_limit: int = 60
    daily_limit: int = 5000
    db: str | None = None
    #: OData v2 JSON writes Edm.Int64 as strings (Exact does: `"Legislation": "1"`).
    int64_as_string: bool = True
    fault_seed: int | None = None

    def validate(self) -> None:
        """Refuse impossible settings early, with a clear message."""
        if self.region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}")
        if not 1 <= self.divisions <= 50:
            raise ValueError("divisions must be between 1 and 50")
        if self.clock not in ("real", "virtual"):
            raise ValueError("clock must be real or virtual")
        parse_scale(self.scale)


class Sandbox:
    """State shared by the Exact routes and the admin API."""

    def __init__(self, config: SandboxConfig) -> None:
        """Generate (or reuse) the data and set up the emulated services."""
        config.validate()
        self.config = config
        self.clock = Clock(config.clock)
        self._tempdir: str | None = None
        if config.db:
            db_path = config.db
        else:
            self._tempdir = tempfile.mkdtemp(prefix="exact-sandbox-")
            db_path = str(Path(self._tempdir) / "sandbox.sqlite3")
        self.store = Store(db_path, int64_as_string=config.int64_as_string)
        self.granted = self._load_or_generate()
        self.divisions = self.store.divisions()
        identity = f"{config.region}:{config.seed}"
        self.client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"exact-sandbox:client:{identity}"))
        self.client_secret = hashlib.sha256(f"secret:{identity}".encode()).hexdigest()[:24]
        self.user_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"exact-sandbox:user:{identity}"))
        self.oauth = OAuthServer(self.clock, self.client_id, self.client_secret)
        self.limiter = RateLimiter(
            self.clock, Limits(minutely=config.minutely_limit, daily=config.daily_limit)
        )
        self.faults = FaultInjector(config.seed if config.fault_seed is None else config.fault_seed)
        self.stats = Stats()
        #: Simulated changes to endpoints since Exact's pages were captured (admin `drift`).
        self.drift: dict[str, Drift] = {}
        #: Every record version served, when a chaos test turned the log on (admin `served`).
        self.served_log: ServedLog | None = None
        self.refresh_token = self.oauth.bootstrap_refresh_token()

    def _load_or_generate(self) -> list[int]:
        config = self.config
        wanted = {
            "region": config.region,
            "seed": str(config.seed),
            "scale": str(parse_scale(config.scale)),
            "divisions": str(config.divisions),
        }
        meta = self.store.meta()
        if meta and all(meta.get(key) == value for key, value in wanted.items()):
            numbers = "strings" if config.int64_as_string else "plain"
            if meta.get("numbers") != numbers:
                # Rows keep their JSON pre-serialised; a file reused in the other number mode
                # is re-serialised, not regenerated.
                self.store.refresh_all_json()
                self.store.set_meta({"numbers": numbers})
            return [code for code, granted in sorted(self.store.divisions().items()) if granted]
        granted = generate(
            self.store,
            region=config.region,
            seed=config.seed,
            divisions=config.divisions,
            lines_per_division=parse_scale(config.scale),
            now_ms=wall_ms_from_epoch(self.clock.now()),
        )
        self.store.set_meta({**wanted, "numbers": "strings" if config.int64_as_string else "plain"})
        return granted

    def info(self, base_url: str) -> dict[str, Any]:
        """The start-up JSON line (ARCHITECTURE.md contract)."""
        return {
            "base_url": base_url,
            "region": self.config.region,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "divisions": self.granted,
        }

    def ungranted_division(self) -> int:
        """The one division that exists but is not granted to the sandbox user."""
        return division_codes(self.config.region, self.config.divisions)[1]

    def close(self) -> None:
        """Close the database and remove a temporary one."""
        self.store.connection.close()
        if self._tempdir:
            shutil.rmtree(self._tempdir, ignore_errors=True)
