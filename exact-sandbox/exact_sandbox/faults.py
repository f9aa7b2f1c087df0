"""Deterministic fault injection: 5xx statuses, slow responses, dropped connections, truncation.

Rules fire either on the Nth matching call or with a probability drawn from a seeded RNG, so a
test that installs the same rules with the same seed sees the same faults on the same calls.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["status", "slow", "drop", "truncate"]
FAULT_KINDS: tuple[str, ...] = ("status", "slow", "drop", "truncate")
FAULT_STATUSES = frozenset({500, 502, 503})


class FaultError(ValueError):
    """An invalid fault rule."""


@dataclass
class FaultRule:
    """One rule; `nth` fires once on that matching call, `rate` fires with that probability."""

    kind: FaultKind
    status: int = 503
    rate: float | None = None
    nth: int | None = None
    path_contains: str = "/api/v1/"
    delay_seconds: float = 2.0
    times: int | None = None
    seen: int = 0
    fired: int = 0

    def describe(self) -> dict[str, Any]:
        """The rule as JSON."""
        return asdict(self)


class FaultInjector:
    """Holds the active rules and decides which one (if any) hits a request."""

    def __init__(self, seed: int) -> None:
        """Seed the RNG used by rate-based rules."""
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - reproducible faults, not security
        self.rules: list[FaultRule] = []

    def configure(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Add rules from `{"faults": [...], "seed": N}` or one rule object; answer all rules."""
        if "seed" in payload:
            self.seed = int(payload["seed"])
            self.rng = random.Random(self.seed)  # noqa: S311
        specs = payload.get("faults")
        if specs is None:
            specs = [{k: v for k, v in payload.items() if k != "seed"}]
        for spec in specs:
            self.rules.append(parse_rule(spec))
        return self.describe()

    def clear(self) -> None:
        """Remove every rule and reseed, so the next configuration replays identically."""
        self.rules.clear()
        self.rng = random.Random(self.seed)  # noqa: S311

    def describe(self) -> list[dict[str, Any]]:
        """Every active rule as JSON."""
        return [rule.describe() for rule in self.rules]

    def pick(self, path: str) -> FaultRule | None:
        """The first rule firing on this call; every matching rule counts the call."""
        chosen: FaultRule | None = None
        for rule in self.rules:
            if rule.path_contains not in path:
                continue
            if rule.times is not None and rule.fired >= rule.times:
                continue
            rule.seen += 1
            fires = (rule.nth is not None and rule.seen == rule.nth) or (
                rule.rate is not None and self.rng.random() < rule.rate
            )
            if fires and chosen is None:
                rule.fired += 1
                chosen = rule
        return chosen


def parse_rule(spec: dict[str, Any]) -> FaultRule:
    """Validate one rule object."""
    kind = spec.get("kind", "status")
    if kind not in FAULT_KINDS:
        raise FaultError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    rule = FaultRule(
        kind=kind,
        status=int(spec.get("status", 503)),
        rate=None if spec.get("rate") is None else float(spec["rate"]),
        nth=None if spec.get("nth") is None else int(spec["nth"]),
        path_contains=str(spec.get("path_contains", "/api/v1/")),
        delay_seconds=float(spec.get("delay_seconds", 2.0)),
        times=None if spec.get("times") is None else int(spec["times"]),
    )
    if rule.kind == "status" and rule.status not in FAULT_STATUSES:
        raise FaultError("status must be 500, 502 or 503")
    if rule.rate is None and rule.nth is None:
        raise FaultError("give `rate` (0..1) or `nth` (1-based call number)")
    if rule.rate is not None and not 0 <= rule.rate <= 1:
        raise FaultError("rate must be between 0 and 1")
    return rule
