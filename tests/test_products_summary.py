"""Localisation summary, catalogue crossmatch, circular text."""

import math
import re

import pytest
from products_inputs import REAL_LIKE, SIGMA_DEG, dummy_result

from skymap_scanner.postprocess import circular as C
from skymap_scanner.postprocess import localization as L
from skymap_scanner.postprocess import probability as P
from skymap_scanner.postprocess.calibration import WILKS, load_calibration
from skymap_scanner.sky import equa_to_dir

#: radius [deg] of the dummy's Wilks 90 % disc, and the half-diagonal of a nside-512 pixel
R90 = SIGMA_DEG * math.sqrt(4.61)
PIXEL = math.degrees(math.sqrt(4 * math.pi / (12 * 512**2)))


def summary_at(ra, dec, policy=WILKS, name="wilks", **kw):
    result = dummy_result(ra, dec, meta=REAL_LIKE)
    return L.summarize(result, P.probability_density(result, policy), policy, name, **kw)


@pytest.mark.parametrize("ra,dec", [(200.0, 30.0), (0.05, -5.0), (359.95, 60.0)])
def test_extents_are_the_disc_radius_in_ra_and_dec(ra, dec):
    s = summary_at(ra, dec)
    r = s.regions["90%"]
    assert abs(s.ra_deg - ra) % 360 < PIXEL * 2 and abs(s.dec_deg - dec) < PIXEL
    cos = math.cos(math.radians(s.dec_deg))
    for extent in (r.dec_plus_deg, -r.dec_minus_deg, r.ra_plus_deg * cos, -r.ra_minus_deg * cos):
        assert R90 - PIXEL < extent < R90 + 1.5 * PIXEL  # wrap-around at RA 0 gives small errors
    assert r.area_deg2 == pytest.approx(math.pi * R90**2, rel=0.02)
    assert s.regions["50%"].area_deg2 < r.area_deg2


def test_region_holding_a_pole_spans_all_ra():
    s = summary_at(10.0, 89.6)
    r = s.regions["90%"]
    assert (r.ra_plus_deg, r.ra_minus_deg) == (180.0, -180.0)
    assert r.dec_plus_deg == pytest.approx(90.0 - s.dec_deg)  # up to the pole
    assert r.dec_minus_deg == pytest.approx(-R90, abs=2 * PIXEL)


def test_detector_direction_and_online_offset():
    s = summary_at(200.0, 30.0, online_fit_deg=(200.0, 31.0))
    zenith, azimuth = equa_to_dir(math.radians(s.ra_deg), math.radians(s.dec_deg), REAL_LIKE.mjd)
    assert (s.zenith_deg, s.azimuth_deg) == pytest.approx((math.degrees(zenith), math.degrees(azimuth)))
    assert s.online_offset_deg == pytest.approx(1.0, abs=PIXEL)
    assert (s.run_id, s.event_id, s.event_id_string) == (137840, 57034692, "137840_57034692")


def test_catalogue_sources_inside_the_90_region(tmp_path):
    csv = tmp_path / "cat.csv"
    csv.write_text("name,ra,dec\nnear,200.0,30.5\nedge_out,200.0,31.3\nfar,10.0,-40.0\nnearer,200.1,30.1\n")
    s = summary_at(200.0, 30.0, catalogue=L.read_catalogue(csv))
    assert [src.name for src in s.sources] == ["nearer", "near"]
    assert s.sources[1].offset_deg == pytest.approx(0.5, abs=PIXEL)


def test_calibration_widens_and_says_no_systematics():
    calibrated = summary_at(200.0, 30.0, load_calibration("mpe_pandel_100TeV"), "mpe_pandel_100TeV")
    assert calibrated.regions["90%"].area_deg2 > 4 * summary_at(200.0, 30.0).regions["90%"].area_deg2
    assert calibrated.systematic_included is False


def test_circular_numbers_match_the_summary():
    s = summary_at(345.8, 9.1, online_fit_deg=(345.82, 9.01), catalogue=[("4FGL J2303.0+0906", 345.75, 9.1)])
    text = C.circular_text(s)
    r90, r50 = s.regions["90%"], s.regions["50%"]
    ra = re.search(r"^RA: ([\d.]+) \(\+([\d.]+) / -([\d.]+) deg 90% PSF containment\) J2000$", text, re.M)
    dec = re.search(r"^Dec: ([-\d.]+) \(\+([\d.]+) / -([\d.]+) deg 90% PSF containment\) J2000$", text, re.M)
    assert [float(x) for x in ra.groups()] == pytest.approx(
        [s.ra_deg, r90.ra_plus_deg, -r90.ra_minus_deg], abs=0.005)
    assert [float(x) for x in dec.groups()] == pytest.approx(
        [s.dec_deg, r90.dec_plus_deg, -r90.dec_minus_deg], abs=0.005)
    areas = re.search(r"Area: ([\d.]+) sq. deg \(50% containment\), ([\d.]+) sq. deg \(90% containment\)", text)
    assert [float(x) for x in areas.groups()] == pytest.approx([r50.area_deg2, r90.area_deg2], abs=0.005)
    offset = re.search(r"Offset from the online fit .*: ([\d.]+) deg", text)
    assert float(offset.group(1)) == pytest.approx(s.online_offset_deg, abs=0.005)
    assert f"zenith {s.zenith_deg:.2f} deg" in text
    assert "Contours: wilks" in text and "does not include systematic" in text
    assert "4FGL J2303.0+0906" in text
    assert "IceCube Collaboration" not in text
