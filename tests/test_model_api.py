"""The public model API the Excel layer and external checks use (issue 2, item 3)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from xl_negcoke.errors import (
    AssumptionError,
    InvalidArgumentError,
    NotAvailableError,
    UnknownNameError,
)
from xl_negcoke.model import YEARS, Model, load_model
from xl_negcoke.model.dataset import DEFAULT_DATA_DIR

TYPES = ["Petroleum-based", "Coal-based"]
APPLICATIONS = ["Power Battery", "Consumer Battery", "Energy Storage"]
REGIONS = ["North America", "Europe", "Asia", "South America", "Middle East & Africa"]


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


# ---------------------------------------------------------------------------------------------
# load_model


def test_load_model_defaults_to_the_embedded_dataset(model):
    """load_model() reads data/: same dataset id and numbers as load_model(data_dir=data/)."""
    explicit = load_model(data_dir=str(DEFAULT_DATA_DIR), overrides=None)
    assert explicit.dataset.dataset_id == model.dataset.dataset_id
    assert explicit.value("Global", 2030) == model.value("Global", 2030)


def test_load_model_reads_another_data_folder(tmp_path):
    """A data folder passed as data_dir is the one the numbers come from."""
    folder = tmp_path / "mine"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    path = folder / "assumptions.csv"
    path.write_text(path.read_text().replace("coke_per_anode_t,1.5,", "coke_per_anode_t,3,"))
    mine = load_model(data_dir=folder)
    assert mine.dataset.directory == Path(folder)
    assert mine.value("Global", 2023, "volume") == pytest.approx(
        2 * load_model().value("Global", 2023, "volume"), rel=1e-12)


def test_model_has_three_scenarios_and_twelve_years(model):
    """The embedded dataset gives scenarios base, high, low over 2019-2030."""
    assert model.scenarios == ("base", "high", "low")
    assert tuple(model.years) == tuple(range(2019, 2031)) == tuple(YEARS)
    assert model.base_year == 2023


# ---------------------------------------------------------------------------------------------
# value


def test_value_defaults_to_base_revenue(model):
    """value(segment, year) is the base-scenario revenue."""
    assert model.value("Power Battery", 2027) == model.value("Power Battery", 2027, "revenue",
                                                             "base")


def test_value_revenue_is_volume_times_price(model):
    """Global revenue (US$ m) = volume (kt) x price (US$/t) / 1,000."""
    for year in YEARS:
        expected = model.value("Global", year, "volume") * model.value("Global", year, "price")
        assert model.value("Global", year) == pytest.approx(expected / 1000.0, rel=1e-12)


def test_value_matches_the_table(model):
    """value() and table() give the identical number."""
    table = model.table("application", "volume", scenario="high")
    assert model.value("Energy Storage", 2028, "volume", "high") == table.loc["Energy Storage",
                                                                              2028]


def test_value_accepts_a_whole_float_year(model):
    """A year typed as 2027.0 (what Excel passes) is the year 2027."""
    assert model.value("Global", 2027.0) == model.value("Global", 2027)


@pytest.mark.parametrize(
    ("year", "text"),
    [(2035, "year 2035 is outside 2019-2030"), (2018, "year 2018 is outside 2019-2030"),
     (2027.5, "is not a whole year"), ("2027", "is not a year")],
)
def test_value_rejects_a_bad_year(model, year, text):
    """A year outside 2019-2030 or not a whole number raises InvalidArgumentError saying so."""
    with pytest.raises(InvalidArgumentError, match=text):
        model.value("Global", year)


def test_value_capacity_by_application_is_not_available(model):
    """Capacity has no application split: NotAvailableError listing the metrics that exist."""
    with pytest.raises(NotAvailableError) as caught:
        model.value("Energy Storage", 2023, "capacity")
    assert str(caught.value) == ("capacity is not available by application (Energy Storage); use "
                                 "revenue, volume, price")


def test_value_company_price_without_volume_is_not_available(model):
    """A company without volume that year (Indian Oil before 2025) has no price."""
    for spelling in ("Indian Oil", "indian oil"):
        with pytest.raises(NotAvailableError, match="Indian Oil has no price in 2023"):
            model.value(spelling, 2023, "price")
    assert model.value("Indian Oil", 2025, "price") > 0


# ---------------------------------------------------------------------------------------------
# names


@pytest.mark.parametrize(
    ("alias", "name"),
    [("EV", "Power Battery"), ("ESS", "Energy Storage"), ("Petroleum", "Petroleum-based"),
     ("Coal", "Coal-based"), ("USA", "United States"), ("UK", "U.K."),
     ("power battery", "Power Battery"), (" POWER  BATTERY ", "Power Battery"),
     ("energy-storage", "Energy Storage"), ("middle east and africa", "Middle East & Africa"),
     ("CNPC", "China National Petroleum"), ("world", "Global")],
)
def test_segment_names_resolve_case_insensitively_with_aliases(model, alias, name):
    """Aliases, case and spacing resolve to the canonical segment and give its numbers."""
    assert model.resolve_segment(alias) == name
    assert model.value(alias, 2027, "volume") == model.value(name, 2027, "volume")


def test_metric_and_scenario_aliases(model):
    """Metric and scenario names resolve with case and aliases (Volume, ASP, Baseline, UPSIDE)."""
    assert model.value("Global", 2027, "Volume", "Baseline") == model.value("Global", 2027,
                                                                            "volume", "base")
    assert model.value("Global", 2027, "ASP", "UPSIDE") == model.value("Global", 2027, "price",
                                                                       "high")


def test_unknown_segment_lists_the_closest_names(model):
    """'Powr Battery' raises UnknownNameError suggesting Power Battery first."""
    with pytest.raises(UnknownNameError) as caught:
        model.value("Powr Battery", 2027)
    assert caught.value.valid[0] == "Power Battery"
    assert str(caught.value).startswith('unknown segment "Powr Battery"; closest: Power Battery')
    assert isinstance(caught.value, KeyError)


@pytest.mark.parametrize(
    ("call", "kind", "suggestion"),
    [(lambda m: m.value("Global", 2027, "revenu"), "metric", "revenue"),
     (lambda m: m.value("Global", 2027, "revenue", "hihg"), "scenario", "high"),
     (lambda m: m.segments("aplication"), "dimension", "application"),
     (lambda m: m.company("Baolay Bio", "capacity"), "company", "Baolai Bio"),
     (lambda m: m.company("Baolai Bio", "capacty"), "field", "capacity")],
)
def test_unknown_names_of_every_kind_suggest_valid_ones(model, call, kind, suggestion):
    """Misspelt metrics, scenarios, dimensions, companies and fields suggest the right name."""
    with pytest.raises(UnknownNameError) as caught:
        call(model)
    assert caught.value.kind == kind
    assert suggestion in caught.value.valid
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------------------------------------
# share and cagr


def test_shares_of_a_dimension_sum_to_one(model):
    """Application shares of each year's volume sum to 1 within 1e-12."""
    for year in YEARS:
        total = math.fsum(model.share(a, year, "volume") for a in APPLICATIONS)
        assert total == pytest.approx(1.0, abs=1e-12)


