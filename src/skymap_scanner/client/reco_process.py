"""The client's reco runs in a child process, so that a fit that hangs or crashes can be killed and
replaced while the parent keeps its broker connection (and its heartbeats) alive."""

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

# the embedded transport's worker: build the reco from the startup, then answer task messages
from skymap_scanner.transport.embedded import _worker_main

LOGGER = logging.getLogger(__name__)


def _child_main(conn: Connection, name: str) -> None:
    """The reco process: ask Linux to kill it when the client dies (a hung fit must not outlive a
    SIGKILLed client), then serve tasks like an embedded worker (start-up payload first)."""
    with contextlib.suppress(OSError, AttributeError):  # prctl is Linux-only
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    _worker_main(conn, name)


class RecoStartError(RuntimeError):
    """The reco could not be built from the startup payload (bad options, bad event, ...)."""


@dataclass(frozen=True)
class Outcome:
    """How one task went: a result message, or why the attempt failed, or interrupted by a stop."""

    result: bytes | None = None
    failure: str | None = None
    interrupted: bool = False


class RecoProcess:
    """One child process holding the scan's reco; ``run`` sends it a task and supervises it."""

    poll_s = 0.2

    def __init__(self, startup_json: bytes, name: str, start_timeout_s: float = 120.0) -> None:
        self.startup_json = startup_json
        self.name = name
        self.start_timeout_s = start_timeout_s
        self._ctx = mp.get_context("spawn")
        self._process: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None

    async def start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._process = self._ctx.Process(target=_child_main, args=(child, self.name),
                                          name=f"reco-{self.name}", daemon=True)
        self._process.start()
        child.close()
        self._conn = parent
        with contextlib.suppress(OSError):  # a child that died before reading it is found below
            parent.send_bytes(self.startup_json)
        deadline = time.monotonic() + self.start_timeout_s
        while (message := await self._receive(self.poll_s)) is None:
            if not self._process.is_alive():
                raise RecoStartError(f"reco process exited with code {self._process.exitcode} during start-up")
            if time.monotonic() > deadline:
                self.close()
                raise RecoStartError(f"reco process did not start within {self.start_timeout_s:g} s")
        if message[0] != "ready":
            self.close()
            raise RecoStartError(f"reco could not start: {message[1]}")

    async def _receive(self, timeout: float) -> tuple[str, Any] | None:
        """The child's next message, or None if nothing came within ``timeout`` (or it died)."""
        assert self._conn is not None and self._process is not None
        await asyncio.to_thread(wait, [self._conn, self._process.sentinel], timeout)
        try:
            return self._conn.recv() if self._conn.poll() else None
        except (EOFError, OSError):
            return None

    async def run(self, body: bytes, time_limit: float | None, abandon: Callable[[], bool],
                  heartbeat: Callable[[], Awaitable[None]], heartbeat_s: float | None) -> Outcome:
        """Fit one task message. ``abandon()`` turning true (a stop past its grace time) kills the
        fit; ``heartbeat`` is awaited every ``heartbeat_s`` seconds while it runs."""
        assert self._conn is not None and self._process is not None
        start = time.monotonic()
        next_beat = start + (heartbeat_s or 0.0)
        with contextlib.suppress(OSError):  # a dead child is found below
            self._conn.send(body)
        while True:
            message = await self._receive(self.poll_s)
            if message is not None:
                kind, payload = message
                return Outcome(result=payload) if kind == "result" else Outcome(failure=f"reco error: {payload}")
            if abandon():
                self.close(wait_s=0)
                return Outcome(interrupted=True)
            if not self._process.is_alive():
                return await self._replace(f"reco process died (exit code {self._process.exitcode})")
            if time_limit is not None and time.monotonic() - start > time_limit:
                return await self._replace(f"task time limit of {time_limit:g} s exceeded")
            if heartbeat_s and time.monotonic() >= next_beat:
                await heartbeat()
                next_beat += heartbeat_s

    async def _replace(self, reason: str) -> Outcome:
        LOGGER.warning("%s: %s; starting a new reco process", self.name, reason)
        self.close(wait_s=0)
        await self.start()
        return Outcome(failure=reason)

    def close(self, wait_s: float = 1.0) -> None:
        """Ask the child to exit; kill it if it is still there after ``wait_s`` seconds."""
        if self._process is None or self._conn is None:
            return
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(wait_s)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()
        self._process = self._conn = None
