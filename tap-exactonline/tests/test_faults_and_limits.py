"""Faults and rate limits lose and duplicate nothing; a spent day stops cleanly and resumes."""

from __future__ import annotations

import threading
import time

import requests
from tap_exactonline_testkit import make_config, run_tap, run_tap_process, virtual_sleep

STREAMS = ["transaction_lines", "journal_entry_lines", "receivables", "customers"]


def _keys(result, stream, key="ID"):
    return [row[key] for row in result.rows(stream)]


def _assert_complete_and_unique(sandbox, result):
    truth = sandbox.truth()
    expected = {
        "transaction_lines": "TransactionLines",
        "journal_entry_lines": "GeneralJournalEntryLines",
        "receivables": "Receivables",
        "customers": "Customers",
    }
    for stream, entity in expected.items():
        keys = _keys(result, stream)
        assert len(keys) == len(set(keys)), f"{stream}: duplicates"
        assert len(keys) == sum(truth[str(d)][entity]["count"] for d in sandbox.divisions), stream


def test_server_errors_drops_and_truncated_json_lose_and_duplicate_nothing(sandbox, tmp_path):
    sandbox.admin(
        "POST",
        "faults",
        {
            "seed": 11,
            "faults": [
                {"kind": "status", "status": 503, "rate": 0.1},
                {"kind": "status", "status": 500, "nth": 3},
                {"kind": "status", "status": 502, "rate": 0.05},
                {"kind": "drop", "rate": 0.08},
                {"kind": "truncate", "rate": 0.08},
            ],
        },
    )
    result = run_tap(make_config(sandbox, tmp_path), streams=STREAMS)
    injected = sandbox.stats()["faults_injected"]
    assert sum(injected.values()) >= 5, injected
    _assert_complete_and_unique(sandbox, result)


def test_429_storm_is_retried_after_the_reset_and_loses_nothing(sandbox, tmp_path):
    """Another app of the same client burns the minute; the tap waits for the reset."""
    sandbox.limits(minutely=20, daily=1_000_000)
    info = sandbox.info
    token = requests.post(
        f"{sandbox.base_url}/api/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": sandbox.new_refresh_token(),
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
        },
        timeout=30,
    ).json()["access_token"]
    storming = threading.Event()
    storming.set()

    def storm():
        session = requests.Session()
        while storming.is_set():
            for division in sandbox.divisions:
                session.get(
                    f"{sandbox.base_url}/api/v1/{division}/financial/GLSchemes",
                    params={"$select": "ID"},
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    timeout=30,
                )
            time.sleep(0.01)

    stormer = threading.Thread(target=storm)
    stormer.start()
    try:
        result = run_tap(
            make_config(sandbox, tmp_path), streams=STREAMS, prepare=virtual_sleep(sandbox)
        )
    finally:
        storming.clear()
        stormer.join()
    assert sandbox.stats()["responses_429"] > 0
    _assert_complete_and_unique(sandbox, result)


def test_minutely_limit_is_respected_without_a_single_429(sandbox, tmp_path):
    sandbox.limits(minutely=12, daily=1_000_000)
    waits = {}

    def prepare(tap):
        virtual_sleep(sandbox)(tap)
        waits["limiter"] = tap.rate_limiter

    result = run_tap(make_config(sandbox, tmp_path), streams=STREAMS, prepare=prepare)
    assert sandbox.stats()["responses_429"] == 0
    assert getattr(waits["limiter"], "waited", 0) > 0, "the tap slept until the minute reset"
    _assert_complete_and_unique(sandbox, result)


def test_daily_limit_stops_cleanly_and_the_next_day_resumes(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    # Enough for the first division to stop inside transaction_lines (the last stream).
    sandbox.limits(minutely=1_000_000, daily=26)
    first = run_tap_process(config, tmp_path / "day1", streams=STREAMS)
    assert first.exit_code == 3, first.stderr[-2000:]
    assert "daily API limit" in first.stderr
    assert "resumes" in first.stderr
    assert first.final_state["bookmarks"], "the state reached so far was emitted"
    truth = sandbox.truth()
    total = sum(truth[str(d)]["TransactionLines"]["count"] for d in sandbox.divisions)
    assert 0 < len(first.rows("transaction_lines")) < total, "stopped mid-stream"

    sandbox.advance(24 * 3600)
    sandbox.limits(minutely=1_000_000, daily=1_000_000)
    second = run_tap_process(config, tmp_path / "day2", streams=STREAMS, state=first.final_state)
    assert second.exit_code == 0, second.stderr[-2000:]
    seen = set(_keys(first, "transaction_lines")) | set(_keys(second, "transaction_lines"))
    assert len(seen) == total
    resumed = set(_keys(second, "transaction_lines"))
    assert len(resumed) < total, "the second day resumed instead of starting over"
    assert sandbox.stats()["responses_429"] <= len(sandbox.divisions), "no retry loops on 429"


def test_daily_call_budget_leaves_headroom_and_resumes(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path, daily_call_budget=3)
    first = run_tap_process(config, tmp_path / "one", streams=["transaction_lines"])
    assert first.exit_code == 3
    assert "daily_call_budget of 3 calls" in first.stderr
    calls = sandbox.stats()["calls"]
    assert all(sum(endpoints.values()) <= 3 for endpoints in calls.values()), calls
    sandbox.advance(24 * 3600)
    config["daily_call_budget"] = 1000
    second = run_tap_process(
        config, tmp_path / "two", streams=["transaction_lines"], state=first.final_state
    )
    assert second.exit_code == 0
    seen = set(_keys(first, "transaction_lines")) | set(_keys(second, "transaction_lines"))
    truth = sandbox.truth()
    assert len(seen) == sum(truth[str(d)]["TransactionLines"]["count"] for d in sandbox.divisions)


def test_client_errors_are_not_retried_and_show_exacts_message(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path, divisions=[999999])
    sandbox.reset_stats()
    result = run_tap_process(config, tmp_path, streams=["gl_accounts"])
    assert result.exit_code == 5
    assert "HTTP 403" in result.stderr
    assert "/api/v1/999999/" in result.stderr
    assert "Traceback" not in result.stderr
    assert sandbox.stats()["errors"] == {"403": 1}, "a 4xx is never retried"
