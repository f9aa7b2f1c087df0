"""The token chain: rotation, the 570 s rule, long runs, daily runs, shared stores, `auth`."""

from __future__ import annotations

import itertools
import signal
import subprocess
import threading
import time

import requests
from archive_devkit.tap_runs import (
    TAP_BIN,
    make_config,
    on_sandbox_clock,
    run_tap,
    run_tap_process,
    write_json,
)
from tap_exactonline.auth import ExactAuthenticator, TokenEndpoint
from tap_exactonline.token_store import TokenStore


def _store(config):
    return TokenStore(config["token_store_path"], config["token_store_key"])


def _advance_clock_per_call(sandbox, running: threading.Event, step: float):
    """Move the virtual clock `step` seconds for every API call the sandbox served.

    Time then follows the tap's progress rather than the machine's speed, so a loaded machine
    cannot make a token expire between two of the tap's own checks more than once.
    """
    seen = 0
    while running.is_set():
        calls = sum(sum(per.values()) for per in sandbox.stats()["calls"].values())
        if calls > seen:
            sandbox.advance(step * (calls - seen))
            seen = calls
        time.sleep(0.005)


def test_rotated_refresh_token_is_stored_and_the_seed_is_not_reused(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    run_tap(config, streams=["gl_schemes"])
    record = _store(config).read()
    assert record is not None
    assert record.refresh_token != config["refresh_token"], "Exact rotated the refresh token"
    assert record.metadata.refresh_count == 1
    tokens_before = sandbox.stats()["token_calls"]
    run_tap(config, streams=["gl_schemes"])  # same config: the seed is consumed, not reused
    assert sandbox.stats()["token_calls"] == tokens_before, "the stored access token is reused"


def test_too_early_refresh_keeps_the_current_token(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    run_tap(config, streams=["gl_schemes"])
    store = _store(config)
    before = store.read()
    authenticator = ExactAuthenticator(
        token_endpoint=TokenEndpoint(
            sandbox.base_url, config["client_id"], config["client_secret"]
        ),
        store=store,
        region="nl",
        client_id=config["client_id"],
        refresh_margin=10_000,  # pretend the token is about to expire
        sleep=lambda _seconds: None,  # and do not wait out the 570 s locally
    )
    authenticator.update_access_token()
    after = store.read()
    assert before is not None
    assert after is not None
    assert authenticator.access_token == before.access_token
    assert after.refresh_token == before.refresh_token, "a refused refresh rotates nothing"
    result = run_tap(config, streams=["gl_schemes"])
    assert result.rows("gl_schemes")


def test_tokens_are_refreshed_before_they_expire_never_within_570_seconds(sandbox, tmp_path):
    """A long sync on the sandbox's clock: refreshes are proactive, and no 401 is provoked.

    The tap reads the sandbox's virtual clock, which moves 25 s per API call (less than the 30 s
    between Exact's 570 s refresh rule and the 600 s lifetime), so the run spans about an hour
    deterministically (no thread races the tap).
    """
    config = make_config(sandbox, tmp_path)
    started = sandbox.admin("GET", "clock")["epoch"]
    prepare, _ = on_sandbox_clock(sandbox, seconds_per_call=25)
    result = run_tap(config, prepare=prepare)
    elapsed = sandbox.admin("GET", "clock")["epoch"] - started
    assert elapsed >= 3000, f"the sync spanned only {elapsed:.0f} virtual seconds"
    stats = sandbox.stats()
    assert "401" not in stats["errors"], "no request was sent with an expired token"
    issued = stats["access_tokens_issued_at"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(issued)]
    assert len(gaps) >= elapsed // 600, "a token was refreshed every ten minutes"
    # Never within 570 s of the last (Exact refuses), always before the 600 s lifetime ends.
    assert all(570 <= gap < 600 for gap in gaps), gaps
    truth = sandbox.truth()
    for division in sandbox.divisions:
        lines = [r for r in result.rows("transaction_lines") if r["Division"] == division]
        assert len({r["ID"] for r in lines}) == truth[str(division)]["TransactionLines"]["count"]


def test_a_rotated_token_is_stored_before_its_first_use(sandbox, tmp_path):
    """The process dies between Exact's token response and its first API call.

    The first API call hangs (a slow fault), so the process is killed after the token endpoint
    answered and before any data call completed. The next process must find the rotated
    refresh token in the store: the seed is dead, so anything else breaks the chain.
    """
    config = make_config(sandbox, tmp_path)
    # Long enough to kill the process while the call hangs (it is killed within a poll of
    # 50 ms), short enough that the sandbox's stop does not wait out a sleeping handler.
    sandbox.admin("POST", "faults", {"kind": "slow", "delay_seconds": 6, "nth": 1})
    command = [TAP_BIN, "--config", write_json(tmp_path / "config.json", config)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while sandbox.stats()["token_calls"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        while sandbox.stats()["faults_injected"].get("slow", 0) == 0:
            assert time.monotonic() < deadline, "the first API call never started"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    sandbox.admin("DELETE", "faults")
    stored = _store(config).read()
    assert stored is not None
    assert stored.refresh_token != config["refresh_token"], "the rotated token was stored"
    assert sandbox.stats()["calls"] == {}, "killed before any API call was answered"

    again = run_tap_process(config, tmp_path / "again", streams=["gl_schemes"])
    assert again.exit_code == 0, again.stderr[-2000:]
    assert again.rows("gl_schemes")
    assert sandbox.stats()["reused_refresh_tokens"] == 0, "the dead seed was never presented"


def test_runs_with_gaps_up_to_29_days_keep_the_chain_and_31_days_ask_to_authorize(
    sandbox, tmp_path
):
    config = make_config(sandbox, tmp_path, divisions=[sandbox.divisions[0]])
    gaps = [1, 29, 2, 29, 0.5, 0]  # days between runs: 61.5 days in all
    state = None
    for day, gap in enumerate(gaps):
        result = run_tap(config, streams=["gl_accounts"], state=state)
        assert result.exit_code == 0, f"run {day}"
        state = result.final_state
        sandbox.advance(gap * 24 * 3600)
    assert sandbox.stats()["reused_refresh_tokens"] == 0
    sandbox.advance(31 * 24 * 3600)  # unused for 31 days: Exact expires the refresh token
    expired = run_tap_process(config, tmp_path / "late", streams=["gl_accounts"], state=state)
    assert expired.exit_code == 4, expired.stderr[-2000:]
    assert "tap-exactonline auth" in expired.stderr
    assert "expired" in expired.stderr
    assert "Traceback" not in expired.stderr


def test_sixty_consecutive_daily_runs_keep_the_token_chain_alive(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path, divisions=[sandbox.divisions[0]])
    state = None
    for day in range(60):
        result = run_tap(config, streams=["gl_accounts"], state=state)
        assert result.exit_code == 0, f"day {day}"
        state = result.final_state
        sandbox.advance(24 * 3600)
    record = _store(config).read()
    assert record is not None
    assert record.metadata.refresh_count >= 60
    # Thirty days without a run would kill a refresh token; daily use keeps it alive.
    assert run_tap(config, streams=["gl_schemes"]).rows("gl_schemes")


def test_two_processes_sharing_one_token_store_never_break_the_chain(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    sandbox.admin("POST", "faults", {"kind": "slow", "rate": 1.0, "delay_seconds": 0.02})
    running = threading.Event()
    running.set()
    mover = threading.Thread(target=_advance_clock_per_call, args=(sandbox, running, 30))
    mover.start()
    try:
        workers = [
            subprocess.Popen(
                [
                    TAP_BIN,
                    "--config",
                    write_json(tmp_path / f"config{n}.json", config),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for n in range(2)
        ]
        outcomes = [(w.wait(timeout=300), w.stderr.read().decode()) for w in workers]  # type: ignore[union-attr]
    finally:
        running.clear()
        mover.join()
    for code, stderr in outcomes:
        assert code == 0, stderr[-3000:]
    record = _store(config).read()
    assert record is not None
    assert record.metadata.refresh_count >= 4
    sandbox.admin("DELETE", "faults")
    assert run_tap(config, streams=["gl_schemes"]).rows("gl_schemes"), "the chain survived"


def test_auth_command_runs_the_authorization_code_flow(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path, redirect_uri="https://localhost/callback")
    del config["refresh_token"]
    config_path = write_json(tmp_path / "config.json", config)
    process = subprocess.Popen(
        [TAP_BIN, "auth", "--config", config_path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    assert process.stdin is not None
    authorize_url = ""
    while not authorize_url:
        line = process.stderr.readline()
        assert line, "auth printed no authorize URL"
        if line.startswith(sandbox.base_url):
            authorize_url = line.strip()
    redirect = requests.get(authorize_url, allow_redirects=False, timeout=30)
    location = redirect.headers.get("Location") or redirect.json().get("redirect_url", "")
    stdout, stderr = process.communicate(location + "\n", timeout=60)
    assert process.returncode == 0, stderr
    assert _store(config).read() is not None

    status = subprocess.run(
        [TAP_BIN, "auth", "--status", "--config", config_path],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "valid for" in status.stdout
    assert "Refreshes" in status.stdout
    record = _store(config).read()
    assert record is not None
    for secret in (record.refresh_token, record.access_token, config["client_secret"]):
        assert secret
        assert secret not in status.stdout + status.stderr + stdout + stderr

    result = run_tap_process(config, tmp_path, streams=["gl_schemes"])
    assert result.exit_code == 0, result.stderr[-2000:]
    assert result.rows("gl_schemes")


def test_a_new_refresh_token_setting_recovers_a_broken_chain(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    run_tap(config, streams=["gl_schemes"])
    stolen = _store(config).read()
    assert stolen is not None
    # Later, another tool uses the stored refresh token: the store's chain is now dead.
    sandbox.advance(3600)
    requests.post(
        f"{sandbox.base_url}/api/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": stolen.refresh_token,
            "client_id": config["client_id"],
            "client_secret": config["client_secret"],
        },
        timeout=30,
    ).raise_for_status()
    broken = run_tap_process(config, tmp_path / "broken", streams=["gl_schemes"])
    assert broken.exit_code == 4, "the consumed seed is not tried again"
    assert "tap-exactonline auth" in broken.stderr
    config["refresh_token"] = sandbox.new_refresh_token()  # the user re-seeds
    recovered = run_tap_process(config, tmp_path / "recovered", streams=["gl_schemes"])
    assert recovered.exit_code == 0, recovered.stderr[-2000:]
    assert recovered.rows("gl_schemes")
