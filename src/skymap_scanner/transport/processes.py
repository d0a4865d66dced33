"""Process transport: N local worker processes, supervised, no broker.

Each worker gets one task at a time over its own pipe (prefetch 1), so the supervisor always knows
which task a worker holds. A worker that dies or runs past the task time limit is replaced and its
task delivered again, split into single-variation tasks so that one poison pixel fails alone; after
``max_attempts`` the supervisor answers the task itself with failures (``transport.retry``).

Workers are spawned processes that import the main module: a script that uses this transport must
start the scan under ``if __name__ == '__main__':`` (``InProcessTransport`` needs no guard).
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from multiprocessing.connection import wait

from skymap_scanner.transport.base import ServerTransport, TransportError
from skymap_scanner.transport.messages import decode_task, encode_result, encode_task
from skymap_scanner.transport.retry import retry_or_give_up
from skymap_scanner.transport.startup import Startup
from skymap_scanner.transport.worker import WorkerProcess

LOGGER = logging.getLogger(__name__)


class ProcessTransport(ServerTransport):
    """Local worker processes behind the ServerTransport interface.

    ``task_time_limit_s``: seconds a task may run before its worker is killed (None: no limit);
    ``start_timeout_s``: seconds a worker may take to build its reco.
    """

    def __init__(self, n_workers: int, task_time_limit_s: float | None = None,
                 max_attempts: int = 3, start_timeout_s: float = 120.0) -> None:
        if n_workers < 1:
            raise TransportError("need at least one worker")
        self.n_workers = n_workers
        self.task_time_limit_s = task_time_limit_s
        self.max_attempts = max_attempts
        self.start_timeout_s = start_timeout_s
        self._workers: list[WorkerProcess] = []
        self._pending: deque[bytes] = deque()
        self._startup_json = b""
        self._spawned = 0
        self.restarts = 0
        self.redeliveries = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, startup: Startup) -> None:
        self._startup_json = startup.to_json()
        self._workers = [self._spawn() for _ in range(self.n_workers)]
        for w in self._workers:  # after spawning all: a send waits until its worker has imported us
            w.send_startup()

    def _spawn(self) -> WorkerProcess:
        self._spawned += 1
        worker = WorkerProcess(f"worker-{self._spawned}@{os.getpid()}", self._startup_json,
                               start_timeout_s=self.start_timeout_s)
        worker.spawn()
        return worker

    def close(self) -> None:
        for w in self._workers:
            w.stop()
        deadline = time.monotonic() + 5
        for w in self._workers:
            w.close(wait_s=max(0.0, deadline - time.monotonic()))
        self._workers = []

    # -- traffic -----------------------------------------------------------------------------
    def send(self, tasks: list[bytes]) -> None:
        self._pending.extend(tasks)

    def receive(self, timeout: float) -> list[bytes]:
        deadline = time.monotonic() + timeout
        out: list[bytes] = []
        while True:
            self._dispatch()
            busy = [w for w in self._workers if w.task is not None or not w.ready]
            waitables = [x for w in busy for x in w.waitables]
            remaining = deadline - time.monotonic()
            if waitables:
                wait(waitables, timeout=max(0.0, min(remaining, 0.25)))
            else:
                time.sleep(max(0.0, min(remaining, 0.05)))
            out.extend(self._collect())
            out.extend(self._supervise())
            if out or time.monotonic() >= deadline:
                return out

    def _dispatch(self) -> None:
        for w in self._workers:
            if w.ready and w.task is None and self._pending:
                w.give(self._pending.popleft())

    def _collect(self) -> list[bytes]:
        out = []
        for w in self._workers:
            task = w.task
            answer = w.receive()
            if answer is None:
                continue
            kind, payload = answer
            if kind == "result":
                out.append(payload)
            else:
                LOGGER.error("%s: task failed: %s", w.name, payload)
                out.extend(self._retry_or_give_up(task, payload))
        return out

    def _supervise(self) -> list[bytes]:
        out: list[bytes] = []
        for i, w in enumerate(self._workers):
            w.check_start()
            overdue = w.overdue(self.task_time_limit_s)
            if w.alive and not overdue:
                continue
            if overdue:
                LOGGER.warning("%s: task over the %.1f s time limit, killing the worker",
                               w.name, self.task_time_limit_s)
            reason = "task time limit exceeded" if overdue else f"worker died (exit code {w.exitcode})"
            task = w.task
            w.close(wait_s=0)
            out.extend(self._retry_or_give_up(task, reason))
            self.restarts += 1
            self._workers[i] = self._spawn()
            self._workers[i].send_startup()
        return out

    def _retry_or_give_up(self, task_bytes: bytes | None, reason: str) -> list[bytes]:
        """Deliver a lost task again (one variation per task, ahead of the queue), or answer it
        with failures."""
        if task_bytes is None:
            return []
        task = decode_task(task_bytes)
        retries, result = retry_or_give_up(task, task.attempt, self.max_attempts, reason, "supervisor")
        if result is not None:
            LOGGER.error("task %s failed %d times (%s): giving up on its %d variation(s)",
                         task.task_id, task.attempt, reason, len(task.items))
            return [encode_result(result)]
        self.redeliveries += 1
        self._pending.extendleft(encode_task(t) for t in reversed(retries))
        return []
