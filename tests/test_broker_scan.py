"""Scans and task delivery through real brokers (RabbitMQ and NATS on 127.0.0.1; see tests/brokers.py)."""

import asyncio
import signal
import subprocess
import sys
import time
import uuid

import pytest
from brokers import (
    NATS_SERVER,
    TEST_KEY,
    ServerThread,
    client_env,
    ensure_program,
    free_port,
    server_transport,
    start_client,
    stop,
    wait_for_log,
)
from nats.errors import MaxPayloadError

from skymap_scanner.pixels.types import PixelVariation
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.transport import BrokerConfig, TransportError, create_client_session
from skymap_scanner.transport.messages import Result, Task, decode_result, decode_task, encode_result, encode_task
from skymap_scanner.transport.nats import NatsServerTransport
from skymap_scanner.transport.startup import Startup

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]
EVENT = synthetic_event(seed=2)


def new_scan_id(name):
    return f"{name}-{uuid.uuid4().hex[:8]}"


def variation(pixel, nside=8):
    return PixelVariation(nside, pixel, 0, *([0.0] * 13))


async def _with_session(url, scan_id, action):
    session = create_client_session(BrokerConfig(url), scan_id, TEST_KEY)
    await session.open()
    try:
        return await action(session)
    finally:
        await session.close()


def with_session(url, scan_id, action):
    """Run ``await action(session)`` on a fresh client session of the scan."""
    return asyncio.run(_with_session(url, scan_id, action))


def collect(transport, until, timeout=60.0):
    """Decoded results from ``transport`` until ``until(results)`` holds."""
    results, deadline = [], time.monotonic() + timeout
    while not until(results):
        assert time.monotonic() < deadline, f"only {results} within {timeout} s"
        results += [decode_result(m) for m in transport.receive(0.5)]
    return results


def answered(results):
    """(nside, pixel, posvar) -> "ok" or the failure reason, for every item in ``results``."""
    out = {}
    for r in results:
        out.update({v.id_tuple: "ok" for v in r.results})
        out.update({f.id_tuple: f.reason for f in r.failures})
    return out


def test_clients_start_before_and_after_the_server_and_stop_when_it_ends(broker_url, tmp_path):
    scan_id = new_scan_id("order")
    early = start_client(broker_url, scan_id, tmp_path / "early.log")
    server = ServerThread(EVENT, broker_url, scan_id, tmp_path / "out")
    while server.transport.n_sent == 0 and server.is_alive():
        time.sleep(0.05)
    late = start_client(broker_url, scan_id, tmp_path / "late.log")
    outcome = server.result(90)
    assert early.wait(30) == 0 and late.wait(30) == 0
    for log in ("early.log", "late.log"):
        assert f"scan {scan_id} over" in (tmp_path / log).read_text()
    overall = outcome.manifest["progress"]["tallies"]["overall"]
    assert overall["variations_done"] == overall["variations_sent"] == 768
    assert not outcome.failed_pixels and len(outcome.skyscan.result["nside-8"]) == 768

    async def work_queue_gone(session):
        assert await session.wait_startup(5) is None  # the done marker
        await session.start_consuming()
        return session.done

    assert with_session(broker_url, scan_id, work_queue_gone)
    after = subprocess.run(early.args, capture_output=True, text=True, timeout=60, env=client_env())
    assert after.returncode == 0 and "already over" in after.stderr


