"""Worker processes: a spawned child that builds the scan's reco once and answers task messages.

The child gets the startup payload over its pipe (not in the process arguments: multiprocessing
writes those before the child can fail, and blocks for ever on a large payload if the child dies
while reading it). Pipe protocol, one task at a time:

- parent → child: the startup JSON (``send_bytes``), then task message bytes, or ``None`` to stop;
- child → parent: ``("ready", "")`` once the reco is built, then per task ``("result", bytes)`` or
  ``("error", "Type: text")``; ``("error", ...)`` before ``ready``: the reco could not be built.

:class:`WorkerProcess` is the parent side. :class:`~skymap_scanner.transport.processes.ProcessTransport`
drives many of them synchronously (``spawn``, ``send_startup``, ``give``, ``receive``, multiplexed
on ``waitables``); the broker client drives one with the asyncio methods ``start`` and ``run``
(heartbeats, time limit, kill and replace).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing as mp
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from skymap_scanner.pixels.types import PixelVariation, RecoPixelVariation
from skymap_scanner.transport.base import TransportError
from skymap_scanner.transport.messages import Failure, Result, Task, decode_task, encode_result
from skymap_scanner.transport.startup import Startup

LOGGER = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


class TaskRunner:
    """Holds the scan's reco (built once) and answers task messages, in the calling process."""

    def __init__(self, startup: Startup, worker: str) -> None:
        from skymap_scanner.recos import get_reco_class  # imported here: a client's parent never fits

        self.startup = startup
        self.worker = worker
        self.reco = get_reco_class(startup.reco_algo)(startup.event(), startup.reco_options)

    def _reconstruct(self, items: list[PixelVariation]) -> tuple[list[RecoPixelVariation], list[Failure]]:
        """Fit the batch; if it raises, fit item by item so one bad pixel fails alone."""
        try:
            return self.reco.reconstruct(items), []
        except Exception as batch_error:  # noqa: BLE001 - any reco failure is reported, not fatal
            if len(items) == 1:
                return [], [Failure(items[0].id_tuple, f"{type(batch_error).__name__}: {batch_error}")]
        results: list[RecoPixelVariation] = []
        failures: list[Failure] = []
        for item in items:
            try:
                results.extend(self.reco.reconstruct([item]))
            except Exception as e:  # noqa: BLE001
                failures.append(Failure(item.id_tuple, f"{type(e).__name__}: {e}"))
        return results, failures

    def run_task(self, task: Task) -> Result:
        start = time.monotonic()
        results, failures = self._reconstruct(task.items)
        runtime = time.monotonic() - start
        for f in failures:
            LOGGER.warning("scan %s task %s: %s failed: %s", task.scan_id, task.task_id, f.id_tuple, f.reason)
        LOGGER.debug("scan %s task %s: %d items in %.3f s", task.scan_id, task.task_id, len(task.items), runtime)
        return Result(task.scan_id, task.task_id, self.worker, runtime, results, failures)

    def handle(self, message: bytes) -> bytes:
        """Task message bytes -> result message bytes (raises MessageError on a bad task)."""
        return encode_result(self.run_task(decode_task(message)))


def _worker_main(conn: Connection, name: str, die_with_parent: bool) -> None:
    """Entry point of the child: read the startup payload, build the reco once, then answer tasks
    until told to stop. ``die_with_parent``: ask Linux to SIGKILL us when the parent dies (a hung
    fit must not outlive a SIGKILLed client)."""
    if die_with_parent:
        with contextlib.suppress(OSError, AttributeError):  # prctl is Linux-only
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    try:
        startup_json = conn.recv_bytes()
    except EOFError:
        return
    try:
        runner = TaskRunner(Startup.from_json(startup_json), name)
    except Exception as e:  # noqa: BLE001 - reported to the parent, which stops
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


class WorkerStartError(TransportError):
    """A worker process could not start: it died, did not answer in time, or its reco could not be built."""


@dataclass(frozen=True)
class Outcome:
    """How one task went (``WorkerProcess.run``): a result message, or why the attempt failed, or
    interrupted by a stop."""

    result: bytes | None = None
    failure: str | None = None
    interrupted: bool = False


