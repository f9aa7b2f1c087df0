"""One table says what each kind of bad input becomes: error, exit status, quarantine or stop."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from singer_sdk.exceptions import (
    InvalidInputLine,
    InvalidRecord,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from target_snowflake_audit.cli import ExitCode, report
from target_snowflake_audit.messages import LineNumberingReader
from target_snowflake_audit.quarantine import QuarantinePolicy
from target_snowflake_audit.rejections import (
    REJECTIONS,
    BadInputError,
    InvalidJSONLineError,
    MissingKeyPropertyError,
    RecordBeforeSchemaError,
    SchemaViolationError,
    rejection_error,
    sdk_rejection,
)
from target_snowflake_audit.workers import RejectionKind

ERRORS = {
    RejectionKind.INVALID_JSON: InvalidJSONLineError,
    RejectionKind.MALFORMED: BadInputError,
    RejectionKind.BEFORE_SCHEMA: RecordBeforeSchemaError,
    RejectionKind.SCHEMA: SchemaViolationError,
    RejectionKind.MISSING_KEY: MissingKeyPropertyError,
    RejectionKind.UNKNOWN_TYPE: BadInputError,
    RejectionKind.MALFORMED_MESSAGE: BadInputError,
}
# What a tap can get wrong in one record is quarantined; a message the reader cannot route,
# or a SCHEMA/STATE without its fields, changes what follows and always stops the run.
QUARANTINED = {
    RejectionKind.INVALID_JSON,
    RejectionKind.MALFORMED,
    RejectionKind.BEFORE_SCHEMA,
    RejectionKind.SCHEMA,
    RejectionKind.MISSING_KEY,
}


def test_every_kind_of_bad_input_has_one_rule() -> None:
    assert set(REJECTIONS) == set(RejectionKind)


@pytest.mark.parametrize("kind", list(RejectionKind))
def test_each_kind_becomes_its_error_naming_line_and_stream_and_exits_with_3(
    kind: RejectionKind,
) -> None:
    error = rejection_error(kind, "what is wrong", line_number=7, stream="invoices")
    assert type(error) is ERRORS[kind]
    assert str(error).startswith("input line 7 (stream 'invoices'): ")
    assert REJECTIONS[kind].exit_status == ExitCode.BAD_INPUT == 3
    assert report(error, []) == REJECTIONS[kind].exit_status


def test_errors_are_also_the_sdk_exceptions_of_their_kind() -> None:
    # Code written against the SDK's exceptions still catches the target's.
    assert issubclass(RecordBeforeSchemaError, RecordsWithoutSchemaException)
    assert issubclass(MissingKeyPropertyError, MissingKeyPropertiesError)
    assert issubclass(InvalidJSONLineError, InvalidInputLine)


def _policy(*, quarantine: bool) -> QuarantinePolicy:
    def stop(error: BadInputError) -> Any:
        raise error

    return QuarantinePolicy(
        None,  # type: ignore[arg-type] - deciding touches no sink
        quarantine=quarantine,
        stop=stop,
        logger=logging.getLogger("test"),
    )


@pytest.mark.parametrize("kind", list(RejectionKind))
def test_quarantine_takes_what_one_record_got_wrong_and_stops_at_the_rest(
    kind: RejectionKind,
) -> None:
    assert _policy(quarantine=True).stops_at(kind) is (kind not in QUARANTINED)
    assert _policy(quarantine=False).stops_at(kind) is True


def test_errors_of_the_sdks_own_record_path_map_to_the_same_kinds() -> None:
    assert sdk_rejection(InvalidRecord("bad", {})) is RejectionKind.SCHEMA
    assert sdk_rejection(MissingKeyPropertiesError("no key")) is RejectionKind.MISSING_KEY
    assert sdk_rejection(RecordsWithoutSchemaException("early")) is RejectionKind.BEFORE_SCHEMA
    assert sdk_rejection(InvalidInputLine("no record")) is RejectionKind.MALFORMED
    assert sdk_rejection(ValueError("a bug")) is None


def _read(text: str, callbacks: dict[str, Any]) -> list[tuple[RejectionKind, int, str | None]]:
    reader = LineNumberingReader()
    seen: list[tuple[RejectionKind, int, str | None]] = []
    reader.on_bad_input = lambda kind, reason, number, stream: seen.append((kind, number, stream))
    reader.process_lines(io.StringIO(text), callbacks)
    return seen


def test_the_reader_reports_each_bad_line_by_its_kind() -> None:
    def record(message: dict[str, Any]) -> None:
        raise InvalidRecord("Amount is not a number", message["record"])

    def schema(message: dict[str, Any]) -> None:
        raise KeyError("schema")

    seen = _read(
        '{"type": "RECORD", "stream": "s", "record": {}}\n'
        "not json\n"
        '{"type": "SCHEMA", "stream": "t"}\n'
        '{"type": "BOOKMARK", "stream": "u"}\n',
        {"RECORD": record, "SCHEMA": schema},
    )
    assert seen == [
        (RejectionKind.SCHEMA, 1, "s"),
        (RejectionKind.INVALID_JSON, 2, None),
        (RejectionKind.MALFORMED_MESSAGE, 3, "t"),
        (RejectionKind.UNKNOWN_TYPE, 4, "u"),
    ]


def test_an_error_that_is_not_about_the_input_is_not_reported_as_bad_input() -> None:
    def record(message: dict[str, Any]) -> None:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        _read('{"type": "RECORD", "stream": "s", "record": {}}\n', {"RECORD": record})
