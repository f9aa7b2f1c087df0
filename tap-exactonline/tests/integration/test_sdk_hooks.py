"""The private SDK methods the tap overrides: still there, and output identical to the SDK's path.

An SDK upgrade that renames one of them, changes its signature or changes what it writes fails
here (see tap_exactonline/sdk_hooks.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from archive_devkit.tap_runs import make_config, run_tap
from singer_sdk.streams import core
from tap_exactonline import output, sdk_hooks
from tap_exactonline.streams import kinds
from tap_exactonline.tap import TapExactOnline

FROZEN = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


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
