import json
import math

import pytest

from skymap_scanner.pixels.types import PixelVariation, RecoPixelVariation
from skymap_scanner.transport.messages import (
    MAX_MESSAGE_BYTES,
    Failure,
    MessageError,
    Result,
    Task,
    decode_result,
    decode_task,
    encode_result,
    encode_task,
)


def test_task_and_result_round_trip():
    item = PixelVariation(8, 5, 2, 0.1, -0.2, 1.0, 2.0, 1.0, 2.0, 3.0, 4.0)
    task = Task("s", "t1", 1, [item])
    back = decode_task(encode_task(task))
    assert back.items[0].id_tuple == item.id_tuple and math.isnan(back.items[0].fallback_x)
    res = Result("s", "t1", "w", 0.5, [RecoPixelVariation(8, 5, 2, 10.0, 0, 0, 1, 2, 3, 4, math.nan)],
                 [Failure((8, 6, 0), "boom")])
    back = decode_result(encode_result(res))
    assert back.results[0].llh == 10.0 and math.isnan(back.results[0].energy)
    assert back.failures == [Failure((8, 6, 0), "boom")]


@pytest.mark.parametrize("data", [
    b"\x00\xff garbage", b"[]", b'{"v": 2, "kind": "result"}', b'{"v": 1, "kind": "task"}',
    json.dumps({"v": 1, "kind": "result", "scan_id": "s", "task_id": "t", "worker": "w", "runtime_s": 1,
                "results": [[8, 1, 0, "x", 0, 0, 0, 0, 0, 0, 0]], "failures": []}).encode(),
    json.dumps({"v": 1, "kind": "result", "scan_id": "s", "task_id": "t", "worker": "w", "runtime_s": 1,
                "results": [[8, -1, 0, 1, 0, 0, 0, 0, 0, 0, 0]], "failures": []}).encode(),
    b" " * (MAX_MESSAGE_BYTES + 1),
])
def test_malformed_results_raise_message_error(data):
    with pytest.raises(MessageError):
        decode_result(data)