class WorkerProcess:
    """The parent's handle on one worker process. ``task`` is the task message it holds (None when
    idle); ``since`` is when it was given that task, or when it was spawned [``time.monotonic``]."""

    #: seconds between checks while waiting asynchronously
    poll_s = 0.2

    def __init__(self, name: str, startup_json: bytes, *, die_with_parent: bool = False,
                 start_timeout_s: float = 120.0) -> None:
        self.name = name
        self.startup_json = startup_json
        self.die_with_parent = die_with_parent
        self.start_timeout_s = start_timeout_s
        self._ctx = mp.get_context("spawn")
        self._process: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self.ready = False
        self.task: bytes | None = None
        self.since = 0.0

    # -- synchronous API ---------------------------------------------------------------------
    def spawn(self) -> None:
        """Start the child (a fresh one, after ``close``). The payload follows with ``send_startup``."""
        parent, child = self._ctx.Pipe()
        self._process = self._ctx.Process(target=_worker_main, args=(child, self.name, self.die_with_parent),
                                          name=self.name, daemon=True)
        self._process.start()
        child.close()
        self._conn = parent
        self.ready, self.task, self.since = False, None, time.monotonic()

    def send_startup(self) -> None:
        """Send the startup payload (waits until the child has imported the main module)."""
        assert self._conn is not None and self._process is not None, "spawn() first"
        try:
            self._conn.send_bytes(self.startup_json)
        except OSError:  # BrokenPipeError: the child died before it read the payload
            self._process.join()
            raise WorkerStartError(self.startup_failure()) from None

    @property
    def waitables(self) -> list[Any]:
        """Objects for ``multiprocessing.connection.wait``: ready when the child answers or dies."""
        assert self._conn is not None and self._process is not None, "spawn() first"
        return [self._conn, self._process.sentinel]

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def exitcode(self) -> int | None:
        return None if self._process is None else self._process.exitcode

    def startup_failure(self) -> str:
        return (f"{self.name} exited with code {self.exitcode} during start-up (its error is printed above; "
                "a script that starts a scan must do so under `if __name__ == '__main__':`, because "
                "workers are spawned processes that import the main module)")

    def give(self, task: bytes) -> None:
        """Send one task message (a dead child is found by ``alive``)."""
        assert self._conn is not None
        self.task, self.since = task, time.monotonic()
        with contextlib.suppress(OSError):
            self._conn.send(task)

    def receive(self) -> tuple[str, Any] | None:
        """The answer to the task held, if one is waiting: ``("result", bytes)`` or
        ``("error", str)`` (the worker is then idle). Notes the ``ready`` message; raises
        WorkerStartError when the reco could not be built."""
        assert self._conn is not None
        try:
            while self._conn.poll():
                kind, payload = self._conn.recv()
                if kind == "ready":
                    self.ready = True
                    continue
                if not self.ready:
                    raise WorkerStartError(f"{self.name} could not start: {payload}")
                self.task = None
                return kind, payload
        except (EOFError, OSError):
            pass  # the child died: found by ``alive``
        return None

    def check_start(self) -> None:
        """Raise WorkerStartError if the child died while starting or takes too long to start."""
        if self.ready:
            return
        if not self.alive:
            assert self._process is not None
            self._process.join()
            raise WorkerStartError(self.startup_failure())
        if time.monotonic() - self.since > self.start_timeout_s:
            raise WorkerStartError(f"{self.name} did not start within {self.start_timeout_s:g} s")

    def overdue(self, time_limit_s: float | None) -> bool:
        """True when the task held has run for more than ``time_limit_s`` seconds."""
        return self.task is not None and time_limit_s is not None and time.monotonic() - self.since > time_limit_s

    def stop(self) -> None:
        """Ask the child to exit after its current task."""
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)

    def close(self, wait_s: float = 1.0) -> None:
        """Ask the child to exit; kill it if it is still there after ``wait_s`` seconds."""
        if self._process is None or self._conn is None:
            return
        self.stop()
        self._process.join(wait_s)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()
        self._process = self._conn = None
        self.ready, self.task = False, None

    # -- asyncio API (one worker, supervised from an event loop) -----------------------------
    async def _wait(self) -> None:
        await asyncio.to_thread(wait, self.waitables, self.poll_s)

    async def start(self) -> None:
        """Spawn the child, send the startup payload and wait until its reco is built."""
        self.spawn()
        try:
            self.send_startup()
            while not self.ready:
                await self._wait()
                self.receive()
                self.check_start()
        except WorkerStartError:
            self.close(wait_s=0)
            raise

    async def run(self, body: bytes, time_limit_s: float | None, abandon: Callable[[], bool],
                  heartbeat: Callable[[], Awaitable[None]], heartbeat_s: float | None) -> Outcome:
        """Fit one task message. ``abandon()`` turning true (a stop past its grace time) kills the
        fit; ``heartbeat`` is awaited every ``heartbeat_s`` seconds while it runs. A child that dies
        or runs past ``time_limit_s`` is replaced by a new one."""
        self.give(body)
        next_beat = self.since + (heartbeat_s or 0.0)
        while True:
            await self._wait()
            answer = self.receive()
            if answer is not None:
                kind, payload = answer
                return Outcome(result=payload) if kind == "result" else Outcome(failure=f"reco error: {payload}")
            if abandon():
                self.close(wait_s=0)
                return Outcome(interrupted=True)
            if not self.alive:
                return await self._replace(f"reco process died (exit code {self.exitcode})")
            if self.overdue(time_limit_s):
                return await self._replace(f"task time limit of {time_limit_s:g} s exceeded")
            if heartbeat_s and time.monotonic() >= next_beat:
                await heartbeat()
                next_beat += heartbeat_s

    async def _replace(self, reason: str) -> Outcome:
        LOGGER.warning("%s: %s; starting a new reco process", self.name, reason)
        self.close(wait_s=0)
        await self.start()
        return Outcome(failure=reason)
