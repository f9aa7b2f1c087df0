"""The SDK methods sdk_hooks.py overrides, and those the SDK path relies on, are as mirrored.

Upgrading singer-sdk means re-reading each hook against the new SDK's code first; these tests
fail until someone has.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import pytest
from singer_sdk import Target
from singer_sdk.sinks import Sink
from target_snowflake_audit import sdk_hooks
from target_snowflake_audit.sdk_hooks import MIRRORED_SDK_VERSION, SDKHooks
from target_snowflake_audit.target import TargetSnowflakeAudit

# The private Target methods overridden in sdk_hooks.py, as singer-sdk 0.54.9 declares them.
MIRRORED_PRIVATE = {
    "_write_state_message": "(self, state: 'dict') -> 'None'",
    "_handle_termination": "(self, signum: 'int', frame: 'FrameType | None') -> 'None'",
}
# Public methods whose calling contract the target's SDK path relies on (target.py, sinks.py):
# the SDK's record path hands `get_sink` the record before it strips `_sdc_*` and parses dates.
RELIED_ON = {
    (Target, "get_sink"): (
        "(self, stream_name: 'str', *, record: 'dict | None' = None, schema: 'dict | None' = "
        "None, key_properties: 't.Sequence[str] | None' = None) -> 'Sink'"
    ),
    (Target, "_process_record_message"): "(self, message_dict: 'dict') -> 'None'",
    (Sink, "process_record"): "(self, record: 'dict', context: 'dict') -> 'None'",
}


def test_the_installed_sdk_is_the_one_the_hooks_mirror() -> None:
    assert version("singer-sdk") == MIRRORED_SDK_VERSION


@pytest.mark.parametrize("name", sorted(MIRRORED_PRIVATE))
def test_the_sdk_still_has_each_overridden_private_method_with_the_mirrored_signature(
    name: str,
) -> None:
    assert name in vars(SDKHooks), "the hook is overridden in sdk_hooks.py"
    assert str(inspect.signature(getattr(Target, name))) == MIRRORED_PRIVATE[name]


@pytest.mark.parametrize(("owner", "name"), sorted(RELIED_ON, key=str))
def test_the_sdk_methods_the_sdk_path_relies_on_keep_their_signature(
    owner: type, name: str
) -> None:
    assert str(inspect.signature(getattr(owner, name))) == RELIED_ON[(owner, name)]


def _private_sdk_methods() -> set[str]:
    return {
        name
        for klass in Target.__mro__
        if klass.__module__.startswith("singer_sdk")
        for name, value in vars(klass).items()
        if name.startswith("_")
        and not name.startswith("__")
        and (inspect.isfunction(value) or isinstance(value, property | classmethod))
    }


def test_no_module_but_sdk_hooks_overrides_a_private_sdk_method() -> None:
    private_target_methods = _private_sdk_methods()
    assert "_process_record_message" in private_target_methods
    for klass in TargetSnowflakeAudit.__mro__:
        if klass.__module__.startswith("target_snowflake_audit"):
            overridden = private_target_methods & set(vars(klass))
            assert klass.__module__ == sdk_hooks.__name__ or not overridden, (
                klass.__module__,
                overridden,
            )
