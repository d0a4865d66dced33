"""RabbitMQ transport (aio-pika): server side and client session.

Per scan id ``ID`` (several scans can share a broker):

- ``skyscan.ID.startup`` — classic queue holding one message (``x-max-length`` 1, drop-head): the
  startup payload while the scan runs, replaced by a done marker when it ends. Clients read it with
  ``basic.get`` and put it back, so clients may start before or after the server. It expires after
  a week without use.
- ``skyscan.ID.tasks``, ``skyscan.ID.results`` — durable quorum queues, persistent messages,
  publisher confirms. Quorum queues count returns of a message (``x-delivery-count``), which is how
  a client knows the task it got was held by a client that died. RabbitMQ returns a dead
  consumer's unacknowledged messages at once.

Clients consume tasks with prefetch 1 and acknowledge a task only after its result is confirmed.
When the scan ends the server publishes the done marker and deletes the work queues; the
broker's consumer cancellation tells running clients to stop.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue
from aio_pika.exceptions import ChannelNotFoundEntity, PublishError

from skymap_scanner.transport.auth import ScanKey
from skymap_scanner.transport.base import TransportError
from skymap_scanner.transport.broker import (
    PUBLISH_WINDOW,
    BrokerConfig,
    BrokerServerTransport,
    check_scan_id,
    parse_control,
)
from skymap_scanner.transport.session import ClientSession, Delivery
from skymap_scanner.transport.startup import Startup

LOGGER = logging.getLogger(__name__)

WORK_QUEUE_ARGS: dict[str, Any] = {"x-queue-type": "quorum"}
STARTUP_QUEUE_ARGS: dict[str, Any] = {"x-max-length": 1, "x-overflow": "drop-head",
                                      "x-expires": 7 * 24 * 3600 * 1000}
#: unacknowledged results the server may hold
RESULT_PREFETCH = 1000
STARTUP_POLL_S = 0.5


@dataclass(frozen=True)
class QueueNames:
    startup: str
    tasks: str
    results: str

    @classmethod
    def for_scan(cls, scan_id: str) -> QueueNames:
        prefix = f"skyscan.{check_scan_id(scan_id)}"
        return cls(f"{prefix}.startup", f"{prefix}.tasks", f"{prefix}.results")


async def connect(config: BrokerConfig, role: str) -> AbstractConnection:
    return await aio_pika.connect(config.url_with_credentials(), ssl_context=config.ssl_context(),
                                  timeout=config.connect_timeout_s,
                                  client_properties={"connection_name": f"skymap-scanner {role}"})


async def declare_startup_queue(channel: AbstractChannel, names: QueueNames) -> AbstractQueue:
    return await channel.declare_queue(names.startup, durable=True, arguments=STARTUP_QUEUE_ARGS)


async def publish(channel: AbstractChannel, queue: str, body: bytes) -> None:
    """Persistent, mandatory, confirmed (raises PublishError when no queue takes it)."""
    message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=uuid.uuid4().hex)
    await channel.default_exchange.publish(message, routing_key=queue, mandatory=True)


class RabbitMQServerTransport(BrokerServerTransport):
    """The scan server's side of a RabbitMQ scan."""

    def __init__(self, config: BrokerConfig, key: ScanKey | None) -> None:
        super().__init__(config, key)
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._names = QueueNames("", "", "")
        self._results_queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._closing = False

    async def _open(self, control: bytes) -> None:
        self._names = QueueNames.for_scan(self.scan_id)
        self._connection = await connect(self.config, f"server {self.scan_id}")
        self._connection.close_callbacks.add(self._on_close)
        self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        await self._channel.set_qos(prefetch_count=RESULT_PREFETCH)
        await declare_startup_queue(self._channel, self._names)
        await self._channel.declare_queue(self._names.tasks, durable=True, arguments=WORK_QUEUE_ARGS)
        self._results_queue = await self._channel.declare_queue(self._names.results, durable=True,
                                                                arguments=WORK_QUEUE_ARGS)
        self._consumer_tag = await self._results_queue.consume(self._on_result)
        await publish(self._channel, self._names.startup, control)

    async def _on_result(self, message: AbstractIncomingMessage) -> None:
        self._deliver(message.body)
        await message.ack()

    def _on_close(self, _sender: Any, exc: BaseException | None = None) -> None:
        if not self._closing:
            self._fail(f"{type(exc).__name__}: {exc}" if exc else "closed by the broker")

    async def _publish(self, tasks: list[bytes]) -> None:
        assert self._channel is not None
        for start in range(0, len(tasks), PUBLISH_WINDOW):
            await asyncio.gather(*(publish(self._channel, self._names.tasks, t)
                                   for t in tasks[start:start + PUBLISH_WINDOW]))

    async def _finish(self, done: bytes) -> None:
        self._closing = True
        if self._connection is None or self._channel is None:
            return
        try:
            await publish(self._channel, self._names.startup, done)
            if self._results_queue is not None and self._consumer_tag is not None:
                await self._results_queue.cancel(self._consumer_tag)
            for name in (self._names.tasks, self._names.results):
                await self._channel.queue_delete(name)
        finally:
            await self._connection.close()


