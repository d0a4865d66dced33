"""Embedded transport: N local worker processes, supervised, no broker.

Each worker gets one task at a time over its own pipe (prefetch 1), so the supervisor always knows
which task a worker holds. A worker that dies or runs past the task time limit is replaced and its
task delivered again, split into single-variation tasks so that one poison pixel fails alone; after
``max_attempts`` the supervisor answers the task itself with failures.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from skymap_scanner.transport.base import ServerTransport, TransportError
from skymap_scanner.transport.messages import (
    Failure,
    Result,
    Task,
    decode_task,
    encode_result,
    encode_task,
)
from skymap_scanner.transport.startup import Startup

LOGGER = logging.getLogger(__name__)


def _worker_main(conn: Connection, name: str) -> None:
    """Entry point of a worker process: read the start-up payload, build the reco once, then answer
    tasks until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server handles Ctrl-C and stops us
    from skymap_scanner.client.runner import TaskRunner

    try:
        startup_json = conn.recv_bytes()
    except EOFError:
        return
    try:
        runner = TaskRunner(Startup.from_json(startup_json), name)
    except Exception as e:  # noqa: BLE001 - reported to the server, which stops the scan
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready", ""))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        try:
            conn.send(("result", runner.handle(message)))
        except Exception as e:  # noqa: BLE001
            conn.send(("error", f"{type(e).__name__}: {e}"))


def _startup_failure(w: _Worker) -> str:
    return (f"{w.name} exited with code {w.process.exitcode} during start-up (its error is printed above; "
            "a script that starts a scan must do so under `if __name__ == '__main__':`, because "
            "workers are spawned processes that import the main module)")


@dataclass
class _Worker:
    name: str
    process: mp.process.BaseProcess
    conn: Connection
    ready: bool = False
    task: bytes | None = None
    task_start: float = field(default=0.0)


class EmbeddedTransport(ServerTransport):
    """Local worker processes behind the ServerTransport interface."""

    def __init__(self, n_workers: int, task_time_limit: float | None = None,
                 max_attempts: int = 3, start_timeout: float = 120.0) -> None:
        if n_workers < 1:
            raise TransportError("need at least one worker")
        self.n_workers = n_workers
        self.task_time_limit = task_time_limit
        self.max_attempts = max_attempts
        self.start_timeout = start_timeout
        self._ctx = mp.get_context("spawn")
        self._workers: list[_Worker] = []
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
            self._send_startup(w)

    def _spawn(self) -> _Worker:
        """Start a worker process. The start-up payload goes over the pipe afterwards
        (``_send_startup``), not in the process arguments: multiprocessing writes those before the
        child can fail, and blocks for ever on a large payload if the child dies while reading it."""
        self._spawned += 1
        name = f"worker-{self._spawned}@{os.getpid()}"
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_worker_main, args=(child, name), name=name, daemon=True)
        process.start()
        child.close()
        return _Worker(name, process, parent, task_start=time.monotonic())

    def _send_startup(self, w: _Worker) -> None:
        try:
            w.conn.send_bytes(self._startup_json)
        except OSError:  # BrokenPipeError: the worker died before it read the payload
            w.process.join()
            raise TransportError(_startup_failure(w)) from None

    def close(self) -> None:
        for w in self._workers:
            with contextlib.suppress(OSError, BrokenPipeError):
                w.conn.send(None)
        deadline = time.monotonic() + 5
        for w in self._workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.conn.close()
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
            waitables = [w.conn for w in busy] + [w.process.sentinel for w in busy]
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
                w.task = self._pending.popleft()
                w.task_start = time.monotonic()
                with contextlib.suppress(OSError):  # a dead worker is found in _supervise
                    w.conn.send(w.task)

    def _collect(self) -> list[bytes]:
        out = []
        for w in self._workers:
            try:
                while w.conn.poll():
                    kind, payload = w.conn.recv()
                    if kind == "ready":
                        w.ready = True
                    elif kind == "result":
                        out.append(payload)
                        w.task = None
                    else:  # "error"
                        if not w.ready:
                            raise TransportError(f"{w.name} could not start: {payload}")
                        LOGGER.error("%s: task failed: %s", w.name, payload)
                        out.extend(self._give_up_or_retry(w.task, payload))
                        w.task = None
            except (EOFError, OSError):
                pass  # the process died; _supervise replaces it
        return out

    def _supervise(self) -> list[bytes]:
        out: list[bytes] = []
        now = time.monotonic()
        for i, w in enumerate(self._workers):
            overdue = (w.task is not None and self.task_time_limit is not None
                       and now - w.task_start > self.task_time_limit)
            if not w.ready and w.process.is_alive() and now - w.task_start > self.start_timeout:
                raise TransportError(f"{w.name} did not start within {self.start_timeout} s")
            if w.process.is_alive() and not overdue:
                continue
            if overdue:
                LOGGER.warning("%s: task over the %.1f s time limit, killing the worker",
                               w.name, self.task_time_limit)
                w.process.kill()
            w.process.join()
            if not w.ready:
                raise TransportError(_startup_failure(w))
            reason = "task time limit exceeded" if overdue else f"worker died (exit code {w.process.exitcode})"
            if w.task is not None:
                out.extend(self._give_up_or_retry(w.task, reason))
            w.conn.close()
            self.restarts += 1
            self._workers[i] = self._spawn()
            self._send_startup(self._workers[i])
        return out

    def _give_up_or_retry(self, task_bytes: bytes | None, reason: str) -> list[bytes]:
        """Deliver a lost task again (one variation per task), or answer it with failures."""
        if task_bytes is None:
            return []
        task = decode_task(task_bytes)
        if task.attempt >= self.max_attempts:
            LOGGER.error("task %s failed %d times (%s): giving up on its %d variation(s)",
                         task.task_id, task.attempt, reason, len(task.items))
            failures = [Failure(v.id_tuple, f"{reason} (after {task.attempt} attempts)") for v in task.items]
            return [encode_result(Result(task.scan_id, task.task_id, "supervisor", 0.0, [], failures))]
        self.redeliveries += 1
        for k, item in enumerate(reversed(task.items)):
            retry = Task(task.scan_id, f"{task.task_id}.r{task.attempt}.{len(task.items) - 1 - k}",
                         task.attempt + 1, [item])
            self._pending.appendleft(encode_task(retry))
        return []
