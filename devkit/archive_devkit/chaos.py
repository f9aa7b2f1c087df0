"""`make chaos`: the three-entity pipeline through the real `meltano run`, under seeded chaos.

While the pipelines run, the sandboxes inject 5xx statuses, dropped connections and truncated
bodies (their seeded fault rules) and 429 storms (a spent minute at seeded moments); a seeded
proxy in front of the Snowflake emulator answers some statements slowly and drops connections
before forwarding a statement or after the emulator answered it. The tap and the target are
SIGKILLed at seeded moments and the pipeline is rerun until it completes; between rounds the
sandboxes' records are created, changed and deleted. Then every invariant is checked by code:

- every pipeline completed, in every round;
- the warehouse reconciles with the sandboxes: counts, sums, dates and every record field by
  field (`reconcile_stack`), 0 mismatches;
- every record version a sandbox served is in the warehouse, or was superseded before the
  rerun of a killed run (`served_versions`);
- duplicates only where at-least-once allows them (`duplicate_loads`);
- no refresh token was used twice (sandbox stats `reused_refresh_tokens`);
- no secret in any log: client secrets, every token the sandboxes issued, the token store key,
  the Snowflake password (`secret_scan`).

The last line printed is `chaos: <faults> faults, <kills> kills, <reruns> reruns, <rows>
rows, <n> mismatches`; each failed invariant is named on its own line before it.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from archive_devkit.chaos_mutations import MutationCounts, mutate
from archive_devkit.chaos_plan import ChaosPlan, ChaosSettings
from archive_devkit.chaos_runs import RunRecord, run_until_complete
from archive_devkit.duplicate_loads import check_duplicates
from archive_devkit.local_stack import LocalStack
from archive_devkit.paths import REPO_ROOT
from archive_devkit.pipeline import prepare_state_database, reconcile_stack, warehouse_cursor
from archive_devkit.reconcile import format_report
from archive_devkit.secret_scan import leaked_secrets, log_files
from archive_devkit.served_versions import check_served_versions
from archive_devkit.snowflake_proxy import SnowflakeProxy

#: Exact's 60 calls a minute would make every first load wait a minute; the 429 path is
#: exercised by the storms instead.
CHAOS_MINUTELY_LIMIT = 2000
#: Edits per division between a killed attempt and its rerun.
RERUN_MUTATIONS = MutationCounts(updates=4, creates=1, deletes=1)


@dataclass
class ChaosOutcome:
    """What happened and what failed."""

    runs: list[RunRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    faults: int = 0
    rows: int = 0
    mismatches: int = 0

    @property
    def kills(self) -> int:
        """Attempts ended by a SIGKILL."""
        return sum(1 for run in self.runs if run.killed)

    @property
    def reruns(self) -> int:
        """Attempts after the first of a region's round."""
        return sum(1 for run in self.runs if not run.label.endswith("attempt0"))

    def summary(self) -> str:
        """The one line printed last."""
        return (
            f"chaos: {self.faults} faults, {self.kills} kills, {self.reruns} reruns, "
            f"{self.rows} rows, {self.mismatches} mismatches"
        )


def chaos_env(stack: LocalStack, proxy: SnowflakeProxy, settings: ChaosSettings) -> dict[str, str]:
    """The demo environment, with the target talking to the proxy and committing often."""
    env = stack.meltano_env()
    env["SNOWFLAKE_PORT"] = str(proxy.port)
    # Small batches: a STATE is committed every few hundred rows, so kills land between them.
    env["TARGET_SNOWFLAKE_AUDIT_BATCH_SIZE_ROWS"] = "500" if settings.short else "1000"
    return env


def secrets_of(stack: LocalStack) -> dict[str, str]:
    """Every secret the run handled, by a name that can be printed."""
    env = stack.meltano_env()
    secrets = {
        "the token store key": env["EXACT_TOKEN_STORE_KEY"],
        "the Snowflake password": env["SNOWFLAKE_PASSWORD"],
    }
    for region, sandbox in stack.sandboxes.items():
        secrets[f"the client secret ({region})"] = str(sandbox.info["client_secret"])
        for index, token in enumerate(sandbox.issued_tokens()):
            secrets[f"issued token #{index} ({region})"] = token
    return secrets


def run_rounds(
    plan: ChaosPlan, stack: LocalStack, env: dict[str, str], say: Callable[[str], None]
) -> tuple[list[RunRecord], list[str]]:
    """The first load and every mutation round, the regions side by side; runs and failures."""
    settings = plan.settings
    runs: list[RunRecord] = []
    failures: list[str] = []
    completed_last = dict.fromkeys(stack.sandboxes, True)
    counts = MutationCounts(updates=6, creates=2, deletes=2) if settings.short else MutationCounts()

    def report(record: RunRecord) -> None:
        how = f"killed {record.killed}" if record.killed else f"exit {record.exit_code}"
        storms = f", {record.storms} 429 storm" if record.storms else ""
        say(f"  {record.label}: {how} after {record.ended - record.started:.0f} s{storms}")

    def change_before_rerun(record: RunRecord) -> None:
        # Records a killed run was sent may change or vanish before the rerun reads them.
        rng = plan.rng("mutate-before-rerun", record.label)
        done = mutate(rng, stack.sandboxes[record.region], RERUN_MUTATIONS)
        say(f"  {len(done)} creates, updates and deletes in {record.region} before the rerun")

    for round_number in range(settings.rounds + 1):
        if round_number:
            for region, sandbox in stack.sandboxes.items():
                done = mutate(plan.rng("mutate", region, round_number), sandbox, counts)
                say(f"round {round_number}: {len(done)} creates, updates and deletes in {region}")
        with ThreadPoolExecutor(max_workers=len(stack.sandboxes)) as pool:
            futures = {
                region: pool.submit(
                    run_until_complete,
                    plan,
                    env,
                    sandbox,
                    region,
                    round_number,
                    after_completed=completed_last[region],
                    log_path=stack.work_dir / "logs" / f"meltano-{region}.log",
                    on_attempt=report,
                    before_rerun=change_before_rerun,
                )
                for region, sandbox in stack.sandboxes.items()
            }
            for region, future in futures.items():
                attempts = future.result()
                runs.extend(attempts)
                completed_last[region] = attempts[-1].completed
                if not attempts[-1].completed:
                    failures.append(
                        f"pipeline did not complete: {region} in round {round_number} "
                        f"after {len(attempts)} attempts"
                    )
        if failures:
            break
    return runs, failures


