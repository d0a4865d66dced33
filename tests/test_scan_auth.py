"""Authenticated scans (issue 18, ask 1): every broker message carries an HMAC under the scan secret.

Reproductions: forged results for every pixel published before the first real one (finding 2a), a
self-consistent forged startup payload (2b), a forged done marker (2c), deeply nested JSON in a
message (1). A fake broker transport stands in for RabbitMQ/NATS (same base class, no broker)."""

import asyncio
import math
import os
import stat
import time

import pytest

from skymap_scanner.api import scan
from skymap_scanner.client.loop import ClientOptions, ScanClient
from skymap_scanner.pixels.types import RecoPixelVariation
from skymap_scanner.settings import Settings, SettingsError
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.transport import TransportError, create_client_session, create_server_transport
from skymap_scanner.transport.auth import AuthError, ScanKey, SecretError, client_secret, server_secret
from skymap_scanner.transport.broker import BrokerConfig, BrokerServerTransport, done_marker, parse_control
from skymap_scanner.transport.memory import MemoryBroker, MemorySession
from skymap_scanner.transport.messages import MessageError, Result, Task, decode_result, encode_result
from skymap_scanner.transport.startup import Startup, StartupError
from skymap_scanner.transport.worker import TaskRunner

pytestmark = pytest.mark.timeout(120)
KEY = ScanKey(b"a-scan-secret-for-tests-0123456789")
OTHER = ScanKey(b"another-secret-for-tests-987654321")
EVENT = synthetic_event(seed=2)
DEEP = b"[" * 100_000 + b"]" * 100_000


def test_seal_and_open_bind_secret_scan_and_channel():
    sealed = KEY.seal("s1", "task", b"body")
    assert KEY.open("s1", "task", sealed) == b"body"
    for key, scan_id, channel, data in [(OTHER, "s1", "task", sealed), (KEY, "s2", "task", sealed),
                                        (KEY, "s1", "result", sealed), (KEY, "s1", "task", b"body"),
                                        (KEY, "s1", "task", sealed[:-1] + b"x"), (KEY, "s1", "task", b"skymac1:")]:
        with pytest.raises(AuthError):
            key.open(scan_id, channel, data)
    with pytest.raises(SecretError, match="at least 16"):
        ScanKey(b"short")
    assert "secret" not in repr(KEY).split("(", 1)[1]


def test_deeply_nested_json_is_a_message_error():
    from skymap_scanner.transport.messages import decode_result, decode_task

    for decode in (decode_task, decode_result):
        with pytest.raises(MessageError, match="nested too deeply"):
            decode(DEEP)
    with pytest.raises(StartupError):
        parse_control(DEEP, "s1")
    with pytest.raises(StartupError):
        parse_control(KEY.seal("s1", "control", DEEP), "s1", KEY)


def test_forged_done_marker_and_forged_startup_are_refused():
    startup = Startup.create("s1", "dummy", EVENT)
    assert parse_control(KEY.seal("s1", "control", startup.to_json()), "s1", KEY).scan_id == "s1"
    assert parse_control(done_marker("s1", KEY), "s1", KEY) is None
    for forged in (done_marker("s1"), done_marker("s1", OTHER), startup.to_json(),
                   OTHER.seal("s1", "control", startup.to_json()), done_marker("s0", KEY)):
        with pytest.raises(StartupError, match="control payload rejected"):
            parse_control(forged, "s1", KEY)


def test_client_refuses_a_forged_done_marker():
    broker = MemoryBroker(KEY)
    broker.control = done_marker("s1")  # what an attacker with broker access publishes
    client = ScanClient(MemorySession(broker, "s1"), ClientOptions(name="c", poll_s=0.05))
    with pytest.raises(StartupError, match="no MAC"):
        asyncio.run(client.run())


def test_client_drops_unauthenticated_tasks_and_seals_its_results():
    broker = MemoryBroker(KEY)
    broker.start(Startup.create("s1", "dummy", EVENT))
    body = Task("s1", "t", 1, [_variation(1)])
    from skymap_scanner.transport.messages import encode_task

    broker.publish_task(encode_task(body))  # forged: no MAC
    broker.publish_task(OTHER.seal("s1", "task", encode_task(body)))  # wrong secret
    broker.publish_task(KEY.seal("s1", "task", encode_task(body)))

    async def run():
        client = ScanClient(MemorySession(broker, "s1"), ClientOptions(name="c", poll_s=0.05))
        task = asyncio.create_task(client.run())
        deadline = time.monotonic() + 60
        while not broker.results:
            assert time.monotonic() < deadline and not task.done()
            await asyncio.sleep(0.02)
        broker.finish("s1")
        await asyncio.wait_for(task, 30)
        return client.stats

    stats = asyncio.run(run())
    assert stats["unauthenticated"] == 2 and stats["tasks"] == 1
    (result,) = broker.results
    with pytest.raises(MessageError):
        decode_result(result)
    assert decode_result(KEY.open("s1", "result", result)).results[0].pixel_id == 1


