"""Bad input: the one table saying what each kind of rejected line becomes.

Every kind of bad input (workers.RejectionKind) maps to the error reported for it, the reason
when the kind has a fixed one, whether `on_invalid_record: quarantine` loads it into
`"_rejected_records"` (otherwise the run stops at it, after loading everything received before
the last STATE before it) and the exit status the command line ends with. Errors the SDK's own
record path raises (with `sdk_fast_paths` off) are mapped to the same kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from singer_sdk.exceptions import (
    InvalidInputLine,
    InvalidRecord,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)

from target_snowflake_audit.cli import ExitCode
from target_snowflake_audit.values import MissingKeyProperty, RecordRejected
from target_snowflake_audit.workers import MALFORMED_RECORD, RejectionKind


class BadInputError(Exception):
    """Bad Singer input; the message names the input line and the stream."""

    hint = (
        "Fix the tap's output, or set on_invalid_record: quarantine to load bad lines into "
        '"_rejected_records" and go on'
    )
    """What the user can do about it (the command line adds it to the message)."""

    def __init__(self, reason: str, *, line_number: int, stream: str | None) -> None:
        """Build the message.

        Args:
            reason: What is wrong.
            line_number: 1-based input line.
            stream: The stream, when known.
        """
        where = f"input line {line_number}"
        if stream is not None:
            where += f" (stream {stream!r})"
        super().__init__(f"{where}: {reason}")
        self.reason = reason
        self.line_number = line_number
        self.stream = stream


class InvalidJSONLineError(BadInputError, InvalidInputLine):
    """A line is not a JSON Singer message."""


class RecordBeforeSchemaError(BadInputError, RecordsWithoutSchemaException):
    """A RECORD arrived before its stream's SCHEMA."""

    hint = (
        "A tap must send a stream's SCHEMA message before its RECORDs: fix the tap, or set "
        'on_invalid_record: quarantine to load such lines into "_rejected_records" and go on'
    )


class SchemaViolationError(BadInputError):
    """A record does not match its stream's schema."""


class MissingKeyPropertyError(BadInputError, MissingKeyPropertiesError):
    """A record lacks a key property."""


@dataclass(frozen=True)
class RejectionRule:
    """What one kind of bad input becomes."""

    error: type[BadInputError]
    reason: str | None
    """The reason reported, or None when the rejection carries its own."""
    quarantined: bool
    """Loaded into `_rejected_records` with `on_invalid_record: quarantine`; else it stops."""
    exit_status: int = ExitCode.BAD_INPUT
    """How the command ends when the line stops the run."""


REJECTIONS: Mapping[RejectionKind, RejectionRule] = {
    RejectionKind.INVALID_JSON: RejectionRule(InvalidJSONLineError, None, quarantined=True),
    RejectionKind.MALFORMED: RejectionRule(BadInputError, MALFORMED_RECORD, quarantined=True),
    RejectionKind.BEFORE_SCHEMA: RejectionRule(
        RecordBeforeSchemaError, "RECORD received before the stream's SCHEMA", quarantined=True
    ),
    RejectionKind.SCHEMA: RejectionRule(SchemaViolationError, None, quarantined=True),
    RejectionKind.MISSING_KEY: RejectionRule(MissingKeyPropertyError, None, quarantined=True),
    # A message the reader cannot route, or a SCHEMA/STATE/... without its fields: what
    # follows depends on it, so it always stops the run.
    RejectionKind.UNKNOWN_TYPE: RejectionRule(BadInputError, None, quarantined=False),
    RejectionKind.MALFORMED_MESSAGE: RejectionRule(BadInputError, None, quarantined=False),
}

# Errors the SDK's record path raises (its own, and the sink's encoder's), by the kind of bad
# input they stand for (first match).
SDK_REJECTIONS: tuple[tuple[type[Exception], RejectionKind], ...] = (
    (MissingKeyProperty, RejectionKind.MISSING_KEY),
    (RecordRejected, RejectionKind.SCHEMA),
    (MissingKeyPropertiesError, RejectionKind.MISSING_KEY),
    (RecordsWithoutSchemaException, RejectionKind.BEFORE_SCHEMA),
    (InvalidRecord, RejectionKind.SCHEMA),
    (InvalidInputLine, RejectionKind.MALFORMED),
    (KeyError, RejectionKind.MALFORMED),
)


def rejection_error(
    kind: RejectionKind, reason: str = "", *, line_number: int, stream: str | None
) -> BadInputError:
    """Build the error for a rejected line.

    Args:
        kind: What is wrong with it.
        reason: The rejection's own reason (used when the kind has no fixed one).
        line_number: The input line.
        stream: The stream, when known.

    Returns:
        The error the table names.
    """
    rule = REJECTIONS[kind]
    return rule.error(rule.reason or reason, line_number=line_number, stream=stream)


def sdk_rejection(error: Exception) -> RejectionKind | None:
    """The kind of bad input an error of the SDK's record path stands for, if any.

    Args:
        error: What the SDK raised while handling a RECORD message.

    Returns:
        The kind, or None for an error that is not about the input.
    """
    for error_class, kind in SDK_REJECTIONS:
        if isinstance(error, error_class):
            return kind
    return None
