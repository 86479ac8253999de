"""Inputs that make an impossible market are refused with one exact line: which inputs, the first
year that breaks and what would be valid. Each expected year is worked out by hand from
data/assumptions.csv (the arithmetic is in the docstring)."""

from __future__ import annotations

import pytest

from xl_negcoke.errors import AssumptionError
from xl_negcoke.model import load_model

CASES = [
    pytest.param(
        {"coke_per_anode_t": 0},
        "the assumptions give a global volume of 0 in 2019: coke_per_anode_t, anode_world_kt, "
        "anode growth and artificial_graphite_share must be above 0",
        id="no coke per tonne of anode: every year is 0, the first is 2019"),
    pytest.param(
        {"anode_world_kt_2024": 0},
        "the assumptions give a global volume of 0 in 2024: coke_per_anode_t, anode_world_kt, "
        "anode growth and artificial_graphite_share must be above 0",
        id="no anode from 2024: 2019-2023 keep their anodes, 2024 and after are 0"),
    pytest.param(
        {"energy_storage_cagr_2020_2023": -0.5},
        "the assumptions leave Power Battery a negative volume in 2019: Energy Storage and Consumer "
        "Battery exceed the anode-derived total; lower their growth or raise anode_world_kt",
        id="storage halving a year to 2023: 487.4 kt x 2^4 in 2019 is above the 392.8 kt total"),
    pytest.param(
        {"energy_storage_multiple_2030": 20},
        "the assumptions leave Power Battery a negative volume in 2030: Energy Storage and Consumer "
        "Battery exceed the anode-derived total; lower their growth or raise anode_world_kt",
        id="storage x20 by 2030: 487.4 x 20 = 9,749 kt is above 8,758; 2029 (6,357 + 426) is not"),
    pytest.param(
        {"china_share_change_per_year_forecast": -0.2},
        "china_revenue_share_2023 with china_share_change_per_year_history and "
        "china_share_change_per_year_forecast take China's share outside 0-1 in 2027",
        id="China's share 0.76 - 0.2 a year: 0.16 in 2026, -0.04 in 2027"),
    pytest.param(
        {"china_share_change_per_year_history": -0.1},
        "china_revenue_share_2023 with china_share_change_per_year_history and "
        "china_share_change_per_year_forecast take China's share outside 0-1 in 2019",
        id="China's share 0.76 + 0.1 a year back: 1.16 in 2019"),
    pytest.param(
        {"china_price_ratio": 0},
        "china_price_ratio must be above 0 (China's price is the seaborne price times it)",
        id="China price ratio 0"),
    pytest.param(
        {"petroleum_share_change_per_year": 0.05},
        "petroleum_share_2023 with petroleum_share_change_per_year takes the petroleum-based share "
        "outside 0-1 in 2026",
        id="petroleum share 0.894 + 0.05 a year: 0.994 in 2025, 1.044 in 2026"),
    pytest.param(
        {"petroleum_share_change_per_year": -0.2},
        "petroleum_share_2023 with petroleum_share_change_per_year takes the petroleum-based share "
        "outside 0-1 in 2019",
        id="petroleum share 0.894 - 0.2 a year: 1.694 in 2019"),
    pytest.param(
        {"weight_japan": 0, "weight_south_korea": 0},
        "every country weight outside China is 0 in 2019; at least one weight_ or weight_2030_ must "
        "be above 0 to split the non-China share",
        id="Japan and Korea 0 in 2024: the United States and Nordics start at 0 too"),
    pytest.param(
        {"weight_japan": 0, "weight_south_korea": 0, "weight_2030_japan": 0,
         "weight_2030_south_korea": 0, "weight_2030_united_states": 0},
        "every country weight outside China is 0 in 2019; at least one weight_ or weight_2030_ must "
        "be above 0 to split the non-China share",
        id="only the Nordics' 2 kt by 2030 left: 0 until 2024"),
    pytest.param(
        {"top5_capacity_share_2023": 0},
        "top5_capacity_share_2023 must be above 0 (report S6: 0.48)",
        id="S6 at 0"),
    pytest.param(
        {"top5_capacity_share_2023": 0.9},
        "report S6 cannot hold: the top five would hold top5_capacity_share_2023 of 2023 capacity "
        "only with an anode share of -0.0909 for Independent refiners (China) (valid 0-1); change "
        "the plant capacities or anode shares, or top5_capacity_share_2023",
        id="S6 at 90%: (2,559.004 / 0.9 - 4,254.09) / 15,519.7 = -0.0909"),
    pytest.param(
        {"utilisation_ceiling": 0},
        "utilisation_ceiling must be above 0 (it is a share of capacity, e.g. 0.85)",
        id="ceiling 0"),
    pytest.param(
        {"coke_per_anode_t": 4},
        "the Petroleum-based plants of producers.csv cannot make the 2023 volume (utilisation above "
        "100% in the year report S6 sets capacity); raise their capacity_kt_ or anode_share_ inputs, "
        "or lower the volume (coke_per_anode_t, anode_world_kt)",
        id="4 t/t: 2,119.284 x 4 / 1.5 x 0.894 = 5,052 kt of petroleum coke, plants 4,674 kt"),
]


