"""In-process transport: the tasks run in the calling process, no child process at all.

Deterministic and steppable in a debugger; usable in a notebook or a script without an
``if __name__ == '__main__':`` guard. ``send`` queues tasks; each ``receive`` runs the next one.
There is no time limit (a fit in the calling process cannot be killed). A reco that raises fails
its variations alone (``TaskRunner``); a task that raises anyway counts as a failed attempt and
is retried or given up on like in the other transports (``transport.retry``).
"""

from __future__ import annotations

import logging
import time
from collections import deque

from skymap_scanner.transport.base import ServerTransport, TransportError
from skymap_scanner.transport.messages import decode_task, encode_result, encode_task
from skymap_scanner.transport.retry import retry_or_give_up
from skymap_scanner.transport.startup import Startup
from skymap_scanner.transport.worker import TaskRunner

LOGGER = logging.getLogger(__name__)


class InProcessTransport(ServerTransport):
    """Runs one task per ``receive`` call through a TaskRunner in this process."""

    def __init__(self, max_attempts: int = 3, name: str = "inprocess") -> None:
        self.max_attempts = max_attempts
        self.name = name
        self._runner: TaskRunner | None = None
        self._pending: deque[bytes] = deque()

    def start(self, startup: Startup) -> None:
        try:
            self._runner = TaskRunner(startup, self.name)
        except Exception as e:  # noqa: BLE001 - same error as a worker process that cannot start
            raise TransportError(f"{self.name} could not start: {type(e).__name__}: {e}") from e

    def send(self, tasks: list[bytes]) -> None:
        self._pending.extend(tasks)

    def receive(self, timeout: float) -> list[bytes]:
        """The result of the next queued task; with none queued, waits ``timeout`` s and returns []."""
        assert self._runner is not None, "start() first"
        if not self._pending:
            time.sleep(timeout)
            return []
        body = self._pending.popleft()
        try:
            return [self._runner.handle(body)]
        except Exception as e:  # noqa: BLE001 - a failed attempt, as when a worker process fails
            reason = f"{type(e).__name__}: {e}"
            LOGGER.error("%s: task failed: %s", self.name, reason)
            task = decode_task(body)
            retries, result = retry_or_give_up(task, task.attempt, self.max_attempts, reason, self.name)
            self._pending.extendleft(encode_task(t) for t in reversed(retries))
            return [] if result is None else [encode_result(result)]

    def close(self) -> None:
        self._runner = None
        self._pending.clear()