def _variation(pixel):
    from skymap_scanner.pixels.types import PixelVariation

    return PixelVariation(8, pixel, 0, *([0.0] * 13))


class FakeBroker(BrokerServerTransport):
    """A broker transport without a broker: tasks are fitted in this process by a client that holds
    ``client_key``; before the first task, an attacker publishes ``forged`` results."""

    def __init__(self, key, client_key, forged=()):
        super().__init__(BrokerConfig("nats://127.0.0.1:1"), key)
        self.client_key = client_key
        self.forged = list(forged)
        self.runner = None

    async def _open(self, control):
        startup = parse_control(control, self.scan_id, self.client_key)
        self.runner = TaskRunner(startup, "fake-client")

    async def _publish(self, tasks):
        for body in self.forged:
            self._deliver(body)
        self.forged = []
        for sealed in tasks:
            body = self.client_key.open(self.scan_id, "task", sealed)
            self._deliver(self.client_key.seal(self.scan_id, "result", self.runner.handle(body)))

    async def _finish(self, done):
        assert parse_control(done, self.scan_id, self.client_key) is None


def _forged_results(scan_id, n_pixels=768):
    rows = [RecoPixelVariation(8, p, 0, -1e308, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0) for p in range(n_pixels)]
    return [encode_result(Result(scan_id, "forged", "attacker", 0.0, rows, []))]


def test_forged_results_for_every_pixel_are_rejected_and_counted():
    transport = FakeBroker(KEY, KEY, forged=_forged_results("auth"))
    with transport:
        result = scan(EVENT, "dummy", "8:0", transport=transport, progress=False,
                      settings=Settings(scan_id="auth", shuffle_seed=1, idle_timeout_s=30))
    assert math.isfinite(result.best_fit.llh) and result.best_fit.llh > -1e300
    assert transport.n_rejected == 1 and result.manifest["scan_metadata"]["rejected_messages"] == 1
    assert len(result.skyscan.result["nside-8"]) == 768


def test_forged_results_do_not_keep_a_dead_scan_alive():
    class NoClient(FakeBroker):
        async def _publish(self, tasks):
            for body in self.forged:
                self._deliver(body)

    transport = NoClient(KEY, KEY, forged=_forged_results("dead", 3) * 3)
    from skymap_scanner.server.errors import ScanTimeoutError

    with transport, pytest.raises(ScanTimeoutError):
        scan(EVENT, "dummy", "8:0", transport=transport, progress=False,
             settings=Settings(scan_id="dead", shuffle_seed=1, idle_timeout_s=2))
    assert transport.n_rejected == 3


def test_client_with_the_wrong_secret_cannot_serve():
    with pytest.raises(TransportError, match="wrong MAC"), FakeBroker(KEY, OTHER) as transport:
        transport.start(Startup.create("s1", "dummy", EVENT))


def test_broker_transports_require_a_key():
    with pytest.raises(TransportError, match="scan secret"):
        create_server_transport("nats://127.0.0.1:4222")
    with pytest.raises(TransportError, match="scan secret"):
        create_client_session(BrokerConfig("amqp://127.0.0.1/"), "s1", None)


def test_server_generates_a_private_secret_once_and_clients_need_one(tmp_path, monkeypatch):
    secret = server_secret(None, None, tmp_path / "out")
    path = tmp_path / "out" / "scan-secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and path.read_bytes().strip() == secret
    assert server_secret(None, None, tmp_path / "out") == secret  # a resumed server keeps its clients
    assert client_secret(path, None) == secret
    assert server_secret(None, "x" * 20, tmp_path / "out") == b"x" * 20
    with pytest.raises(SecretError, match="needs the scan's secret"):
        client_secret(None, None)
    with pytest.raises(SecretError, match="needs a scan secret"):
        server_secret(None, None, None)
    (tmp_path / "short").write_text("abc\n")
    with pytest.raises(SecretError, match="short: 3 bytes"):
        client_secret(tmp_path / "short", None)
    with pytest.raises(SecretError, match="missing"):
        client_secret(tmp_path / "missing", None)
    monkeypatch.delenv("SKYSCAN_SCAN_SECRET", raising=False)
    monkeypatch.delenv("SKYSCAN_SCAN_SECRET_FILE", raising=False)
    with pytest.raises(SettingsError, match="needs the scan's secret"):
        Settings().scan_key(server=False)
    assert Settings(scan_secret_file=path).scan_key(server=False) == ScanKey(secret)


def test_embedded_transports_need_no_secret():
    result = scan(EVENT, "dummy", "8:0", transport="inprocess", progress=False,
                  settings=Settings(scan_id="embedded", shuffle_seed=1))
    assert len(result.skyscan.result["nside-8"]) == 768