@pytest.mark.parametrize(("overrides", "expected"), CASES)
def test_an_impossible_market_is_refused_with_its_first_bad_year(overrides, expected):
    """load_model with these overrides raises AssumptionError with exactly this message."""
    with pytest.raises(AssumptionError) as raised:
        load_model(overrides=overrides)
    assert str(raised.value) == expected


def test_s6_at_30_percent_gives_the_refiners_a_bigger_share():
    """(2,559.004 / 0.3 - 4,254.09) / 15,519.7 = 0.2755: valid, and the 2023 capacity is then
    2,559.004 / 0.3."""
    model = load_model(overrides={"top5_capacity_share_2023": 0.3})
    share = (2559.004 / 0.3 - (2862.229 + 1322.461 + 69.4)) / 15519.7
    assert model.markets["base"].supply.calibrated_share == pytest.approx(share, rel=1e-9)
    assert round(share, 4) == 0.2755
    assert model.value("Global", 2023, "capacity") == pytest.approx(2559.004 / 0.3, rel=1e-9)


def test_the_weight_ramp_ends_a_zero_split_in_2025():
    """Japan and Korea at 0 throughout: the United States (0 -> 80 kt) and the Nordics (0 -> 2 kt)
    weigh 0 until 2024, so the split fails from 2019 although 2025-2030 have weights."""
    with pytest.raises(AssumptionError, match=r" in 2019; "):
        load_model(overrides={"weight_japan": 0, "weight_2030_japan": 0, "weight_south_korea": 0,
                              "weight_2030_south_korea": 0})


def test_a_scenario_value_is_checked_as_the_base_one():
    """A scenario's impossible value is refused the same way (the scenario named in the key)."""
    with pytest.raises(AssumptionError) as raised:
        load_model(overrides={"stress.china_price_ratio": 0})
    assert str(raised.value) == ("china_price_ratio must be above 0 (China's price is the seaborne "
                                 "price times it)")


def test_draws_show_their_range_and_the_first_year_any_draw_breaks():
    """With one value per draw, a message shows the draws' range ("0.1 to 0.4") and the first year
    in which any draw breaks: storage shares 0.1 and 0.4 with Power Battery's 0.62 exceed 1 in
    the second draw; petroleum share changes of 0 and 0.05 a year leave 0-1 in 2026 (0.894 +
    3 x 0.05) in the second draw only."""
    import numpy as np

    from xl_negcoke.model.market import market_recipes

    model = load_model()
    base = dict(model._inputs["base"])
    with pytest.raises(AssumptionError) as raised:
        market_recipes(model.dataset, {**base, "energy_storage_share_2023": np.array([0.1, 0.4])})
    assert str(raised.value) == ("power_battery_share_2023 + energy_storage_share_2023 exceed 1 "
                                 "(0.62 + 0.1 to 0.4); they must leave Consumer Battery a share of 0 "
                                 "or more")
    with pytest.raises(AssumptionError) as raised:
        market_recipes(model.dataset, {**base, "petroleum_share_change_per_year": np.array([0.0, 0.05])})
    assert str(raised.value) == ("petroleum_share_2023 with petroleum_share_change_per_year takes the "
                                 "petroleum-based share outside 0-1 in 2026")


# capacity by type: a type without plants ---------------------------------------------------------

COAL_PLANTS_BUT_SAKAIDE = ("c_chem_pizhou", "other_china_coal_2021", "other_china_coal_2022",
                           "other_china_coal_2023", "other_china_coal_planned", "pmc_gwangyang")


def test_a_type_needing_capacity_after_its_last_plant_closes_is_refused():
    """Coal-based from Mitsubishi Chemical's Sakaide alone (2,000 kt x 0.2 = 400 kt, to 2027):
    2023's 224.6 kt of coal-based coke is made, but from 2028 no coal plant runs and the capacity
    not yet announced would have no country."""
    overrides = {f"anode_share_{plant}": 0 for plant in COAL_PLANTS_BUT_SAKAIDE}
    with pytest.raises(AssumptionError) as raised:
        load_model(overrides={**overrides, "capacity_kt_mcc_sakaide": 2000})
    assert str(raised.value) == ("Coal-based needs capacity in a year without any Coal-based plant "
                                 "in producers.csv, so the capacity not yet announced has no "
                                 "country; add a plant of that type")


def test_a_type_without_volume_needs_no_plants():
    """Petroleum-based at 100% in every year and no coal plant: Coal-based has no volume, no
    capacity and a utilisation of 0, and the model loads."""
    overrides = {f"anode_share_{plant}": 0 for plant in (*COAL_PLANTS_BUT_SAKAIDE, "mcc_sakaide")}
    model = load_model(overrides={**overrides, "petroleum_share_2023": 1.0,
                                  "petroleum_share_change_per_year": 0.0})
    for year in (2019, 2023, 2030):
        assert model.value("Coal-based", year, "volume") == 0.0
        assert model.value("Coal-based", year, "capacity") == 0.0
        assert model.markets["base"].supply.type_utilisation["Coal-based"][year - 2019] == 0.0