def test_share_is_value_over_global(model):
    """share(segment) = value(segment) / value(Global) for the same year, metric and scenario."""
    expected = model.value("Japan", 2030, "capacity", "low") / model.value("Global", 2030,
                                                                           "capacity", "low")
    assert model.share("Japan", 2030, "capacity", "low") == expected


def test_price_has_no_share(model):
    """share() of price raises NotAvailableError."""
    with pytest.raises(NotAvailableError, match="price has no share"):
        model.share("Global", 2027, "price")


def test_cagr_is_the_compound_growth_rate(model):
    """cagr = (end / start) ** (1 / years) - 1."""
    start, end = model.value("Global", 2023), model.value("Global", 2030)
    assert model.cagr("Global", 2023, 2030) == pytest.approx((end / start) ** (1 / 7) - 1,
                                                             rel=1e-12)


def test_cagr_needs_start_before_end(model):
    """cagr with start_year >= end_year raises InvalidArgumentError."""
    with pytest.raises(InvalidArgumentError, match="start_year 2030 must be before end_year 2023"):
        model.cagr("Global", 2030, 2023)


# ---------------------------------------------------------------------------------------------
# table and segments


@pytest.mark.parametrize("dimension", ["type", "application", "region", "country", "company"])
def test_table_has_segments_a_total_row_equal_to_global_and_years(model, dimension):
    """table(dimension): one row per segment, then Total = Global; columns are the years."""
    table = model.table(dimension, "revenue")
    assert list(table.index) == [*model.segments(dimension), "Total"]
    assert list(table.columns) == list(YEARS)
    assert table.loc["Total"].tolist() == [model.value("Global", y) for y in YEARS]


