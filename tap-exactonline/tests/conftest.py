"""Fixtures: fresh or shared in-process sandboxes (helpers live in tap_exactonline_testkit)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tap_exactonline_testkit import Sandbox, start_sandbox


@pytest.fixture(scope="session")
def shared_sandbox():
    """One read-only sandbox for tests that do not change data, clock or limits."""
    with start_sandbox() as server:
        sandbox = Sandbox(server)
        sandbox.unlimited()
        yield sandbox


@pytest.fixture
def sandbox():
    """A fresh sandbox per test (data, clock and limits may change)."""
    with start_sandbox() as server:
        fresh = Sandbox(server)
        fresh.unlimited()
        yield fresh


@pytest.fixture(scope="session", params=["int64 as strings", "plain numbers"])
def shared_sandbox_each_number_mode(request):
    """A read-only sandbox per number mode: OData's Int64 strings (Exact's), and plain numbers."""
    with start_sandbox(int64_as_string=request.param == "int64 as strings") as server:
        sandbox = Sandbox(server)
        sandbox.unlimited()
        yield sandbox


@pytest.fixture(params=["int64 as strings", "plain numbers"])
def sandbox_each_number_mode(request):
    """A fresh sandbox per test and number mode."""
    with start_sandbox(int64_as_string=request.param == "int64 as strings") as server:
        fresh = Sandbox(server)
        fresh.unlimited()
        yield fresh
