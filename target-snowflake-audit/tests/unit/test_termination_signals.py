"""Termination signals: the first starts a clean stop, a second is ignored, none cuts a message."""

from __future__ import annotations

import io
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from target_snowflake_audit.messages import LineNumberingReader, TerminationRequested
from target_snowflake_audit.target import TargetSnowflakeAudit

SETTINGS = {
    "account": "a",
    "user": "u",
    "password": "p",
    "warehouse": "w",
    "database": "D",
    "schema": "S",
    "parallel_workers": 0,
}


@pytest.fixture
def target() -> Iterator[TargetSnowflakeAudit]:
    """A target (no connection is opened); the process's signal handlers are restored after."""
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield TargetSnowflakeAudit(config=SETTINGS)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def test_a_signal_while_waiting_for_input_stops_at_once_with_128_plus_its_number(
    target: TargetSnowflakeAudit,
) -> None:
    with pytest.raises(TerminationRequested) as raised:
        target._handle_termination(signal.SIGTERM, None)
    assert raised.value.code == 143


def test_a_second_signal_is_ignored(target: TargetSnowflakeAudit) -> None:
    # Meltano forwards SIGTERM while the terminal's SIGINT reaches the plugin too.
    with pytest.raises(TerminationRequested):
        target._handle_termination(signal.SIGTERM, None)
    target._handle_termination(signal.SIGINT, None)  # no second stop
    target._handle_termination(signal.SIGTERM, None)


def test_a_signal_while_a_message_is_handled_waits_for_the_message(
    target: TargetSnowflakeAudit,
) -> None:
    reader = target.message_reader
    assert isinstance(reader, LineNumberingReader)
    reader.busy = True
    target._handle_termination(signal.SIGINT, None)  # returns: the message goes on
    assert reader.stop_signal == signal.SIGINT


class _StoppedError(Exception):
    pass


def test_the_reader_stops_after_the_line_a_signal_arrived_during() -> None:
    reader = LineNumberingReader()
    handled: list[int] = []
    stops: list[int] = []

    def record(message: dict[str, Any]) -> None:
        handled.append(message["n"])
        if message["n"] == 2:  # the signal arrives while this message is handled
            assert reader.busy
            reader.stop_signal = signal.SIGTERM

    def stop(signum: int) -> None:
        stops.append(signum)
        raise _StoppedError

    reader.on_termination = stop
    lines = "".join(f'{{"type": "RECORD", "n": {n}}}\n' for n in range(1, 5))
    with pytest.raises(_StoppedError):
        reader.process_lines(io.StringIO(lines), {"RECORD": record})
    assert handled == [1, 2]  # line 2 was finished, line 3 never started
    assert stops == [signal.SIGTERM]
    assert not reader.busy
