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