def test_poison_pixel_is_named_and_malformed_messages_are_rejected(broker_url, tmp_path, caplog):
    scan_id = new_scan_id("poison")
    options = {"probability": "0", "poison": "8:123"}
    server = ServerThread(EVENT, broker_url, scan_id, tmp_path / "out", reco="crash_dummy", options=options)
    stray = encode_result(Result("another-scan", "t", "w", 0.0, [], []))
    bad_results = [b"\x00\xff garbage", b'{"v": 1, "kind": "result"}', b'{"v": 99, "kind": "result"}', stray]

    async def inject(session):
        await session.wait_startup(30)
        for body in bad_results:
            await session.publish_result(TEST_KEY.seal(scan_id, "result", body))
        await session.publish_result(b"\x00\xff garbage")  # no MAC
        await session.publish_result(TEST_KEY.seal("another-scan", "result", stray))  # another scan's MAC
        oversize = TEST_KEY.seal(scan_id, "result", b"[" + b" " * (5 * 1024 * 1024) + b"]")
        if broker_url.startswith("nats"):
            with pytest.raises(MaxPayloadError):  # NATS refuses it already (1 MiB limit)
                await session.publish_result(oversize)
        else:
            await session.publish_result(oversize)
        await session.publish_task(TEST_KEY.seal(scan_id, "task", b"not a task"))
        await session.publish_task(TEST_KEY.seal(scan_id, "task", encode_task(Task("another-scan", "t", 1,
                                                                                   [variation(1)]))))
        await session.publish_task(encode_task(Task(scan_id, "forged", 1, [variation(2)])))  # no MAC

    with_session(broker_url, scan_id, inject)
    client = start_client(broker_url, scan_id, tmp_path / "client.log")
    outcome = server.result(90)
    assert client.wait(30) == 0
    failed = outcome.failed_pixels
    assert [(f.nside, f.pixel_id) for f in failed] == [(8, 123)] and "poison" in failed[0].reasons[0]
    assert len(outcome.skyscan.result["nside-8"]) == 767
    rejected = [r for r in caplog.records if "rejected a malformed result message" in r.getMessage()]
    assert len(rejected) == (3 if broker_url.startswith("nats") else 4)
    assert any("ignored a result of scan 'another-scan'" in r.getMessage() for r in caplog.records)
    assert sum("rejected a result message" in r.getMessage() for r in caplog.records) == 2
    assert outcome.manifest["scan_metadata"]["rejected_messages"] == len(rejected) + 2
    log = (tmp_path / "client.log").read_text()
    assert "dropped a malformed task message" in log and "dropped task t of scan 'another-scan'" in log
    assert "unauthenticated task message (no MAC)" in log


class TamperedStartup(Startup):
    """A startup payload whose declared event hash does not match its event."""

    def to_json(self):
        return super().to_json().replace(b'"event_sha256": "', b'"event_sha256": "0')


def test_client_refuses_a_startup_whose_hash_does_not_match(nats_url):
    scan_id = new_scan_id("tampered")
    with server_transport(nats_url) as transport:
        transport.start(TamperedStartup.create(scan_id, "dummy", EVENT))
        out = subprocess.run([sys.executable, "-c", "from skymap_scanner.cli import main; main()", "client",
                              "--broker", nats_url, "--scan-id", scan_id], capture_output=True, text=True, timeout=60,
                             env=client_env())
    assert out.returncode == 1 and "StartupError: startup event hash" in out.stderr


def test_tasks_of_dead_clients_are_split_or_given_up(broker_url, tmp_path):
    scan_id = new_scan_id("redeliver")
    transport = server_transport(broker_url, ack_wait_s=1.0)
    transport.start(Startup.create(scan_id, "dummy", EVENT))
    transport.send([encode_task(Task(scan_id, "last-try", 2, [variation(100)])),
                    encode_task(Task(scan_id, "pair", 1, [variation(5), variation(6)]))])

    async def take_and_die(session):  # two clients each take a task and vanish without acking
        other = create_client_session(BrokerConfig(broker_url), scan_id, TEST_KEY)
        await other.open()
        for s in (session, other):
            await s.wait_startup(10)
            await s.start_consuming()
            assert await s.next_task(10) is not None
        await other.close()

    with transport:
        with_session(broker_url, scan_id, take_and_die)
        client = start_client(broker_url, scan_id, tmp_path / "client.log", "--max-attempts", "2")
        got = answered(collect(transport, lambda r: len(answered(r)) == 3))
    assert client.wait(30) == 0
    assert got[(8, 5, 0)] == got[(8, 6, 0)] == "ok"
    assert "the client holding it died (after 2 attempts)" in got[(8, 100, 0)]
    log = (tmp_path / "client.log").read_text()
    assert log.count("delivered 1 time(s) before") == 2 and "re-sent as 2 single-variation task(s)" in log


