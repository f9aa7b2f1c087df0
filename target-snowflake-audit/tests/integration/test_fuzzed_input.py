"""Random Singer input never gives a traceback, and never loses what was committed.

Hypothesis draws a stream of lines: SCHEMA, valid RECORDs, invalid RECORDs (wrong types, missing
keys, numbers too large for their column, records of unknown streams), STATE messages and
garbage (broken JSON, JSON that is not a message). The console script runs on it as Meltano runs
it, with `on_invalid_record` `fail` or `quarantine`. Whatever it drew:

- the command ends with 0 (done) or 3 (bad input), never a traceback or another status; with 3,
  one line on stderr names the input line;
- every valid record received before the last STATE the target emitted is in the table (what was
  committed is never lost); after a clean end every valid record is;
- with quarantine, every rejected line before that STATE is in `_rejected_records`.

CI runs a bounded number of examples (each starts the console script); set FUZZ_EXAMPLES for
more.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import snowflake.connector
from archive_devkit.singer_messages import (
    record_message,
    run_target_command,
    schema_message,
    state_message,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from .conftest import DATABASE, EMULATOR, base_config

STREAM = "fuzzed"
PROPERTIES = {
    "ID": {"type": "string"},
    "Amount": {"type": ["number", "null"]},
    "Count": {"type": ["integer", "null"]},
    "When": {"type": ["string", "null"], "format": "date-time"},
    "Note": {"type": ["string", "null"]},
    "Flag": {"type": ["boolean", "null"]},
}
IDS = st.text(alphabet="abcdefghij0123456789-", min_size=1, max_size=12)
# Values the target documents as loadable: NUMBER(38,9) takes up to 29 integer digits.
VALID_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "Amount": st.none()
    | st.decimals(min_value=-(10**28), max_value=10**28, places=4, allow_nan=False).map(float)
    | st.integers(min_value=-(10**15), max_value=10**15),
    "Count": st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "When": st.none()
    | st.datetimes(allow_imaginary=False).map(lambda moment: moment.isoformat() + "Z"),
    "Note": st.none() | st.text(max_size=40),
    "Flag": st.none() | st.booleans(),
}
# Values that break the schema or the column: the target must reject them, not crash.
INVALID_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "Amount": st.sampled_from(["ten", True, [1], {"a": 1}, 10**40]),
    "Count": st.sampled_from(["1", 1.5, False, 10**40]),
    "When": st.sampled_from(["yesterday", "2024-13-45T25:61:00Z", 20240101]),
    "Note": st.sampled_from([1, True, ["x"]]),
    "Flag": st.sampled_from(["yes", 1, None.__class__.__name__]),
}
GARBAGE = st.sampled_from(
    [
        "not json",
        '{"type": "RECORD", "stream": "fuzzed", "record": {"ID": "x"',
        "[1, 2, 3]",
        "42",
        '{"stream": "fuzzed", "record": {"ID": "y"}}',
        '{"type": "NOT_A_TYPE", "stream": "fuzzed"}',
        '{"type": "RECORD", "stream": "fuzzed"}',
        '{"type": "RECORD", "stream": "elsewhere", "record": {"ID": "z"}}',
        "\u00e9\u00e8\u0000\ufffd",
    ]
)


@dataclass
class Line:
    """One input line and what the target must do with it."""

    text: str
    kind: str  # "valid", "invalid", "state", "schema"
    record_id: str | None = None
    state: int | None = None


@dataclass
class Drawn:
    """An input drawn by hypothesis, with the expected fate of each line."""

    lines: list[Line] = field(default_factory=list)

    def text(self) -> str:
        return "".join(line.text + "\n" for line in self.lines)


@st.composite
def valid_record(draw: st.DrawFn) -> Line:
    record: dict[str, Any] = {"ID": draw(IDS)}
    for name, values in VALID_VALUES.items():
        if draw(st.booleans()):
            record[name] = draw(values)
    return Line(json.dumps(record_message(STREAM, record)), "valid", record_id=record["ID"])


@st.composite
def invalid_record(draw: st.DrawFn) -> Line:
    record: dict[str, Any] = {"ID": draw(IDS)}
    name = draw(st.sampled_from(sorted(INVALID_VALUES)))
    record[name] = draw(INVALID_VALUES[name])
    if draw(st.integers(0, 4)) == 0:
        del record["ID"]  # a missing key property
    return Line(json.dumps(record_message(STREAM, record)), "invalid")


@st.composite
def singer_input(draw: st.DrawFn) -> Drawn:
    drawn = Drawn([Line(json.dumps(schema_message(STREAM, PROPERTIES)), "schema")])
    position = 0
    kinds = st.sampled_from(["valid", "valid", "valid", "invalid", "garbage", "state"])
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(kinds)
        if kind == "valid":
            drawn.lines.append(draw(valid_record()))
        elif kind == "invalid":
            drawn.lines.append(draw(invalid_record()))
        elif kind == "garbage":
            drawn.lines.append(Line(draw(GARBAGE), "invalid"))
        else:
            position += 1
            text = json.dumps(state_message({"position": position}))
            drawn.lines.append(Line(text, "state", state=position))
    return drawn


def run_console_script(config: dict[str, Any], drawn: Drawn, directory: Path) -> Any:
    return run_target_command(config, drawn.text(), directory)


def loaded(schema: str, sql: str) -> list[tuple[Any, ...]]:
    with snowflake.connector.connect(**EMULATOR, database=DATABASE) as connection:
        cursor = connection.cursor()
        cursor.execute(f"SHOW SCHEMAS LIKE '{schema}' IN DATABASE {DATABASE}")
        if not cursor.fetchall():
            return []
        cursor.execute(f"USE SCHEMA {DATABASE}.{schema}")
        try:
            return list(cursor.execute(sql).fetchall())
        except snowflake.connector.errors.ProgrammingError:  # the table was never created
            return []


def last_state(stdout: str) -> int:
    """The position of the last STATE the target emitted (0 when none)."""
    states = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return max((state.get("position", 0) for state in states), default=0)


EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
COMMITTED_THEN_STOPPED = Drawn(
    [
        Line(json.dumps(schema_message(STREAM, PROPERTIES)), "schema"),
        Line(json.dumps(record_message(STREAM, {"ID": "a1", "Amount": 1.5})), "valid", "a1"),
        Line(json.dumps(state_message({"position": 1})), "state", state=1),
        Line("not json", "invalid"),
        Line(json.dumps(record_message(STREAM, {"ID": "a2"})), "valid", "a2"),
    ]
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(drawn=singer_input(), quarantine=st.booleans())
# Always tried: a record still in an unflushed batch, a STATE, then a line that stops the run.
@example(drawn=COMMITTED_THEN_STOPPED, quarantine=False)
@example(drawn=COMMITTED_THEN_STOPPED, quarantine=True)
def test_random_input_never_gives_a_traceback_and_never_loses_what_was_committed(
    tmp_path_factory: Any, drawn: Drawn, quarantine: bool
) -> None:
    schema = f"F_{uuid.uuid4().hex[:10].upper()}"
    config = {
        **base_config(schema),
        "on_invalid_record": "quarantine" if quarantine else "fail",
        "batch_size_rows": 4,
    }
    done = run_console_script(config, drawn, tmp_path_factory.mktemp("fuzz"))

    assert done.returncode in (0, 3), done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    if done.returncode == 3:
        said = [line for line in done.stderr.splitlines() if "| ERROR " in line]
        assert len(said) == 1, done.stderr[-3000:]
        assert "input line " in said[0]

    # Everything received before the last STATE the target emitted was committed.
    committed_until = last_state(done.stdout)
    cut = len(drawn.lines)
    if done.returncode != 0:
        cut = next(
            (n for n, line in enumerate(drawn.lines) if line.state == committed_until),
            0,
        )
    before_cut = drawn.lines[:cut]
    expected_ids = {line.record_id for line in before_cut if line.kind == "valid"}
    held = {str(row[0]) for row in loaded(schema, 'SELECT "id" FROM "fuzzed"')}
    assert expected_ids <= held, sorted(expected_ids - held)
    if quarantine:
        rejected = loaded(schema, 'SELECT "line_number" FROM "_rejected_records"')
        expected_lines = {n + 1 for n, line in enumerate(before_cut) if line.kind == "invalid"}
        assert expected_lines <= {int(row[0]) for row in rejected}
