"""A served version must be in the table's history, unless a kill let a later one replace it."""

from __future__ import annotations

from archive_devkit.field_values import FieldSpec
from archive_devkit.record_reconcile import SourceTable, TableComparison
from archive_devkit.served_versions import History, ServedVersionCheck

SPECS = (
    FieldSpec("ID", "Edm.Guid", endpoints=("sync/Logistics/Items",)),
    FieldSpec("Description", "Edm.String", endpoints=("sync/Logistics/Items",)),
    FieldSpec("Timestamp", "Edm.Int64", endpoints=("sync/Logistics/Items",)),
)
TYPES = {"id": "TEXT", "description": "TEXT", "timestamp": "NUMBER"}


class StubSource:
    def __init__(self, current):
        self.current = current
        self.by_division = {100101: None}

    def table(self, division, entity):
        return SourceTable(SPECS, "ID", self.current)


def check(current, rows, tombstones=(), completed=("clean",)):
    source = StubSource(current)
    checker = ServedVersionCheck({}, set(completed), source)
    comparison = TableComparison("items", source, TYPES)
    history = History()
    for row in rows:
        history.versions[("100101", row[0])].append(row)
    history.tombstones.update(("100101", key) for key in tombstones)
    return checker, comparison, history


def version(description, timestamp, *runs):
    record = {"ID": "a", "Description": description, "Timestamp": timestamp}
    return {"key": "a", "timestamp": timestamp, "runs": list(runs), "record": record}


def outcome(served, current, rows, tombstones=()):
    checker, comparison, history = check(current, rows, tombstones)
    checker.check_version("items", comparison, history, 100101, served)
    return checker.result


def test_a_served_version_in_the_history_holds():
    result = outcome(version("old", 5, "clean"), {}, [("a", "old", 5)])
    assert (result.failures, result.superseded) == ([], 0)


def test_a_version_a_completed_run_was_sent_must_be_there():
    current = {"a": {"ID": "a", "Description": "new", "Timestamp": 9}}
    result = outcome(version("old", 5, "clean"), current, [("a", "new", 9)])
    assert result.failures == [
        "served version missing: items 100101 a Timestamp 5 (served in clean)"
    ]


def test_a_version_only_a_killed_run_was_sent_may_be_superseded_by_a_loaded_later_one():
    current = {"a": {"ID": "a", "Description": "new", "Timestamp": 9}}
    result = outcome(version("old", 5, "killed"), current, [("a", "new", 9)])
    assert (result.failures, result.superseded) == ([], 1)
    assert outcome(version("old", 5, "killed"), current, []).failures


def test_a_version_only_a_killed_run_was_sent_may_be_deleted_if_the_tombstone_is_there():
    assert outcome(version("old", 5, "killed"), {}, [], tombstones=["a"]).superseded == 1
    assert outcome(version("old", 5, "killed"), {}, []).failures


def test_an_unchanged_version_is_never_excused():
    current = {"a": {"ID": "a", "Description": "old", "Timestamp": 5}}
    assert outcome(version("old", 5, "killed"), current, []).failures


def test_an_account_that_left_the_role_before_the_rerun_is_not_required_in_that_table():
    specs = (
        FieldSpec("ID", "Edm.Guid", endpoints=("sync/CRM/Accounts",)),
        FieldSpec("Status", "Edm.String", endpoints=("sync/CRM/Accounts",)),
    )

    class Accounts(StubSource):
        def table(self, division, entity):
            return SourceTable(specs, "ID", self.current)

    def judged(runs, now_status):
        source = Accounts({"a": {"ID": "a", "Status": now_status}})
        checker = ServedVersionCheck({}, {"clean"}, source)
        comparison = TableComparison("customers", source, {"id": "TEXT", "status": "TEXT"})
        served = {"key": "a", "timestamp": 5, "runs": runs, "record": {"ID": "a", "Status": "C"}}
        checker.check_version("customers", comparison, History(), 100101, served)
        return checker.result

    assert judged(["killed"], "A").superseded == 1
    assert judged(["killed"], "C").failures  # still a customer: it must be there
    assert judged(["clean"], "A").failures  # a completed run was sent it: it must be there
