"""Duplicate loads are allowed after a kill and for whole-table resends, nowhere else."""

from __future__ import annotations

from archive_devkit.chaos_runs import RunRecord
from archive_devkit.duplicate_loads import RunTimeline, judge_duplicates


def run(label, started, ended, *, completed=True, after_completed=True, killed=None):
    record = RunRecord("nl", label, started, after_completed, ended=ended, killed=killed)
    record.exit_code = 0 if completed else -9
    return record


FIRST = run("first", 0, 100)
KILLED = run("killed", 200, 250, completed=False, killed="target")
RERUN = run("rerun", 300, 400, after_completed=False)
CLEAN = run("clean", 500, 600)
TIMELINE = RunTimeline([CLEAN, FIRST, KILLED, RERUN], {"100101": "nl"})


def test_rows_are_attributed_to_the_attempt_under_way_when_loaded():
    assert TIMELINE.run_of("100101", 50) is FIRST
    assert TIMELINE.run_of("100101", 260) is KILLED  # a COPY finishing after the kill
    assert TIMELINE.run_of("100101", 550) is CLEAN
    assert TIMELINE.run_of("100101", -1) is None
    assert TIMELINE.run_of("999999", 50) is None


def test_a_duplicate_in_the_rerun_after_a_kill_is_allowed():
    rows = {"items": [("100101", "a", "h1", 210, 1), ("100101", "a", "h1", 310, 2)]}
    result = judge_duplicates(rows, TIMELINE)
    assert (result.rows, result.duplicates, result.failures) == (2, 1, [])


def test_a_duplicate_in_a_clean_completed_run_fails():
    rows = {"items": [("100101", "a", "h1", 50, 1), ("100101", "a", "h1", 550, 2)]}
    result = judge_duplicates(rows, TIMELINE)
    assert result.failures == [
        "duplicate load in a run after a completed run: items 100101 a (run clean)"
    ]


def test_a_new_version_is_not_a_duplicate():
    rows = {"items": [("100101", "a", "h1", 50, 1), ("100101", "a", "h2", 550, 2)]}
    assert judge_duplicates(rows, TIMELINE).duplicates == 0


def test_a_whole_table_resend_is_allowed_only_with_a_change_in_that_run():
    unchanged = [("100101", "s1", "h1", 50, 1), ("100101", "s1", "h1", 550, 3)]
    changed = [("100101", "s2", "h2", 50, 2), ("100101", "s2", "h3", 551, 4)]
    assert judge_duplicates({"gl_schemes": unchanged + changed}, TIMELINE).failures == []
    assert judge_duplicates({"gl_schemes": unchanged}, TIMELINE).failures
    lines = {"purchase_entry_lines": unchanged}
    assert judge_duplicates(lines, TIMELINE).failures
    entry_changed = {**lines, "purchase_entries": [("100101", "e", "h9", 552, 1)]}
    assert judge_duplicates(entry_changed, TIMELINE).failures == []