def test_supply_lists_a_producers_plants():
    """Supply.plants_of: Phillips 66 runs Humber and Lake Charles (producers.csv)."""
    supply = load_model().markets["base"].supply
    assert [p.plant for p in supply.plants_of("Phillips 66")] == ["p66_humber", "p66_lake_charles"]
    assert supply.dataset.plants[0].plant == "baolai_bio"


# the data folder ---------------------------------------------------------------------------------


def data_folder(tmp_path):
    import shutil

    from xl_negcoke.model.dataset import DEFAULT_DATA_DIR

    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    return folder


def replace_in(path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), "utf-8")


def data_error(folder) -> str:
    from xl_negcoke.errors import DataError
    from xl_negcoke.model.dataset import load_dataset

    with pytest.raises(DataError) as raised:
        load_dataset(folder)
    return str(raised.value)


def test_a_negative_plant_capacity_message(tmp_path):
    """producers.csv row 26 (PMC Tech) with -63 kt/yr: the row, the column and the value."""
    folder = data_folder(tmp_path)
    replace_in(folder / "producers.csv", 'South Korea,Coal-based,needle coke,63,',
               'South Korea,Coal-based,needle coke,-63,')
    assert data_error(folder) == ("producers.csv, row 26, column capacity_kt: capacity must not be "
                                  "negative, not -63")


def test_a_region_name_as_a_country_alias_is_refused(tmp_path):
    """An alias equal to a built-in name ("Europe", a region) would answer for the wrong thing."""
    folder = data_folder(tmp_path)
    replace_in(folder / "countries.csv", "Benelux,Europe,,", "Benelux,Europe,EUROPE,")
    assert data_error(folder) == ('countries.csv, row 11, column aliases: "EUROPE" (an alias of '
                                  'Benelux) is the same name as region "Europe" once case, spaces and '
                                  "punctuation are ignored; every segment name and alias must be "
                                  "unique")


def test_a_name_of_101_characters_is_refused(tmp_path):
    """A name is at most 100 characters (it is quoted inside formulas)."""
    folder = data_folder(tmp_path)
    replace_in(folder / "countries.csv", "Benelux,Europe,,", f"Benelux,Europe,{'B' * 101},")
    assert data_error(folder) == (f'countries.csv, row 11, column aliases: "{"B" * 57}..." (an alias '
                                  "of Benelux) has 101 characters; a name has at most 100")


def test_and_and_ampersand_are_one_name():
    """"Rest of Middle East and Africa" is the country "Rest of Middle East & Africa" (no alias
    says so: & folds to "and")."""
    model = load_model()
    assert model.resolve_segment("rest of middle east AND africa") == "Rest of Middle East & Africa"


def test_an_uncertainty_range_past_a_shares_limit_is_refused(tmp_path):
    """uncertainty.csv row 5: an artificial-graphite share up to 1.5 is no share."""
    folder = data_folder(tmp_path)
    replace_in(folder / "uncertainty.csv", "artificial_graphite_share_2024,triangular,0.80,0.834,0.89,",
               "artificial_graphite_share_2024,triangular,0.80,0.834,1.5,")
    assert data_error(folder) == ("uncertainty.csv, row 5, column high: artificial_graphite_share_2024 "
                                  "is a share and must lie between 0 and 1, not 1.5")


def test_a_correlation_that_is_not_a_number_names_its_row(tmp_path):
    """correlations.csv row 2 with "0,5": the row, the column and why."""
    folder = data_folder(tmp_path)
    replace_in(folder / "correlations.csv", "petroleum_price_growth_forecast,0.5,",
               "petroleum_price_growth_forecast,\"0,5\",")
    assert data_error(folder) == ("correlations.csv, row 2, column correlation: '0,5' is not a number "
                                  "(commas are refused: a thousands separator and a decimal comma look "
                                  "alike); write digits with a point for decimals and no separators, "
                                  "e.g. 1650, 1.65 or 15%")


def test_report_s6_needs_the_calibrated_group_running_in_2023(tmp_path):
    """The independent refiners from 2024 on: no 2023 capacity to calibrate, S6 cannot be met."""
    from xl_negcoke.model.dataset import load_dataset
    from xl_negcoke.model.model import Model

    folder = data_folder(tmp_path)
    replace_in(folder / "producers.csv", ",15519.7,,,2021,", ",15519.7,,,2024,")
    with pytest.raises(AssumptionError) as raised:
        Model(load_dataset(folder))
    assert str(raised.value) == ("the plants with a calibrated anode share (independent_refiners) have "
                                 "no 2023 capacity in producers.csv, so report S6 "
                                 "(top5_capacity_share_2023) cannot be met")
