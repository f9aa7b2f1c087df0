"""The Singer SDK's standard target tests, run against the emulator."""

from __future__ import annotations

from singer_sdk.testing import get_target_test_class
from target_snowflake_audit.target import TargetSnowflakeAudit

from .conftest import base_config

StandardTargetTests = get_target_test_class(
    TargetSnowflakeAudit, config=base_config("SDK_STANDARD_SUITE")
)


class TestStandardTargetSuite(StandardTargetTests):  # type: ignore[misc,valid-type]
    """SDK standard target tests against the fakesnow emulator."""
