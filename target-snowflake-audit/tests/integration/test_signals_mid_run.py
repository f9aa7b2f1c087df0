"""Termination signals mid-run: a second one is ignored, and one arriving mid-drain loses nothing.

The signal handler is called the way Python calls it, in the main thread at the point the
signal interrupts; each test chooses that point.
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from archive_devkit.singer_messages import (
    record_message,
    schema_message,
    singer_lines,
    state_message,
)
from target_snowflake_audit.pipeline import LoadPipeline
from target_snowflake_audit.sinks import AuditSink
from target_snowflake_audit.target import TargetSnowflakeAudit

PROPERTIES = {"ID": {"type": "integer"}, "Amount": {"type": ["number", "null"]}}


@pytest.fixture(autouse=True)
def _restore_signal_handlers() -> Iterator[None]:
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def _lines(records: int, state_every: int) -> list[str]:
    messages: list[dict[str, Any]] = [schema_message("payments", PROPERTIES)]
    for n in range(records):
        messages.append(record_message("payments", {"ID": n, "Amount": n / 100}))
        if (n + 1) % state_every == 0:
            messages.append(state_message({"sent": n + 1}))
    return singer_lines(*messages).splitlines(keepends=True)


class _SignalWhileWaiting:
    """Input lines; a signal arrives while the reader waits for line `at` (0-based)."""

    def __init__(self, lines: list[str], at: int, arrive: Any) -> None:
        self.lines, self.at, self.arrive = lines, at, arrive

    def __iter__(self) -> Iterator[str]:
        for index, line in enumerate(self.lines):
            if index == self.at:
                self.arrive()
            yield line


def _run(target: TargetSnowflakeAudit, source: Any) -> tuple[int, list[dict[str, Any]]]:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout), pytest.raises(SystemExit) as stopped:
        target.listen(source)
    states = [json.loads(line) for line in stdout.getvalue().splitlines()]
    return int(stopped.value.code or 0), states


def test_a_second_signal_during_the_stop_is_ignored(config, warehouse, monkeypatch):
    target = TargetSnowflakeAudit(config={**config, "parallel_workers": 0})
    original_wait = LoadPipeline.wait
    seconds: list[int] = []

    def wait_while_a_second_signal_arrives(pipeline: LoadPipeline) -> None:
        if not seconds:  # Meltano forwards SIGTERM; the terminal's SIGINT arrives too
            seconds.append(signal.SIGINT)
            target._handle_termination(signal.SIGINT, None)
        original_wait(pipeline)

    monkeypatch.setattr(LoadPipeline, "wait", wait_while_a_second_signal_arrives)
    lines = _lines(30, state_every=10)
    source = _SignalWhileWaiting(
        lines, len(lines) - 5, lambda: target._handle_termination(signal.SIGTERM, None)
    )

    status, states = _run(target, source)

    assert seconds == [signal.SIGINT]  # the second signal did arrive during the stop
    assert status == 128 + signal.SIGTERM  # the first signal's stop, carried to its end
    assert states[-1] == {"sent": 20}
    loaded = {row[0] for row in warehouse('SELECT "id" FROM "payments"')}
    assert set(range(20)) <= loaded


def test_a_signal_during_a_drain_waits_for_it_and_loses_nothing_acknowledged(
    config, warehouse, monkeypatch
):
    # A drain in the main thread (the SDK drains archived sinks, or any sink with parallelism
    # 1, there): the signal arrives after the batch was taken from the sink, before its load
    # was queued (meltano/sdk#3775).
    target = TargetSnowflakeAudit(
        config={**config, "parallel_workers": 0, "parallel_chunk_rows": 1, "batch_size_rows": 10}
    )
    target.max_parallelism = 1
    original_process_batch = AuditSink.process_batch
    signals: list[int] = []

    def signal_mid_drain(sink: AuditSink, context: dict[str, Any]) -> None:
        if not signals:
            signals.append(signal.SIGTERM)
            target._handle_termination(signal.SIGTERM, None)
        original_process_batch(sink, context)

    monkeypatch.setattr(AuditSink, "process_batch", signal_mid_drain)

    status, states = _run(target, io.StringIO("".join(_lines(50, state_every=5))))

    assert signals == [signal.SIGTERM]
    assert status == 128 + signal.SIGTERM
    acknowledged = states[-1]["sent"]
    assert acknowledged >= 5
    loaded = {row[0] for row in warehouse('SELECT "id" FROM "payments"')}
    assert set(range(acknowledged)) <= loaded
    assert len(loaded) < 50  # the run did stop early
