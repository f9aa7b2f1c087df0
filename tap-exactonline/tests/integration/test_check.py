"""`tap-exactonline check`: a read-only probe of an account before the first sync."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_devkit.sandboxes import SandboxAdmin, in_process_sandbox
from archive_devkit.tap_runs import TAP_BIN, calls_by_endpoint, make_config, write_json
from tap_exactonline.errors import ExitCode
from tap_exactonline.streams.base import ExactStream
from tap_exactonline.tap import TapExactOnline


def run_check(config: dict, directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    directory.mkdir(parents=True, exist_ok=True)
    config_path = write_json(directory / "config.json", config)
    return subprocess.run(
        [TAP_BIN, "--config", config_path, "check", *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def endpoints_read(config: dict) -> set[str]:
    tap = TapExactOnline(config=config)
    paths: set[str] = set()
    for stream in tap.streams.values():
        assert isinstance(stream, ExactStream)
        paths.update(stream.endpoint_paths())
        if stream.deleted_entity_type is not None:
            paths.add("sync/Deleted")
    return paths


@pytest.fixture(scope="module")
def plain_sandbox() -> Iterator[SandboxAdmin]:
    with in_process_sandbox(int64_as_string=False) as sandbox:
        sandbox.unlimited()
        yield sandbox


@pytest.mark.parametrize("mode", ["int64 as strings", "plain numbers"])
def test_check_passes_on_a_conforming_account_with_one_call_per_endpoint(
    shared_sandbox, plain_sandbox, tmp_path, mode
):
    sandbox = shared_sandbox if mode == "int64 as strings" else plain_sandbox
    config = make_config(sandbox, tmp_path)
    sandbox.reset_stats()
    done = run_check(config, tmp_path / "run")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    expected = endpoints_read(config)
    reported = {line.split()[1] for line in lines if line.startswith(("OK ", "NO ROWS"))}
    assert reported == expected
    assert lines[-1] == "Every endpoint conforms."
    assert "Calls: " in done.stdout
    assert "calls left today" in done.stdout
    calls = calls_by_endpoint(sandbox.stats())
    division = sandbox.divisions[0]
    assert set(calls) == {(division, path) for path in expected}
    assert all(count == 1 for count in calls.values())
    # Read-only: no Singer message, no state on stdout.
    assert '"type"' not in done.stdout


def test_check_reports_a_field_exact_added_and_one_it_removed(sandbox, tmp_path):
    sandbox.admin(
        "POST",
        "drift",
        {
            "endpoint": "sync/CRM/Contacts",
            "add": {"Nickname": "Nick"},
            "remove": ["Mobile"],
        },
    )
    done = run_check(make_config(sandbox, tmp_path), tmp_path / "run")
    assert done.returncode == ExitCode.CHECK_FAILED
    (contacts,) = [line for line in done.stdout.splitlines() if " sync/CRM/Contacts " in line]
    assert contacts.startswith("MISMATCH ")
    assert "unknown fields (not archived): Nickname" in contacts
    assert "missing fields: Mobile" in contacts
    others = [line for line in done.stdout.splitlines() if line.startswith("MISMATCH")]
    assert others == [contacts]
    assert "differ from the tap's schemas" in done.stderr


def test_check_reports_a_value_of_the_wrong_shape(sandbox, tmp_path):
    # Exact now sends an Int32 field as text: the schema says integer.
    sandbox.admin(
        "POST", "drift", {"endpoint": "sync/Logistics/Items", "remove": ["SecurityLevel"]}
    )
    sandbox.admin(
        "POST",
        "drift",
        {"endpoint": "sync/Logistics/Items", "add": {"SecurityLevel": "high"}},
    )
    done = run_check(make_config(sandbox, tmp_path), tmp_path / "run")
    assert done.returncode == ExitCode.CHECK_FAILED
    (items,) = [line for line in done.stdout.splitlines() if " sync/Logistics/Items " in line]
    assert "unexpected types: SecurityLevel (Edm.Int32) got 'high'" in items


def test_check_reads_only_the_selected_streams_and_a_given_division(sandbox, tmp_path):
    config = make_config(sandbox, tmp_path)
    catalog = TapExactOnline(config=config).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == "gl_schemes"
    catalog_path = write_json(tmp_path / "catalog.json", catalog)
    division = sandbox.divisions[1]
    sandbox.reset_stats()
    done = run_check(
        config, tmp_path / "run", "--catalog", catalog_path, "--division", str(division)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert calls_by_endpoint(sandbox.stats()) == {(division, "financial/GLSchemes"): 1}


def test_check_names_a_field_a_bulk_endpoint_no_longer_has(sandbox, tmp_path):
    # Bulk pages make $select mandatory: Exact names a removed field in its 400.
    sandbox.admin(
        "POST", "drift", {"endpoint": "bulk/Cashflow/Payments", "remove": ["PaymentReference"]}
    )
    done = run_check(make_config(sandbox, tmp_path), tmp_path / "run")
    assert done.returncode == ExitCode.CHECK_FAILED
    (payments,) = [line for line in done.stdout.splitlines() if " bulk/Cashflow/Payments " in line]
    assert payments.startswith("MISMATCH ")
    assert "missing fields: PaymentReference" in payments
