"""Fixtures: fresh or shared in-process sandboxes (the dev kit starts them)."""

from __future__ import annotations

import pytest
from archive_devkit.sandboxes import in_process_sandbox


@pytest.fixture(scope="session")
def shared_sandbox():
    """One read-only sandbox for tests that do not change data, clock or limits."""
    with in_process_sandbox() as sandbox:
        sandbox.unlimited()
        yield sandbox


@pytest.fixture
def sandbox():
    """A fresh sandbox per test (data, clock and limits may change)."""
    with in_process_sandbox() as fresh:
        fresh.unlimited()
        yield fresh


@pytest.fixture(scope="session", params=["int64 as strings", "plain numbers"])
def shared_sandbox_each_number_mode(request):
    """A read-only sandbox per number mode: OData's Int64 strings (Exact's), and plain numbers."""
    with in_process_sandbox(int64_as_string=request.param == "int64 as strings") as sandbox:
        sandbox.unlimited()
        yield sandbox


@pytest.fixture(params=["int64 as strings", "plain numbers"])
def sandbox_each_number_mode(request):
    """A fresh sandbox per test and number mode."""
    with in_process_sandbox(int64_as_string=request.param == "int64 as strings") as fresh:
        fresh.unlimited()
        yield fresh
