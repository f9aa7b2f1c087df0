"""A killed run resumes from its last STATE without loss; no secret ever reaches the output."""

from __future__ import annotations

import json
import signal
import subprocess
from decimal import Decimal

from archive_devkit.tap_runs import make_config, run_tap_process, tap_command
from tap_exactonline.token_store import TokenStore


def test_state_resume_after_a_kill_loses_nothing(sandbox_each_number_mode, tmp_path):
    sandbox = sandbox_each_number_mode
    config = make_config(sandbox, tmp_path, divisions=[sandbox.divisions[0]])
    # Slow pages so the kill lands mid-stream, after some STATE messages.
    sandbox.admin("POST", "faults", {"kind": "slow", "rate": 1.0, "delay_seconds": 0.2})
    process = subprocess.Popen(
        tap_command(config, tmp_path / "run1", streams=["transaction_lines"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    seen: list[str] = []
    last_state = None
    records_at_last_state = 0
    for raw in process.stdout:
        message = json.loads(raw, parse_float=Decimal)
        if message["type"] == "RECORD":
            seen.append(message["record"]["ID"])
        elif message["type"] == "STATE":
            last_state = message["value"]
            records_at_last_state = len(seen)
            if records_at_last_state >= 2000:
                process.send_signal(signal.SIGKILL)
                break
    process.wait(30)
    assert last_state is not None
    assert records_at_last_state >= 2000
    partition = last_state["bookmarks"]["transaction_lines"]["partitions"][0]
    assert isinstance(partition["replication_key_value"], int), "mid-stream state is resumable"

    sandbox.admin("DELETE", "faults")
    resumed = run_tap_process(
        config, tmp_path / "run2", streams=["transaction_lines"], state=last_state
    )
    assert resumed.exit_code == 0, resumed.stderr[-2000:]
    resumed_ids = [row["ID"] for row in resumed.rows("transaction_lines")]
    expected = sandbox.truth()[str(sandbox.divisions[0])]["TransactionLines"]["count"]
    assert len(set(seen[:records_at_last_state]) | set(resumed_ids)) == expected
    assert len(resumed_ids) <= expected - records_at_last_state, "it resumed, not restarted"


def test_no_secret_appears_in_stdout_stderr_or_state(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    sandbox.admin(
        "POST",
        "faults",
        {"faults": [{"kind": "status", "status": 503, "nth": 2}, {"kind": "truncate", "nth": 5}]},
    )
    debug = {"TAP_EXACTONLINE_LOGLEVEL": "DEBUG", "LOGLEVEL": "DEBUG"}
    first = run_tap_process(config, tmp_path / "a", streams=["gl_accounts", "payments"], env=debug)
    assert first.exit_code == 0, first.stderr[-2000:]
    # Expire the access token server-side: the next run sees a 401 and refreshes.
    sandbox.advance(3600)
    second = run_tap_process(
        config,
        tmp_path / "b",
        streams=["gl_accounts", "payments"],
        state=first.final_state,
        env=debug,
    )
    assert second.exit_code == 0, second.stderr[-2000:]
    record = TokenStore(config["token_store_path"], config["token_store_key"]).read()
    assert record is not None
    secrets = {
        "client_secret": config["client_secret"],
        "seed refresh token": config["refresh_token"],
        "current refresh token": record.refresh_token,
        "current access token": record.access_token or "",
        "token store key": config["token_store_key"],
    }
    outputs = {
        "stdout": first.stdout + second.stdout,
        "stderr": first.stderr + second.stderr,
        "state": json.dumps([first.final_state, second.final_state]),
        "token store file": open(config["token_store_path"], encoding="utf-8").read(),  # noqa: SIM115
    }
    assert "Refreshed the Exact access token" in second.stderr
    for where, text in outputs.items():
        for name, secret in secrets.items():
            assert secret
            assert secret not in text, f"{name} leaked into {where}"


def test_a_refused_token_chain_fails_clearly_without_leaking(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path, refresh_token="Gcp7!IAAA-not-a-real-token")
    result = run_tap_process(config, tmp_path, streams=["gl_schemes"])
    assert result.exit_code == 4
    assert "invalid_grant" in result.stderr
    assert "tap-exactonline auth" in result.stderr
    assert "not-a-real-token" not in result.stderr + result.stdout
    assert config["client_secret"] not in result.stderr + result.stdout
