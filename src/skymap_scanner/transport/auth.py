"""Authenticated scans: every message of a broker scan carries an HMAC-SHA256 under a per-scan secret.

A sealed message is ``b"skymac1:" + 64 hex digits + b":" + body``. The MAC covers a domain tag, the
scan id, the channel (``control``: startup payload and done marker; ``task``; ``result``) and the
body, so a message cannot be replayed on another channel or in another scan. The secret travels out
of band (``--scan-secret-file`` or ``SKYSCAN_SCAN_SECRET`` on server and clients); the server
generates one into its output folder (mode 0600) when none is given. Threat model: ``docs/brokers.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from skymap_scanner.transport.messages import MessageError

LOGGER = logging.getLogger(__name__)

PREFIX = b"skymac1:"
_MAC_HEX = 64
CHANNELS = ("control", "task", "result")
#: shortest secret accepted [bytes]
MIN_SECRET_BYTES = 16
#: largest secret file read [bytes]
MAX_SECRET_FILE_BYTES = 4096
#: the secret the server generates in its output folder when none is given
SECRET_FILE_NAME = "scan-secret"


class AuthError(MessageError):
    """A message without a valid MAC for this scan (forged, or sealed with another secret)."""


class SecretError(ValueError):
    """No usable scan secret (the message says where one is expected)."""


@dataclass(frozen=True)
class ScanKey:
    """The secret of one scan; ``seal``/``open`` add and check the MAC of a message of scan ``scan_id``."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_BYTES:
            raise SecretError(f"scan secret of {len(self.secret)} bytes: use at least {MIN_SECRET_BYTES}")

    def _mac(self, scan_id: str, channel: str, body: bytes) -> bytes:
        if channel not in CHANNELS:
            raise ValueError(f"channel {channel!r}")
        tag = b"skymap-scanner/1\0" + scan_id.encode() + b"\0" + channel.encode() + b"\0"
        return hmac.new(self.secret, tag + body, hashlib.sha256).hexdigest().encode()

    def seal(self, scan_id: str, channel: str, body: bytes) -> bytes:
        return PREFIX + self._mac(scan_id, channel, body) + b":" + body

    def open(self, scan_id: str, channel: str, data: bytes) -> bytes:
        """The body of a sealed ``channel`` message; raises :class:`AuthError` when its MAC is wrong."""
        head = len(PREFIX) + _MAC_HEX + 1
        if not data.startswith(PREFIX) or len(data) < head or data[head - 1:head] != b":":
            raise AuthError(f"unauthenticated {channel} message (no MAC)")
        body = data[head:]
        if not hmac.compare_digest(data[len(PREFIX):head - 1], self._mac(scan_id, channel, body)):
            raise AuthError(f"{channel} message with a wrong MAC (forged, or another scan secret)")
        return body


def seal(key: ScanKey | None, scan_id: str, channel: str, body: bytes) -> bytes:
    """``key.seal`` (no key: the body as it is; the local transports need none)."""
    return body if key is None else key.seal(scan_id, channel, body)


def open_sealed(key: ScanKey | None, scan_id: str, channel: str, data: bytes) -> bytes:
    """``key.open`` (no key: the data as it is)."""
    return data if key is None else key.open(scan_id, channel, data)


def read_secret_file(path: Path) -> bytes:
    """The secret in ``path`` (surrounding whitespace removed)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SECRET_FILE_BYTES + 1)
    except OSError as e:
        raise SecretError(f"scan secret file {path}: {e.strerror or e}") from None
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise SecretError(f"scan secret file {path}: larger than {MAX_SECRET_FILE_BYTES} bytes")
    secret = data.strip()
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretError(f"scan secret file {path}: {len(secret)} bytes, need at least {MIN_SECRET_BYTES}")
    return secret


def _given(secret_file: Path | None, secret: str | None) -> bytes | None:
    if secret_file is not None:
        return read_secret_file(secret_file)
    if secret:
        value = secret.strip().encode()
        if len(value) < MIN_SECRET_BYTES:
            raise SecretError(f"SKYSCAN_SCAN_SECRET: {len(value)} bytes, need at least {MIN_SECRET_BYTES}")
        return value
    return None


def client_secret(secret_file: Path | None, secret: str | None) -> bytes:
    """A client's secret: from ``--scan-secret-file`` or ``SKYSCAN_SCAN_SECRET`` (one is required)."""
    value = _given(secret_file, secret)
    if value is None:
        raise SecretError("a broker client needs the scan's secret: --scan-secret-file FILE or "
                          "SKYSCAN_SCAN_SECRET (the server writes one to <output-dir>/scan-secret)")
    return value


def server_secret(secret_file: Path | None, secret: str | None, output_dir: Path | None) -> bytes:
    """The server's secret: given (file or ``SKYSCAN_SCAN_SECRET``), else ``output_dir/scan-secret``
    (read when it exists, so a resumed scan keeps its clients; else generated with mode 0600)."""
    value = _given(secret_file, secret)
    if value is not None:
        return value
    if output_dir is None:
        raise SecretError("a broker scan needs a scan secret: --scan-secret-file FILE, SKYSCAN_SCAN_SECRET, "
                          "or an output folder to generate one in")
    path = output_dir / SECRET_FILE_NAME
    if path.exists():
        return read_secret_file(path)
    output_dir.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise SecretError(f"cannot write the scan secret to {path}: {e.strerror or e}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(generated + b"\n")
    LOGGER.warning("generated the scan secret %s (mode 0600): give it to the clients (--scan-secret-file)", path)
    return generated
