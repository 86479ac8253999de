"""The market numbers: every dimension reconciles, prices are revenue / volume, and yearly input
series fill between their anchor years as documented (geometric for levels, linear for shares)."""

from __future__ import annotations

import math
import re
from itertools import pairwise

import numpy as np
import pytest
import suite
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from xl_negcoke.errors import AssumptionError, NotAvailableError
from xl_negcoke.model import YEARS, load_dataset, load_model
from xl_negcoke.model.dataset import SERIES, slug
from xl_negcoke.model.market import fill_series

RELATIVE = 1e-9

DATASET = load_dataset()
COUNTRY_NAMES = [c.name for c in DATASET.countries]
PLANT_IDS = [p.plant for p in DATASET.plants if p.anode_share is not None]  # calibrated: no input

# Sensible ranges around the embedded values; some combinations are impossible markets (a share
# path leaving 0-1, a negative Power Battery volume) and must be rejected with AssumptionError.
# Levels are 0 (an edge the model must handle or reject) or of a plausible order of magnitude:
# a coal price 1e-300 of the petroleum price would only test float underflow.


def number(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_subnormal=False)


def level(low: float, high: float) -> st.SearchStrategy[float]:
    return st.just(0.0) | number(low, high)


SCALAR_VALUES = {
    "coke_per_anode_t": level(0.5, 3.0),
    "energy_storage_multiple_2030": level(0.5, 8.0),
    "consumer_battery_growth_forecast": number(-0.5, 0.5),
    "petroleum_price_growth_forecast": number(-0.5, 0.5),
    "coal_price_ratio": level(0.3, 3.0),
    "china_revenue_share_2023": number(0.0, 1.0),
    "china_share_change_per_year_forecast": number(-0.05, 0.05),
    "petroleum_share_change_per_year": number(-0.03, 0.03),
    "anode_world_kt_2024": level(500.0, 10_000.0),
    "anode_cagr_2025_2030": number(-0.3, 0.6),
    "china_price_ratio": level(0.5, 2.0),
    "china_share_change_per_year_history": number(-0.05, 0.05),
    "utilisation_ceiling": level(0.3, 1.0),
    "top5_capacity_share_2023": number(0.3, 0.7),
}
SCENARIO_PREFIXES = ("", "", "", "base.", "high.", "low.", "stress.")

# dimension -> metrics it has (price is checked separately as revenue / volume)
SUMMED_METRICS = {
    "type": ("revenue", "volume", "capacity"),
    "application": ("revenue", "volume"),
    "region": ("revenue", "volume", "capacity"),
    "country": ("revenue", "volume", "capacity"),
    "company": ("revenue", "volume", "capacity"),
}
REGIONS = ("North America", "Europe", "Asia", "South America", "Middle East & Africa")


@st.composite
def overrides(draw: st.DrawFn) -> dict[str, float]:
    """A handful of assumption overrides, each for the base scenario or a named one."""
    keys = draw(st.lists(st.sampled_from(sorted(SCALAR_VALUES)), unique=True, max_size=5))
    values = {key: draw(SCALAR_VALUES[key]) for key in keys}
    if draw(st.booleans()):
        country = draw(st.sampled_from(COUNTRY_NAMES))
        values[f"weight_{slug(country)}"] = draw(level(0.001, 100.0))
    if draw(st.booleans()):
        country = draw(st.sampled_from(COUNTRY_NAMES))
        values[f"weight_2030_{slug(country)}"] = draw(level(0.001, 100.0))
    if draw(st.booleans()):
        plant = draw(st.sampled_from(PLANT_IDS))
        values[f"capacity_kt_{plant}"] = draw(level(1.0, 20_000.0))
    if draw(st.booleans()):
        plant = draw(st.sampled_from(PLANT_IDS))
        values[f"anode_share_{plant}"] = draw(number(0.0, 1.0))
    return {draw(st.sampled_from(SCENARIO_PREFIXES)) + key: value for key, value in values.items()}


