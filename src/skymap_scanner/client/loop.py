"""The client loop, the same for every broker.

Fetch the scan's startup payload (MAC- and hash-verified), build the reco in a child process, then
take one task at a time: fit it, publish the result, and only then acknowledge the task
(at-least-once). Every task must carry a valid MAC under the session's scan key
(``transport.auth``); one that does not is logged, acknowledged and dropped (``stats["unauthenticated"]``).
Results and re-published tasks are sealed with the same key.

Attempts are counted in the task message (``Task.attempt``) plus the broker's count of earlier
unacknowledged deliveries. A delivery that was delivered before (its client died holding it) is
not fitted again as it is: its variations are re-published as single-variation tasks with the next
attempt number, so that a poison pixel fails alone — or, after ``max_attempts``, answered with a
result that reports every variation as failed, so the scan always ends (``transport.retry``). A
fit that crashes the reco process or exceeds the task time limit counts as a failed attempt the
same way. A reco that raises is not retried: the runner reports those variations as failed.

SIGTERM/SIGINT: take no new task, finish the current one within the grace time, or else kill it
and hand the task back to the queue (re-published with the same attempt number, then acknowledged).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from collections import Counter
from dataclasses import dataclass, field, replace

from skymap_scanner.transport.auth import AuthError, open_sealed, seal
from skymap_scanner.transport.messages import MessageError, Task, decode_task, encode_result, encode_task
from skymap_scanner.transport.retry import retry_or_give_up
from skymap_scanner.transport.session import ClientSession, Delivery
from skymap_scanner.transport.worker import WorkerProcess

LOGGER = logging.getLogger(__name__)


class ClientError(RuntimeError):
    """The client cannot serve this scan."""


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class ClientOptions:
    name: str = field(default_factory=default_name)
    task_time_limit_s: float | None = None
    max_attempts: int = 3
    startup_timeout_s: float = 600.0
    shutdown_grace_s: float = 30.0
    poll_s: float = 0.5


class ScanClient:
    """Serves one scan through ``session`` until the scan is over or a stop is requested."""

    def __init__(self, session: ClientSession, options: ClientOptions) -> None:
        self.session = session
        self.options = options
        self.scan_id = session.scan_id
        #: tasks, variations, redelivered, retried, given_up, handed_back, rejected, unauthenticated
        self.stats: Counter[str] = Counter()
        self._stop_at: float | None = None
        self._grace = options.shutdown_grace_s

    # -- stopping ----------------------------------------------------------------------------
    def request_stop(self) -> None:
        """First call: finish the current task (within the grace time), then stop. Again: now."""
        if self._stop_at is not None:
            self._grace = 0.0
        self._stop_at = time.monotonic()
        LOGGER.info("scan %s: %s stopping (grace %.0f s for the current task)", self.scan_id,
                    self.options.name, self._grace)

    @property
    def stopping(self) -> bool:
        return self._stop_at is not None

    def _abandon(self) -> bool:
        return self._stop_at is not None and time.monotonic() - self._stop_at >= self._grace

    # -- main --------------------------------------------------------------------------------
    async def run(self) -> Counter[str]:
        await self.session.open()
        try:
            startup = await self.session.wait_startup(self.options.startup_timeout_s)
            if startup is None:
                LOGGER.info("scan %s: already over, nothing to do", self.scan_id)
            elif startup.scan_id != self.scan_id:
                raise ClientError(f"startup payload of scan {startup.scan_id!r}, expected {self.scan_id!r}")
            else:
                await self._serve(startup.to_json())
        finally:
            await self.session.close()
        LOGGER.info("scan %s: %s stops: %s", self.scan_id, self.options.name, dict(self.stats))
        return self.stats

    async def _serve(self, startup_json: bytes) -> None:
        reco = WorkerProcess(self.options.name, startup_json, die_with_parent=True)
        await reco.start()
        try:
            await self.session.start_consuming()
            LOGGER.info("scan %s: %s ready for tasks", self.scan_id, self.options.name)
            while not self.stopping and not self.session.done:
                delivery = await self.session.next_task(self.options.poll_s)
                if delivery is not None:
                    await self._handle(delivery, reco)
            if not self.session.done:
                await self._hand_back_unstarted()
        finally:
            reco.close()

    async def _hand_back_unstarted(self) -> None:
        await self.session.stop_consuming()
        while (delivery := await self.session.next_task(0)) is not None:
            accepted = await self._accept(delivery)
            if accepted is not None:
                task = accepted[0]
                await self._hand_back(task, task.attempt + delivery.previous, delivery)

    # -- one task ----------------------------------------------------------------------------
    async def _accept(self, delivery: Delivery) -> tuple[Task, bytes] | None:
        """The task in the message and its body without the MAC, or None (unauthenticated, malformed
        or another scan's: logged, acknowledged and dropped)."""
        try:
            body = open_sealed(self.session.key, self.scan_id, "task", delivery.body)
            task = decode_task(body)
        except AuthError as e:
            self.stats["unauthenticated"] += 1
            LOGGER.error("scan %s: dropped a task message (%d bytes): %s (%d so far)", self.scan_id,
                         len(delivery.body), e, self.stats["unauthenticated"])
            await self._ack(delivery)
            return None
        except MessageError as e:
            LOGGER.error("scan %s: dropped a malformed task message (%d bytes): %s", self.scan_id,
                         len(delivery.body), e)
        else:
            if task.scan_id == self.scan_id:
                return task, body
            LOGGER.error("scan %s: dropped task %s of scan %r", self.scan_id, task.task_id, task.scan_id)
        self.stats["rejected"] += 1
        await self._ack(delivery)
        return None

    async def _publish_result(self, body: bytes) -> None:
        await self.session.publish_result(seal(self.session.key, self.scan_id, "result", body))

    async def _publish_task(self, body: bytes) -> None:
        await self.session.publish_task(seal(self.session.key, self.scan_id, "task", body))

    async def _handle(self, delivery: Delivery, reco: WorkerProcess) -> None:
        accepted = await self._accept(delivery)
        if accepted is None:
            return
        task, body = accepted
        attempt = task.attempt + delivery.previous
        if delivery.previous:
            self.stats["redelivered"] += 1
            LOGGER.warning("scan %s task %s: delivered %d time(s) before and never answered (a client died?)",
                           self.scan_id, task.task_id, delivery.previous)
            await self._retry_or_give_up(task, attempt - 1, "the client holding it died")
            await self._ack(delivery)
            return
        start = time.monotonic()
        outcome = await reco.run(body, self.options.task_time_limit_s, self._abandon,
                                 lambda: self.session.in_progress(delivery), self.session.heartbeat_s)
        if outcome.interrupted:
            await self._hand_back(task, attempt, delivery)
            return
        if outcome.result is not None:
            await self._publish_result(outcome.result)
            self.stats["tasks"] += 1
            self.stats["variations"] += len(task.items)
            LOGGER.info("scan %s task %s: %d variation(s), attempt %d, %.3f s", self.scan_id, task.task_id,
                        len(task.items), attempt, time.monotonic() - start)
        else:
            await self._retry_or_give_up(task, attempt, outcome.failure or "unknown failure")
        await self._ack(delivery)

    async def _ack(self, delivery: Delivery) -> None:
        """Acknowledge; when stopping, first stop the broker from sending the next task."""
        if self.stopping:
            await self.session.stop_consuming()
        await self.session.ack(delivery)

    async def _retry_or_give_up(self, task: Task, failed_attempt: int, reason: str) -> None:
        retries, result = retry_or_give_up(task, failed_attempt, self.options.max_attempts, reason,
                                           self.options.name)
        if result is not None:
            self.stats["given_up"] += 1
            LOGGER.error("scan %s task %s: attempt %d failed (%s): giving up on %d variation(s)",
                         self.scan_id, task.task_id, failed_attempt, reason, len(task.items))
            await self._publish_result(encode_result(result))
        for retry in retries:
            await self._publish_task(encode_task(retry))
        if retries:
            self.stats["retried"] += 1
            LOGGER.warning("scan %s task %s: attempt %d failed (%s): re-sent as %d single-variation task(s)",
                           self.scan_id, task.task_id, failed_attempt, reason, len(retries))

    async def _hand_back(self, task: Task, attempt: int, delivery: Delivery) -> None:
        await self._publish_task(encode_task(replace(task, attempt=attempt)))
        await self._ack(delivery)
        self.stats["handed_back"] += 1
        LOGGER.info("scan %s task %s: handed back to the queue (stopping)", self.scan_id, task.task_id)


async def serve_scan(session: ClientSession, options: ClientOptions) -> Counter[str]:
    """Run a client until the scan is over; SIGTERM/SIGINT stop it cleanly."""
    client = ScanClient(session, options)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, client.request_stop)
    try:
        return await client.run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
