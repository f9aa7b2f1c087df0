"""The tap README's tables stay equal to the code they describe."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from tap_exactonline.errors import ExitCode
from tap_exactonline.schema import DateKind, Edm
from tap_exactonline.streams import STREAM_TYPES

README = (Path(__file__).parents[2] / "README.md").read_text()


def table_after(marker: str) -> list[list[str]]:
    start = README.index(marker)
    lines = README[start:].splitlines()
    rows = []
    for line in lines[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows[2:]  # header and separator


def test_the_date_classification_table_lists_every_datetime_field_of_every_stream():
    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    for stream_type in STREAM_TYPES:
        for field in stream_type.declared_fields():
            if field.edm is Edm.DATETIME:
                shown = "date" if field.date is DateKind.CALENDAR else "UTC instant"
                expected[field.name, shown].add(stream_type.name)
    documented = {
        (row[0].strip("`"), row[1]): set(row[2].split(", "))
        for row in table_after("<!-- classification table")
    }
    assert documented == dict(expected)


def test_the_exit_code_table_lists_every_exit_code():
    rows = table_after("### Exit codes")
    assert [int(row[0]) for row in rows] == [int(code) for code in ExitCode]
    assert re.search(r"exit code N\)", README)