def check_invariants(
    stack: LocalStack, outcome: ChaosOutcome, started: float, say: Callable[[str], None]
) -> None:
    """Every invariant after the rounds; failures and figures go into `outcome`."""
    figures = reconcile_stack(stack)
    mismatched = [figure for figure in figures if not figure.matches]
    outcome.mismatches = len(mismatched)
    if mismatched:
        say(format_report(mismatched))
        outcome.failures.append(f"reconciliation: {len(mismatched)} figures do not match")
    completed = {run.label for run in outcome.runs if run.completed}
    region_of_division = {
        str(division): region
        for region, sandbox in stack.sandboxes.items()
        for division in sandbox.divisions
    }
    with warehouse_cursor(stack) as cursor:
        served = check_served_versions(cursor, stack.sandboxes, completed)
        say(
            f"served versions checked: {served.versions} ({served.superseded} superseded after "
            f"a kill), served deletions: {served.deletions}"
        )
        outcome.failures += served.failures
        duplicates = check_duplicates(cursor, outcome.runs, region_of_division)
        say(f"rows: {duplicates.rows}, duplicate loads: {duplicates.duplicates}")
        outcome.rows = duplicates.rows
        outcome.failures += duplicates.failures
    reused = sum(
        int(sandbox.stats()["reused_refresh_tokens"]) for sandbox in stack.sandboxes.values()
    )
    if reused:
        outcome.failures.append(f"refresh tokens used twice: {reused}")
    # The stack's logs (Meltano's output with the tap's and the target's, the sandboxes', the
    # emulator's), the logs in the stack's own Meltano system directory, and the project's.
    directories = [
        stack.work_dir / "logs",
        stack.meltano_sys_dir / "logs",
        REPO_ROOT / ".meltano" / "logs",
    ]
    outcome.failures += leaked_secrets(log_files(directories, since=started), secrets_of(stack))


def count_faults(stack: LocalStack, proxy: SnowflakeProxy, say: Callable[[str], None]) -> int:
    """Faults that fired: sandbox faults, 429s, and the proxy's drops and slow answers."""
    fired: dict[str, int] = {}
    for sandbox in stack.sandboxes.values():
        stats = sandbox.stats()
        for kind, count in stats["faults_injected"].items():
            fired[f"sandbox {kind}"] = fired.get(f"sandbox {kind}", 0) + int(count)
        fired["429"] = fired.get("429", 0) + int(stats["responses_429"])
    fired["snowflake drop before"] = proxy.stats.dropped_before
    fired["snowflake drop after"] = proxy.stats.dropped_after
    fired["snowflake slow"] = proxy.stats.slowed
    say("faults: " + ", ".join(f"{count} {kind}" for kind, count in sorted(fired.items())))
    return sum(fired.values())


def run_chaos(settings: ChaosSettings, work_dir: Path, say: Callable[[str], None]) -> ChaosOutcome:
    """Start the stack and the proxy, run every round, check every invariant."""
    plan = ChaosPlan(settings)
    outcome = ChaosOutcome()
    started = time.time()
    shutil.rmtree(work_dir, ignore_errors=True)
    stack = LocalStack(
        work_dir=work_dir,
        regions=settings.regions,
        scale=settings.scale,
        divisions_per_region=settings.divisions_per_region,
        minutely_limit=CHAOS_MINUTELY_LIMIT,
    )
    with (
        stack,
        SnowflakeProxy(stack.snowflake_port, plan.proxy_seed(), plan.proxy_faults()) as proxy,
    ):
        prepare_state_database(stack)
        for region, sandbox in stack.sandboxes.items():
            sandbox.admin("POST", "served", {"enabled": True, "run": "setup"})
            sandbox.admin("POST", "faults", plan.sandbox_faults(region))
        say(f"chaos: seed {settings.seed}, {settings.rounds} rounds, work dir {work_dir}")
        env = chaos_env(stack, proxy, settings)
        outcome.runs, outcome.failures = run_rounds(plan, stack, env, say)
        for sandbox in stack.sandboxes.values():
            sandbox.admin("DELETE", "faults")
        outcome.faults = count_faults(stack, proxy, say)
        proxy.enabled = False
        if not outcome.failures:
            check_invariants(stack, outcome, started, say)
    return outcome


def main(settings: ChaosSettings, work_dir: Path) -> int:
    """Run, print each failed invariant and then the summary line; 0 only when all held."""

    def say(line: str) -> None:
        print(line, flush=True)

    started = time.monotonic()
    try:
        outcome = run_chaos(settings, work_dir, say)
    except Exception as error:  # named as a failure, and the summary line still ends the output
        outcome = ChaosOutcome(failures=[f"the chaos run stopped: {type(error).__name__}: {error}"])
    say(f"chaos took {time.monotonic() - started:.0f} s")
    for failure in outcome.failures:
        say(f"chaos: FAILED {failure}")
    say(outcome.summary())
    sys.stdout.flush()
    return 1 if outcome.failures or outcome.mismatches else 0
