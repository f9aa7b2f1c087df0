"""The calibration the performance goal is stated against: the SDK's default validating sink.

A Singer SDK target whose sink does nothing with a record after the SDK has validated it (the
SDK's jsonschema validation and date-time parsing, as every SDK target runs them by default).
Its records per CPU-second on the benchmark input (a one-process figure, little affected by other
load) say how fast this machine is compared with the machines the goal was written for (about
6,500 rows/s there).

    .venv/bin/python benchmarks/sdk_validating_sink.py INPUT_FILE
"""

from __future__ import annotations

import sys
import time
from typing import Any

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.sinks import RecordSink


class ValidateOnlySink(RecordSink):
    """Accepts every record the SDK has validated."""

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        """Drop the record: only the SDK's own per-record work is measured."""


class ValidateOnlyTarget(Target):
    """A target made of the SDK defaults and the sink above."""

    name = "target-validate-only"
    config_jsonschema = th.PropertiesList().to_dict()
    default_sink_class = ValidateOnlySink


def main() -> None:
    """Read the input file and print records per second."""
    target = ValidateOnlyTarget(config={}, validate_config=False)
    started = time.perf_counter()
    with open(sys.argv[1]) as lines:
        counts = target.process_lines(lines)
    elapsed = time.perf_counter() - started
    print(f"{counts['RECORD'] / elapsed:.0f}")


if __name__ == "__main__":
    main()
