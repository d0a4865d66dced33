"""The library's front door: scan an event and get the result in memory.

>>> import skymap_scanner as sks
>>> event = sks.simulate(energy_gev=1e5, seed=1)
>>> result = sks.scan(event, reco="dummy", nsides="8:0 64:12", transport="inprocess")
>>> result.best_fit.ra_deg, result.best_fit.dec_deg  # doctest: +SKIP

:func:`scan` writes nothing unless given an ``output_dir``, and resumes a checkpoint only when asked
(``resume=True``; the command line always asks). Every setting not given falls back to
``SKYSCAN_<NAME>`` environment variables, then to the defaults of :class:`~skymap_scanner.settings.Settings`.
"""

from __future__ import annotations

import logging
import math
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from skymap_scanner.event.model import Event, EventMetadata
from skymap_scanner.io.events import load_event
from skymap_scanner.io.results import prepare_output_dir, write_result
from skymap_scanner.io.skyreader_api import SkyScanResult
from skymap_scanner.pixels.types import NSidesDict
from skymap_scanner.postprocess.calibration import ContourPolicy, choose_policy
from skymap_scanner.postprocess.energy import DepositedEnergy, track_deposited_energy
from skymap_scanner.postprocess.probability import contour_area_deg2, interpolated_tiling, llh_tiling
from skymap_scanner.postprocess.products import INTERPOLATE_ORDERS, AlertProducts, alert_products
from skymap_scanner.recos import direction_seed
from skymap_scanner.server.collector import FailedPixel
from skymap_scanner.server.identity import default_scan_id, scan_identity
from skymap_scanner.server.plan import ScanPlan
from skymap_scanner.server.progress import write_manifest
from skymap_scanner.server.recorder import RecordIntervals
from skymap_scanner.server.reporting import RestReporter
from skymap_scanner.server.rounds import LoopSettings
from skymap_scanner.server.scan import ScanOptions, ScanOutcome, run_scan
from skymap_scanner.settings import Settings, SettingsError, load_settings
from skymap_scanner.transport import create_server_transport
from skymap_scanner.transport.base import ServerTransport

__all__ = ["BestFit", "ScanResult", "load_event", "scan", "simulate"]

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class BestFit:
    """The scan's lowest -lnL pixel (finest nside on ties).

    Angles in degrees (RA/Dec ICRS; zenith/azimuth where the particle comes from, at the event time),
    fitted vertex ``x, y, z`` [m] and ``time`` [ns], ``energy`` [GeV] (NaN when the reco fits none).
    """

    nside: int
    pixel: int
    llh: float
    ra_deg: float
    dec_deg: float
    zenith_deg: float
    azimuth_deg: float
    x: float
    y: float
    z: float
    time: float
    energy: float


