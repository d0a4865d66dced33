"""Message files and the pickle envelope of each frame: all producers, and refusal of anything else."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from collections import OrderedDict

import i3_bytes as b
import pytest

from skymap_scanner.i3.envelope import (
    decode_frame_string,
    frame_bytes_from_pickle,
    frame_strings,
    load_message,
)
from skymap_scanner.i3.errors import I3DecodeError

FRAME = b.frame("P", [("x", "I3Double", b.pod_blob("I3Double", "d", 1.5))])


@pytest.mark.parametrize("variant", ["py2", "py3-proto2", "proto4"])
def test_every_envelope_variant_yields_the_frame_bytes(variant):
    assert frame_bytes_from_pickle(b.envelope(FRAME, variant), "P frame #1") == FRAME
    assert decode_frame_string(b.frame_string(FRAME, variant), "P frame #1") == FRAME


def test_frame_pickle_naming_another_global_is_refused():
    evil = b.envelope(FRAME, "py2").replace(b"cicecube.icetray\nI3Frame\n", b"cos\nsystem\n")
    with pytest.raises(I3DecodeError, match="os.system"):
        frame_bytes_from_pickle(evil, "P frame #1")


def test_frame_pickle_with_a_stack_global_to_another_class_is_refused():
    evil = b.envelope(FRAME, "proto4").replace(b"\x10icecube._icetray", b"\x10builtins.getattr")
    with pytest.raises(I3DecodeError, match="builtins.getattr"):
        frame_bytes_from_pickle(evil, "P frame #1")


def test_a_stack_global_whose_names_come_from_the_memo_is_refused():
    """Literals of an allowed name pushed last, the real module and name fetched from the memo."""
    def text(t: bytes) -> bytes:
        return b"\x8c" + bytes([len(t)]) + t

    evil = (b"\x80\x04" + text(b"os") + b"\x94" + text(b"system") + b"\x94" + text(b"_codecs") + text(b"encode")
            + b"h\x00h\x01\x93" + text(b"[i3]frame") + b".")
    with pytest.raises(I3DecodeError, match=r"names \?\.\?"):
        frame_bytes_from_pickle(evil, "P frame #1")
    fine = b"\x80\x04" + text(b"_codecs") + b"\x94" + text(b"encode") + b"\x94\x93" + text(b"[i3]frame") + b"."
    assert frame_bytes_from_pickle(fine, "P frame #1") == b"[i3]frame"


def test_frame_pickle_without_frame_bytes_is_refused():
    with pytest.raises(I3DecodeError, match="no I3Frame bytes"):
        frame_bytes_from_pickle(pickle.dumps(("a", "b"), protocol=2), "Q frame #4")


@pytest.mark.parametrize("text, reason", [("@@@", "base64"), (base64.b64encode(b"xyz").decode(), "zlib"),
                                          (base64.b64encode(zlib.compress(b"x" * 100)[:-6]).decode(),
                                           "truncated zlib")])
def test_bad_frame_strings_name_the_frame(text, reason):
    with pytest.raises(I3DecodeError, match=reason) as e:
        decode_frame_string(text, "G frame #1")
    assert "G frame #1" in str(e.value)


def _message(frames):
    return {"value": {"version": "2021a", "data": {"frames": frames, "run_id": 1}}}


def test_message_layouts(tmp_path):
    pairs = [["P", b.frame_string(FRAME)]]
    assert frame_strings(_message(pairs)) == [("P", pairs[0][1])]
    assert frame_strings({"value": {"data": pairs}}) == [("P", pairs[0][1])]
    assert frame_strings({"GCDQp_packet": {"frames": pairs}}) == [("P", pairs[0][1])]
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(_message(pairs), protocol=3))
    assert load_message(path) == _message(pairs)


@pytest.mark.parametrize("message", [{}, {"value": 3}, {"value": {"data": 3}}, _message([]),
                                     _message([["P"]]), _message([["PQ", "x"]]), _message([[1, "x"]])])
def test_malformed_messages_are_refused(message):
    with pytest.raises(I3DecodeError):
        frame_strings(message)


class Gadget:
    """Any non-builtin class."""


@pytest.mark.parametrize("payload", [OrderedDict(a=1), Gadget(), {"value": Gadget()}])
def test_pkl_with_a_non_builtin_class_is_refused(tmp_path, payload):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(payload, protocol=3))
    with pytest.raises(I3DecodeError, match="refusing to unpickle"):
        load_message(path)


def test_pkl_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"value": Exploit()}, protocol=2))
    with pytest.raises(I3DecodeError, match="builtins.open|io.open"):
        load_message(path)
    assert not marker.exists()


def test_unreadable_message_files(tmp_path):
    with pytest.raises(I3DecodeError, match="cannot read"):
        load_message(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(I3DecodeError, match="not valid JSON"):
        load_message(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text(json.dumps([1, 2]))
    with pytest.raises(I3DecodeError, match="must be a dict"):
        load_message(tmp_path / "list.json")
    (tmp_path / "bad.pkl").write_bytes(b"\x80\x03}q\x00(X")
    with pytest.raises(I3DecodeError, match="not a readable pickle"):
        load_message(tmp_path / "bad.pkl")
