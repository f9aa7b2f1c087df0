"""One entity's pipeline under chaos: `meltano run` with a seeded SIGKILL and 429 storm.

Each attempt is the real `meltano --environment demo run tap-exactonline--<region>
target-snowflake-audit` (with `--force` after a failed attempt, as the README says for a run
Meltano may still mark as running). A watcher thread finds the tap or the target under the
Meltano process through /proc and SIGKILLs it at the planned moment; another spends the
sandbox's current minute so the tap meets Exact's 429 and waits for the reset. Attempts repeat
until one completes.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archive_devkit.chaos_plan import EXECUTABLES, ChaosPlan, KillPlan, StormPlan
from archive_devkit.pipeline import meltano_run_command, start_logged
from archive_devkit.process_tree import child_running, kill_now
from archive_devkit.sandboxes import SandboxAdmin, stop_process_group

POLL_SECONDS = 0.05
#: The argument of the tap's discovery run, which Meltano starts before the sync.
DISCOVERY = "--discover"
#: One attempt never takes this long unless something hangs.
ATTEMPT_TIMEOUT_SECONDS = 900.0


@dataclass
class RunRecord:
    """One `meltano run` attempt: when, how it ended, what was done to it."""

    region: str
    label: str
    started: float
    after_completed: bool
    ended: float = 0.0
    exit_code: int | None = None
    killed: str | None = None
    storms: int = 0

    @property
    def completed(self) -> bool:
        """The run ended by itself with success."""
        return self.exit_code == 0 and self.killed is None


@dataclass
class Watch:
    """What the watcher threads did to one attempt."""

    killed: str | None = None
    storms: int = 0
    stop: threading.Event = field(default_factory=threading.Event)


def wait_for_child(process: subprocess.Popen[bytes], executable: str, stop: threading.Event) -> int:
    """The pid of Meltano's child syncing with `executable`, once it exists (0: run ended)."""
    while not stop.is_set() and process.poll() is None:
        pid = child_running(process.pid, executable, without=DISCOVERY)
        if pid is not None:
            return pid
        time.sleep(POLL_SECONDS)
    return 0


def kill_when_due(process: subprocess.Popen[bytes], plan: KillPlan, watch: Watch) -> None:
    """SIGKILL the planned process `plan.after_seconds` after it appeared, if still running."""
    pid = wait_for_child(process, EXECUTABLES[plan.victim], watch.stop)
    if not pid:
        return
    if watch.stop.wait(plan.after_seconds) or process.poll() is not None:
        return
    if child_running(process.pid, EXECUTABLES[plan.victim], DISCOVERY) == pid and kill_now(pid):
        watch.killed = plan.victim


def storm_when_due(
    process: subprocess.Popen[bytes], plan: StormPlan, sandbox: SandboxAdmin, watch: Watch
) -> None:
    """Spend the sandbox's current minute at the planned moment, while the tap runs."""
    pid = wait_for_child(process, EXECUTABLES["tap"], watch.stop)
    if not pid or watch.stop.wait(plan.after_seconds):
        return
    if child_running(process.pid, EXECUTABLES["tap"], DISCOVERY) == pid:
        sandbox.admin("POST", "limits", {"spend_minute": True})
        watch.storms += 1


def run_attempt(
    env: dict[str, str],
    record: RunRecord,
    log_path: Path,
    *,
    kill: KillPlan | None,
    storm: tuple[StormPlan, SandboxAdmin] | None,
) -> RunRecord:
    """Run one attempt to its end, applying the kill and storm plans; fill in `record`."""
    args = meltano_run_command(record.region, () if record.after_completed else ("--force",))
    watch = Watch()
    with log_path.open("ab") as log:
        log.write(f"\n--- chaos attempt {record.label}\n".encode())
        log.flush()
        process = start_logged(args, env, log)
        threads: list[threading.Thread] = []
        if kill is not None:
            threads.append(threading.Thread(target=kill_when_due, args=(process, kill, watch)))
        if storm is not None:
            threads.append(threading.Thread(target=storm_when_due, args=(process, *storm, watch)))
        for thread in threads:
            thread.start()
        try:
            record.exit_code = process.wait(timeout=ATTEMPT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            stop_process_group(process)
            record.exit_code = process.returncode
        finally:
            watch.stop.set()
            for thread in threads:
                thread.join()
    record.ended = time.time()
    record.killed = watch.killed
    record.storms = watch.storms
    return record


def run_until_complete(
    plan: ChaosPlan,
    env: dict[str, str],
    sandbox: SandboxAdmin,
    region: str,
    round_number: int,
    *,
    after_completed: bool,
    log_path: Path,
    on_attempt: Callable[[RunRecord], None],
    before_rerun: Callable[[RunRecord], None],
) -> list[RunRecord]:
    """Attempts of one round until one completes (at most `max_attempts`); all their records.

    `on_attempt` hears of every attempt; `before_rerun` runs between a failed attempt and the
    next one (the chaos run changes records there).
    """
    records: list[RunRecord] = []
    for attempt in range(plan.settings.max_attempts):
        label = f"round{round_number}-{region}-attempt{attempt}"
        sandbox.admin("POST", "served", {"run": label})
        record = RunRecord(region, label, time.time(), after_completed)
        storm_plan = plan.storm(region, round_number, attempt)
        run_attempt(
            env,
            record,
            log_path,
            kill=plan.kill(region, round_number, attempt),
            storm=(storm_plan, sandbox) if storm_plan else None,
        )
        records.append(record)
        on_attempt(record)
        if record.completed:
            return records
        after_completed = False
        before_rerun(record)
    return records