@dataclass(frozen=True)
class ScanResult:
    """A finished scan: the ``SkyScanResult``, its best fit, contours, failures and manifest."""

    #: skyreader's result (per nside: index, llh, E_in, E_tot, X, Y, Z, T)
    skyscan: SkyScanResult
    event: EventMetadata
    best_fit: BestFit
    #: pixels whose every variation failed (excluded from ``skyscan``)
    failed_pixels: list[FailedPixel]
    #: the best fit of every scanned pixel (nside -> pixel -> fit; seeds for fits at other directions)
    pixels: NSidesDict
    #: the ``scan-manifest.json`` content (progress, settings, contour policy, localisation, version)
    manifest: dict[str, Any]
    scan_id: str
    #: contour policy of ``contour_areas``, products and plots (the reco's calibration by default)
    policy: ContourPolicy
    #: (RA, Dec) [deg] of the online fit (the event's direction seed), None when it has none
    online_fit_deg: tuple[float, float] | None = None
    #: (RA, Dec) [deg] of the true muon direction of a simulated event, else None
    truth_deg: tuple[float, float] | None = None
    #: Gaussian smoothing σ [deg] of the probability map (0: none)
    smooth_deg: float = 0.0
    #: files the scan wrote (``json``, ``npz``, ``manifest``); empty without an output folder
    files: dict[str, Path] = field(default_factory=dict)
    #: variations taken from a checkpoint instead of being fitted again
    resumed_variations: int = 0
    #: deposited energy at the best fit (the reco's own when it fits losses, else for track recos a track with
    #: losses unfolded there), else None
    deposited_energy: DepositedEnergy | None = None

    @cached_property
    def contour_areas(self) -> dict[str, float]:
        """Areas [deg²] inside the 50 % and 90 % contours {2ΔLLH < level} at the policy's levels, counted
        on the scan's pixels with the finest ones interpolated as the probability map's
        (:data:`~skymap_scanner.postprocess.products.INTERPOLATE_ORDERS`), so that they are the map's
        credible areas under a calibrated policy."""
        tiling = interpolated_tiling(llh_tiling(self.skyscan), INTERPOLATE_ORDERS)
        return {k: contour_area_deg2(tiling, level) for k, level in self.policy.calibration.levels.items()}

    @cached_property
    def products(self) -> AlertProducts:
        """Probability map, localisation summary, GCN notice and circular text under ``policy``."""
        return alert_products(self.skyscan, self.policy, self.smooth_deg, self.online_fit_deg,
                              deposited_energy=self.deposited_energy)

    def write(self, output_dir: str | Path) -> tuple[Path, Path]:
        """Write the result as skyreader ``.json`` and ``.npz`` into ``output_dir``; returns both paths."""
        return write_result(self.skyscan, self.event, Path(output_dir))

    def write_products(self, output_dir: str | Path, gcn_schema: str | Path | None = None) -> dict[str, Path]:
        """Write the multi-order FITS map, the notice JSON (validated first against ``gcn_schema``, a
        copy of nasa-gcn/gcn-schema, when given) and the circular text into ``output_dir``; the
        localisation summary and the files go into ``manifest`` (and its file, when the scan wrote one)."""
        files = self.products.write(output_dir, gcn_schema)
        self.manifest["localization"] = self.products.as_dict()
        if self.truth_deg is not None:
            self.manifest["localization"]["truth"] = dict(zip(("ra_deg", "dec_deg"), self.truth_deg, strict=True))
        self.manifest["products"] = {k: p.name for k, p in files.items()}
        self.manifest["products"]["notice_validated"] = gcn_schema is not None
        if "manifest" in self.files:
            write_manifest(self.manifest, self.files["manifest"].parent)
        return files

    def plot(self, output_dir: str | Path, **options: Any) -> list[Path]:
        """Full-sky and zoomed plots of the probability map in ``output_dir``; ``options`` are those of
        :func:`~skymap_scanner.postprocess.plots.make_plots` (``center_deg``, ``radius_deg``, ``dpi``,
        ``fmt``); returns the files."""
        from skymap_scanner.postprocess.plots import make_plots

        files, _ = make_plots(self.skyscan, Path(output_dir), self.policy, smooth_deg=self.smooth_deg,
                              online_fit_deg=self.online_fit_deg, truth_deg=self.truth_deg, **options)
        return files


def simulate(energy_gev: float = 1e5, zenith_deg: float | None = None, azimuth_deg: float | None = None,
             seed: int = 1, *, starting: bool = False, noise: bool = True, event_id: int = 0,
             interaction: str = "muon", vertex: tuple[float, float, float] | None = None,
             inelasticity: float | None = None) -> Event:
    """One IceCube-like simulated event with truth (IceCube-86-like detector, layered ice).

    ``interaction``: ``"muon"`` (default; ``energy_gev`` where the muon enters the simulation volume,
    ``starting``: at creation inside the detector) or a neutrino interaction, ``"cascade"`` (νe CC),
    ``"nc"``, ``"starting"`` (νμ CC) or ``"tau"`` (ντ CC), with ``energy_gev`` the neutrino energy,
    ``vertex`` [m] and ``inelasticity`` optionally fixed. Direction isotropic unless given; ``seed``
    also sets the run id. See docs/simulation.md.
    """
    from skymap_scanner.simulation.simulate import SimulationConfig, simulate_event

    config = SimulationConfig(energy_gev=energy_gev, zenith=None if zenith_deg is None else math.radians(zenith_deg),
                              azimuth=None if azimuth_deg is None else math.radians(azimuth_deg),
                              starting=starting, noise=noise, interaction=interaction, vertex=vertex,
                              inelasticity=inelasticity)
    return simulate_event(config, seed=seed, event_id=event_id)