def test_table_of_a_region_totals_to_the_region(model):
    """table("Europe"): Europe's countries as rows and Europe as the Total row."""
    table = model.table("europe", "volume", 2023, 2030, "high")
    assert list(table.index) == [*model.segments("Europe"), "Total"]
    assert list(table.columns) == list(range(2023, 2031))
    assert table.loc["Total"].tolist() == [model.value("Europe", y, "volume", "high")
                                           for y in range(2023, 2031)]


def test_table_of_price_totals_to_the_average_price(model):
    """A price table's last row, "Average (volume-weighted)", is the global average price."""
    table = model.table("type", "price")
    assert table.index[-1] == "Average (volume-weighted)"
    assert table.loc["Average (volume-weighted)", 2027] == model.value("Global", 2027, "price")


def test_table_returns_a_copy(model):
    """Changing a returned table does not change the next one."""
    first = model.table("type")
    first.loc["Total", 2027] = -1.0
    assert model.table("type").loc["Total", 2027] == model.value("Global", 2027)


def test_table_rejects_bad_arguments(model):
    """table("all"), a reversed year range and capacity by application raise clear errors."""
    with pytest.raises(InvalidArgumentError, match='dimension "all" has no table'):
        model.table("all")
    with pytest.raises(InvalidArgumentError, match="start_year 2030 is after end_year 2020"):
        model.table("type", "revenue", 2030, 2020)
    with pytest.raises(NotAvailableError, match="capacity is not available by application"):
        model.table("application", "capacity")


def test_segments_of_each_dimension(model):
    """segments() lists types, applications, regions, 25 countries and companies with Others."""
    assert model.segments("type") == TYPES
    assert model.segments("Applications") == APPLICATIONS
    assert model.segments("region") == REGIONS
    assert len(model.segments("country")) == 25
    companies = model.segments("company")
    assert companies[0] == "China National Petroleum" and companies[-1] == "Others"
    assert len(companies) == 15
    assert model.segments("Asia") == ["China", "Japan", "South Korea", "Southeast Asia", "India",
                                      "Rest of Asia"]


def test_segments_all_lists_every_segment_global_first(model):
    """segments("all") is Global then every type, application, region, country and company."""
    everything = model.segments("all")
    assert everything[0] == "Global"
    assert len(everything) == len(set(everything)) == 1 + 2 + 3 + 5 + 25 + 15


# ---------------------------------------------------------------------------------------------
# concentration and companies


def test_concentration_is_the_top_n_share(model):
    """concentration(n, year, metric) = the n largest listed companies / Global."""
    listed = [c for c in model.segments("company") if c != "Others"]
    revenues = sorted((model.value(c, 2030, "revenue") for c in listed), reverse=True)
    assert model.concentration(3, 2030, "revenue") == pytest.approx(
        sum(revenues[:3]) / model.value("Global", 2030), rel=1e-12)
    assert model.concentration(5, 2023) == pytest.approx(0.48, abs=1e-9)


def test_concentration_rejects_bad_arguments(model):
    """n below 1 or not whole, and metric price, raise clear errors."""
    for n in (0, 2.5, True):
        with pytest.raises(InvalidArgumentError, match="must be a whole number of companies"):
            model.concentration(n, 2023)
    with pytest.raises(NotAvailableError, match="price has no concentration"):
        model.concentration(5, 2023, "price")


def test_company_figures_and_facts(model):
    """company() answers figures (default year 2023) and facts, with name and field aliases."""
    assert model.company("CNPC", "capacity") == model.value("China National Petroleum", 2023,
                                                            "capacity")
    assert model.company("Baolai Bio", "revenue", 2030, "high") == model.value(
        "Baolai Bio", 2030, "revenue", "high")
    assert model.company("Phillips 66", "hq") == "United States"
    assert model.company("Phillips 66", "region") == "North America"
    assert model.company("Mitsubishi Chemical", "type") == "Coal-based"
    assert model.company("Mitsubishi Chemical", "last_year") == 2027
    assert model.company("Baolai Bio", "tier") == "Tier 1"
    assert model.company("Baolai Bio", "rank") == 4
    assert model.company("Baolai Bio", "share") == model.share("Baolai Bio", 2023)
    assert model.company("P66", "news").startswith("2024-09-30: ")
    assert model.company("Yiwei", "source").startswith("source:")


