"""What a chaos run will do, drawn from one seed: faults, kills, 429 storms, sizes.

Everything random in a chaos run comes from `random.Random` instances seeded here, so a seed
names one plan. The timing of the machine still decides where exactly a kill lands in the
pipeline's work; the invariants hold wherever it lands.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from archive_devkit.snowflake_proxy import ProxyFaults

Victim = Literal["tap", "target"]
#: Console scripts Meltano starts for the extractor and the loader.
EXECUTABLES: dict[Victim, str] = {"tap": "tap-exactonline", "target": "target-snowflake-audit"}


#: Seconds after the victim started within which it is killed, by (victim, first load). The
#: tap reads a small company in a few seconds and then waits for the target; the target loads
#: for tens of seconds on a first load, a few on later runs.
KILL_WINDOWS: dict[tuple[Victim, bool], tuple[float, float]] = {
    ("tap", True): (0.5, 3.0),
    ("tap", False): (0.3, 1.5),
    ("target", True): (3.0, 15.0),
    ("target", False): (1.0, 4.0),
}


@dataclass(frozen=True)
class ChaosSettings:
    """The knobs of one chaos run (`scripts/chaos.py` sets them from its arguments)."""

    seed: int = 20261201
    #: Rounds of mutations after the first load; the last one runs without kills.
    rounds: int = 3
    short: bool = False
    regions: tuple[str, ...] = ("nl", "de", "uk")
    #: Sandbox size: `small`, or transaction lines per division.
    scale: str = "small"
    divisions_per_region: int = 2
    #: Attempts of one pipeline in one round before the run is declared stuck.
    max_attempts: int = 6

    @classmethod
    def short_form(cls, seed: int) -> ChaosSettings:
        """The form `make test` runs: a small company, one mutation round, under 3 minutes."""
        return cls(seed=seed, rounds=1, short=True, scale="600", divisions_per_region=1)


@dataclass(frozen=True)
class KillPlan:
    """SIGKILL `victim` once it has run `after_seconds` (if the run lasts that long)."""

    victim: Victim
    after_seconds: float


@dataclass(frozen=True)
class StormPlan:
    """Spend the sandbox's current minute (a 429 storm) this long after the tap started.

    The tap's next call gets Exact's minutely 429 and the tap waits for the reset Exact names,
    the next clock minute: each storm costs that region up to a minute.
    """

    after_seconds: float


class ChaosPlan:
    """Seeded decisions, one stream of random numbers per purpose and region."""

    def __init__(self, settings: ChaosSettings) -> None:
        """Derive every generator from the settings' seed."""
        self.settings = settings
        self._kills_made: dict[str, int] = {}

    def rng(self, purpose: str, *parts: object) -> random.Random:
        """A generator for one purpose (`kill`, `storm`, `mutate`...) and its context."""
        text = ":".join([str(self.settings.seed), purpose, *map(str, parts)])
        return random.Random(text)  # noqa: S311 - reproducible chaos, not security

    def is_final(self, round_number: int) -> bool:
        """The last round runs with faults but without kills: a run after a completed run."""
        return round_number >= self.settings.rounds

    def kills(self, region: str, round_number: int, attempt: int) -> bool:
        """Whether this attempt is to be killed (see `kill`)."""
        if self.is_final(round_number) or attempt > 1:
            return False
        if attempt == 0:
            return True
        return not self.settings.short and self.rng("kill", region, round_number).random() < 0.5

    def kill(self, region: str, round_number: int, attempt: int) -> KillPlan | None:
        """Whether (and when) to kill this attempt, and which process.

        The first attempt of every round but the last is killed; a second attempt half of the
        time. Victims alternate per region, starting differently per region, so both the tap
        and the target are killed several times.
        """
        if not self.kills(region, round_number, attempt):
            return None
        rng = self.rng("kill-moment", region, round_number, attempt)
        ordinal = self._kills_made.get(region, 0)
        self._kills_made[region] = ordinal + 1
        offset = self.settings.regions.index(region) if region in self.settings.regions else 0
        victim: Victim = "target" if (ordinal + offset) % 2 else "tap"
        return KillPlan(victim, rng.uniform(*KILL_WINDOWS[victim, round_number == 0]))

    def storm(self, region: str, round_number: int, attempt: int) -> StormPlan | None:
        """A 429 storm in attempts no kill is planned for, so the tap lives to meet it.

        The full form storms the last round of every region and half of the first load's
        reruns; the short form the last round of one region.
        """
        rng = self.rng("storm", region, round_number, attempt)
        settings = self.settings
        if settings.short:
            chosen = self.rng("storm-region").choice(settings.regions)
            planned = self.is_final(round_number) and region == chosen and attempt == 0
        else:
            final = self.is_final(round_number) and attempt == 0
            rerun = round_number == 0 and attempt == 1 and rng.random() < 0.5
            planned = final or (rerun and not self.kills(region, round_number, attempt))
        return StormPlan(rng.uniform(0.3, 1.5)) if planned else None

    def sandbox_faults(self, region: str) -> dict[str, Any]:
        """The sandbox's fault rules (`/_sandbox/faults`), with their own seed."""
        seed = self.rng("sandbox-faults", region).randrange(1 << 30)
        rate = 0.01
        return {
            "seed": seed,
            "faults": [
                {"kind": "status", "status": 500, "rate": rate},
                {"kind": "status", "status": 502, "rate": rate},
                {"kind": "status", "status": 503, "rate": rate},
                {"kind": "drop", "rate": rate},
                {"kind": "truncate", "rate": rate},
            ],
        }

    def proxy_seed(self) -> int:
        """The Snowflake proxy's seed."""
        return self.rng("snowflake-proxy").randrange(1 << 30)

    def proxy_faults(self) -> ProxyFaults:
        """How often the Snowflake proxy misbehaves per statement."""
        if self.settings.short:  # the same faults, shorter waits: make test's time budget
            return ProxyFaults(drop_before=0.02, drop_after=0.02, slow=0.05, slow_seconds=(0.2, 1))
        return ProxyFaults(drop_before=0.02, drop_after=0.02, slow=0.05)
