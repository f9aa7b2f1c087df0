"""The Singer SDK's standard tap tests, run over HTTP against an in-process sandbox."""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

from archive_devkit.sandboxes import in_process_sandbox
from archive_devkit.tap_runs import make_config
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_exactonline.tap import TapExactOnline

# The SDK builds its test class at import time and needs a config then, so this module's
# sandbox starts at import and stops when the test process exits.
_SERVER = in_process_sandbox(divisions=1)
_SANDBOX = _SERVER.__enter__()
atexit.register(_SERVER.__exit__, None, None, None)
_SANDBOX.unlimited()
_DIRECTORY = Path(tempfile.mkdtemp(prefix="tap-exactonline-core-"))

TestTapExactOnline = get_tap_test_class(
    tap_class=TapExactOnline,
    config=make_config(_SANDBOX, _DIRECTORY),
    suite_config=SuiteConfig(max_records_limit=50),
    parse_env_config=False,
)