class RabbitMQClientSession(ClientSession):
    """A client's connection to one RabbitMQ scan."""

    def __init__(self, config: BrokerConfig, scan_id: str, key: ScanKey | None) -> None:
        if key is None:
            raise TransportError("a broker client needs the scan secret (--scan-secret-file or SKYSCAN_SCAN_SECRET)")
        super().__init__(check_scan_id(scan_id), key)
        self.config = config
        self.names = QueueNames.for_scan(scan_id)
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._tasks: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._buffer: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

    @property
    def channel(self) -> AbstractChannel:
        assert self._channel is not None, "open() first"
        return self._channel

    async def open(self) -> None:
        self._connection = await connect(self.config, f"client {self.scan_id}")
        self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
        await self._channel.set_qos(prefetch_count=1)

    async def wait_startup(self, timeout: float) -> Startup | None:
        queue = await declare_startup_queue(self.channel, self.names)
        deadline = time.monotonic() + timeout
        while (message := await queue.get(no_ack=False, fail=False)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no startup payload for scan {self.scan_id} on {self.config.redacted_url} "
                                   f"within {timeout:g} s (is the server running?)")
            await asyncio.sleep(STARTUP_POLL_S)
        body = message.body
        await message.nack(requeue=True)
        return parse_control(body, self.scan_id, self.key)

    async def start_consuming(self) -> None:
        try:
            self._tasks = await self.channel.get_queue(self.names.tasks, ensure=True)
        except ChannelNotFoundEntity:
            self.done = True  # deleted: the scan ended meanwhile
            return
        underlay = await self.channel.get_underlay_channel()
        underlay.on_consumer_cancel_callbacks.add(self._on_cancel)
        self._consumer_tag = await self._tasks.consume(self._buffer.put)

    def _on_cancel(self, _frame: Any) -> None:
        LOGGER.info("scan %s: task queue deleted: the scan is over", self.scan_id)
        self.done = True

    async def stop_consuming(self) -> None:
        if self._tasks is not None and self._consumer_tag is not None:
            await self._tasks.cancel(self._consumer_tag)
            self._consumer_tag = None
            await asyncio.sleep(0.05)  # deliveries that arrived before the cancel reach the buffer

    async def next_task(self, timeout: float) -> Delivery | None:
        try:
            if timeout <= 0:
                message = self._buffer.get_nowait()
            else:
                message = await asyncio.wait_for(self._buffer.get(), timeout)
        except (asyncio.QueueEmpty, TimeoutError):
            return None
        count = (message.headers or {}).get("x-delivery-count")
        previous = int(count) if isinstance(count, int) else int(bool(message.redelivered))
        return Delivery(message.body, previous, message)

    async def _publish(self, queue: str, body: bytes) -> None:
        try:
            await publish(self.channel, queue, body)
        except PublishError:
            LOGGER.info("scan %s: queue %s is gone: the scan is over", self.scan_id, queue)
            self.done = True

    async def publish_result(self, body: bytes) -> None:
        await self._publish(self.names.results, body)

    async def publish_task(self, body: bytes) -> None:
        await self._publish(self.names.tasks, body)

    async def ack(self, delivery: Delivery) -> None:
        await delivery.handle.ack()

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = self._channel = None
