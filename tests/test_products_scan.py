"""Alert products of a real (embedded-transport) dummy scan: the whole chain on the scanner's output."""

import math

import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from ligo.skymap.io import read_sky_map
from ligo.skymap.postprocess.crossmatch import crossmatch
from products_inputs import SIGMA_DEG, scan_dummy_result

from skymap_scanner.postprocess import circular as C
from skymap_scanner.postprocess import localization as L
from skymap_scanner.postprocess import multiorder as M
from skymap_scanner.postprocess import probability as P
from skymap_scanner.postprocess.calibration import WILKS


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    return scan_dummy_result(tmp_path_factory.mktemp("scan"))


def test_products_of_a_scan(scanned, tmp_path):
    result, (ra0, dec0) = scanned
    density = P.probability_density(result, WILKS, smooth_deg=0.2)
    summary = L.summarize(result, density, WILKS, "wilks", smooth_deg=0.2, online_fit_deg=(ra0, dec0))
    # Wilks ⊗ 0.2° Gaussian: 90 % area π (σ² + 0.2²) · 4.61
    expected = math.pi * (SIGMA_DEG**2 + 0.2**2) * -2 * math.log(0.1)
    assert summary.regions["90%"].area_deg2 == pytest.approx(expected, rel=0.05)
    assert summary.online_offset_deg < 0.1
    path = M.write_multiorder_fits(M.multiorder_table(density, summary), tmp_path / "map.fits")
    sky_map = read_sky_map(str(path), moc=True)
    match = crossmatch(sky_map, SkyCoord(ra0 * u.deg, dec0 * u.deg), contours=(0.9,))
    assert match.contour_areas[0] == pytest.approx(summary.regions["90%"].area_deg2, rel=0.05)
    assert match.searched_prob < 0.05
    assert "smoothed with a 0.20 deg Gaussian" in C.circular_text(summary)
    assert "Deposited energy" not in C.circular_text(summary)  # none estimated