def load_or_reject(changes: dict[str, float]):
    """The model for `changes`; an impossible market must be a one-line AssumptionError."""
    try:
        return load_model(overrides=changes)
    except AssumptionError as exc:
        message = str(exc)
        assert message and "\n" not in message, f"not a one-line message: {message!r}"
        assert re.search(r"[a-z0-9]+_[a-z0-9_]+", message), f"names no assumption: {message!r}"
        assume(False)
        raise  # unreachable: assume(False) ends the example


def assert_close(actual: float, expected: float, what: str) -> None:
    assert abs(actual - expected) <= RELATIVE * abs(expected), (
        f"{what}: {actual!r} != {expected!r}")


def assert_reconciles(model) -> None:
    """Every dimension, and each region's countries, sum to their total for every number."""
    for scenario in model.scenarios:
        for dimension, metrics in SUMMED_METRICS.items():
            for metric in metrics:
                table = model.table(dimension, metric, scenario=scenario)
                segments = table.drop("Total")
                for year in YEARS:
                    total = model.value("Global", year, metric, scenario)
                    assert table.loc["Total", year] == total
                    assert_close(math.fsum(segments[year].tolist()), total,
                                 f"{dimension} {metric} {year} {scenario}")
        for region in REGIONS:
            for metric in SUMMED_METRICS["country"]:
                countries = model.table(region, metric, scenario=scenario).drop("Total")
                for year in YEARS:
                    total = model.value(region, year, metric, scenario)
                    assert_close(math.fsum(countries[year].tolist()), total,
                                 f"{region} {metric} {year} {scenario}")


def assert_price_is_revenue_over_volume(model) -> None:
    """price = revenue x 1,000 / volume for every segment and year with a volume; without volume
    a company has no price, an application shows the market's average price and a country or
    region outside China the price outside China."""
    for scenario in model.scenarios:
        for segment in model.segments("all"):
            for year in YEARS:
                volume = model.value(segment, year, "volume", scenario)
                revenue = model.value(segment, year, "revenue", scenario)
                if volume > 0:
                    price = model.value(segment, year, "price", scenario)
                    assert_close(price, revenue * 1000.0 / volume,
                                 f"price of {segment} {year} {scenario}")
                elif model.dimension_of(segment) == "company":
                    assert revenue == 0.0
                    with pytest.raises(NotAvailableError):
                        model.value(segment, year, "price", scenario)
                else:
                    assert revenue == 0.0
                    price = model.value(segment, year, "price", scenario)
                    dimension = model.dimension_of(segment)
                    if dimension == "application":
                        assert price == model.value("Global", year, "price", scenario)
                    elif dimension in ("country", "region") and segment != "China":
                        # what a buyer outside China pays (every non-China country's price)
                        assert price == model.value("Japan", year, "price", scenario)
                    else:
                        assert math.isfinite(price) and price >= 0


def assert_finite_and_not_negative(model) -> None:
    """Every number is finite and >= 0; only a company price without volume is NaN."""
    frame = model.frame()
    finite = np.isfinite(frame["value"].to_numpy())
    assert (frame.loc[finite, "value"] >= 0).all(), frame[finite & (frame["value"] < 0)]
    for row in frame[~finite].itertuples():
        assert (row.dimension, row.metric) == ("company", "price"), row
        assert model.value(row.segment, row.year, "volume", row.scenario) == 0.0


@pytest.fixture(scope="module")
def embedded():
    return load_model()


# ---------------------------------------------------------------------------------------------
# the embedded dataset


def test_embedded_dataset_reconciles(embedded):
    """Every dimension of every scenario of the embedded dataset sums to its total."""
    assert_reconciles(embedded)


def test_embedded_prices_are_revenue_over_volume(embedded):
    """Every price of the embedded dataset is revenue x 1,000 / volume."""
    assert_price_is_revenue_over_volume(embedded)


def test_embedded_values_are_finite_and_not_negative(embedded):
    """Every number of the embedded dataset is finite and >= 0 (company price without volume
    excepted)."""
    assert_finite_and_not_negative(embedded)