def test_company_utilisation_only_while_it_produces(model):
    """A company's utilisation is its type's (volume / capacity of Petroleum-based for ENEOS),
    and not available outside its years."""
    utilisation = model.company("ENEOS", "utilization", 2027)
    assert utilisation == pytest.approx(model.value("Petroleum-based", 2027, "volume")
                                        / model.value("Petroleum-based", 2027, "capacity"),
                                        rel=1e-12)
    with pytest.raises(NotAvailableError, match="Mitsubishi Chemical does not produce in 2029"):
        model.company("Mitsubishi Chemical", "utilisation", 2029)


# ---------------------------------------------------------------------------------------------
# source, assumptions, frame


@pytest.mark.parametrize(
    ("key", "start", "contains"),
    [("S1", "S1 (report:S1): Power batteries take 62%", "62%"),
     ("coke_per_anode_t", "coke_per_anode_t = 1.5 t/t: derived:", "1.3"),
     ("S5", "S5 (report:S5): China holds 76%", "Conflicts: C2, C15, C22"),
     ("C13", "C13 (Price) Petroleum-based price 2024: A imported anode coke", "taken: B"),
     ("anode_world_kt_2024", "anode_world_kt_2024 = 2110 kt: source:", "Conflicts: C6, C7"),
     ("Power Battery", "Power Battery: derived:", "report:S1"),
     ("revenue", "revenue: revenue in US$ million", "volume"),
     ("China", "China: report:S5", "report:S5"),
     ("Japan", "Japan: anode material made there 23 kt (2024), 23 kt (2030)", "source:"),
     ("Baolai Bio", "Baolai Bio: source:", "producers.csv")],
)
def test_source_of_keys_claims_segments_and_metrics(model, key, start, contains):
    """source() gives provenance text for an assumption, claim, segment, country, company or
    metric."""
    text = model.source(key)
    assert text.startswith(start)
    assert contains in text


def test_source_of_an_unknown_key(model):
    """source() of an unknown key raises UnknownNameError with close assumption keys."""
    with pytest.raises(UnknownNameError) as caught:
        model.source("coke_per_anode")
    assert "coke_per_anode_t" in caught.value.valid


def test_assumptions_table_has_every_input_with_a_source(model):
    """assumptions(): columns key, value, unit, source, description; unique keys; sources set."""
    frame = model.assumptions()
    assert list(frame.columns) == ["key", "value", "unit", "source", "description"]
    assert frame["key"].is_unique
    assert (frame["source"].str.strip() != "").all()
    keys = set(frame["key"])
    assert {"coke_per_anode_t", "weight_japan", "capacity_kt_baolai_bio",
            "anode_share_sinopec_refineries", "high.energy_storage_multiple_2030",
            "low.anode_cagr_2025_2030", "weight_2030_united_states"} <= keys
    assert "anode_share_independent_refiners" not in keys  # calibrated to report S6, no input
    # assumptions.csv rows, two weights per country (2024, 2030), plant capacities, plant anode
    # shares, scenario values
    assert len(frame) == 35 + 2 * 25 + 26 + 26 + 8


def test_frame_is_every_number_tidy(model):
    """frame(): dimension, segment, year, metric, scenario, value; one row per number."""
    frame = model.frame()
    assert list(frame.columns) == ["dimension", "segment", "year", "metric", "scenario", "value"]
    # per scenario and year: Global and types 4 metrics, applications 3, regions, countries and
    # companies (with Others) 4
    per_year = 4 + 4 * 2 + 3 * 3 + 4 * 5 + 4 * 25 + 4 * 15
    assert len(frame) == per_year * len(YEARS) * 3
    assert not frame.duplicated(["segment", "year", "metric", "scenario"]).any()
    row = frame.query("segment == 'Asia' and year == 2029 and metric == 'capacity' and "
                      "scenario == 'low'")
    assert row["dimension"].tolist() == ["region"]
    assert row["value"].tolist() == [model.value("Asia", 2029, "capacity", "low")]


# ---------------------------------------------------------------------------------------------
# overrides


def test_unknown_override_key_is_an_assumption_error():
    """An override key the model does not use raises AssumptionError naming it."""
    with pytest.raises(AssumptionError, match='assumption overrides: unknown key "coke_per_anode"'):
        load_model(overrides={"coke_per_anode": 2})


