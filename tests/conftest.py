"""Fixtures for the cross-package tests: Meltano plugins installed once, a local stack per test.

The end-to-end tests drive the real `meltano run` against sandboxes and the Snowflake emulator,
with the same orchestration code the demo uses (the dev kit's local_stack and pipeline).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_devkit.append_only import assert_append_only
from archive_devkit.local_stack import LocalStack
from archive_devkit.pipeline import meltano_install
from archive_devkit.snowflake_emulator.statement_audit import read_log

# The e2e tests are not about Exact's rate limits (the tap's own tests are); a generous minutely
# limit keeps CI fast while every other behaviour stays Exact's.
E2E_MINUTELY_LIMIT = 2000
# Transaction lines per division: enough for several pages, batches and STATE commits per run;
# volume itself is the benchmarks' and the demo's business (the demo loads `small`, 4,000).
E2E_SCALE = "1000"


@pytest.fixture(scope="session")
def meltano_plugins() -> None:
    """`meltano install` once per test session (idempotent on later sessions)."""
    meltano_install()


@pytest.fixture
def stack(
    tmp_path: Path, meltano_plugins: None, request: pytest.FixtureRequest
) -> Iterator[LocalStack]:
    """NL, DE and UK sandboxes plus a Snowflake emulator, stopped after the test.

    A test module may set `STACK_DIVISIONS_PER_REGION` (default 2) to load fewer divisions.
    """
    with LocalStack(
        work_dir=tmp_path / "stack",
        scale=E2E_SCALE,
        minutely_limit=E2E_MINUTELY_LIMIT,
        divisions_per_region=getattr(request.module, "STACK_DIVISIONS_PER_REGION", 2),
    ) as running:
        yield running
    # The append-only audit over everything the target sent during the test.
    assert_append_only(read_log(running.target_statement_log), expect_loads=False)
