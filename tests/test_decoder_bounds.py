"""Decoder totals (issue 18, finding 4), without the hostile-inputs corpus: pickle memo, the
decompressed total of one message's frames, the per-frame cap of ``.i3`` files, ``.npz`` headers."""

import base64
import io
import zlib

import numpy as np
import pytest

from skymap_scanner.event.npz import NpzError, read_npz
from skymap_scanner.i3.envelope import FrameBudget, decode_frame_string, load_message
from skymap_scanner.i3.errors import I3DecodeError


def test_a_nine_byte_pickle_asking_for_a_huge_memo_is_refused(tmp_path):
    path = tmp_path / "memo.pkl"
    path.write_bytes(b"\x80\x02}r\xff\xff\xff\x0f.")  # LONG_BINPUT 2**28 - 1
    with pytest.raises(I3DecodeError, match=r"memo.pkl: message pickle memo index 268435455"):
        load_message(path)


def test_the_frames_of_one_message_share_one_budget():
    b64 = base64.b64encode(zlib.compress(b"\0" * 1_000_000)).decode()
    budget = FrameBudget(total=2_500_000)
    for i in (1, 2):
        with pytest.raises(I3DecodeError, match="corrupt frame pickle"):  # zeros are no frame pickle
            decode_frame_string(b64, f"P frame #{i}", budget)
    with pytest.raises(I3DecodeError, match="frames decompress to more than 2500000 bytes"):
        decode_frame_string(b64, "P frame #3", budget)


def test_npz_arrays_are_checked_before_they_are_read():
    buffer = io.BytesIO()
    np.savez(buffer, ok=np.arange(10), objects=np.array([{"a": 1}], dtype=object))
    with pytest.raises(NpzError, match="x: array 'objects' holds Python objects"):
        read_npz(buffer.getvalue(), "x")
    buffer = io.BytesIO()
    np.savez(buffer, a=np.zeros(100), b=np.zeros(100))
    with pytest.raises(NpzError, match="declares 100 elements, at most 10"):
        read_npz(buffer.getvalue(), "x", max_elements=10)
    with pytest.raises(NpzError, match="larger than 1000 bytes in all"):
        read_npz(buffer.getvalue(), "x", max_total_bytes=1000)
    with pytest.raises(NpzError, match=r"not an \.npz"):
        read_npz(b"plain bytes", "x")