def scan(event: Event | str | Path, reco: str | None = None, nsides: str | None = None, *,
         workers: int | None = None, transport: str | ServerTransport | None = None,
         output_dir: str | Path | None = None, resume: bool | None = None, progress: bool | None = None,
         settings: Settings | None = None, reporter: RestReporter | None = None, **reco_options: Any) -> ScanResult:
    """Scan ``event`` (an :class:`~skymap_scanner.event.model.Event` or a file for
    :func:`~skymap_scanner.io.events.load_event`) and return the result.

    Parameters
    ----------
    reco : reconstruction algorithm (default ``"mpe_pandel"``), a module of ``skymap_scanner.recos``
    nsides : nside progression ``"N:EXT ..."`` (default ``"8:0 64:12 512:24"``)
    workers : local worker processes (default: the CPU count)
    transport : ``"processes"`` (default), ``"inprocess"`` (no child process: debuggers, notebooks,
        scripts without a ``__main__`` guard) or a broker URL (``amqp://``, ``nats://``; clients
        started with ``skymap-scanner client`` do the fits), or an open
        :class:`~skymap_scanner.transport.base.ServerTransport` (the caller closes it)
    output_dir : write results, manifest and checkpoints there (default: write nothing)
    resume : continue from ``output_dir``'s checkpoint of the same scan (default False)
    progress : progress bar (default: only on a terminal)
    settings : every other setting (:class:`~skymap_scanner.settings.Settings`); the arguments above
        override it
    reporter : REST progress/result reporting (default: from ``settings.skydriver_address``)
    **reco_options : options of the reco (``--reco-option KEY=VALUE``)
    """
    given = {"reco_algo": reco, "nsides": nsides, "workers": workers,
             "transport": None if isinstance(transport, ServerTransport) else transport,
             "output_dir": output_dir, "resume": resume, "progress": progress}
    given = {k: v for k, v in given.items() if v is not None}
    if reco_options:
        given["reco_options"] = reco_options
    base = {} if settings is None else {k: getattr(settings, k) for k in settings.model_fields_set}
    s = load_settings(**{**base, **given})
    if not isinstance(event, Event):
        event = load_event(event)
    if s.output_dir is not None:
        try:
            prepare_output_dir(Path(s.output_dir))
        except OSError as e:
            raise SettingsError(str(e)) from None
    plan = ScanPlan.build(event, s.reco_algo, s.reco_options, first_nside=s.nsides.nsides[0],
                          refine_seed=s.refine_seed, pointing_radius_deg=s.pointing_radius_deg)
    policy = _policy(s.contours, s.reco_algo, plan.reco_cls.default_calibration, event_charge_pe(event))
    scan_id = s.scan_id or default_scan_id(
        scan_identity(plan, s.nsides, s.predictive_scanning_threshold, s.refine_seed))
    own_reporter = reporter is None and bool(s.skydriver_address)
    if own_reporter:
        reporter = RestReporter(s.skydriver_address, scan_id, s.skydriver_auth, s.kill_switch_check_interval)
    loop = LoopSettings(progression=s.nsides, batch_size=s.batch_size or plan.reco_cls.default_batch_size,
                        idle_timeout_s=s.idle_timeout_s, shuffle_seed=s.shuffle_seed,
                        progress_bar=sys.stderr.isatty() if s.progress is None else s.progress)
    options = ScanOptions(
        loop=loop, predictive_scanning_threshold=s.predictive_scanning_threshold, refine_seed=s.refine_seed,
        output_dir=s.output_dir, resume=s.resume,
        intervals=RecordIntervals(s.checkpoint_interval_s, s.progress_interval_s, s.result_interval_s),
    )
    try:
        outcome = _run(plan, transport, s, options, scan_id, reporter)
    finally:
        if own_reporter and reporter is not None:
            reporter.close()  # its background thread, after a scan that ended without final reports
    energy = _deposited_energy(event, outcome, plan)
    return _result(outcome, event, policy, s.smooth_deg, energy)


