"""NATS JetStream transport (nats-py): server side and client session.

Per scan id ``ID`` (``T`` = ID with ``_`` → ``__`` and ``.`` → ``_d``, an injective encoding into
the characters NATS allows in stream names):

- stream ``SKYSCAN_T`` (work-queue retention, file storage) with subjects ``skyscan.T.tasks`` and
  ``skyscan.T.results``; durable pull consumers ``workers`` (tasks; explicit ack, ``ack_wait``)
  and ``server`` (results). Clients fetch one task at a time and send ``in_progress`` heartbeats
  every ``ack_wait``/3 while fitting. JetStream redelivers a task whose client died only after
  ``ack_wait``; ``num_delivered`` tells the next client how often it was delivered before.
  No ``max_deliver`` is set: a message that reached it would stay in the stream unanswered and
  stall the scan; attempts are bounded by the client loop instead.
- object store bucket ``SKYSCAN_CONTROL`` (shared by all scans, objects expire after a week):
  object ``ID`` holds the startup payload while the scan runs (chunked, so larger than the
  1 MiB message limit is fine), replaced by a done marker when it ends.

When the scan ends the server writes the done marker and deletes the stream; idle clients notice
that the ``workers`` consumer is gone and stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, ObjectStoreConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

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

CONTROL_BUCKET = "SKYSCAN_CONTROL"
CONTROL_TTL_S = 7 * 24 * 3600.0
WORKERS, SERVER = "workers", "server"
RESULT_BATCH = 256
RESULT_ACK_WAIT_S = 60.0
MAX_ACK_PENDING = 10_000
STARTUP_POLL_S = 0.5


def _token(scan_id: str) -> str:
    return check_scan_id(scan_id).replace("_", "__").replace(".", "_d")


@dataclass(frozen=True)
class StreamNames:
    stream: str
    tasks: str
    results: str

    @classmethod
    def for_scan(cls, scan_id: str) -> StreamNames:
        token = _token(scan_id)
        return cls(f"SKYSCAN_{token}", f"skyscan.{token}.tasks", f"skyscan.{token}.results")


async def connect(config: BrokerConfig, role: str, **callbacks: object) -> Client:
    """Connect, failing after ``connect_timeout_s`` (nats-py alone retries a first connection for
    minutes) with the last error seen."""
    errors: list[Exception] = []

    async def on_error(e: Exception) -> None:
        errors.append(e)
        LOGGER.warning("nats (%s): %s: %s", role, type(e).__name__, e)

    connecting = nats.connect(servers=[config.url_with_credentials()], tls=config.ssl_context(),
                              connect_timeout=int(max(1, config.connect_timeout_s)), error_cb=on_error,
                              name=f"skymap-scanner {role}", **callbacks)  # type: ignore[arg-type]
    try:
        return await asyncio.wait_for(connecting, config.connect_timeout_s)
    except TimeoutError:
        why = f"{type(errors[-1]).__name__}: {errors[-1]}" if errors else "no answer"
        raise ConnectionError(f"no connection within {config.connect_timeout_s:g} s ({why})") from None


async def control_store(js: JetStreamContext) -> ObjectStore:
    """The shared bucket of startup payloads and done markers (created on first use)."""
    try:
        return await js.object_store(CONTROL_BUCKET)
    except BucketNotFoundError:
        pass
    with contextlib.suppress(BadRequestError):  # created meanwhile by someone else
        return await js.create_object_store(CONTROL_BUCKET, ObjectStoreConfig(ttl=CONTROL_TTL_S,
                                                                              storage=StorageType.FILE))
    return await js.object_store(CONTROL_BUCKET)


async def ensure_stream(js: JetStreamContext, names: StreamNames) -> None:
    config = StreamConfig(name=names.stream, subjects=[names.tasks, names.results],
                          retention=RetentionPolicy.WORK_QUEUE, storage=StorageType.FILE)
    try:
        await js.add_stream(config)
    except BadRequestError:  # exists with other settings (an older server of this scan)
        await js.update_stream(config)


async def ensure_consumer(js: JetStreamContext, stream: str, name: str, subject: str, ack_wait: float) -> None:
    config = ConsumerConfig(durable_name=name, ack_policy=AckPolicy.EXPLICIT, ack_wait=ack_wait,
                            filter_subject=subject, max_ack_pending=MAX_ACK_PENDING, max_deliver=-1)
    try:
        await js.add_consumer(stream, config)
    except BadRequestError:  # exists with other settings: replace it (unacked tasks stay in the stream)
        await js.delete_consumer(stream, name)
        await js.add_consumer(stream, config)


class NatsServerTransport(BrokerServerTransport):
    """The scan server's side of a NATS JetStream scan."""

    def __init__(self, config: BrokerConfig, key: ScanKey | None) -> None:
        super().__init__(config, key)
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._names = StreamNames("", "", "")
        self._pump: asyncio.Task[None] | None = None
        self._closing = False

    async def _open(self, control: bytes) -> None:
        self._names = StreamNames.for_scan(self.scan_id)
        self._nc = await connect(self.config, f"server {self.scan_id}", closed_cb=self._on_closed)
        self._js = js = self._nc.jetstream()
        await ensure_stream(js, self._names)
        await ensure_consumer(js, self._names.stream, WORKERS, self._names.tasks, self.config.ack_wait_s)
        await ensure_consumer(js, self._names.stream, SERVER, self._names.results, RESULT_ACK_WAIT_S)
        results = await js.pull_subscribe_bind(SERVER, self._names.stream)
        await (await control_store(js)).put(self.scan_id, control)
        self._pump = asyncio.create_task(self._pump_results(results))

    async def _on_closed(self) -> None:
        if not self._closing:
            self._fail("connection closed")

    async def _pump_results(self, results: JetStreamContext.PullSubscription) -> None:
        while True:
            try:
                messages = await results.fetch(RESULT_BATCH, timeout=1.0)
            except TimeoutError:  # nats-py raises its own or asyncio's, depending on where it waited
                continue
            except Exception as e:  # noqa: BLE001 - reported through receive()
                self._fail(f"fetching results: {type(e).__name__}: {e}")
                return
            for message in messages:
                self._deliver(message.data)
                await message.ack()

    async def _publish(self, tasks: list[bytes]) -> None:
        assert self._js is not None
        js, names = self._js, self._names
        for start in range(0, len(tasks), PUBLISH_WINDOW):
            await asyncio.gather(*(js.publish(names.tasks, t, stream=names.stream)
                                   for t in tasks[start:start + PUBLISH_WINDOW]))

    async def _finish(self, done: bytes) -> None:
        self._closing = True
        if self._pump is not None:
            self._pump.cancel()
        if self._nc is None or self._js is None:
            return
        try:
            await (await control_store(self._js)).put(self.scan_id, done)
            await self._js.delete_stream(self._names.stream)
        finally:
            await self._nc.close()


