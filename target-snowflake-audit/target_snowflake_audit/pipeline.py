"""Loads batches in the background and writes STATE only after what preceded it committed.

One worker thread runs jobs strictly in submission order: batch loads (PUT + COPY) and STATE
writes. A STATE job therefore runs only after every load submitted before it has committed,
which is the at-least-once guarantee, while the main thread keeps decoding and validating the
next records instead of waiting for COPY. After a failed job nothing more runs (no later STATE
is written) and the error is raised in the main thread at its next submit or wait.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

Job = Callable[[], None]

# Checkpoints (loads and their STATE) allowed to wait behind the running one. Batch files
# are on disk, so this bounds disk use and how far reading runs ahead, not memory.
_MAX_QUEUED_JOBS = 16


class LoadPipeline:
    """A single background thread running load and STATE jobs in order."""

    def __init__(self, logger: logging.Logger) -> None:
        """Start the worker.

        Args:
            logger: Logger for job failures.
        """
        self._logger = logger
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=_MAX_QUEUED_JOBS)
        self._error: BaseException | None = None
        self._worker = threading.Thread(target=self._run, name="snowflake loads", daemon=True)
        self._worker.start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                if self._error is None:
                    job()
            except BaseException as exc:
                self._error = exc
            finally:
                self._jobs.task_done()
        self._jobs.task_done()

    def raise_if_failed(self) -> None:
        """Re-raise a failed job's error in the calling thread.

        Raises:
            BaseException: The first error a job raised.
        """
        if self._error is not None:
            raise self._error

    def submit(self, job: Job) -> None:
        """Queue a job behind every job submitted before it.

        Args:
            job: The job.
        """
        self.raise_if_failed()
        self._jobs.put(job)

    def wait(self) -> None:
        """Block until every submitted job has run, then re-raise a failure."""
        self._jobs.join()
        self.raise_if_failed()

    def close(self) -> None:
        """Finish the queued jobs and stop the worker."""
        if self._worker.is_alive():
            self._jobs.put(None)
            self._worker.join()