def _run(plan: ScanPlan, transport: str | ServerTransport | None, s: Settings, options: ScanOptions,
         scan_id: str, reporter: RestReporter | None) -> ScanOutcome:
    if isinstance(transport, ServerTransport):
        return run_scan(plan, transport, options, scan_id, reporter)
    broker = s.broker_config(s.transport) if "://" in s.transport else None
    key = s.scan_key(server=True) if broker is not None else None
    with create_server_transport(s.transport, workers=s.workers, task_time_limit_s=s.task_time_limit_s,
                                 max_attempts=s.max_attempts, broker=broker, key=key) as server_transport:
        return run_scan(plan, server_transport, options, scan_id, reporter)


def event_charge_pe(event: Event) -> float:
    """Total charge of the event's pulses [PE]: the observable of charge calibrations."""
    return float(event.pulses.charge.sum())


def _policy(contours: str | None, reco: str, default_calibration: str | None, charge_pe: float) -> ContourPolicy:
    try:
        return choose_policy(contours, reco, default_calibration, charge_pe)
    except ValueError as e:
        raise SettingsError(f"invalid contours: {e}") from None


def _degrees(radec: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if radec is None else (math.degrees(radec[0]) % 360.0, math.degrees(radec[1]))


def _truth_deg(event: Event) -> tuple[float, float] | None:
    """(RA, Dec) [deg] of a simulated event's true muon direction."""
    from skymap_scanner.sky import dir_to_equa

    muon = event.truth.get("muon")
    if event.metadata.is_real_event or muon is None or not muon.has_direction:
        return None
    ra, dec = dir_to_equa(muon.zenith, muon.azimuth, event.metadata.mjd)
    return _degrees((float(ra), float(dec)))


def _deposited_energy(event: Event, outcome: ScanOutcome, plan: ScanPlan) -> DepositedEnergy | None:
    """The deposited energy at the scan's best fit: the best pixel's own E_in / E_tot when its reco fits losses
    (E_tot > 0), else for recos with ``track_energy_at_best_fit``
    :func:`~skymap_scanner.postprocess.energy.track_deposited_energy` with the event's uncleaned pulses, else
    None; None (and a warning) when it cannot be computed."""
    best = outcome.collector.results.best()
    if best is None:
        return None
    if best.reco_losses_total > 0:
        return DepositedEnergy(best.reco_losses_inside, best.reco_losses_total,
                               f"the {plan.reco_algo} fit of the best pixel", 1)
    if not plan.reco_cls.track_energy_at_best_fit:
        return None
    fit = outcome.record.manifest["progress"]["best_fit"]
    try:
        return track_deposited_energy(event, (best.x, best.y, best.z), best.time,
                                      math.radians(fit["zenith_deg"]), math.radians(fit["azimuth_deg"]))
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        LOGGER.warning("no deposited energy at the best fit of event %s: %s: %s", event.metadata,
                       type(e).__name__, e)
        return None


def _result(outcome: ScanOutcome, event: Event, policy: ContourPolicy, smooth_deg: float,
            energy: DepositedEnergy | None = None) -> ScanResult:
    """The ScanResult; the policy goes into the manifest (and its file) as ``scan_metadata.contour_policy``,
    the deposited energy (when there is one) as ``scan_metadata.deposited_energy``."""
    record = outcome.record
    best = record.manifest["progress"]["best_fit"]
    files = {k: p for k, p in (("json", record.json_path), ("npz", record.npz_path),
                               ("manifest", record.manifest_path)) if p is not None}
    manifest = record.manifest
    manifest["scan_metadata"]["contour_policy"] = policy.as_dict()
    manifest["scan_metadata"]["event_charge_pe"] = event_charge_pe(event)
    if energy is not None:
        manifest["scan_metadata"]["deposited_energy"] = energy.as_dict()
    if record.manifest_path is not None:
        write_manifest(manifest, record.manifest_path.parent)
    return ScanResult(skyscan=record.result, event=event.metadata, best_fit=BestFit(**best),
                      failed_pixels=list(outcome.collector.failed_pixels), pixels=outcome.collector.results,
                      manifest=manifest, scan_id=outcome.scan_id, policy=policy,
                      online_fit_deg=_degrees(direction_seed(event)), truth_deg=_truth_deg(event),
                      smooth_deg=smooth_deg, files=files, resumed_variations=outcome.resumed_variations,
                      deposited_energy=energy)
