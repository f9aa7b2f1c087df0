"""The token chain: rotation, the 570 s rule, long runs, daily runs, shared stores, `auth`."""

from __future__ import annotations

import subprocess
import threading
import time

import requests
from tap_exactonline.auth import ExactAuthenticator, TokenEndpoint
from tap_exactonline.token_store import TokenStore
from tap_exactonline_testkit import TAP_BIN, make_config, run_tap, run_tap_process, write_json


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


def test_three_hour_sync_on_virtual_clock_refreshes_tokens_mid_run(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    started = sandbox.admin("GET", "clock")["epoch"]
    running = threading.Event()
    running.set()
    # About 70 calls at 200 virtual seconds each: a sync spanning more than three hours.
    mover = threading.Thread(target=_advance_clock_per_call, args=(sandbox, running, 200))
    mover.start()
    try:
        result = run_tap(config)
    finally:
        running.clear()
        mover.join()
    elapsed = sandbox.admin("GET", "clock")["epoch"] - started
    assert elapsed >= 3 * 3600, f"the sync spanned only {elapsed / 3600:.1f} virtual hours"
    record = _store(config).read()
    assert record is not None
    assert record.metadata.refresh_count >= 10, "tokens were refreshed during the run"
    truth = sandbox.truth()
    for division in sandbox.divisions:
        lines = [r for r in result.rows("transaction_lines") if r["Division"] == division]
        assert len({r["ID"] for r in lines}) == truth[str(division)]["TransactionLines"]["count"]


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


def test_auth_status_without_a_store_says_what_to_do(tmp_path):
    config = {"token_store_path": str(tmp_path / "none.json"), "token_store_key": "x" * 43 + "="}
    completed = subprocess.run(
        [TAP_BIN, "auth", "--status", "--config", write_json(tmp_path / "c.json", config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "tap-exactonline auth" in completed.stdout


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
