"""Chaos: a dummy 8/64/512 scan through a real broker with 4 clients, 2 of them SIGKILLed mid-scan
and replaced, and duplicate results injected, must end with the embedded run's result (llh per pixel),
no pixel lost, the duplicates counted and ignored."""

import asyncio
import json
import re
import signal
import threading
import time
import uuid

import pytest
from brokers import ServerThread, start_client

from skymap_scanner.client.runner import TaskRunner
from skymap_scanner.pixels.choose import NSideProgression
from skymap_scanner.server.scan import ScanConfig, ScanServer
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.transport import BrokerConfig, make_client_session
from skymap_scanner.transport.embedded import EmbeddedTransport

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(150)]
NSIDES = "8:0 64:12 512:24"
#: seconds per pixel variation, so that a scan lasts long enough to kill clients in the middle of it
SLEEP_S = "0.005"
BATCH = 16
DUPLICATED_TASKS = 5


def config(tmp_path, scan_id, options):
    return ScanConfig(reco_algo="dummy", reco_options=options, progression=NSideProgression.parse(NSIDES),
                      output_dir=tmp_path, scan_id=scan_id, progress_bar=False, batch_size=BATCH,
                      idle_timeout_s=60, shuffle_seed=3)


def llh_per_pixel(collector):
    return {nside: {pixel: r.llh for pixel, r in pixels.items()} for nside, pixels in collector.results.items()}


@pytest.fixture(scope="module")
def embedded_reference(tmp_path_factory):
    """The same event scanned by the embedded workers."""
    with EmbeddedTransport(2) as transport:
        outcome = ScanServer(synthetic_event(seed=2), config(tmp_path_factory.mktemp("embedded"), "reference", {}),
                             transport).run()
    return llh_per_pixel(outcome.collector)


async def duplicating_client(url, scan_id, n_tasks):
    """A client that publishes every result twice (then stops after ``n_tasks`` tasks)."""
    session = make_client_session(BrokerConfig(url), scan_id)
    await session.open()
    runner = TaskRunner(await session.wait_startup(30), "duplicator")
    await session.start_consuming()
    handled = 0
    while handled < n_tasks and not session.done:
        delivery = await session.next_task(0.5)
        if delivery is not None:
            result = runner.handle(delivery.body)
            await session.publish_result(result)
            await session.publish_result(result)
            await session.ack(delivery)
            handled += 1
    await session.stop_consuming()
    await session.close()
    return handled


def has_done_a_task(log):
    return "variation(s), attempt" in log.read_text(errors="replace")


def test_chaos_scan_loses_nothing(broker_url, tmp_path, embedded_reference):
    scan_id = f"chaos-{uuid.uuid4().hex[:8]}"
    server = ServerThread(synthetic_event(seed=2), config(tmp_path / "out", scan_id, {"sleep_s": SLEEP_S}),
                          broker_url, ack_wait_s=2.0)
    logs = [tmp_path / f"client{i}.log" for i in range(6)]
    clients = [start_client(broker_url, scan_id, log) for log in logs[:4]]
    # kill two clients that are busy with tasks, well before the scan ends, and start two new ones
    while True:
        busy = [i for i in range(4) if has_done_a_task(logs[i])]
        if len(busy) >= 2 and server.server.collector.n_received >= 300:
            break
        assert server.is_alive(), server.error
        time.sleep(0.02)
    killed_at = server.server.collector.n_received
    for i in busy[:2]:
        clients[i].send_signal(signal.SIGKILL)
    survivors = [i for i in range(4) if i not in busy[:2]] + [4, 5]
    clients += [start_client(broker_url, scan_id, log) for log in logs[4:]]
    duplicated = []
    thread = threading.Thread(target=lambda: duplicated.append(
        asyncio.run(duplicating_client(broker_url, scan_id, DUPLICATED_TASKS))))
    thread.start()
    outcome = server.result(120)
    thread.join(30)
    assert [clients[i].wait(30) for i in survivors] == [0, 0, 0, 0]

    c = outcome.collector
    redelivered = sum(len(re.findall(r"delivered \d+ time\(s\) before", log.read_text())) for log in logs)
    summary = {"broker": broker_url.split(":")[0], "variations": c.n_received, "killed_at": killed_at,
               "duplicates_ignored": c.n_duplicates, "injected_duplicates": duplicated[0] * BATCH,
               "redelivered_tasks": redelivered, "failed_pixels": len(c.failed_pixels), "strays": c.n_strays}
    print("chaos:", json.dumps(summary))
    assert c.collected_all_sent() and not c.failed_pixels and c.n_strays == 0
    assert llh_per_pixel(c) == embedded_reference
    assert duplicated == [DUPLICATED_TASKS] and c.n_duplicates >= DUPLICATED_TASKS * BATCH
    assert redelivered >= 1
