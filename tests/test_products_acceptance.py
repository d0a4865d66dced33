"""Acceptance of the alert products on real scans: GOLD and BRONZE alerts (command line ``scan`` and the
API) and the simulated demo (command line ``demo``), each scanned once per session with ``mpe_pandel``
at 8:0 64:12 (about 30-60 s each) under the default contour policy (the reco's calibration)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from ligo.skymap.io import read_sky_map
from ligo.skymap.moc import uniq2pixarea
from ligo.skymap.postprocess.crossmatch import crossmatch
from matplotlib.image import imread

from skymap_scanner.api import scan
from skymap_scanner.io.events import load_event
from skymap_scanner.postprocess.calibration import load_calibration
from skymap_scanner.postprocess.gcn_notice import validate_notice
from skymap_scanner.postprocess.localization import credible_extent
from skymap_scanner.postprocess.plots import read_result
from skymap_scanner.postprocess.probability import MultiOrderMap, contour_area_deg2, interpolated_tiling, llh_tiling
from skymap_scanner.postprocess.products import INTERPOLATE_ORDERS

BIN = Path(sys.executable).parent
NSIDES = ("8:0", "64:12")
GOLD = "run00136766-evt000007637140-GOLD.pkl"
BRONZE = "run00136662-evt000035405932-BRONZE.pkl"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from skymap_scanner.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=900)


def outputs(folder: Path, stdout: str = "") -> dict:
    """What a scan left in ``folder``: result, map, notice, circular, plots, manifest."""
    def one(pattern: str) -> Path:
        found = sorted(folder.glob(pattern))
        assert len(found) == 1, (pattern, sorted(p.name for p in folder.iterdir()))
        return found[0]

    return {"folder": folder, "stdout": stdout, "result": one("*_8_64.npz"), "map": one("*.multiorder.fits"),
            "notice": json.loads(one("*.notice.json").read_text()), "circular": one("*.circular.txt").read_text(),
            "sky": one("*_sky.png"), "zoom": one("*_zoom.png"),
            "manifest": json.loads((folder / "scan-manifest.json").read_text())}


@pytest.fixture(scope="session")
def schema(shared_data):
    return shared_data / "gcn-schema"


@pytest.fixture(scope="session")
def gold(shared_data, geometry_table, schema, tmp_path_factory):
    out = tmp_path_factory.mktemp("gold")
    run = cli("scan", str(shared_data / "events" / GOLD), "--geometry", str(geometry_table), "-o", str(out),
              "--workers", "2", "--nsides", *NSIDES, "--gcn-schema", str(schema))
    assert run.returncode == 0, run.stderr
    return outputs(out, run.stdout)


@pytest.fixture(scope="session")
def bronze(shared_data, geometry_table, schema, tmp_path_factory):
    out = tmp_path_factory.mktemp("bronze")
    event = load_event(shared_data / "events" / BRONZE, geometry_table=geometry_table)
    result = scan(event, "mpe_pandel", " ".join(NSIDES), workers=2, output_dir=out, progress=False)
    result.write_products(out, schema)
    result.plot(out)
    return {**outputs(out), "api": result}


@pytest.fixture(scope="session")
def demo(schema, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    run = cli("demo", "-o", str(out), "--workers", "2", "--nsides", *NSIDES, "--gcn-schema", str(schema))
    assert run.returncode == 0, run.stderr
    return outputs(out, run.stdout)


@pytest.fixture(scope="session", params=["gold", "bronze", "demo"])
def scanned(request):
    return request.getfixturevalue(request.param)


def test_default_policy_is_the_reco_calibration_everywhere(scanned):
    policy = scanned["manifest"]["scan_metadata"]["contour_policy"]
    assert (policy["name"], policy["reason"]) == ("mpe_pandel_charge", "reco default")
    # a charge calibration, evaluated at the event's total charge
    charge = scanned["manifest"]["scan_metadata"]["event_charge_pe"]
    assert policy["charge_pe"] == charge and policy["levels"] == load_calibration("mpe_pandel_charge").levels_at(charge)
    assert scanned["manifest"]["localization"]["contour_policy"]["name"] == "mpe_pandel_charge"
    n = load_calibration("mpe_pandel_charge").n_events
    assert f"Contours: mpe_pandel_charge (calibrated on {n} simulated events)" in scanned["circular"]
    assert all("mpe_pandel_charge" in p.name for p in (scanned["map"], scanned["sky"], scanned["zoom"]))
    with fits.open(scanned["map"]) as hdus:
        assert hdus[1].header["CONTOUR"] == "mpe_pandel_charge"


def test_tidy_output_folder(scanned):
    folder = scanned["folder"]
    names = {p.name for p in folder.iterdir()}
    assert not [n for n in names if n.endswith(".pkl")] and "partial" not in names
    assert len([n for n in names if n.endswith(("_8_64.json", "_8_64.npz"))]) == 2
    assert (folder / "scan-manifest.json").stat().st_mode & 0o777 == 0o644
    assert scanned["manifest"]["products"]["notice_validated"] is True


def test_ligo_skymap_reads_the_map_and_its_area_is_the_contour_area(scanned):
    sky_map = read_sky_map(str(scanned["map"]), moc=True)
    assert np.sum(sky_map["PROBDENSITY"] * uniq2pixarea(sky_map["UNIQ"])) == pytest.approx(1.0, abs=1e-9)
    best = scanned["manifest"]["localization"]["best_fit"]
    match = crossmatch(sky_map, SkyCoord(best["ra_deg"] * u.deg, best["dec_deg"] * u.deg), contours=(0.5, 0.9))
    reported = scanned["manifest"]["localization"]["regions"]
    assert match.contour_areas[1] == pytest.approx(reported["90%"]["area_deg2"], rel=1e-3)
    assert match.contour_areas[0] == pytest.approx(reported["50%"]["area_deg2"], rel=1e-3)
    # the contour area a scan reports (ScanResult.contour_areas): {2ΔLLH < L90} on the scan's pixels,
    # the finest interpolated as in the map
    tiling = interpolated_tiling(llh_tiling(read_result(scanned["result"])), INTERPOLATE_ORDERS)
    level = scanned["manifest"]["scan_metadata"]["contour_policy"]["levels"]["90%"]
    assert match.contour_areas[1] == pytest.approx(contour_area_deg2(tiling, level), rel=0.05)


def test_the_map_credible_area_is_the_reported_contour_area(bronze):
    """The API's contour areas (the policy's levels on the scan's pixels) against ligo.skymap's reading
    of the written map."""
    result = bronze["api"]
    assert result.policy.name == "mpe_pandel_charge"
    match = crossmatch(read_sky_map(str(bronze["map"]), moc=True), contours=(0.5, 0.9))
    assert match.contour_areas[1] == pytest.approx(result.contour_areas["90%"], rel=0.05)
    assert match.contour_areas[0] == pytest.approx(result.contour_areas["50%"], rel=0.05)


def test_notice_validates(scanned, schema):
    validate_notice(scanned["notice"], schema)
    real = scanned["manifest"]["event_metadata"]["is_real_event"]
    assert scanned["notice"]["alert_tense"] == ("current" if real else "test")


def test_ligo_skymap_tools_run(gold, demo, tmp_path):
    for name, scanned in (("gold", gold), ("demo", demo)):
        stats = tmp_path / f"{name}.tsv"
        run = subprocess.run([BIN / "ligo-skymap-stats", "-o", stats, scanned["map"], "--contour", "50", "90"],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        png = tmp_path / f"{name}.png"
        run = subprocess.run([BIN / "ligo-skymap-plot", scanned["map"], "-o", png, "--contour", "50", "90"],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr


def test_crossmatch_at_the_truth_of_the_simulated_event(demo):
    truth = demo["manifest"]["localization"]["truth"]
    sky_map = read_sky_map(str(demo["map"]), moc=True)
    match = crossmatch(sky_map, SkyCoord(truth["ra_deg"] * u.deg, truth["dec_deg"] * u.deg))
    assert 0.0 <= match.searched_prob <= 1.0 and match.searched_area > 0


def _errors(circular: str, coordinate: str) -> tuple[float, float, float]:
    m = re.search(rf"^{coordinate}: ([-+\d.]+) \(\+([\d.]+) / -([\d.]+) deg 90% PSF containment\) J2000", circular,
                  re.MULTILINE)
    assert m, circular
    return float(m[1]), float(m[2]), float(m[3])


def test_gold_circular_matches_the_map_contour_extents(gold):
    sky_map = read_sky_map(str(gold["map"]), moc=True)
    density = MultiOrderMap(np.asarray(sky_map["UNIQ"], np.int64), np.asarray(sky_map["PROBDENSITY"]))
    best = gold["manifest"]["localization"]["best_fit"]
    ra, ra_plus, ra_minus = _errors(gold["circular"], "RA")
    dec, dec_plus, dec_minus = _errors(gold["circular"], "Dec")
    assert (ra, dec) == pytest.approx((best["ra_deg"], best["dec_deg"]), abs=0.006)
    extent = credible_extent(density, 0.9, best["ra_deg"], best["dec_deg"])
    assert (ra_plus, ra_minus) == pytest.approx((extent.ra_plus_deg, -extent.ra_minus_deg), abs=0.006)
    assert (dec_plus, dec_minus) == pytest.approx((extent.dec_plus_deg, -extent.dec_minus_deg), abs=0.006)
    assert f"{extent.area_deg2:.2f} sq. deg (90% containment)" in gold["circular"]
    offset = gold["manifest"]["localization"]["online_fit"]["offset_deg"]
    assert f"{offset:.2f} deg" in gold["circular"] and offset < 5
    assert gold["circular"].strip() in gold["stdout"]  # the end-of-run summary


def test_plots_are_real_pngs(scanned):
    for key, (height, width) in (("sky", (900, 1500)), ("zoom", (900, 1050))):  # 150 dpi, tight box
        image = imread(scanned[key])
        assert 0.7 * height < image.shape[0] < 1.1 * height and 0.7 * width < image.shape[1] < 1.1 * width
        assert 20_000 < scanned[key].stat().st_size < 1_000_000
        assert image[..., :3].std() > 0.05 and len(np.unique(image[..., 0])) > 50
