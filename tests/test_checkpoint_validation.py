"""Checkpoints are not trusted (issue 18, finding 7): every row is checked against the scan's
progression and variations; malformed files are a CheckpointError naming the file, never a traceback."""

import json
import math

import numpy as np
import pytest

from skymap_scanner.pixels.types import RecoPixelVariation
from skymap_scanner.server.checkpoint import CheckpointError, ScanState, load_checkpoint, save_checkpoint

SETTINGS = {"nsides": "8:0 64:12", "n_posvar": 2, "scan_id": "c"}


def _row(nside, pixel, var, llh=1.0):
    return RecoPixelVariation(nside, pixel, var, llh, *([0.0] * 7))


def _state(sent=None, received=None, reasons=None):
    sent = sent if sent is not None else [(8, 1, 0), (8, 1, 1), (64, 5, 0)]
    received = received if received is not None else [_row(8, 1, 0), _row(8, 1, 1, math.nan)]
    return ScanState(SETTINGS, sent, received, reasons if reasons is not None else {1: "failed"})


def test_a_valid_checkpoint_loads(tmp_path):
    save_checkpoint(tmp_path / "c.npz", _state())
    state = load_checkpoint(tmp_path / "c.npz", SETTINGS)
    assert state.sent == [(8, 1, 0), (8, 1, 1), (64, 5, 0)] and state.reasons == {1: "failed"}


@pytest.mark.parametrize(("state", "message"), [
    (_state(sent=[(7, 1, 0)], received=[]), "nside 7 is not in the progression"),
    (_state(sent=[(8, 10**12, 0)], received=[]), "pixel 1000000000000 outside"),
    (_state(sent=[(8, 1, 5)], received=[]), "variation 5 outside"),
    (_state(received=[_row(8, 2, 0)], reasons={}), "was never sent"),
    (_state(received=[_row(8, 1, 0, -math.inf)], reasons={}), "llh -inf"),
    (_state(received=[_row(8, 1, 0), _row(8, 1, 0)], reasons={}), "appears twice"),
    (_state(sent=[(8, 1, 0), (8, 1, 0)], received=[], reasons={}), "lists a variation twice"),
    (_state(reasons={7: "x"}), "row 7, which does not exist"),
])
def test_impossible_rows_are_refused(tmp_path, state, message):
    save_checkpoint(tmp_path / "c.npz", state)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(tmp_path / "c.npz", SETTINGS)


def _npz(path, **arrays):
    with path.open("wb") as f:
        np.savez(f, **arrays)
    return path


GOOD_HEADER = json.dumps({"version": 1, "settings": SETTINGS, "reasons": {}})


@pytest.mark.parametrize(("arrays", "message"), [
    ({"header": np.array("[" * 100_000 + "]" * 100_000), "sent": np.zeros((0, 3), np.int64),
      "received": np.zeros((0, 11))}, "nested too deeply"),
    ({"header": np.array("{"), "sent": np.zeros((0, 3), np.int64), "received": np.zeros((0, 11))}, "not JSON"),
    ({"header": np.array("[1]"), "sent": np.zeros((0, 3), np.int64), "received": np.zeros((0, 11))},
     "must be a JSON object"),
    ({"header": np.array(GOOD_HEADER), "sent": np.zeros((2, 4), np.int64), "received": np.zeros((0, 11))},
     "'sent' must be an N x 3 array"),
    ({"header": np.array(GOOD_HEADER), "sent": np.zeros((0, 3)), "received": np.zeros((0, 11))},
     "'sent' must be an N x 3 array of integers"),
    ({"header": np.array(GOOD_HEADER), "sent": np.zeros((0, 3), np.int64), "received": np.zeros(11)},
     "'received' must be an N x 11"),
    ({"header": np.array(GOOD_HEADER), "sent": np.zeros((0, 3), np.int64)}, "no 'received' array"),
    ({"header": np.array(b"bytes"), "sent": np.zeros((0, 3), np.int64), "received": np.zeros((0, 11))},
     "'header' must be one string"),
    ({"header": np.array(json.dumps({"version": 1, "settings": SETTINGS, "reasons": {"a": "b"}})),
      "sent": np.zeros((0, 3), np.int64), "received": np.zeros((0, 11))}, "keys must be row numbers"),
])
def test_malformed_checkpoints_are_one_line_errors(tmp_path, arrays, message):
    path = _npz(tmp_path / "c.npz", **arrays)
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(path, SETTINGS)
    assert str(path) in str(info.value)


def test_a_file_that_is_not_a_zip_is_named_so(tmp_path):
    path = tmp_path / "c.npz"
    path.write_bytes(b"\x80\x04 pickled? no, just bytes")
    with pytest.raises(CheckpointError, match=r"not an \.npz \(zip\) file") as info:
        load_checkpoint(path, SETTINGS)
    assert "pickled" not in str(info.value).split("(")[0]


def test_huge_declared_arrays_are_refused_before_reading(tmp_path):
    path = _npz(tmp_path / "c.npz", header=np.array(GOOD_HEADER), sent=np.zeros((0, 3), np.int64),
                received=np.zeros((0, 11)))
    import zipfile

    with zipfile.ZipFile(path, "a") as z:  # a header declaring 2**40 float64 with no data behind it
        header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }"
        header += " " * (118 - len(header)) + "\n"
        z.writestr("huge.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    with pytest.raises(CheckpointError, match="declares 1099511627776 elements"):
        load_checkpoint(path, SETTINGS)
