"""Supply from producers (model/supply.py): capacity of plants, producers, countries and
Global; utilisation; company volume; report S6; ties. Pinned figures are worked out by hand
below from the rows of data/producers.csv (capacity_kt x anode_share while the plant runs)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import suite
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from xl_negcoke.errors import AssumptionError
from xl_negcoke.model import load_model
from xl_negcoke.model.dataset import DEFAULT_DATA_DIR, TYPES, YEARS, load_dataset

DATASET = load_dataset()
MODEL = load_model()
SUPPLY = MODEL.markets["base"].supply

# --- the rows of producers.csv used below (nameplate kt/yr x anode share) --------------------
# 2023 anode capacity of the five largest producers:
PETROCHINA_2023 = 4064.6 * 0.25 + 170 * 0.4795  # refineries + Jinzhou needle coke = 1,097.665
SINOPEC_2023 = 11682.4 * 0.06  # = 700.944
CNOOC_2023 = 2159.3 * 0.25  # = 539.825
BAOLAI_2023 = 260 * 0.4795  # = 124.67
YIDA_2023 = 200 * 0.4795  # = 95.9, and Shandong Jingyang the same: a tie at fifth place
TOP5_2023 = PETROCHINA_2023 + SINOPEC_2023 + CNOOC_2023 + BAOLAI_2023 + YIDA_2023  # 2,559.004
GLOBAL_2023 = TOP5_2023 / 0.48  # report S6 sets it: 5,331.2583 kt/yr
# every other plant running in 2023 (all but the independent refiners, whose share S6 sets):
OTHER_PLANTS_2023 = (
    200 * 0.4795  # Shandong Jingyang 95.9
    + 150 * 0.4795  # Yiwei 71.925
    + 150 * 0.312 + 150 * 0.2  # Phillips 66 Humber 46.8 + Lake Charles 30
    + 100 * 0.2  # Mitsubishi Chemical Sakaide 20
    + 100 * 0.2  # ENEOS 20
    + 63 * 0.2  # PMC Tech 12.6
    + 60 * 0.1 + 40 * 0.0  # C-Chem Pizhou 6 + Kashima 0
    + 100 * 0.0  # Seadrift 0
    + (470 + 140 + 858) * 0.4795  # other Chinese oil-based needle coke 703.906
    + (940 + 130 + 220) * 0.4795  # other Chinese coal-based needle coke 618.555
    + 347 * 0.2  # other producers outside China 69.4
)  # = 1,695.086
INDEPENDENTS_SHARE = (GLOBAL_2023 - TOP5_2023 - OTHER_PLANTS_2023) / 15519.7  # = 0.069407


def test_top_five_producers_in_2023_by_hand():
    """The five largest producers' 2023 anode capacity equals nameplate x anode share of their
    plants (PetroChina 1,097.665, Sinopec 700.944, CNOOC 539.825, Baolai 124.67, Yida 95.9)."""
    for name, expected in (("China National Petroleum", PETROCHINA_2023), ("Sinopec", SINOPEC_2023),
                           ("China National Offshore Oil", CNOOC_2023), ("Baolai Bio", BAOLAI_2023),
                           ("Shandong Yida", YIDA_2023), ("Shandong Jingyang", YIDA_2023)):
        assert MODEL.value(name, 2023, "capacity") == pytest.approx(expected, rel=1e-12), name
    assert pytest.approx(1097.665, abs=1e-9) == PETROCHINA_2023


def test_report_s6_holds_exactly():
    """Report S6: the top five hold 48% of 2023 capacity (2,559.004 / 5,331.2583 kt/yr)."""
    assert MODEL.concentration(5, 2023, "capacity") == pytest.approx(0.48, abs=1e-12)
    assert MODEL.value("Global", 2023, "capacity") == pytest.approx(GLOBAL_2023, rel=1e-12)
    assert pytest.approx(5331.258333, abs=1e-6) == GLOBAL_2023


def test_independent_refiners_share_closes_s6():
    """The independent refiners' anode share is what S6 leaves: (5,331.2583 - 2,559.004 -
    1,695.086) / 15,519.7 = 6.94%, inside its plausible 2%-12% (producers.csv)."""
    assert float(SUPPLY.calibrated_share) == pytest.approx(INDEPENDENTS_SHARE, rel=1e-12)
    assert pytest.approx(0.0694065, abs=1e-6) == INDEPENDENTS_SHARE
    plant = next(p for p in DATASET.plants if p.plant == "independent_refiners")
    assert plant.anode_share is None and plant.anode_share_low < INDEPENDENTS_SHARE < plant.anode_share_high


def test_s6_and_s15_conflicts_are_recorded():
    """data/conflicts.csv records S6 against needle-coke capacity data and S15's typing."""
    with (DEFAULT_DATA_DIR / "conflicts.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert rows["C50"]["source_a"] == "report:S6" and "29.2%" in rows["C50"]["value_b"]
    assert rows["C3"]["source_a"] == rows["C4"]["source_a"] == "report:S15"
    assert MODEL.company("Shandong Jingyang", "type") == "Petroleum-based"  # S15: coal (C3)
    assert MODEL.company("Mitsubishi Chemical", "type") == "Coal-based"  # S15: petroleum (C4)


def test_global_capacity_2019_is_the_needle_coke_plants():
    """2019 (before refinery coke served anodes, from 2021): China oil 1,450 x 0.4795 + China
    coal (60 x 0.1 + 940 x 0.4795) + outside China (76.8 + 20 + 20 + 12.6 + 69.4) = 1,350.805."""
    expected = 1450 * 0.4795 + (60 * 0.1 + 940 * 0.4795) + (46.8 + 30 + 20 + 20 + 12.6 + 69.4)
    assert expected == pytest.approx(1350.805, abs=1e-9)
    assert MODEL.value("Global", 2019, "capacity") == pytest.approx(expected, rel=1e-12)


def test_announced_capacity_2025_adds_the_planned_plants():
    """2025: 2023's plants + planned Chinese needle coke (509.6 + 420.4) x 0.4795 + Indian Oil
    56 x 0.1, less C-Chem Kashima (share 0) = 5,331.2583 + 451.535."""
    announced = sum(SUPPLY.announced[kind] for kind in TYPES)
    assert announced[2025 - 2019] == pytest.approx(GLOBAL_2023 + 930 * 0.4795 + 5.6, rel=1e-12)
    assert announced[2024 - 2019] == pytest.approx(GLOBAL_2023, rel=1e-12)


def test_coal_based_capacity_2023():
    """Coal-based 2023: Pizhou 6 + other Chinese coal 1,290 x 0.4795 + Sakaide 20 + Kashima 0 +
    PMC 12.6 = 657.155 kt/yr."""
    assert MODEL.value("Coal-based", 2023, "capacity") == pytest.approx(
        60 * 0.1 + 1290 * 0.4795 + 100 * 0.2 + 0 + 63 * 0.2, rel=1e-12)


def test_closures_and_start_ups_follow_their_dates():
    """Mitsubishi Chemical Sakaide ends H2 FY2027 (20 kt/yr in 2027, none in 2028); Indian Oil
    Paradip starts 2025 (56 x 0.1 = 5.6); C-Chem Kashima idles after FY2024."""
    assert MODEL.value("Mitsubishi Chemical", 2027, "capacity") == pytest.approx(20.0, rel=1e-12)
    assert MODEL.value("Mitsubishi Chemical", 2028, "capacity") == 0.0
    assert MODEL.value("Indian Oil", 2024, "capacity") == 0.0
    assert MODEL.value("Indian Oil", 2025, "capacity") == pytest.approx(5.6, rel=1e-12)
    assert SUPPLY.plant_capacity["c_chem_kashima"][2024 - 2019] == 0.0  # share 0: electrodes only
    assert MODEL.company("C-Chem", "last_year") == 2030  # Pizhou runs on
    assert MODEL.company("Mitsubishi Chemical", "last_year") == 2027


def test_countries_hold_their_plants():
    """2023 (no capacity yet unannounced): U.K. = Humber 46.8; United States = Lake Charles 30 +
    Seadrift 0; Japan = ENEOS 20 + Sakaide 20 + Kashima 0 + others 69.4 = 109.4; South Korea =
    12.6; China = the rest, 5,331.2583 - 198.8."""
    for country, expected in (("U.K.", 46.8), ("United States", 30.0), ("Japan", 109.4),
                              ("South Korea", 12.6), ("India", 0.0),
                              ("China", GLOBAL_2023 - 198.8), ("Germany", 0.0)):
        assert MODEL.value(country, 2023, "capacity") == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert MODEL.value("Europe", 2023, "capacity") == pytest.approx(46.8, rel=1e-12)


def test_region_and_country_capacity_is_the_sum_of_their_plants():
    """Every year and scenario: a country's capacity = its plants + its pro-rata part of each
    type's capacity not yet announced; a region's = its countries'."""
    for scenario in MODEL.scenarios:
        supply = MODEL.markets[scenario].supply
        for country in DATASET.countries:
            plants = [p for p in DATASET.plants if p.country == country.name]
            expected = np.zeros(len(YEARS))
            for kind in TYPES:
                local = sum((supply.plant_capacity[p.plant] for p in plants if p.type == kind),
                            np.zeros(len(YEARS)))
                expected = expected + local + supply.unannounced[kind] * local / supply.announced[kind]
            np.testing.assert_allclose(MODEL.series(country.name, "capacity", scenario), expected,
                                       rtol=1e-12, atol=1e-9)
        for region in ("Asia", "Europe", "North America"):
            members = MODEL.segments(region)
            total = sum(MODEL.series(c, "capacity", scenario) for c in members)
            np.testing.assert_allclose(MODEL.series(region, "capacity", scenario), total, rtol=1e-12)


def test_utilisation_is_in_zero_one_every_year_and_scenario():
    """Utilisation (Global and each type) lies in (0, 1], in the embedded data never above the
    ceiling (0.85); it is not flat."""
    for scenario in MODEL.scenarios:
        market = MODEL.markets[scenario]
        assert np.all(market.utilisation > 0) and np.all(market.utilisation <= 0.85 + 1e-12)
        assert np.ptp(market.utilisation) > 0.3
        for kind in TYPES:
            assert np.all(market.supply.type_utilisation[kind] > 0)
            assert np.all(market.supply.type_utilisation[kind] <= 0.85 + 1e-12)


def test_utilisation_2023_is_volume_over_capacity():
    """Utilisation 2023 = Global volume / 5,331.2583 kt/yr (the S6 capacity)."""
    utilisation = MODEL.markets["base"].utilisation[2023 - 2019]
    assert utilisation == pytest.approx(MODEL.value("Global", 2023, "volume") / GLOBAL_2023, rel=1e-12)


def test_capacity_is_at_least_output_for_every_producer():
    """No producer (nor Others) sells more than its capacity, in any year or scenario."""
    for scenario in MODEL.scenarios:
        for company in MODEL.segments("company"):
            capacity = MODEL.series(company, "capacity", scenario)
            volume = MODEL.series(company, "volume", scenario)
            assert np.all(volume <= capacity * (1 + 1e-12)), (company, scenario)


def test_company_volume_is_capacity_times_its_type_utilisation():
    """Phillips 66 2023 volume = 76.8 kt/yr x Petroleum-based utilisation; revenue = that x the
    Petroleum-based price / 1,000."""
    utilisation = (MODEL.value("Petroleum-based", 2023, "volume")
                   / MODEL.value("Petroleum-based", 2023, "capacity"))
    volume = 76.8 * utilisation
    assert MODEL.value("Phillips 66", 2023, "volume") == pytest.approx(volume, rel=1e-12)
    assert MODEL.value("Phillips 66", 2023, "revenue") == pytest.approx(
        volume * MODEL.value("Petroleum-based", 2023, "price") / 1000, rel=1e-12)
    assert MODEL.company("Phillips 66", "utilisation", 2023) == pytest.approx(utilisation, rel=1e-12)


def test_unannounced_capacity_tops_up_to_the_ceiling():
    """Where a type's volume / 0.85 exceeds its plants (in any year but 2023, which report S6
    sets), the difference is capacity not yet announced, and the type runs at exactly 85%."""
    for kind in TYPES:
        volume = MODEL.series(kind, "volume")
        needed = np.maximum(volume / 0.85 - SUPPLY.announced[kind], 0.0) * (np.array(YEARS) != 2023)
        np.testing.assert_allclose(SUPPLY.unannounced[kind], needed, rtol=1e-12, atol=1e-9)
    assert SUPPLY.unannounced["Petroleum-based"][-1] > 0
    assert MODEL.markets["base"].utilisation[-1] == pytest.approx(0.85, rel=1e-12)


def test_equal_capacities_are_ties_not_alphabetical():
    """Shandong Yida and Shandong Jingyang (95.9 kt/yr each) share rank 5 and the next is 7;
    Mitsubishi Chemical and ENEOS (20 each) share rank 9; ties keep the order of companies.csv,
    not the alphabet (Jingyang and ENEOS would come first)."""
    assert MODEL.rank("Shandong Yida", 2023, "capacity") == 5
    assert MODEL.rank("Shandong Jingyang", 2023, "capacity") == 5
    assert MODEL.rank("Phillips 66", 2023, "capacity") == 7
    assert MODEL.rank("Mitsubishi Chemical", 2023, "capacity") == MODEL.rank("ENEOS", 2023, "capacity") == 9
    order = MODEL.ranking(2023, "capacity")
    assert order.index("Shandong Yida") < order.index("Shandong Jingyang")
    assert order.index("Mitsubishi Chemical") < order.index("ENEOS")
    assert MODEL.company("Shandong Jingyang", "tier") == MODEL.company("Shandong Yida", "tier") == "Tier 1"
    assert MODEL.company("Shandong Jingyang", "rank") == 5  # by 2023 revenue: the same tie


def test_others_closes_every_company_metric():
    """Others = Global less the listed producers for capacity, volume and revenue."""
    for metric in ("capacity", "volume", "revenue"):
        listed = sum(MODEL.series(c, metric) for c in MODEL.segments("company") if c != "Others")
        np.testing.assert_allclose(MODEL.series("Others", metric) + listed,
                                   MODEL.series("Global", metric), rtol=1e-12)


def test_s6_that_cannot_hold_is_one_line():
    """A top-5 share that would need an anode share above 1 names the refiners and the key."""
    with pytest.raises(AssumptionError) as caught:
        load_model(overrides={"top5_capacity_share_2023": 0.9})
    message = str(caught.value)
    assert message.startswith("report S6 cannot hold") and "Independent refiners (China)" in message
    assert "top5_capacity_share_2023" in message and "\n" not in message


@settings(max_examples=suite.examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ceiling=st.floats(0.3, 1.0), share=st.floats(0.0, 1.0),
       plant=st.sampled_from([p.plant for p in DATASET.plants if p.anode_share is not None]),
       capacity=st.floats(0.0, 5000.0), growth=st.floats(0.0, 0.6))
def test_supply_invariants_for_any_inputs(ceiling, share, plant, capacity, growth):
    """For any ceiling, plant share, plant capacity and demand growth 2026-2030: S6 holds,
    utilisation is in (0, 1] (and at most the ceiling outside 2023), capacity >= output for every
    producer, countries sum to Global."""
    try:
        model = load_model(overrides={"utilisation_ceiling": ceiling, f"anode_share_{plant}": share,
                                      f"capacity_kt_{plant}": capacity,
                                      "anode_cagr_2025_2030": growth})
    except AssumptionError as error:  # an impossible market: one line naming what is wrong
        assert "\n" not in str(error)
        assume(False)
        return
    assert model.concentration(5, 2023) == pytest.approx(0.48, abs=1e-12)
    topped_up = np.array(YEARS) != 2023  # report S6 sets 2023's capacity
    for scenario in model.scenarios:
        utilisation = model.markets[scenario].utilisation
        assert np.all(utilisation > 0) and np.all(utilisation <= 1 + 1e-12)
        assert np.all(utilisation[topped_up] <= ceiling * (1 + 1e-12))
        for company in model.segments("company"):
            assert np.all(model.series(company, "volume", scenario)
                          <= model.series(company, "capacity", scenario) * (1 + 1e-12) + 1e-9)
        countries = sum(model.series(c, "capacity", scenario) for c in model.segments("country"))
        np.testing.assert_allclose(countries, model.series("Global", "capacity", scenario), rtol=1e-9)
        assert math.isfinite(float(np.sum(model.series("Others", "volume", scenario))))


SUPPLY_FIGURES = [(segment, year, "capacity") for year in (2019, 2021, 2022, 2023, 2024, 2030)
                  for segment in ("Global", "Petroleum-based", "Coal-based", "Others")] + [
                  (company, year, "capacity") for year in (2023, 2025, 2027)
                  for company in MODEL.segments("company")]


def _supply_figures(changes: dict[str, float]) -> list[float]:
    model = load_model(overrides=changes)
    return [model.value(*figure) for figure in SUPPLY_FIGURES]


def test_every_plant_input_moves_a_supply_figure():
    """Each plant's capacity and anode share, moved by 1% in turn, moves a capacity figure (a
    share of 0, Seadrift's and Kashima's electrode-only plants, is first raised to its range's
    high end, so their capacity is tested too); the independent refiners have no input, report
    S6 setting their anode capacity. (A Chinese petroleum plant outside the top five moves
    2023's total only through the refiners' share, so it shows in 2021-2022.)"""
    base = _supply_figures({})
    dead = []
    for plant in DATASET.plants:
        if plant.anode_share is None:
            assert f"capacity_kt_{plant.plant}" not in set(MODEL.assumptions()["key"])
            continue
        start = {} if plant.anode_share > 0 else {f"anode_share_{plant.plant}": plant.anode_share_high}
        reference = _supply_figures(start) if start else base
        for key, value in ((f"capacity_kt_{plant.plant}", plant.capacity_kt),
                           (f"anode_share_{plant.plant}", start.get(f"anode_share_{plant.plant}",
                                                                    plant.anode_share))):
            moved = _supply_figures({**start, key: value * 1.01})
            if moved == reference:
                dead.append(key)
    assert dead == []
