"""The contour policy: requested > the reco's calibration > Wilks, and Wilks always warned."""

import logging

import pytest

from skymap_scanner.postprocess.calibration import WILKS, choose_policy, load_calibration
from skymap_scanner.recos import get_reco_class


def test_the_reco_calibration_is_the_default_at_the_event_charge():
    default = get_reco_class("mpe_pandel").default_calibration
    policy = choose_policy(None, "mpe_pandel", default, charge_pe=2745.5)
    assert (policy.name, policy.reason, policy.source) == ("mpe_pandel_charge", "reco default", "mpe_pandel_charge")
    assert policy.calibration.levels == load_calibration(default).levels_at(2745.5)
    record = policy.as_dict()
    assert record["charge_pe"] == 2745.5 and record["systematic_included"] is False
    with pytest.raises(ValueError, match="total charge"):  # a charge calibration needs the event's charge
        choose_policy(None, "mpe_pandel", default)


def test_wilks_when_asked_warns_with_the_measured_coverage(caplog):
    with caplog.at_level(logging.WARNING):
        policy = choose_policy("wilks", "mpe_pandel", "mpe_pandel_100TeV")
    assert policy.is_wilks and policy.reason == "requested"
    assert "0.49" in caplog.text and "100 TeV" in caplog.text and "mpe_pandel_100TeV" in caplog.text


def test_a_reco_without_calibration_gets_wilks_with_a_warning(caplog):
    assert get_reco_class("dummy").default_calibration is None
    with caplog.at_level(logging.WARNING):
        policy = choose_policy(None, "dummy", None)
    assert policy.calibration is WILKS and policy.reason == "no calibration"
    assert "no calibration exists" in caplog.text


def test_a_calibration_file_is_named_by_its_stem(tmp_path):
    path = WILKS.write(tmp_path / "my_levels.json")
    policy = choose_policy(str(path), "mpe_pandel", "mpe_pandel_100TeV")
    assert (policy.name, policy.source) == ("my_levels", str(path))


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="no such calibration"):
        choose_policy("nope", "mpe_pandel", None)
