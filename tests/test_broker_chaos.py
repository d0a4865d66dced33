"""Chaos: a dummy 8/64/512 scan through a real broker with 4 clients, 2 of them SIGKILLed mid-scan
and replaced, and duplicate results injected, must end with the local worker processes' result (llh per pixel),
no pixel lost, the duplicates counted and ignored."""

import asyncio
import json
import re
import signal
import threading
import time
import uuid

import pytest
from brokers import TEST_KEY, ServerThread, start_client

from skymap_scanner.api import scan
from skymap_scanner.settings import Settings
from skymap_scanner.simulation.synthetic import synthetic_event
from skymap_scanner.transport import BrokerConfig, create_client_session
from skymap_scanner.transport.worker import TaskRunner

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(150)]
NSIDES = "8:0 64:12 512:24"
#: seconds per pixel variation, so that a scan lasts long enough to kill clients in the middle of it
SLEEP_S = "0.005"
BATCH = 16
DUPLICATED_TASKS = 5


def llh_per_pixel(result):
    return {int(key.split("-")[1]): dict(zip(rows["index"].tolist(), rows["llh"].tolist(), strict=True))
            for key, rows in result.skyscan.result.items()}


@pytest.fixture(scope="module")
def embedded_reference(tmp_path_factory):
    """The same event scanned by local worker processes."""
    result = scan(synthetic_event(seed=2), "dummy", NSIDES, workers=2, progress=False,
                  output_dir=tmp_path_factory.mktemp("embedded"),
                  settings=Settings(batch_size=BATCH, shuffle_seed=3, scan_id="reference"))
    return llh_per_pixel(result)


async def duplicating_client(url, scan_id, n_tasks):
    """A client that publishes every result twice (then stops after ``n_tasks`` tasks)."""
    session = create_client_session(BrokerConfig(url), scan_id, TEST_KEY)
    await session.open()
    runner = TaskRunner(await session.wait_startup(30), "duplicator")
    await session.start_consuming()
    handled = 0
    while handled < n_tasks and not session.done:
        delivery = await session.next_task(0.5)
        if delivery is not None:
            result = TEST_KEY.seal(scan_id, "result", runner.handle(TEST_KEY.open(scan_id, "task", delivery.body)))
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
    server = ServerThread(synthetic_event(seed=2), broker_url, scan_id, tmp_path / "out", nsides=NSIDES,
                          options={"sleep_s": SLEEP_S}, batch_size=BATCH, shuffle_seed=3)
    logs = [tmp_path / f"client{i}.log" for i in range(6)]
    clients = [start_client(broker_url, scan_id, log) for log in logs[:4]]
    # kill two clients that are busy with tasks, well before the scan ends, and start two new ones
    while True:
        busy = [i for i in range(4) if has_done_a_task(logs[i])]
        if len(busy) >= 2 and server.transport.n_received >= 300:
            break
        assert server.is_alive(), server.error
        time.sleep(0.02)
    killed_at = server.transport.n_received
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

    overall = outcome.manifest["progress"]["tallies"]["overall"]
    redelivered = sum(len(re.findall(r"delivered \d+ time\(s\) before", log.read_text())) for log in logs)
    summary = {"broker": broker_url.split(":")[0], "variations": overall["variations_done"], "killed_at": killed_at,
               "duplicates_ignored": overall["duplicates_ignored"], "injected_duplicates": duplicated[0] * BATCH,
               "redelivered_tasks": redelivered, "failed_pixels": overall["failed_pixels"],
               "strays": overall["strays_ignored"]}
    print("chaos:", json.dumps(summary))
    assert overall["variations_done"] == overall["variations_sent"]
    assert not outcome.failed_pixels and overall["strays_ignored"] == 0
    assert llh_per_pixel(outcome) == embedded_reference
    assert duplicated == [DUPLICATED_TASKS] and overall["duplicates_ignored"] >= DUPLICATED_TASKS * BATCH
    assert redelivered >= 1
