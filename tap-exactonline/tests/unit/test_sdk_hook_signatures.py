"""The private SDK methods sdk_hooks.py overrides are still there as mirrored (SDK upgrades)."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import pytest
import singer_sdk
from singer_sdk.helpers import _state
from tap_exactonline.sdk_hooks import MIRRORED_SDK_VERSION, SDKFastPaths

# The signatures mirrored in sdk_hooks.py, as singer-sdk 0.54.9 declares them.
MIRRORED = {
    "_generate_record_messages": (
        "(self, record: 'types.Record') -> 't.Generator[singer.RecordMessage, None, None]'"
    ),
    "_write_record_message": "(self, record: 'types.Record') -> 'None'",
    "_process_record": (
        "(self, record: 'types.Record', child_context: 'types.Context | None' = None, "
        "partition_context: 'types.Context | None' = None) -> 'None'"
    ),
    "_increment_stream_state": (
        "(self, latest_record: 'types.Record', *, context: 'types.Context | None' = None) -> 'None'"
    ),
}


def test_the_installed_sdk_is_the_one_the_hooks_mirror():
    # Upgrading singer-sdk means re-reading each hook against the new SDK's code first.
    assert version("singer-sdk") == MIRRORED_SDK_VERSION


@pytest.mark.parametrize("name", sorted(MIRRORED))
def test_the_sdk_still_has_each_overridden_method_with_the_mirrored_signature(name):
    assert name in vars(SDKFastPaths), "the hook is overridden in sdk_hooks.py"
    assert str(inspect.signature(getattr(singer_sdk.Stream, name))) == MIRRORED[name]


def test_the_sdk_state_helper_the_state_hook_calls_is_unchanged():
    assert str(inspect.signature(_state.increment_state)) == (
        "(stream_or_partition_state: 'dict', *, latest_record: 'dict', "
        "replication_key: 'str', is_sorted: 'bool', check_sorted: 'bool') -> 'None'"
    )
