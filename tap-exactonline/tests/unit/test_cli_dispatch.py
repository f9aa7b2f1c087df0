"""Subcommands (`auth`, `check`) are found wherever Meltano puts them (`--config FILE auth`)."""

from __future__ import annotations

import pytest
from tap_exactonline.tap import _subcommand_position


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["auth"], 0),
        (["auth", "--status"], 0),
        (["--config", "/tmp/tap.config.json", "auth"], 2),
        (["--config", "/tmp/tap.config.json", "auth", "--status"], 2),
        (["--config", "/tmp/tap.config.json", "check"], 2),
        (["--config", "c.json", "--catalog", "cat.json", "check", "--division", "1"], 4),
        (["--config", "auth"], None),  # a config file named "auth" is not the subcommand
        (["--config", "check"], None),
        (["--config", "c.json", "--discover"], None),
        (["--about", "--format", "json"], None),
    ],
)
def test_subcommands_are_found_after_meltano_options(args, expected):
    assert _subcommand_position(args) == expected
