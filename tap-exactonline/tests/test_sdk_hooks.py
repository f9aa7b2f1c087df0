"""The private SDK methods the tap overrides: still there, and output identical to the SDK's path.

An SDK upgrade that renames one of them, changes its signature or changes what it writes fails
here (see tap_exactonline/sdk_hooks.py).
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from importlib.metadata import version

import pytest
import singer_sdk
from archive_devkit.tap_runs import make_config, run_tap
from singer_sdk.helpers import _state
from singer_sdk.streams import core
from tap_exactonline import output, sdk_hooks
from tap_exactonline.sdk_hooks import MIRRORED_SDK_VERSION, SDKFastPaths
from tap_exactonline.streams import kinds
from tap_exactonline.tap import TapExactOnline

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
FROZEN = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


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


class FrozenClock(datetime):
    @classmethod
    def now(cls, tz=None):
        return FROZEN if tz is not None else FROZEN.replace(tzinfo=None)


def freeze_signposts(tap: TapExactOnline) -> None:
    # The SDK caps unsorted bookmarks at the moment each stream was created.
    for stream in tap.streams.values():
        stream._initialized_at = int(FROZEN.timestamp() * 1000)


def test_fast_paths_write_byte_for_byte_what_the_sdk_writes(shared_sandbox, tmp_path, monkeypatch):
    # Every clock the two paths read shows one moment, so time_extracted and signposts agree.
    monkeypatch.setattr(core, "utc_now", lambda: FROZEN)
    for module in (output, sdk_hooks, kinds):
        monkeypatch.setattr(module, "datetime", FrozenClock)
    outputs = {}
    for fast in (True, False):
        config = make_config(shared_sandbox, tmp_path / str(fast), sdk_fast_paths=fast)
        outputs[fast] = run_tap(config, prepare=freeze_signposts).stdout_bytes
    assert outputs[True]
    assert b'"time_extracted":"2026-01-02T03:04:05.678901Z"' in outputs[True]
    assert outputs[True] == outputs[False]
