"""Faults and rate limits lose and duplicate nothing; a spent day stops cleanly and resumes."""

from __future__ import annotations

import pytest
from archive_devkit.tap_runs import make_config, on_sandbox_clock, run_tap, run_tap_process

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


def test_a_429_waits_exactly_for_the_minute_reset_and_never_causes_another(sandbox, tmp_path):
    """Another app of the client spends the minute; the tap waits for the reset it was sent.

    Deterministic: the minute is spent just before the tap's 5th call, on the sandbox's virtual
    clock, which the tap also reads (no thread races the tap).
    """
    sandbox.limits(minutely=60, daily=1_000_000)
    clock = sandbox.server.sandbox.clock
    spent_at: list[float] = []

    def spend_the_minute(call: int) -> None:
        if call == 5:
            sandbox.admin("POST", "limits", {"spend_minute": True})
            spent_at.append(clock.now())

    prepare, happened = on_sandbox_clock(sandbox, before_call=spend_the_minute)
    result = run_tap(make_config(sandbox, tmp_path), streams=STREAMS, prepare=prepare)
    assert sandbox.stats()["responses_429"] == 1, "one 429, and no second one in that minute"
    next_minute = (spent_at[0] // 60 + 1) * 60
    # The first wait is the one after the 429: it ends at the reset Exact sent (plus 0.25 s).
    assert happened.woke_at[0] == pytest.approx(next_minute + 0.25, abs=0.05)
    _assert_complete_and_unique(sandbox, result)


def test_minutely_limit_is_respected_without_a_single_429(sandbox, tmp_path):
    sandbox.limits(minutely=12, daily=1_000_000)
    prepare, happened = on_sandbox_clock(sandbox)
    result = run_tap(make_config(sandbox, tmp_path), streams=STREAMS, prepare=prepare)
    assert sandbox.stats()["responses_429"] == 0
    assert happened.waits, "the tap slept until the minute reset"
    # Every wait ends on a minute boundary of the sandbox's clock (Exact's fixed windows).
    assert all(0 < wait <= 60.25 for wait in happened.waits)
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
