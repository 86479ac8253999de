"""The report's calibration figures S1-S6 hold in the base scenario (reference/seed-report.md)."""

from __future__ import annotations

import re

import pytest

from xl_negcoke.model import load_dataset, load_model

TOLERANCE = 1e-9

# report id -> (assumption key, the value the report states)
REPORT_FIGURES = {
    "S1": ("power_battery_share_2023", 0.62),
    "S2": ("energy_storage_share_2023", 0.23),
    "S3": ("energy_storage_multiple_2030", 3.0),
    "S4": ("energy_storage_cagr_2020_2023", 0.68),
    "S5": ("china_revenue_share_2023", 0.76),
    "S6": ("top5_capacity_share_2023", 0.48),
}
CITES_S1_TO_S6 = re.compile(r"report:(S[1-6])(?!\d)")


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.mark.parametrize(
    ("application", "share"),
    [("Power Battery", 0.62), ("Energy Storage", 0.23), ("Consumer Battery", 0.15)],
)
def test_application_shares_of_2023_volume(model, application, share):
    """S1/S2: Power Battery 62%, Energy Storage 23%, Consumer Battery 15% of 2023 volume."""
    assert model.share(application, 2023, "volume") == pytest.approx(share, abs=TOLERANCE)


def test_energy_storage_triples_by_2030(model):
    """S3: Energy Storage volume in 2030 is 3.0 x its 2023 volume."""
    ratio = model.value("Energy Storage", 2030, "volume") / model.value("Energy Storage", 2023,
                                                                         "volume")
    assert ratio == pytest.approx(3.0, abs=TOLERANCE)


def test_energy_storage_cagr_2020_2023(model):
    """S4: Energy Storage volume grows at a 68% CAGR from 2020 to 2023."""
    assert model.cagr("Energy Storage", 2020, 2023, "volume") == pytest.approx(0.68, abs=TOLERANCE)


def test_china_share_of_2023_revenue(model):
    """S5: China has 76% of 2023 revenue."""
    assert model.share("China", 2023, "revenue") == pytest.approx(0.76, abs=TOLERANCE)


def test_top_five_share_of_2023_capacity(model):
    """S6: the five largest companies hold 48% of 2023 capacity."""
    assert model.concentration(5, 2023) == pytest.approx(0.48, abs=TOLERANCE)


def test_top_five_share_by_direct_sum(model):
    """S6 again, summing the five largest company capacities without Model.concentration."""
    companies = [c for c in model.segments("company") if c != "Others"]
    capacities = sorted((model.value(c, 2023, "capacity") for c in companies), reverse=True)
    share = sum(capacities[:5]) / model.value("Global", 2023, "capacity")
    assert share == pytest.approx(0.48, abs=TOLERANCE)


def test_every_assumption_citing_s1_to_s6_has_the_reported_value():
    """Every assumptions.csv row citing report:S1..S6 holds exactly the figure the report states."""
    cited: dict[str, set[str]] = {}
    for key, assumption in load_dataset().assumptions.items():
        for report_id in CITES_S1_TO_S6.findall(assumption.source):
            expected_key, expected_value = REPORT_FIGURES[report_id]
            assert key == expected_key, f"{key} cites {report_id}, which sets {expected_key}"
            assert assumption.value == pytest.approx(expected_value, abs=TOLERANCE)
            cited.setdefault(report_id, set()).add(key)
    assert cited == {rid: {key} for rid, (key, _value) in REPORT_FIGURES.items()}


def test_model_inputs_citing_s1_to_s6_have_the_reported_value(model):
    """Model.assumptions() shows the same S1-S6 figures the model computes with (base rows)."""
    frame = model.assumptions().set_index("key")
    for report_id, (key, value) in REPORT_FIGURES.items():
        assert frame.loc[key, "value"] == pytest.approx(value, abs=TOLERANCE)
        assert report_id in CITES_S1_TO_S6.findall(frame.loc[key, "source"])


def test_claims_table_lists_s1_to_s6_as_calibrations():
    """claims.csv marks S1-S6 as calibration claims sourced to the report."""
    claims = {c["id"]: c for c in load_dataset().claims}
    for report_id in REPORT_FIGURES:
        assert claims[report_id]["category"] == "calibration"
        assert claims[report_id]["source"] == f"report:{report_id}"
