"""Scan settings: one typed model with one set of defaults.

The Python API (:func:`skymap_scanner.scan`), the command line and the ``SKYSCAN_<FIELD>``
environment variables all map onto :class:`Settings`: explicit values (keyword arguments, CLI flags)
win over the environment, which wins over the defaults below.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as _SourceError

from skymap_scanner.pixels.choose import DEFAULT_NSIDES, NSideProgression
from skymap_scanner.server.collector import PST_MAX, PST_MIN
from skymap_scanner.transport.auth import ScanKey, SecretError, client_secret, server_secret
from skymap_scanner.transport.broker import BrokerConfig

#: where the command line writes a scan when no ``--output-dir`` is given (the API writes nothing)
CLI_OUTPUT_DIR = Path("skyscan-output")
_BROKER_URL = r"(amqps?|nats|tls)://.*"


class SettingsError(ValueError):
    """Invalid settings; the message names the setting."""


class Settings(BaseSettings):
    """Every field can be set as ``SKYSCAN_<FIELD>`` (e.g. ``SKYSCAN_NSIDES="8:0 64:12"``)."""

    model_config = SettingsConfigDict(env_prefix="SKYSCAN_", extra="ignore", frozen=True)

    # -- what to scan --------------------------------------------------------------------------
    #: reconstruction algorithm: a module of ``skymap_scanner.recos``
    reco_algo: str = "mpe_pandel"
    #: the algorithm's options (``--reco-option KEY=VALUE``; env: a JSON object)
    reco_options: dict[str, Any] = Field(default_factory=dict)
    nsides: Annotated[NSideProgression, NoDecode] = NSideProgression.parse(DEFAULT_NSIDES)
    #: start the next nside when this fraction of the current one is done (upstream semantics)
    predictive_scanning_threshold: float = Field(default=1.0, ge=PST_MIN, le=PST_MAX)
    #: pointed recos: radius [deg] of the first round around the online fit (None: the reco's)
    pointing_radius_deg: float | None = Field(default=None, gt=0, le=180)
    #: also refine around the event's direction seed when the coarse minimum lies elsewhere
    refine_seed: bool = True
    #: seed of the pixel send order (None: random); results do not depend on it
    shuffle_seed: int | None = None

    # -- where fits run ------------------------------------------------------------------------
    #: "processes" (local worker processes), "inprocess" (this process, no children) or a broker URL
    transport: str = Field(default="processes", pattern=rf"^(processes|inprocess|{_BROKER_URL})$")
    #: local worker processes (default: CPU count)
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=1024)
    #: pixel variations per task message (None: the reco's default); at most 5000 keeps a task and its
    #: result under the 4 MiB wire limit (``transport/messages.py``)
    batch_size: int | None = Field(default=None, ge=1, le=5000)
    #: upstream SKYSCAN_MQ_TIMEOUT_FROM_CLIENTS (7200 s); a laptop scan gives up sooner
    idle_timeout_s: float = Field(default=600.0, gt=0)
    #: per-task time limit on a worker (None: unlimited)
    task_time_limit_s: float | None = Field(default=None, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=100)

    # -- what gets written ---------------------------------------------------------------------
    #: where results, manifest and checkpoints go (None: nothing is written)
    output_dir: Path | None = None
    #: continue from the output folder's checkpoint of the same scan (the CLI always does)
    resume: bool = False
    #: scan id (default: a hash of event and settings, so re-running the same scan resumes it)
    scan_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    #: seconds between checkpoints of the scan state (0: never checkpoint)
    checkpoint_interval_s: float = Field(default=1.0, ge=0)
    progress_interval_s: float = Field(default=10.0, ge=0)
    result_interval_s: float = Field(default=30.0, ge=0)
    #: progress bar: None = only on a terminal
    progress: bool | None = None
    #: make plots at the end of a command-line scan
    plot: bool = True
    #: contour policy of areas, maps, notices and plots: "wilks", a shipped calibration name, or a JSON
    #: file (None: the reco's default calibration when it has one, else Wilks with a warning)
    contours: str | None = None
    #: Gaussian smoothing σ [deg] of the probability map (0: none, so that its credible regions are
    #: the policy's contours; IceCube smooths SplineMPE maps with 0.2)
    smooth_deg: float = Field(default=0.0, ge=0, le=10)
    #: a copy of nasa-gcn/gcn-schema (the folder holding ``gcn/``): notices are validated against it
    #: before they are written (None: written unvalidated)
    gcn_schema: Path | None = None
    log: str = "INFO"

    # -- REST reporting (upstream names; empty: no reporting) ----------------------------------
    skydriver_address: str = ""
    skydriver_auth: str = ""
    #: seconds between kill-switch polls of the status URL (upstream default 300)
    kill_switch_check_interval: float = Field(default=300.0, gt=0)

    # -- message broker (the ``server`` and ``client`` commands) -------------------------------
    #: amqp://, amqps:// = RabbitMQ; nats://, tls:// = NATS
    broker_url: str | None = Field(default=None, pattern=rf"^{_BROKER_URL}$")
    #: broker login (replaces the URL's); keep the password out of the command line
    broker_username: str | None = None
    broker_password: SecretStr | None = None
    #: TLS: CA bundle to check the broker's certificate; client certificate and key (mutual TLS)
    broker_tls_ca_file: Path | None = None
    broker_tls_cert_file: Path | None = None
    broker_tls_key_file: Path | None = None
    #: broker scans: file holding the scan's secret (every message carries an HMAC under it; the
    #: server generates ``<output_dir>/scan-secret`` when neither this nor ``scan_secret`` is set)
    scan_secret_file: Path | None = None
    #: broker scans: the scan's secret itself (``SKYSCAN_SCAN_SECRET``; prefer the file)
    scan_secret: SecretStr | None = None
    #: NATS: seconds until a task whose client went silent is delivered again (clients heartbeat)
    nats_ack_wait_s: float = Field(default=30.0, gt=0)
    #: broker client: seconds to wait for the scan's startup payload
    client_startup_timeout_s: float = Field(default=600.0, gt=0)
    #: broker client: seconds to finish the current task after SIGTERM before handing it back
    client_shutdown_grace_s: float = Field(default=30.0, ge=0)

    @field_validator("nsides", mode="before")
    @classmethod
    def _parse_nsides(cls, v: Any) -> NSideProgression:
        if isinstance(v, NSideProgression):
            return v
        if not (isinstance(v, str) or (isinstance(v, list | tuple) and all(isinstance(i, str) for i in v))):
            raise ValueError(f"expected a string such as '8:0 64:12', got {type(v).__name__}")
        return NSideProgression.parse(v)

    @field_validator("reco_options", mode="before")
    @classmethod
    def _parse_reco_options(cls, v: Any) -> Any:
        try:
            return json.loads(v) if isinstance(v, str) else v
        except RecursionError:
            raise ValueError("not JSON (nested too deeply)") from None

    def broker_config(self, url: str | None = None) -> BrokerConfig:
        """Broker URL (``url``, else ``broker_url``), credentials and TLS files."""
        url = url or self.broker_url
        if not url:
            raise SettingsError("no broker URL: pass --broker or set SKYSCAN_BROKER_URL")
        password = self.broker_password.get_secret_value() if self.broker_password else None
        return BrokerConfig(url, self.broker_username, password, self.broker_tls_ca_file,
                            self.broker_tls_cert_file, self.broker_tls_key_file, self.nats_ack_wait_s)


    def scan_key(self, *, server: bool) -> ScanKey:
        """The broker scan's key: the given secret; a server without one uses or generates
        ``<output_dir>/scan-secret``."""
        secret = self.scan_secret.get_secret_value() if self.scan_secret else None
        try:
            value = (server_secret(self.scan_secret_file, secret, self.output_dir) if server
                     else client_secret(self.scan_secret_file, secret))
            return ScanKey(value)
        except SecretError as e:
            raise SettingsError(str(e)) from None


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the given (not None) values on top; invalid values raise
    :class:`SettingsError` naming the setting."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(map(str, err["loc"])) or "settings"
        raise SettingsError(f"invalid {where}: {err['msg'].removeprefix('Value error, ')}") from None
    except _SourceError as e:  # an SKYSCAN_<FIELD> value that is not JSON (the message names the field)
        cause = f" ({e.__cause__})" if e.__cause__ else ""
        raise SettingsError(f"invalid environment: {e}{cause}") from None
    except RecursionError:  # the environment source decodes JSON values before any validator runs
        raise SettingsError("invalid environment: a JSON value is nested too deeply") from None