# ---------------------------------------------------------------------------------------------
# properties over random overrides and every scenario


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=suite.examples(60), deadline=None)
@given(overrides())
def test_every_dimension_reconciles_for_any_valid_overrides(changes):
    """For valid overrides, each dimension and region sums to its total within 1e-9 relative."""
    model = load_or_reject(changes)
    assert_reconciles(model)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=suite.examples(60), deadline=None)
@given(overrides())
def test_price_is_revenue_over_volume_for_any_valid_overrides(changes):
    """For valid overrides, price = revenue x 1,000 / volume wherever there is volume."""
    model = load_or_reject(changes)
    assert_price_is_revenue_over_volume(model)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=suite.examples(60), deadline=None)
@given(overrides())
def test_values_are_finite_and_not_negative_for_any_valid_overrides(changes):
    """For valid overrides, every number is finite and >= 0 in every scenario."""
    model = load_or_reject(changes)
    assert_finite_and_not_negative(model)


@settings(max_examples=suite.examples(60), deadline=None)
@given(overrides())
def test_scenario_overrides_define_their_scenarios(changes):
    """Every scenario named in an override key is one of Model.scenarios, base first."""
    model = load_or_reject(changes)
    named = {key.rpartition(".")[0] for key in changes} - {""}
    assert model.scenarios[0] == "base"
    assert named | {"base", "high", "low"} == set(model.scenarios)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"coke_per_anode_t": 0.0}, "coke_per_anode_t"),
        ({"petroleum_share_change_per_year": 0.05}, "petroleum_share_change_per_year"),
        ({"china_revenue_share_2023": 0.1, "china_share_change_per_year_forecast": -0.05},
         "china_share_change_per_year_forecast"),
        ({"energy_storage_multiple_2030": 40.0}, "negative volume"),
        ({"top5_capacity_share_2023": 0.9}, "report S6 cannot hold"),
        ({"utilisation_ceiling": 0.0}, "utilisation_ceiling must be above 0"),
        ({"power_battery_share_2023": 0.9}, "Consumer Battery"),
    ],
)
def test_impossible_markets_are_rejected_with_one_line(changes, words):
    """Inputs implying an impossible market raise AssumptionError with one line saying why."""
    with pytest.raises(AssumptionError) as caught:
        load_model(overrides=changes)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


# ---------------------------------------------------------------------------------------------
# fill_series


def series_params(name: str, values: list[float]) -> dict[str, float]:
    years, _kind, _unit = SERIES[name]
    return {f"{name}_{year}": value for year, value in zip(years, values, strict=True)}


def test_fill_series_reproduces_every_anchor_exactly():
    """Each anchor year of each embedded series comes back bit for bit."""
    params = {key: a.value for key, a in DATASET.assumptions.items()}
    for name, (years, _kind, _unit) in SERIES.items():
        filled = fill_series(params, name)
        assert len(filled) == len(YEARS)
        for year in years:
            assert filled[year - YEARS[0]] == params[f"{name}_{year}"], (name, year)


GAPPED = ("gapped_level_kt", ((2019, 2021, 2025, 2030), "level", "kt"))  # a level with gaps


def gapped_series(values: list[float]) -> np.ndarray:
    """fill_series of a level series anchored 2019, 2021, 2025 and 2030 (no embedded series has
    gaps between level anchors any more, so the test adds one for the call and removes it)."""
    name, spec = GAPPED
    SERIES[name] = spec
    try:
        return fill_series(series_params(name, values), name)
    finally:
        del SERIES[name]


def test_fill_series_levels_grow_geometrically_between_anchors():
    """A level between two anchors (2025 and 2030) grows at one constant rate."""
    filled = gapped_series([1.0, 2.0, 100.0, 300.0])
    for year in range(2026, 2030):
        expected = 100.0 * 3.0 ** ((year - 2025) / 5)
        assert filled[year - 2019] == pytest.approx(expected, rel=1e-12)
    ratios = filled[2026 - 2019 : 2031 - 2019] / filled[2025 - 2019 : 2030 - 2019]
    assert ratios == pytest.approx(np.full(5, 3.0 ** 0.2), rel=1e-12)


