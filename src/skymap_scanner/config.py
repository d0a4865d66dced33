"""Scan settings: CLI flags over ``SKYSCAN_*`` environment variables over defaults (typed, validated)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from skymap_scanner.pixels.choose import DEFAULT_NSIDES, NSideProgression
from skymap_scanner.server.collector import PST_MAX, PST_MIN


class Settings(BaseSettings):
    """Every field can be set as ``SKYSCAN_<FIELD>`` (e.g. ``SKYSCAN_NSIDES="8:0 64:12"``)."""

    model_config = SettingsConfigDict(env_prefix="SKYSCAN_", extra="ignore", frozen=True)

    nsides: Annotated[NSideProgression, NoDecode] = NSideProgression.parse(DEFAULT_NSIDES)
    #: the track reco (the only physics reco so far); "dummy" for tests of the machinery
    reco_algo: str = "mpe_pandel"
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=1024)
    batch_size: int | None = Field(default=None, ge=1, le=100_000)
    predictive_scanning_threshold: float = Field(default=1.0, ge=PST_MIN, le=PST_MAX)
    #: upstream SKYSCAN_MQ_TIMEOUT_FROM_CLIENTS (7200 s); a laptop scan gives up sooner
    idle_timeout_s: float = Field(default=600.0, gt=0)
    #: per-task time limit on a worker (None: unlimited)
    task_time_limit_s: float | None = Field(default=None, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=100)
    progress_interval_s: float = Field(default=10.0, ge=0)
    result_interval_s: float = Field(default=30.0, ge=0)
    pointing_radius_deg: float | None = Field(default=None, gt=0, le=180)
    #: also refine around the event's direction seed when the coarse minimum lies elsewhere
    refine_seed: bool = True
    output_dir: Path = Path("skyscan-output")
    #: scan id (default: a hash of event and settings, so re-running the same scan resumes it)
    scan_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    #: seconds between checkpoints of the scan state (0: never checkpoint or resume)
    checkpoint_interval_s: float = Field(default=1.0, ge=0)
    log: str = "INFO"
    #: REST reporting base URL and bearer token (upstream names; empty: no reporting)
    skydriver_address: str = ""
    skydriver_auth: str = ""
    #: seconds between kill-switch polls of the status URL (upstream default 300)
    kill_switch_check_interval: float = Field(default=300.0, gt=0)

    #: message broker (amqp://, amqps:// = RabbitMQ; nats://, tls:// = NATS); unset: embedded workers
    broker_url: str | None = Field(default=None, pattern=r"^(amqps?|nats|tls)://")
    #: broker login (replaces the URL's); keep the password out of the command line
    broker_username: str | None = None
    broker_password: SecretStr | None = None
    #: TLS: CA bundle to check the broker's certificate; client certificate and key (mutual TLS)
    broker_tls_ca_file: Path | None = None
    broker_tls_cert_file: Path | None = None
    broker_tls_key_file: Path | None = None
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
        return NSideProgression.parse(v)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the given (not None) values on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