def test_sigterm_hands_back_or_finishes_the_current_task(broker_url, tmp_path):
    """Two scans side by side: a client with no grace time hands its task back, one with the default
    grace time finishes it."""
    scans = {grace: new_scan_id(f"sigterm{grace}") for grace in ("0", "30")}
    transports = {grace: server_transport(broker_url) for grace in scans}
    clients = {}
    for grace, scan_id in scans.items():
        transports[grace].start(Startup.create(scan_id, "dummy", EVENT, {"sleep_s": "4"}))
        clients[grace] = start_client(broker_url, scan_id, tmp_path / f"{grace}.log", "--shutdown-grace", grace)
    for grace, scan_id in scans.items():
        wait_for_log(tmp_path / f"{grace}.log", "ready for tasks")
        transports[grace].send([encode_task(Task(scan_id, "long", 1, [variation(7)]))])
    time.sleep(1.5)
    for client in clients.values():
        client.send_signal(signal.SIGTERM)
    assert clients["0"].wait(20) == 0 and clients["30"].wait(20) == 0
    assert "task long: handed back to the queue" in (tmp_path / "0.log").read_text()

    async def take_back(session):
        await session.wait_startup(5)
        await session.start_consuming()
        delivery = await session.next_task(10)
        await session.ack(delivery)
        return delivery.previous, decode_task(TEST_KEY.open(scans["0"], "task", delivery.body))

    previous, task = with_session(broker_url, scans["0"], take_back)
    assert previous == 0 and (task.task_id, task.attempt) == ("long", 1)
    with transports["30"]:
        results = collect(transports["30"], lambda r: len(r) == 1)
        results += [decode_result(m) for m in transports["30"].receive(0.5)]
    transports["0"].close()
    assert answered(results) == {(8, 7, 0): "ok"} and len(results) == 1


def test_task_time_limit_kills_the_fit_and_gives_up(rabbitmq_url, tmp_path):
    scan_id = new_scan_id("limit")
    transport = server_transport(rabbitmq_url)
    transport.start(Startup.create(scan_id, "dummy", EVENT, {"sleep_s": "60"}))
    with transport:
        transport.send([encode_task(Task(scan_id, "hang", 1, [variation(9)]))])
        client = start_client(rabbitmq_url, scan_id, tmp_path / "client.log", "--task-time-limit", "1",
                              "--max-attempts", "2")
        got = answered(collect(transport, lambda r: len(r) == 1))
    assert client.wait(30) == 0
    assert "task time limit of 1 s exceeded (after 2 attempts)" in got[(8, 9, 0)]


def test_nats_heartbeats_keep_a_long_task_from_being_redelivered(nats_url, tmp_path):
    scan_id = new_scan_id("heartbeat")
    transport = server_transport(nats_url, ack_wait_s=1.0)
    transport.start(Startup.create(scan_id, "dummy", EVENT, {"sleep_s": "2.5"}))
    with transport:
        transport.send([encode_task(Task(scan_id, "long", 1, [variation(3)]))])
        client = start_client(nats_url, scan_id, tmp_path / "client.log")
        results = collect(transport, lambda r: len(r) == 1)
        results += [decode_result(m) for m in transport.receive(1.5)]
    assert client.wait(30) == 0
    assert len(results) == 1 and "delivered" not in (tmp_path / "client.log").read_text()


@pytest.fixture()
def nats_tls(tmp_path):
    """A private NATS server that speaks TLS only, with a self-signed certificate for 127.0.0.1."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                           "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                           "-out", str(cert)], capture_output=True)
    if made.returncode != 0 or ensure_program(NATS_SERVER, "nats-server") is None:
        pytest.skip("needs openssl and nats-server")
    port = free_port()
    process = subprocess.Popen([NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(tmp_path / "js"),
                                "--tls", "--tlscert", str(cert), "--tlskey", str(key)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    yield f"tls://127.0.0.1:{port}", cert
    stop(process)


def test_tls_with_a_ca_file(nats_tls):
    url, cert = nats_tls
    scan_id = new_scan_id("tls")
    with NatsServerTransport(BrokerConfig(url, tls_ca_file=cert), TEST_KEY) as transport:
        transport.start(Startup.create(scan_id, "dummy", EVENT))

        async def startup_over_tls():
            session = create_client_session(BrokerConfig(url, tls_ca_file=cert), scan_id, TEST_KEY)
            await session.open()
            try:
                return await session.wait_startup(10)
            finally:
                await session.close()

        assert asyncio.run(startup_over_tls()).scan_id == scan_id
    untrusting = NatsServerTransport(BrokerConfig(url, connect_timeout_s=2), TEST_KEY)
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        untrusting.start(Startup.create(scan_id, "dummy", EVENT))
    untrusting.close()


def test_unreachable_broker_is_a_clear_error():
    transport = server_transport(f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    with pytest.raises(TransportError, match="opening the scan via amqp://guest:\\*\\*\\*@127.0.0.1"):
        transport.start(Startup.create("nobroker", "dummy", EVENT))
    transport.close()
