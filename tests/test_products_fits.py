"""Multi-order FITS maps: header, normalisation, and what ligo.skymap's tools make of them."""

import math
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
from products_inputs import REAL_LIKE, dummy_result

import skymap_scanner
from skymap_scanner.postprocess import localization as L
from skymap_scanner.postprocess import multiorder as M
from skymap_scanner.postprocess import probability as P
from skymap_scanner.postprocess.calibration import WILKS, load_calibration

BIN = Path(sys.executable).parent
CALIBRATED = load_calibration("mpe_pandel_100TeV")
MINIMUM = (345.8, 9.1)


def make_map(tmp_path, policy, name):
    result = dummy_result(*MINIMUM, meta=REAL_LIKE)
    density = P.probability_density(result, policy)
    summary = L.summarize(result, density, policy, name)
    path = M.write_multiorder_fits(M.multiorder_table(density, summary, alert_stream="gold"),
                                   tmp_path / "map.multiorder.fits.gz")
    return path, summary


@pytest.fixture(scope="module", params=["wilks", "mpe_pandel_100TeV"])
def written(request, tmp_path_factory):
    policy = WILKS if request.param == "wilks" else CALIBRATED
    return make_map(tmp_path_factory.mktemp(request.param), policy, request.param)


def test_header_and_columns(written):
    path, summary = written
    with fits.open(path) as hdus:
        header, data = hdus[1].header, hdus[1].data
    assert (header["PIXTYPE"], header["ORDERING"], header["COORDSYS"], header["INDXSCHM"]) == (
        "HEALPIX", "NUNIQ", "C", "EXPLICIT")
    assert header["MOCORDER"] == 9
    assert header["TUNIT2"] == "sr-1" and data.columns.names == ["UNIQ", "PROBDENSITY"]
    assert (header["RUNID"], header["EVENTID"], header["EVENT-TYPE"], header["ALERT-STREAM"]) == (
        137840, 57034692, "neutrino", "gold")
    assert header["MJD-OBS"] == REAL_LIKE.mjd and header["DATE-OBS"].startswith("2023-04-16T05:22:26")
    assert header["SENDER"] == header["ORIGIN"] == "skymap_scanner"
    assert header["SOFTVER"] == skymap_scanner.__version__
    assert "IceCube Collaboration" not in repr(header)
    assert header["CONTOUR"] == summary.policy_name and header["SYSTEMAT"] is False
    assert header["RA"] == summary.ra_deg and header["DEC"] == summary.dec_deg
    for pct in ("50", "90"):
        region = summary.regions[f"{pct}%"]
        assert header[f"CONTOUR_AREA_{pct}"] == pytest.approx(region.area_deg2, abs=1e-6)
        for coord in ("RA", "DEC"):
            plus, minus = getattr(region, f"{coord.lower()}_plus_deg"), getattr(region, f"{coord.lower()}_minus_deg")
            assert header[f"{coord}_ERR_PLUS_{pct}"] == pytest.approx(plus, abs=1e-6) and plus > 0
            assert header[f"{coord}_ERR_MINUS_{pct}"] == pytest.approx(minus, abs=1e-6) and minus < 0
    assert np.sum(data["PROBDENSITY"] * uniq2pixarea(data["UNIQ"])) == pytest.approx(1.0, abs=1e-12)


def test_ligo_skymap_reads_it(written):
    path, summary = written
    sky_map = read_sky_map(str(path), moc=True)
    assert sky_map.colnames == ["UNIQ", "PROBDENSITY"]
    assert np.sum(sky_map["PROBDENSITY"] * uniq2pixarea(sky_map["UNIQ"])) == pytest.approx(1.0, abs=1e-12)
    assert sky_map.meta["origin"] == "skymap_scanner"
    flat, meta = read_sky_map(str(path))  # rasterised to a flat map
    assert np.sum(flat) == pytest.approx(1.0, abs=1e-9)


def test_crossmatch_gives_searched_area_and_the_reported_contours(written):
    path, summary = written
    sky_map = read_sky_map(str(path), moc=True)
    at_best = crossmatch(sky_map, SkyCoord(summary.ra_deg * u.deg, summary.dec_deg * u.deg))
    assert at_best.searched_prob < 0.01 and at_best.offset < 0.1
    # a source 1σ (0.5°) from the dummy's minimum: searched probability of a 2-d Gaussian 1 - exp(-1/2)
    off = crossmatch(sky_map, SkyCoord(MINIMUM[0] * u.deg, (MINIMUM[1] + 0.5) * u.deg), contours=(0.5, 0.9))
    assert 0 < off.searched_prob < 1 and 0 < off.searched_area < 41253
    if summary.policy_name == "wilks":
        assert off.searched_prob == pytest.approx(1 - math.exp(-0.5), abs=0.03)
    for (key, region), area in zip(summary.regions.items(), off.contour_areas, strict=True):
        assert area == pytest.approx(region.area_deg2, rel=0.05), key
        assert area == pytest.approx(region.area_deg2, rel=1e-9), key  # same interpolation, same map
    if summary.policy_name != "wilks":  # calibrated: the 90 % searched area is the contour's pixel area
        assert off.contour_areas[1] == pytest.approx(
            P.contour_area_deg2(P.llh_tiling(dummy_result(*MINIMUM, meta=REAL_LIKE)), CALIBRATED.levels["90%"]),
            rel=0.05)


def test_ligo_skymap_command_line_tools_accept_it(written, tmp_path):
    path, summary = written
    stats = tmp_path / "stats.tsv"
    run = subprocess.run([BIN / "ligo-skymap-stats", "-o", stats, path, "--contour", "50", "90"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    header, row = stats.read_text().splitlines()[-2:]
    values = dict(zip(header.lstrip("# ").split("\t"), row.split("\t"), strict=True))
    assert float(values["area(90)"]) == pytest.approx(summary.regions["90%"].area_deg2, rel=0.05)
    png = tmp_path / "map.png"
    run = subprocess.run([BIN / "ligo-skymap-plot", path, "-o", png, "--annotate", "--contour", "50", "90"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert png.stat().st_size > 10_000
