"""Every private Singer SDK method the target overrides, fenced in this one module.

Each override mirrors the SDK's own code in singer-sdk 0.54.9 (``singer_sdk/target_base.py``,
``singer_sdk/plugin_base.py``) and says why it differs. Everything else the target does goes
through public SDK hooks: ``message_reader_class`` (the reader takes RECORD lines to the one
RECORD path, dispatch.py), ``get_sink``/``sink_exists``/``add_sink``/``drain_all``/``drain_one``,
``listen`` and ``process_endofpipe``.

``sdk_fast_paths: false`` switches the record path and the queued STATE write off: RECORD
messages then go through the SDK's own ``Target._process_record_message`` (jsonschema
validation, its ``_sdc_*`` handling, ``drain_one`` when a sink is full) and STATE is written as
the SDK writes it, after loads that run in the draining thread.
``tests/integration/test_sdk_hooks.py`` loads the same input both ways and compares the rows;
``tests/unit/test_sdk_hook_signatures.py`` checks that the SDK still has the methods overridden
here with the signatures mirrored. An SDK upgrade that changes any of this fails a test.
"""

from __future__ import annotations

import abc
import sys
from functools import cached_property
from types import FrameType
from typing import Any, NoReturn

from singer_sdk import Target
from typing_extensions import override

from target_snowflake_audit.messages import LineNumberingReader, TerminationRequested
from target_snowflake_audit.pipeline import LoadPipeline

#: The SDK release whose private code the overrides below mirror.
MIRRORED_SDK_VERSION = "0.54.9"


class SDKHooks(Target):
    """The target's overrides of private SDK methods (see the module docstring)."""

    #: The signal that started a stop; later ones are ignored.
    _stopping_signal: int | None = None

    @cached_property
    def fast_paths(self) -> bool:
        """Whether the target's record path and queued STATE writes run (`sdk_fast_paths`)."""
        return bool(self.config.get("sdk_fast_paths", True))

    @property
    @abc.abstractmethod
    def load_pipeline(self) -> LoadPipeline | None:
        """The background load thread, once loading has started."""

    @abc.abstractmethod
    def abandon_queued_records(self) -> None:
        """Drop the RECORD lines still waiting in chunks."""

    @abc.abstractmethod
    def wait_for_loads(self) -> None:
        """Block until every queued load has committed."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop worker processes, the load thread and the session."""

    @override
    def _write_state_message(self, state: dict[str, Any]) -> None:
        # Mirrors Target._write_state_message (0.54.9), which prints STATE as soon as
        # drain_all() returns. Batches load in the background (pipeline.py), so the write is
        # queued behind them and runs once everything received before it is committed.
        pipeline = self.load_pipeline if self.fast_paths else None
        write = super()._write_state_message
        if pipeline is None:
            write(state)
            return
        pipeline.submit(lambda: write(state))

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # Mirrors Target._handle_termination and PluginBase._handle_termination (0.54.9), which
        # drain every sink inside the signal handler and exit with 0. Here:
        # - a second signal is ignored, as the SDK's main branch does since meltano/sdk#3698:
        #   Meltano forwards SIGTERM to its plugins while the terminal's SIGINT reaches them
        #   too, so two arrive;
        # - nothing is drained inside the handler: a signal arriving while a message is
        #   handled (a drain may be half done, meltano/sdk#3775) is acted on once it is
        #   done; otherwise (the reader waits for input) at once. Either way the stop runs
        #   outside the handler (stop_after_signal, called by the reader);
        # - the exit status is 128 + the signal number, not 0: the input was not finished.
        if self._stopping_signal is not None:
            self.logger.warning("Received signal %d while stopping; ignoring it", signum)
            return
        self._stopping_signal = signum
        reader = self.message_reader
        if isinstance(reader, LineNumberingReader) and reader.busy:
            self.logger.warning(
                "Received signal %d: stopping once the current message is handled", signum
            )
            reader.stop_signal = signum
            return
        raise TerminationRequested(signum)

    def stop_after_signal(self, signum: int) -> NoReturn:
        """Load what arrived, write the STATE that covers it, exit with 128 + the signal.

        Called by the reader between messages (never inside the signal handler).
        """
        self._stopping_signal = signum
        self.logger.warning(
            "Received signal %d: loading the records received so far, then stopping", signum
        )
        try:
            # The records still in chunks are dropped: the STATE after them was not handled.
            self.abandon_queued_records()
            self.drain_all(is_endofpipe=True)
            self.wait_for_loads()
        finally:
            self.close()
        sys.exit(128 + signum)
