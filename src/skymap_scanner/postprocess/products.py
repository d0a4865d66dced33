"""The alert products of one scan under one contour policy: map, summary, GCN notice, circular text.

:func:`alert_products` runs the pure functions of :mod:`.probability`, :mod:`.localization`,
:mod:`.gcn_notice` and :mod:`.circular` once, so every product carries the same numbers;
:meth:`AlertProducts.write` writes the multi-order FITS map, the notice JSON and the circular text
under names that say the event and the policy, never over an existing file.

``alert_stream`` ("gold", "bronze", "cascade") is the caller's: the realtime messages this project
decodes name the message type (``event_type`` "neutrino", "HESE", "EHE", "ESTRES",
``i3/alert.py``), not the Gold/Bronze stream, which IceCube assigns from a signalness the event data
do not carry; without it the notice has no ``pipeline`` and the map no ``ALERT-STREAM`` key.

References
----------
.. [1] IceCube Collaboration, "IceCat-1: the IceCube Event Catalog of Alert Tracks", ApJS 269, 25
   (2023), arXiv:2304.01174 (alert streams, localisation).
.. [2] nasa-gcn/gcn-schema, ``gcn/notices/icecube/single_neutrino_alerts.schema.json``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from astropy.time import Time

from skymap_scanner.io.skyreader_api import SkyScanResult
from skymap_scanner.postprocess.calibration import ContourPolicy
from skymap_scanner.postprocess.circular import circular_text
from skymap_scanner.postprocess.energy import DepositedEnergy
from skymap_scanner.postprocess.gcn_notice import gcn_notice, iso_utc, validate_notice
from skymap_scanner.postprocess.localization import LocalizationSummary, summarize
from skymap_scanner.postprocess.multiorder import multiorder_table, write_multiorder_fits
from skymap_scanner.postprocess.probability import MultiOrderMap, probability_density

#: unsmoothed maps: the finest scanned pixels split 3 orders further (64 children) with interpolated
#: -lnL, so that a 90 % region of a few scanned pixels has the area of its contour
#: (``docs/alert-products.md`` §7)
INTERPOLATE_ORDERS = 3


def unique_path(path: Path) -> Path:
    """``path``, or ``name-1.ext``, ``name-2.ext`` … when a file or link of that name exists (nothing is
    overwritten; a dangling symbolic link counts as existing)."""
    if not os.path.lexists(path):
        return path
    suffixes = "".join(path.suffixes)
    stem = path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    n = 1
    while os.path.lexists(candidate := path.with_name(f"{stem}-{n}{suffixes}")):
        n += 1
    return candidate


def write_new_file(path: Path, write: Callable[[Path], object]) -> Path:
    """Write a new file at :func:`unique_path` of ``path`` with ``write(temporary path)``, then rename it
    into place (mode 0644): never through a symbolic link, never over an existing file."""
    target = unique_path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=f".{target.name}")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def product_stem(run_id: int, event_id: int, event_type: str, policy_name: str) -> str:
    """``run<RUN>.evt<EVENT>.<type>_<policy>``: the event (as result files name it) and the policy."""
    return f"run{run_id:08d}.evt{event_id:012d}.{event_type}_{policy_name}"


def summary_dict(summary: LocalizationSummary, policy: ContourPolicy) -> dict[str, Any]:
    """The localisation summary as JSON-ready data (manifest, ``report --format json``): angles [deg],
    areas [deg²], the policy and why it was chosen."""
    online = None
    if summary.online_offset_deg is not None:
        online = {"ra_deg": summary.online_ra_deg, "dec_deg": summary.online_dec_deg,
                  "offset_deg": summary.online_offset_deg}
    return {
        "event": {"id": summary.event_id_string, "run_id": summary.run_id, "event_id": summary.event_id,
                  "event_type": summary.event_type, "mjd": summary.mjd, "utc": iso_utc(summary.mjd),
                  "is_real_event": summary.is_real_event},
        "contour_policy": policy.as_dict(),
        "smooth_deg": summary.smooth_deg or 0.0,
        "best_fit": {"ra_deg": summary.ra_deg, "dec_deg": summary.dec_deg,
                     "zenith_deg": summary.zenith_deg, "azimuth_deg": summary.azimuth_deg},
        "regions": {k: asdict(r) for k, r in summary.regions.items()},
        "online_fit": online,
        "systematic_included": summary.systematic_included,
        "sources_in_90": [asdict(s) for s in summary.sources],
        "deposited_energy": summary.deposited_energy.as_dict() if summary.deposited_energy else None,
    }


class NoticeError(ValueError):
    """The GCN notice does not validate against the schema (or the schema cannot be read)."""


@dataclass(frozen=True)
class AlertProducts:
    """Density map, summary, notice and circular text of one scan under one policy."""

    density: MultiOrderMap
    summary: LocalizationSummary
    policy: ContourPolicy
    notice: dict[str, object]
    circular: str
    alert_stream: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """:func:`summary_dict` of the summary."""
        return summary_dict(self.summary, self.policy)

    def validate(self, gcn_schema: str | Path) -> None:
        """Validate the notice against ``gcn_schema`` (:func:`~.gcn_notice.validate_notice`); raises
        :class:`NoticeError` naming the failing field."""
        try:
            import jsonschema
            import referencing.exceptions
        except ImportError:
            raise NoticeError("validating GCN notices needs jsonschema: pip install 'skymap-scanner[astro]'") from None
        try:
            validate_notice(self.notice, gcn_schema)
        except jsonschema.ValidationError as e:
            where = "/".join(map(str, e.absolute_path)) or "notice"
            raise NoticeError(f"{where}: {e.message}") from None
        except (OSError, KeyError, ValueError, referencing.exceptions.Unresolvable) as e:
            raise NoticeError(f"schema {gcn_schema}: {type(e).__name__}: {e}") from None

    def write(self, folder: str | Path, gcn_schema: str | Path | None = None) -> dict[str, Path]:
        """Write ``<stem>.multiorder.fits``, ``<stem>.notice.json`` and ``<stem>.circular.txt``
        (:func:`product_stem`; an existing file gets a ``-N`` suffix instead). With ``gcn_schema`` (a
        copy of nasa-gcn/gcn-schema) the notice is validated first (:meth:`validate`)."""
        if gcn_schema is not None:
            self.validate(gcn_schema)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        s = self.summary
        stem = product_stem(s.run_id, s.event_id, s.event_type, s.policy_name)
        table = multiorder_table(self.density, self.summary, self.alert_stream)
        notice = json.dumps(self.notice, indent=2) + "\n"
        return {"map": write_new_file(folder / f"{stem}.multiorder.fits",
                                      lambda tmp: write_multiorder_fits(table, tmp)),
                "notice": write_new_file(folder / f"{stem}.notice.json", lambda tmp: tmp.write_text(notice)),
                "circular": write_new_file(folder / f"{stem}.circular.txt",
                                           lambda tmp: tmp.write_text(self.circular + "\n"))}


def alert_products(result: SkyScanResult, policy: ContourPolicy, smooth_deg: float | None = None,
                   online_fit_deg: tuple[float, float] | None = None,
                   catalogue: list[tuple[str, float, float]] | None = None, alert_stream: str | None = None,
                   alert_datetime: Time | None = None,
                   deposited_energy: DepositedEnergy | None = None) -> AlertProducts:
    """Every product of ``result`` under ``policy``: the density (smoothed by ``smooth_deg`` [deg] when
    given), the summary with the offset from ``online_fit_deg`` (RA, Dec) [deg], the ``catalogue``
    sources in the 90 % region and the ``deposited_energy`` at the best fit, the notice (``alert_datetime``
    default now) and the circular text."""
    smooth = smooth_deg or None
    density = probability_density(result, policy.calibration, smooth, INTERPOLATE_ORDERS)
    summary = summarize(result, density, policy.calibration, policy.name, smooth_deg=smooth,
                        online_fit_deg=online_fit_deg, catalogue=catalogue, deposited_energy=deposited_energy)
    notice = gcn_notice(summary, alert_stream=alert_stream, alert_datetime=alert_datetime)
    return AlertProducts(density, summary, policy, notice, circular_text(summary), alert_stream)


@dataclass(frozen=True)
class ScanContext:
    """What the ``scan-manifest.json`` next to a result file recorded about its scan."""

    reco: str | None = None
    #: the policy's source (:attr:`~.calibration.ContourPolicy.source`)
    contours: str | None = None
    online_fit_deg: tuple[float, float] | None = None
    truth_deg: tuple[float, float] | None = None
    #: the event's total charge [PE] (charge calibrations)
    charge_pe: float | None = None
    #: the deposited energy at the best fit, when the scan estimated one
    deposited_energy: DepositedEnergy | None = None


def scan_context(result_file: str | Path, result: SkyScanResult) -> ScanContext:
    """The context of ``result`` from the manifest beside ``result_file`` (empty when there is none,
    or when it belongs to another event)."""
    path = Path(result_file).parent / "scan-manifest.json"
    if not path.is_file():
        return ScanContext()
    manifest = json.loads(path.read_text())
    meta, recorded = result.get_event_metadata(), manifest.get("event_metadata", {})
    if (recorded.get("run_id"), recorded.get("event_id")) != (int(meta.run_id), int(meta.event_id)):
        return ScanContext()
    scan = manifest.get("scan_metadata", {})
    where = manifest.get("localization", {})

    def radec(d: dict[str, Any] | None) -> tuple[float, float] | None:
        return None if not d else (float(d["ra_deg"]), float(d["dec_deg"]))

    charge = scan.get("event_charge_pe")
    energy = scan.get("deposited_energy")
    try:
        deposited = DepositedEnergy.from_dict(energy) if isinstance(energy, dict) else None
    except ValueError as e:
        raise ValueError(f"{path}: scan_metadata.deposited_energy: {e}") from None
    return ScanContext(reco=scan.get("reco_algo"), contours=scan.get("contour_policy", {}).get("source"),
                       online_fit_deg=radec(where.get("online_fit")), truth_deg=radec(where.get("truth")),
                       charge_pe=float(charge) if isinstance(charge, int | float) else None,
                       deposited_energy=deposited)
