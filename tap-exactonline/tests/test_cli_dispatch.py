"""The `auth` subcommand is found wherever Meltano puts it (`--config FILE auth`)."""

from __future__ import annotations

import pytest
from tap_exactonline.tap import _auth_subcommand_position


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["auth"], 0),
        (["auth", "--status"], 0),
        (["--config", "/tmp/tap.config.json", "auth"], 2),
        (["--config", "/tmp/tap.config.json", "auth", "--status"], 2),
        (["--config", "auth"], None),  # a config file named "auth" is not the subcommand
        (["--config", "c.json", "--discover"], None),
        (["--about", "--format", "json"], None),
    ],
)
def test_auth_subcommand_is_found_after_meltano_options(args, expected):
    assert _auth_subcommand_position(args) == expected
