"""GCN-circular-style text of a localisation summary (the lines IceCube's circulars carry).

Format of IceCube's track-alert circulars (e.g. GCN 33633): "RA: 345.85 (+0.41 / -0.63 deg 90% PSF
containment) J2000", the same for Dec, then the 50 %/90 % areas; here also the best fit in detector
coordinates, the offset from the online fit, the contour policy and the catalogue sources inside the
90 % region. Numbers are rounded to 2 decimals.

References
----------
.. [1] IceCube Collaboration, "IceCat-1", ApJS 269, 25 (2023), arXiv:2304.01174.
"""

from __future__ import annotations

from skymap_scanner.__version__ import __version__
from skymap_scanner.postprocess.localization import LocalizationSummary


def _error_line(label: str, value: float, plus: float, minus: float) -> str:
    return f"{label}: {value:.2f} (+{plus:.2f} / -{abs(minus):.2f} deg 90% PSF containment) J2000"


def circular_text(summary: LocalizationSummary) -> str:
    """Circular lines (newline-separated) for ``summary``."""
    r90, r50 = summary.regions["90%"], summary.regions["50%"]
    lines = [
        f"Event {summary.event_id_string} (MJD {summary.mjd:.5f}), refined by skymap_scanner {__version__}:",
        _error_line("RA", summary.ra_deg, r90.ra_plus_deg, r90.ra_minus_deg),
        _error_line("Dec", summary.dec_deg, r90.dec_plus_deg, r90.dec_minus_deg),
        f"Area: {r50.area_deg2:.2f} sq. deg (50% containment), {r90.area_deg2:.2f} sq. deg (90% containment)",
        f"Best fit: RA {summary.ra_deg:.2f} deg, Dec {summary.dec_deg:.2f} deg (J2000); "
        f"zenith {summary.zenith_deg:.2f} deg, azimuth {summary.azimuth_deg:.2f} deg (detector)",
    ]
    if summary.online_offset_deg is not None:
        lines.append(f"Offset from the online fit (RA {summary.online_ra_deg:.2f} deg, Dec "
                     f"{summary.online_dec_deg:.2f} deg): {summary.online_offset_deg:.2f} deg")
    if summary.deposited_energy is not None:
        e = summary.deposited_energy
        lines.append(f"Deposited energy at the best fit: {e.e_in_gev / 1e3:.1f} TeV in the detector, "
                     f"{e.e_tot_gev / 1e3:.1f} TeV in all ({e.hypothesis}; not the neutrino energy)")
    systematics = "includes" if summary.systematic_included else "does not include"
    smoothing = f", smoothed with a {summary.smooth_deg:.2f} deg Gaussian" if summary.smooth_deg else ""
    policy = summary.policy
    origin = f"calibrated on {policy.n_events} simulated events" if policy.n_events else policy.description
    lines.append(f"Contours: {summary.policy_name} ({origin}){smoothing}; the error {systematics} systematic "
                 "uncertainties")
    if summary.sources:
        lines.append("Catalogue sources in the 90% region:")
        lines += [f"  {s.name}: RA {s.ra_deg:.2f} deg, Dec {s.dec_deg:.2f} deg, {s.offset_deg:.2f} deg from the "
                  "best fit" for s in summary.sources]
    return "\n".join(lines)
