"""GCN notices validated against the GCN schema, its $refs resolved from local files."""

import copy
import json
import math

import jsonschema
import pytest
from products_inputs import REAL_LIKE, SIMULATED, dummy_result

from skymap_scanner.postprocess import gcn_notice as G
from skymap_scanner.postprocess import localization as L
from skymap_scanner.postprocess import probability as P
from skymap_scanner.postprocess.calibration import WILKS, ContourCalibration, load_calibration


@pytest.fixture(scope="module")
def schema_root(shared_data):
    return shared_data / "gcn-schema"


def summary(meta, policy=WILKS, name="wilks"):
    result = dummy_result(345.8, 9.1, meta=meta)
    return L.summarize(result, P.probability_density(result, policy), policy, name)


def test_schema_example_validates_and_a_broken_one_does_not(schema_root):
    example = json.loads((schema_root / "gcn/notices/icecube/single_neutrino_alerts.gold_bronze_track_alerts"
                                        ".example.json").read_text())
    G.validate_notice(example, schema_root)
    with pytest.raises(jsonschema.ValidationError, match="pipeline"):
        G.validate_notice({**example, "pipeline": "Silver Track Alert"}, schema_root)


def test_real_event_like_notice(schema_root):
    s = summary(REAL_LIKE, load_calibration("mpe_pandel_100TeV"), "mpe_pandel_100TeV")
    notice = G.gcn_notice(s, alert_stream="gold", nu_energy_tev=127.3, event_name="IceCube-230416A")
    G.validate_notice(notice, schema_root)
    r90 = s.regions["90%"]
    ra_err = (r90.ra_plus_deg - r90.ra_minus_deg) / 2
    dec_err = (r90.dec_plus_deg - r90.dec_minus_deg) / 2
    assert notice["ra_dec_error"] == pytest.approx(math.sqrt(ra_err * math.cos(math.radians(s.dec_deg)) * dec_err),
                                                   abs=1e-4)
    assert (notice["ra"], notice["dec"]) == pytest.approx((s.ra_deg, s.dec_deg), abs=1e-4)
    assert notice["id"] == ["137840_57034692"] and notice["event_name"] == ["IceCube-230416A"]
    assert (notice["pipeline"], notice["alert_topology"], notice["alert_tense"]) == (
        "Gold Track Alert", "Track", "current")
    assert notice["containment_probability"] == 0.9 and notice["systematic_included"] is False
    assert notice["nu_energy"] == 127.3
    assert notice["trigger_time"].startswith("2023-04-16T05:22:26.15") and notice["trigger_time"].endswith("Z")


def test_simulated_event_notice(schema_root):
    notice = G.gcn_notice(summary(SIMULATED))
    G.validate_notice(notice, schema_root)
    assert notice["alert_tense"] == "test" and notice["id"] == ["7_3"]
    assert "nu_energy" not in notice and "pipeline" not in notice and "event_name" not in notice
    assert notice["alert_topology"] == "Track"
    assert notice["trigger_time"] == "2023-02-25T06:00:00.000000Z"


def test_systematics_flag_follows_the_calibration(schema_root):
    with_syst = ContourCalibration({"50%": 5.0, "90%": 26.0}, "with systematics",
                                   details={"systematic_included": True})
    notice = G.gcn_notice(summary(REAL_LIKE, with_syst, "syst"), alert_stream="bronze")
    G.validate_notice(notice, schema_root)
    assert notice["systematic_included"] is True and notice["pipeline"] == "Bronze Track Alert"


def test_validation_needs_no_network(schema_root, tmp_path):
    # a copy whose $ref points to a file that is not there fails to resolve instead of fetching it
    copy_root = tmp_path / "schema"
    for path in (schema_root / "gcn").rglob("*.schema.json"):
        target = copy_root / path.relative_to(schema_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    (copy_root / "gcn/notices/core/DateTime.schema.json").unlink()
    notice = copy.deepcopy(G.gcn_notice(summary(SIMULATED)))
    with pytest.raises(Exception, match="DateTime"):
        G.validate_notice(notice, copy_root)
