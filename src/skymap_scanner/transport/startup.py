"""The scan's startup payload: everything a client needs, verified by a content hash."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from skymap_scanner.__version__ import __version__
from skymap_scanner.event.io import event_from_bytes, event_to_bytes
from skymap_scanner.event.model import Event


class StartupError(ValueError):
    """A startup payload that is malformed or whose event does not match its hash."""


@dataclass(frozen=True)
class Startup:
    """scan id, reco algorithm and options, and the prepared event (open-format npz bytes)."""

    scan_id: str
    reco_algo: str
    event_bytes: bytes
    reco_options: dict[str, Any] = field(default_factory=dict)
    version: str = __version__

    @classmethod
    def create(cls, scan_id: str, reco_algo: str, event: Event,
               reco_options: dict[str, Any] | None = None) -> Startup:
        return cls(scan_id, reco_algo, event_to_bytes(event), dict(reco_options or {}))

    @property
    def event_sha256(self) -> str:
        return hashlib.sha256(self.event_bytes).hexdigest()

    def event(self) -> Event:
        return event_from_bytes(self.event_bytes, source=f"startup of scan {self.scan_id}")

    def to_json(self) -> bytes:
        return json.dumps({
            "scan_id": self.scan_id, "reco_algo": self.reco_algo, "reco_options": self.reco_options,
            "version": self.version, "event_sha256": self.event_sha256,
            "event_npz_b64": base64.b64encode(self.event_bytes).decode(),
        }).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Startup:
        try:
            obj = json.loads(data)
            startup = cls(str(obj["scan_id"]), str(obj["reco_algo"]),
                          base64.b64decode(obj["event_npz_b64"], validate=True),
                          dict(obj.get("reco_options") or {}), str(obj.get("version", "")))
            expected = str(obj["event_sha256"])
        except (ValueError, KeyError, TypeError) as e:
            raise StartupError(f"malformed startup payload: {e}") from None
        except RecursionError:
            raise StartupError("malformed startup payload: nested too deeply") from None
        if startup.event_sha256 != expected:
            raise StartupError(f"startup event hash {startup.event_sha256} != declared {expected}")
        return startup