class NatsClientSession(ClientSession):
    """A client's connection to one NATS JetStream scan."""

    def __init__(self, config: BrokerConfig, scan_id: str, key: ScanKey | None) -> None:
        if key is None:
            raise TransportError("a broker client needs the scan secret (--scan-secret-file or SKYSCAN_SCAN_SECRET)")
        super().__init__(check_scan_id(scan_id), key)
        self.config = config
        self.names = StreamNames.for_scan(scan_id)
        self._nc: Client | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._consuming = False

    @property
    def js(self) -> JetStreamContext:
        assert self._nc is not None, "open() first"
        return self._nc.jetstream()

    async def open(self) -> None:
        self._nc = await connect(self.config, f"client {self.scan_id}")

    async def wait_startup(self, timeout: float) -> Startup | None:
        store = await control_store(self.js)
        deadline = time.monotonic() + timeout
        while True:
            try:
                return parse_control((await store.get(self.scan_id)).data, self.scan_id, self.key)
            except ObjectNotFoundError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no startup payload for scan {self.scan_id} on "
                                       f"{self.config.redacted_url} within {timeout:g} s (is the server running?)"
                                       ) from None
                await asyncio.sleep(STARTUP_POLL_S)

    async def start_consuming(self) -> None:
        try:
            self._sub = await self.js.pull_subscribe_bind(WORKERS, self.names.stream)
            info = await self._sub.consumer_info()
        except NotFoundError:
            self.done = True  # deleted: the scan ended meanwhile
            return
        self.heartbeat_s = info.config.ack_wait / 3 if info.config.ack_wait else None
        self._consuming = True

    async def stop_consuming(self) -> None:
        self._consuming = False

    async def next_task(self, timeout: float) -> Delivery | None:
        if not self._consuming or timeout <= 0 or self._sub is None:
            return None
        try:
            message: Msg = (await self._sub.fetch(1, timeout=timeout))[0]
        except TimeoutError:
            await self._check_done()
            return None
        return Delivery(message.data, message.metadata.num_delivered - 1, message)

    async def _check_done(self) -> None:
        assert self._sub is not None
        try:
            await self._sub.consumer_info()
        except NotFoundError:
            LOGGER.info("scan %s: stream deleted: the scan is over", self.scan_id)
            self.done = True

    async def _publish(self, subject: str, body: bytes) -> None:
        try:
            await self.js.publish(subject, body, stream=self.names.stream)
        except (NotFoundError, nats.errors.NoRespondersError):
            LOGGER.info("scan %s: stream %s is gone: the scan is over", self.scan_id, self.names.stream)
            self.done = True

    async def publish_result(self, body: bytes) -> None:
        await self._publish(self.names.results, body)

    async def publish_task(self, body: bytes) -> None:
        await self._publish(self.names.tasks, body)

    async def ack(self, delivery: Delivery) -> None:
        await delivery.handle.ack()

    async def in_progress(self, delivery: Delivery) -> None:
        await delivery.handle.in_progress()

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.close()
            self._nc = None
