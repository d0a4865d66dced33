"""An in-memory broker and its client session: the client loop without a broker (for tests).

:class:`MemoryBroker` behaves like one scan on a broker: a control payload (the startup while the
scan runs, then a done marker), a task queue that counts, per message, the deliveries never
acknowledged (RabbitMQ's ``x-delivery-count``), and the results published. A
:class:`MemorySession` holds up to ``prefetch`` unacknowledged tasks; closing it returns them to
the front of the queue, counted as one more unacknowledged delivery (as when a client dies).
Everything runs in one event loop: no locking.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from skymap_scanner.transport.auth import ScanKey, seal
from skymap_scanner.transport.broker import done_marker, parse_control
from skymap_scanner.transport.session import ClientSession, Delivery
from skymap_scanner.transport.startup import Startup

#: seconds between looks at the broker while waiting
POLL_S = 0.01


@dataclass(eq=False)
class QueuedTask:
    """A task message and how often it was delivered before without an acknowledgement."""

    body: bytes
    previous: int = 0


class MemoryBroker:
    """One scan's queues in memory. ``over`` once ``finish`` ran (the work queues are gone)."""

    def __init__(self, key: ScanKey | None = None) -> None:
        #: the scan's secret: seals the control payload (tests seal their task messages with it)
        self.key = key
        self.control: bytes | None = None
        self.tasks: deque[QueuedTask] = deque()
        self.results: list[bytes] = []
        #: every task message published, by the server or by clients, in order
        self.published: list[bytes] = []
        self.over = False

    def start(self, startup: Startup) -> None:
        """Publish the startup payload (the server's start)."""
        self.control = seal(self.key, startup.scan_id, "control", startup.to_json())

    def publish_task(self, body: bytes, previous: int = 0) -> None:
        """Queue a task message; ``previous`` > 0 makes it look like a redelivery of a lost task."""
        if not self.over:
            self.tasks.append(QueuedTask(body, previous))
            self.published.append(body)

    def finish(self, scan_id: str) -> None:
        """End the scan: done marker instead of the startup, work queues deleted."""
        self.control = done_marker(scan_id, self.key)
        self.tasks.clear()
        self.over = True

    def task_bodies(self) -> list[bytes]:
        return [t.body for t in self.tasks]


class MemorySession(ClientSession):
    """A client's session with a MemoryBroker (``prefetch`` tasks delivered ahead at most)."""

    def __init__(self, broker: MemoryBroker, scan_id: str, prefetch: int = 1,
                 heartbeat_s: float | None = None) -> None:
        super().__init__(scan_id, broker.key)
        self.broker = broker
        self.prefetch = prefetch
        self.heartbeat_s = heartbeat_s
        #: ``in_progress`` calls seen
        self.heartbeats = 0
        self._consuming = False
        self._buffer: deque[QueuedTask] = deque()
        self._unacked: list[QueuedTask] = []

    async def open(self) -> None:
        pass

    async def wait_startup(self, timeout: float) -> Startup | None:
        deadline = time.monotonic() + timeout
        while self.broker.control is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no startup payload for scan {self.scan_id} within {timeout:g} s")
            await asyncio.sleep(POLL_S)
        return parse_control(self.broker.control, self.scan_id, self.key)

    async def start_consuming(self) -> None:
        self.done = self.broker.over
        self._consuming = not self.done

    async def stop_consuming(self) -> None:
        self._consuming = False

    def _fill(self) -> None:
        """Deliver queued tasks up to the prefetch limit (what a broker pushes to its consumer)."""
        while self._consuming and self.broker.tasks and len(self._unacked) < self.prefetch:
            task = self.broker.tasks.popleft()
            self._unacked.append(task)
            self._buffer.append(task)

    async def next_task(self, timeout: float) -> Delivery | None:
        deadline = time.monotonic() + timeout
        while True:
            self._fill()
            if self._buffer:
                task = self._buffer.popleft()
                return Delivery(task.body, task.previous, task)
            if self.broker.over:
                self.done = True
                return None
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(POLL_S)

    async def publish_result(self, body: bytes) -> None:
        if self.broker.over:
            self.done = True
        else:
            self.broker.results.append(body)

    async def publish_task(self, body: bytes) -> None:
        if self.broker.over:
            self.done = True
        else:
            self.broker.publish_task(body)

    async def ack(self, delivery: Delivery) -> None:
        self._unacked.remove(delivery.handle)
        self._fill()

    async def in_progress(self, delivery: Delivery) -> None:
        self.heartbeats += 1

    async def close(self) -> None:
        """Unacknowledged tasks go back to the front of the queue, one delivery more each."""
        for task in reversed(self._unacked if not self.broker.over else []):
            task.previous += 1
            self.broker.tasks.appendleft(task)
        self._unacked.clear()
        self._buffer.clear()
        self._consuming = False