@pytest.mark.parametrize(
    ("changes", "text"),
    [({"coke_per_anode_t": "lots"}, "value 'lots' for key coke_per_anode_t is not a number"),
     ({"coke_per_anode_t": True}, r"value TRUE for key coke_per_anode_t is not a number \(TRUE/FALSE"),
     ({"coke_per_anode_t": -1}, "must not be negative"),
     ({"china_revenue_share_2023": 1.5}, "must lie between 0 and 1"),
     ({"consumer_battery_growth_forecast": -1.5}, "must be above -1"),
     ({"my-case.coke_per_anode_t": 2}, "invalid scenario name")],
)
def test_unusable_override_values_are_assumption_errors(changes, text):
    """Non-numeric, out-of-range values and bad scenario names raise AssumptionError."""
    with pytest.raises(AssumptionError, match=text):
        load_model(overrides=changes)


def test_doubling_coke_per_anode_doubles_every_volume(model):
    """coke_per_anode_t x 2 doubles the volume and revenue of every market segment and keeps
    every producer's capacity (plants do not follow demand); while utilisation stays under the
    ceiling (2019: 25% -> 50%) every producer's volume doubles too."""
    doubled = load_model(overrides={"coke_per_anode_t": 3.0})
    companies = set(model.segments("company"))
    for scenario in model.scenarios:
        for segment in model.segments("all"):
            for year in YEARS:
                if segment not in companies:
                    for metric in ("volume", "revenue"):
                        assert doubled.value(segment, year, metric, scenario) == pytest.approx(
                            2.0 * model.value(segment, year, metric, scenario), rel=1e-12)
                elif segment != "Others":
                    assert doubled.value(segment, year, "capacity", scenario) == pytest.approx(
                        model.value(segment, year, "capacity", scenario), rel=1e-12)
            if segment in companies:
                assert doubled.value(segment, 2019, "volume", scenario) == pytest.approx(
                    2.0 * model.value(segment, 2019, "volume", scenario), rel=1e-12)


def test_percent_text_override():
    """An override typed as "50%" is 0.5."""
    assert load_model(overrides={"coal_price_ratio": "50%"}).assumptions().set_index(
        "key").loc["coal_price_ratio", "value"] == 0.5


def test_scenario_override_changes_only_that_scenario(model):
    """high.energy_storage_multiple_2030 = 4 changes the high scenario, not base or low."""
    changed = load_model(overrides={"high.energy_storage_multiple_2030": 4})
    storage = {s: changed.value("Energy Storage", 2030, "volume", s)
               / changed.value("Energy Storage", 2023, "volume", s) for s in changed.scenarios}
    assert storage == pytest.approx({"base": 3.0, "high": 4.0, "low": 2.5}, rel=1e-12)
    assert changed.value("Global", 2030, scenario="low") == model.value("Global", 2030,
                                                                        scenario="low")


def test_override_of_a_new_scenario_defines_it(model):
    """stress.energy_storage_multiple_2030 adds a 'stress' scenario built on base."""
    stressed = load_model(overrides={"stress.energy_storage_multiple_2030": 5})
    assert stressed.scenarios == ("base", "high", "low", "stress")
    ratio = (stressed.value("Energy Storage", 2030, "volume", "stress")
             / stressed.value("Energy Storage", 2023, "volume", "stress"))
    assert ratio == pytest.approx(5.0, rel=1e-12)
    assert stressed.value("Global", 2030, "volume", "stress") == model.value("Global", 2030,
                                                                             "volume")
    row = stressed.assumptions().set_index("key").loc["stress.energy_storage_multiple_2030"]
    assert row["value"] == 5.0 and row["source"].startswith("assumption:")


def test_base_override_carries_into_other_scenarios(model):
    """A base override reaches high and low where they do not set the key themselves."""
    changed = load_model(overrides={"base.coal_price_ratio": 1.0})
    for scenario in ("high", "low"):
        assert changed.value("Coal-based", 2027, "price", scenario) == changed.value(
            "Petroleum-based", 2027, "price", scenario)


def test_frame_follows_overrides():
    """frame() of a model with a new scenario holds that scenario's numbers too."""
    frame = load_model(overrides={"stress.coal_price_ratio": 0.5}).frame()
    assert set(frame["scenario"]) == {"base", "high", "low", "stress"}
    assert isinstance(frame, pd.DataFrame)