def test_fill_series_shares_are_linear_between_anchors():
    """artificial_graphite_share 2020 and 2023 are the midpoints of their neighbouring anchors."""
    params = series_params("artificial_graphite_share", [0.70, 0.80, 0.84, 0.90])
    filled = fill_series(params, "artificial_graphite_share")
    assert filled[2020 - 2019] == pytest.approx(0.75, abs=1e-15)
    assert filled[2023 - 2019] == pytest.approx(0.87, abs=1e-15)


def test_fill_series_holds_the_last_anchor():
    """After the last anchor (2024) every year repeats it exactly."""
    params = series_params("artificial_graphite_share", [0.70, 0.80, 0.84, 0.9])
    filled = fill_series(params, "artificial_graphite_share")
    assert filled[2024 - 2019 :].tolist() == [0.9] * 7
    prices = fill_series(series_params("petroleum_price_usd_per_t", [1, 2, 3, 4, 5, 6.5]),
                         "petroleum_price_usd_per_t")
    assert prices[2024 - 2019 :].tolist() == [6.5] * 7


def test_fill_series_level_with_a_zero_anchor_is_linear():
    """A level series with a zero anchor cannot grow geometrically; it is filled linearly."""
    filled = gapped_series([1, 2, 0, 10])
    assert filled[2026 - 2019 : 2030 - 2019] == pytest.approx([2.0, 4.0, 6.0, 8.0], abs=1e-12)


@settings(max_examples=suite.examples(60), deadline=None)
@given(st.lists(st.floats(1e-3, 1e6), min_size=4, max_size=4))
def test_fill_series_level_property(anchors):
    """For any positive anchors: anchors exact, constant growth between consecutive anchors."""
    filled = gapped_series(anchors)
    years = GAPPED[1][0]
    for year, value in zip(years, anchors, strict=True):
        assert filled[year - 2019] == value
    for (y0, v0), (y1, v1) in pairwise(zip(years, anchors, strict=True)):
        for year in range(y0 + 1, y1):
            expected = v0 * (v1 / v0) ** ((year - y0) / (y1 - y0))
            assert filled[year - 2019] == pytest.approx(expected, rel=1e-9)
            assert min(v0, v1) * (1 - 1e-12) <= filled[year - 2019] <= max(v0, v1) * (1 + 1e-12)


@settings(max_examples=suite.examples(60), deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4))
def test_fill_series_share_property(anchors):
    """For any share anchors: anchors exact, linear in between, the last one held to 2030."""
    params = series_params("artificial_graphite_share", anchors)
    filled = fill_series(params, "artificial_graphite_share")
    years = SERIES["artificial_graphite_share"][0]
    for year, value in zip(years, anchors, strict=True):
        assert filled[year - 2019] == value
    for (y0, v0), (y1, v1) in pairwise(zip(years, anchors, strict=True)):
        for year in range(y0 + 1, y1):
            expected = v0 + (v1 - v0) * (year - y0) / (y1 - y0)
            assert filled[year - 2019] == pytest.approx(expected, abs=1e-12)
    assert filled[years[-1] - 2019 :].tolist() == [anchors[-1]] * (2031 - years[-1])


def test_a_china_share_of_100_percent_leaves_no_revenue_outside_china():
    """china_revenue_share_2023 = 1 with no change a year: China is the whole market, so every
    other country's revenue is exactly 0 (not a rounding error below it, as Hypothesis once
    found: -4.8e-14) and China's revenue is the global revenue, from the base year 2023 on
    (before it, Japan's and Korea's own history stands)."""
    model = load_model(None, {"china_revenue_share_2023": 1.0,
                              "china_share_change_per_year_forecast": 0.0})
    table = model.table("country", "revenue")
    for year in [y for y in table.columns if y >= 2023]:
        others = table.drop(index=["China", "Total"])[year]
        assert (others == 0.0).all(), (year, others[others != 0.0])
        assert table.loc["China", year] == pytest.approx(model.value("Global", year), rel=1e-12)
