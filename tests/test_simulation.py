"""Simulation: uncertainty ranges with provenance, draws of the whole market at once that are
reproducible and reconcile, percentiles that match the ranges and hold the named scenarios, and
a tornado whose swings are the outputs at each driver's P10 and P90."""

from __future__ import annotations

import csv
import math
import re
import shutil
import tracemalloc
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

from xl_negcoke.errors import (
    AssumptionError,
    DataError,
    InvalidArgumentError,
    NotAvailableError,
    UnknownNameError,
)
from xl_negcoke.model import load_dataset, load_model
from xl_negcoke.model.dataset import DEFAULT_DATA_DIR, PROVENANCE_PREFIXES, TYPES, YEARS
from xl_negcoke.model.market import GLOBAL, OTHERS, compute_market, market_recipes
from xl_negcoke.model.simulation import (
    MAX_DRAWS,
    SENSITIVITY_COLUMNS,
    Driver,
    _standard_normal_quantile,
    clear_simulations,
)

DRAWS = 100_000
MODEL = load_model()
FORECAST_YEARS = [year for year in YEARS if year > MODEL.base_year]
KEY_DRIVERS = {"anode_world_kt_2024", "anode_growth_2025", "anode_cagr_2025_2030",
               "artificial_graphite_share_2024", "coke_per_anode_t", "energy_storage_multiple_2030",
               "consumer_battery_growth_forecast", "petroleum_price_usd_per_t_2024",
               "petroleum_price_growth_forecast", "coal_price_ratio", "china_price_ratio",
               "china_share_change_per_year_forecast", "petroleum_share_change_per_year",
               "utilisation_ceiling", "anode_share_cnpc_refineries", "anode_share_sinopec_refineries"}
CORRELATED = ("anode_cagr_2025_2030", "petroleum_price_growth_forecast")  # correlations.csv
#: (dimension, segments) that must sum to Global, and the metrics they carry.
DIMENSIONS = {dimension: MODEL.segments(dimension)
              for dimension in ("type", "application", "region", "country", "company")}
SUMMED_METRICS = {"type": ("volume", "revenue", "capacity"), "application": ("volume", "revenue"),
                  "region": ("volume", "revenue", "capacity"),
                  "country": ("volume", "revenue", "capacity"),
                  "company": ("volume", "revenue", "capacity")}


@pytest.fixture(scope="module")
def simulation():
    """The default simulation: 100,000 draws, seed 0."""
    return MODEL.simulate(DRAWS, 0)


BAND_PERCENTILES = (5, 10, 50, 90, 95)


@pytest.fixture(scope="module")
def facts(simulation):
    """One pass over every series of the simulation: (segment, metric) -> its shape, whether it
    is writeable, its smallest draw, and its P5, P10, P50, P90, P95 per year (NaN where a year
    has no number)."""
    found = {}
    for segment, metric in every_series():
        array = simulation.series(segment, metric)
        positions = np.array(BAND_PERCENTILES) / 100 * (array.shape[0] - 1)
        below = np.floor(positions).astype(int)
        above = np.minimum(below + 1, array.shape[0] - 1)
        # years x draws, each year's draws at those ranks as np.sort would place them (NaN last)
        ordered = np.partition(array.T, sorted({*below, *above}), axis=1)
        weight = positions - below
        bands = ordered[:, below] + (ordered[:, above] - ordered[:, below]) * weight  # years x p
        found[(segment, metric)] = {"shape": array.shape, "writeable": array.flags.writeable,
                                    "min": np.nanmin(array) if not np.isnan(array).all() else np.nan,
                                    "bands": dict(zip(BAND_PERCENTILES, bands.T, strict=True))}
    return found


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A private copy of the embedded data folder to edit."""
    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    return folder


def every_series():
    """(segment, metric) of every number the model has."""
    return [(segment, metric) for segment, series in MODEL.markets["base"].values.items()
            for metric in series]


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


# -------------------------------------------------------------------------------------------
# the ranges in data/uncertainty.csv


def test_every_key_driver_has_a_range():
    """Every driver that moves an output has a range: demand (the latest actual year and the
    outlook's growth), mix, coke per anode, prices by type and region, China's share, capacity."""
    assert set(MODEL.dataset.uncertainty) == KEY_DRIVERS
    assert {u.distribution for u in MODEL.dataset.uncertainty.values()} == {"triangular", "normal"}


@pytest.mark.parametrize("key", sorted(KEY_DRIVERS))
def test_each_range_is_centred_on_the_base_value_and_sourced(key):
    """The mode (triangular) or mean (normal) equals assumptions.csv (a plant's input: its
    producers.csv value, and the range its low..high) exactly; the source has a prefix."""
    item = MODEL.dataset.uncertainty[key]
    plant = next((p for p in MODEL.dataset.plants if key == f"anode_share_{p.plant}"), None)
    if plant is None:
        assert item.base == MODEL.dataset.assumptions[key].value
    else:
        assert (item.low, item.base, item.high) == (plant.anode_share_low, plant.anode_share,
                                                    plant.anode_share_high)
    assert item.low < item.base < item.high
    assert item.source.split(";")[0].strip().startswith(PROVENANCE_PREFIXES)
    assert (item.sd is not None) == (item.distribution == "normal")


@pytest.mark.parametrize("scenario", ["high", "low"])
def test_the_named_scenarios_inputs_lie_inside_the_ranges(scenario):
    """Every scenario value of a key with a range lies between its low and high end."""
    for key, item in MODEL.dataset.scenarios[scenario].items():
        if key in MODEL.dataset.uncertainty:
            ranged = MODEL.dataset.uncertainty[key]
            assert ranged.low <= item.value <= ranged.high, key


def test_a_data_folder_without_uncertainty_loads_but_cannot_simulate(data):
    """uncertainty.csv is optional: the folder loads as before and simulate() says what is missing."""
    (data / "uncertainty.csv").unlink()
    model = load_model(data)
    assert model.dataset.uncertainty == {}
    assert model.value(GLOBAL, 2030) == MODEL.value(GLOBAL, 2030)
    with pytest.raises(NotAvailableError, match=re.escape("has no uncertainty.csv")):
        model.simulate(10)


def edit_row(folder: Path, key: str, column: str, value: str) -> int:
    """Set `column` of the row of `key` in uncertainty.csv; return its row number (header = 1)."""
    path = folder / "uncertainty.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    index = rows[0].index(column)
    for number, row in enumerate(rows[1:], start=2):
        if row[0] == key:
            row[index] = value
            with path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle, lineterminator="\n").writerows(rows)
            return number
    raise AssertionError(key)


@pytest.mark.parametrize(
    ("key", "column", "value", "message"),
    [
        ("coke_per_anode_t", "key", "coke_per_tonne", "unknown key 'coke_per_tonne'"),
        ("coal_price_ratio", "key", "coke_per_anode_t", "duplicate key 'coke_per_anode_t'"),
        ("coke_per_anode_t", "distribution", "uniform", "unknown distribution 'uniform'; valid: "
         "triangular, normal"),
        ("coke_per_anode_t", "low", "2.0", "low 2 must be below high 1.7"),
        ("coke_per_anode_t", "base", "1.95", "base 1.95 lies outside low..high (1.3 to 1.7)"),
        ("coke_per_anode_t", "high", "abc", "'abc' is not a number"),
        ("coke_per_anode_t", "low", "-1", "coke_per_anode_t must not be negative, not -1"),
        ("utilisation_ceiling", "high", "1.2", "is a share and must lie between 0 and 1"),
        ("petroleum_price_growth_forecast", "low", "-1.5", "is a growth rate and must be above -1"),
        ("consumer_battery_growth_forecast", "sd", "", "empty value"),
        ("consumer_battery_growth_forecast", "sd", "0", "sd must be above 0, not 0"),
        ("coke_per_anode_t", "sd", "0.1", "sd is for normal ranges; leave it empty for triangular"),
        ("coke_per_anode_t", "source", "my guess", "provenance 'my guess' must start with report:"),
        ("coke_per_anode_t", "description", "", "empty value"),
    ],
)
def test_a_bad_range_names_file_row_and_column(data, key, column, value, message):
    """Each problem in uncertainty.csv is one DataError naming the file, the row and the column."""
    row = edit_row(data, key, column, value)
    with pytest.raises(DataError) as caught:
        load_dataset(data)
    text = str(caught.value)
    assert text.startswith(f"uncertainty.csv, row {row}, column {column}: "), text
    assert message in text
    assert "\n" not in text


def test_a_missing_column_is_named(data):
    """A file without the sd column is refused with the expected header."""
    path = data / "uncertainty.csv"
    text = path.read_text(encoding="utf-8").replace(",sd,", ",spread,", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=re.escape("uncertainty.csv, row 1: missing column 'sd'")):
        load_dataset(data)


# -------------------------------------------------------------------------------------------
# draws


def test_a_seed_reproduces_every_draw():
    """The same draws and seed give bit-identical inputs and outputs, also after the memo is cleared."""
    first = MODEL.simulate(5_000, 7)
    inputs = {key: values.copy() for key, values in first.inputs.items()}
    revenue = first.series(GLOBAL).copy()
    clear_simulations()
    second = MODEL.simulate(5_000, 7)
    assert second is not first
    for key, values in inputs.items():
        assert np.array_equal(second.inputs[key], values)
    assert np.array_equal(second.series(GLOBAL), revenue)
    other = MODEL.simulate(5_000, 8)
    assert not np.array_equal(other.inputs["coke_per_anode_t"], inputs["coke_per_anode_t"])


def test_simulations_are_memoized_per_model_draws_and_seed():
    """Asking again returns the same object; another draws count, seed or model does not."""
    simulation = MODEL.simulate(3_000, 1)
    assert MODEL.simulate(3_000, 1) is simulation
    assert MODEL.simulate(3_000, 2) is not simulation
    assert MODEL.simulate(3_001, 1) is not simulation
    assert load_model().simulate(3_000, 1) is not simulation


def test_a_drivers_draws_depend_only_on_seed_key_and_range(simulation):
    """Each driver has its own random stream: sampling it alone gives the simulation's draws;
    a correlated driver's come from its stream and its partner's draws only."""
    drivers = {driver.key: driver for driver in simulation.drivers}
    for driver in simulation.drivers:
        if driver.key == CORRELATED[1]:
            expected = driver.sample_with(drivers[CORRELATED[0]], simulation.inputs[CORRELATED[0]],
                                          0.5, 0)
        else:
            expected = driver.sample(DRAWS, 0)
        assert np.array_equal(expected, simulation.inputs[driver.key]), driver.key


def test_price_and_volume_growth_are_correlated_as_stated(simulation):
    """correlations.csv: 0.5 between volume growth and price growth. The normal scores of the
    two drivers' draws (their CDF values mapped through the normal quantile) correlate at 0.5
    within 0.01 (standard error about (1 - 0.25) / sqrt(100,000) = 0.0024)."""
    pair = MODEL.dataset.correlations[0]
    assert (pair.key, pair.with_key, pair.correlation) == (*CORRELATED, 0.5)
    assert pair.source.startswith("derived:")
    drivers = {driver.key: driver for driver in simulation.drivers}
    scores = [_standard_normal_quantile(np.clip(drivers[key].cdf(simulation.inputs[key]), 1e-12,
                                                1 - 1e-12)) for key in CORRELATED]
    assert abs(np.corrcoef(*scores)[0, 1] - 0.5) < 0.01
    assert 0.4 < np.corrcoef(*(simulation.inputs[key] for key in CORRELATED))[0, 1] < 0.6


def test_the_base_cases_percentile_is_the_share_of_draws_at_or_below_it(simulation):
    """base_percentile = 100 x (draws <= base) / draws; base 2030 revenue sits between P30 and P60."""
    for segment, metric in (("Global", "revenue"), ("Global", "volume"), ("China", "revenue")):
        column = simulation.series(segment, metric)[:, 2030 - 2019]
        base = MODEL.value(segment, 2030, metric)
        expected = 100.0 * np.count_nonzero(column <= base * (1 + 1e-12)) / DRAWS
        assert simulation.base_percentile(segment, 2030, metric) == expected
    assert 30 < simulation.base_percentile("Global", 2030, "revenue") < 60


def test_draws_stay_inside_their_ranges(simulation):
    """No draw falls outside low..high (truncation, never resampling)."""
    for driver in simulation.drivers:
        values = simulation.inputs[driver.key]
        assert values.shape == (DRAWS,)
        assert driver.low <= values.min() and values.max() <= driver.high


@pytest.mark.parametrize("q", [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99])
def test_percentiles_of_each_driver_match_its_distribution(simulation, q):
    """Sample quantiles equal the distribution's quantiles within 0.5% of the range.

    Tolerance: the standard error of a sample quantile is sqrt(q (1 - q) / n) / f(x_q); with
    n = 100,000 and these ranges it stays below 0.12% of (high - low) for q in 0.01-0.99, so
    0.5% is more than four standard errors (and the seed fixes the draws anyway)."""
    for driver in simulation.drivers:
        sampled = np.percentile(simulation.inputs[driver.key], q * 100)
        assert abs(sampled - driver.quantile(q)) <= 0.005 * (driver.high - driver.low), driver.key


def test_triangular_quantiles_are_the_closed_form():
    """coke_per_anode_t (1.3, 1.5, 1.7): the mode's CDF is 0.2/0.4 = 0.5; P25 = 1.3 +
    sqrt(0.25 x 0.4 x 0.2); the ends are exact; cdf inverts quantile."""
    driver = Driver.centred_on(MODEL.dataset.uncertainty["coke_per_anode_t"], 1.5)
    assert driver.quantile(0.0) == 1.3 and driver.quantile(1.0) == 1.7
    assert driver.quantile(0.5) == pytest.approx(1.5, abs=1e-12)
    assert driver.quantile(0.25) == pytest.approx(1.3 + math.sqrt(0.25 * 0.4 * 0.2), abs=1e-12)
    q = np.array([0.01, 0.25, 0.5, 0.75, 0.99])
    assert driver.cdf(driver.quantiles(q)) == pytest.approx(q, abs=1e-12)


def test_truncated_normal_quantiles_follow_the_normal_cdf():
    """consumer_battery_growth_forecast N(0.05, 0.025) cut to 0..0.10: P30 sits where the CDF
    is 30% of the way between its values at the two ends; the vectorised quantiles and cdf agree."""
    driver = Driver.centred_on(MODEL.dataset.uncertainty["consumer_battery_growth_forecast"], 0.05)
    normal = NormalDist(0.05, 0.025)
    assert normal.cdf(driver.quantile(0.3)) == pytest.approx(
        normal.cdf(0.0) + 0.3 * (normal.cdf(0.10) - normal.cdf(0.0)), abs=1e-12)
    assert driver.quantile(0.0) == 0.0 and driver.quantile(1.0) == 0.10
    q = np.array([0.05, 0.3, 0.5, 0.95])
    assert driver.quantiles(q) == pytest.approx([driver.quantile(x) for x in q], abs=1e-12)
    assert driver.cdf(driver.quantiles(q)) == pytest.approx(q, abs=1e-9)


def test_the_vectorised_normal_quantile_equals_pythons():
    """AS241 on arrays agrees with statistics.NormalDist.inv_cdf to 1e-14 across both tails."""
    grid = np.concatenate([np.logspace(-300, -1, 400), np.linspace(0.01, 0.99, 999),
                           1 - np.logspace(-16, -1, 200)])
    expected = np.array([NormalDist().inv_cdf(p) for p in grid])
    assert np.allclose(_standard_normal_quantile(grid), expected, rtol=1e-14, atol=1e-14)


def test_ranges_move_with_an_overridden_base_value():
    """Levels scale with the base, rates and shares shift, and shares stay inside 0-1."""
    model = load_model(overrides={"coke_per_anode_t": 1.8, "petroleum_price_growth_forecast": 0.03,
                                  "utilisation_ceiling": 0.7})
    drivers = {d.key: d for d in model.simulate(1_000).drivers}
    assert (drivers["coke_per_anode_t"].low, drivers["coke_per_anode_t"].high) == pytest.approx((1.56, 2.04))
    assert drivers["coke_per_anode_t"].base == 1.8
    assert (drivers["petroleum_price_growth_forecast"].low,
            drivers["petroleum_price_growth_forecast"].high) == pytest.approx((-0.035, 0.112))
    assert (drivers["utilisation_ceiling"].low,
            drivers["utilisation_ceiling"].high) == pytest.approx((0.60, 0.80))
    consumer = Driver.centred_on(MODEL.dataset.uncertainty["consumer_battery_growth_forecast"], 0.08)
    assert (consumer.low, consumer.base, consumer.high, consumer.sd) == pytest.approx(
        (0.03, 0.08, 0.13, 0.025))
    share = Driver.centred_on(MODEL.dataset.uncertainty["utilisation_ceiling"], 0.95)
    assert share.high == 1.0 and share.low == pytest.approx(0.85)


# -------------------------------------------------------------------------------------------
# the market for every draw


def test_every_series_has_one_row_per_draw_and_is_read_only(simulation, facts):
    """series() gives (draws, years) for every segment and metric, and cannot be changed."""
    assert len(facts) == len(every_series()) > 150
    for key, fact in facts.items():
        assert fact["shape"] == (DRAWS, len(YEARS)), key
        assert not fact["writeable"], key
    with pytest.raises(ValueError):
        simulation.series(GLOBAL)[0, 0] = 1.0


@pytest.mark.parametrize("dimension", sorted(DIMENSIONS))
def test_every_draw_reconciles(simulation, dimension):
    """In every draw and year, a dimension's segments (companies with Others) sum to Global
    within 1e-9 relative, for each summed metric."""
    for metric in SUMMED_METRICS[dimension]:
        total = sum(simulation.series(segment, metric) for segment in DIMENSIONS[dimension])
        assert relative(total, simulation.series(GLOBAL, metric)) <= 1e-9, metric


def test_every_draw_reconciles_countries_to_their_region(simulation):
    """In every draw, a region's countries sum to the region."""
    for region in DIMENSIONS["region"]:
        for metric in ("volume", "revenue", "capacity"):
            total = sum(simulation.series(country, metric) for country in MODEL.segments(region))
            assert relative(total, simulation.series(region, metric)) <= 1e-9, (region, metric)


def test_every_draw_keeps_price_as_revenue_over_volume(simulation):
    """Global and type prices equal revenue x 1,000 / volume in every draw."""
    for segment in (GLOBAL, *TYPES):
        price = simulation.series(segment, "revenue") * 1000.0 / simulation.series(segment, "volume")
        assert relative(price, simulation.series(segment, "price")) <= 1e-12


def test_no_draw_breaks_a_constraint(facts):
    """Truncated ranges keep every segment's volume, revenue and capacity at 0 or more."""
    for (segment, metric), fact in facts.items():
        if metric != "price":
            assert fact["min"] >= -1e-9, (segment, metric)


def test_a_draw_equals_the_scalar_model_with_its_inputs(simulation):
    """The vectorised arithmetic is the model's: five draws recomputed one at a time as overrides
    give every number to 1e-12 relative."""
    draws = (0, 1, 17, 4_242, DRAWS - 1)
    markets = [load_model(overrides={key: float(values[draw]) for key, values in
                                     simulation.inputs.items()}).markets["base"] for draw in draws]
    for segment, metric in every_series():
        array = simulation.series(segment, metric)
        for draw, market in zip(draws, markets, strict=True):
            assert np.allclose(array[draw], market.values[segment][metric], rtol=1e-12, atol=0,
                               equal_nan=True), (segment, metric, draw)


def test_one_draw_at_the_base_values_is_the_base_market():
    """market_recipes with every driver as a 1-element array reproduces compute_market."""
    inputs = {key: a.value for key, a in MODEL.dataset.assumptions.items()}
    params = MODEL.assumptions().set_index("key")["value"].to_dict()
    params = {key: value for key, value in params.items() if "." not in key}
    assert inputs.items() <= params.items()
    expected = compute_market(MODEL.dataset, params)
    drawn = market_recipes(MODEL.dataset, {**params, **{key: np.array([params[key]])
                                                        for key in KEY_DRIVERS}})
    for segment, series in expected.values.items():
        got = drawn.series(segment)
        for metric, values in series.items():
            assert np.allclose(np.broadcast_to(got[metric], (1, len(YEARS)))[0], values, rtol=1e-13,
                               atol=0, equal_nan=True), (segment, metric)


def test_ranges_that_allow_an_impossible_market_are_refused():
    """When a corner of the ranges breaks a constraint, simulate() raises before drawing."""
    model = load_model(overrides={"energy_storage_multiple_2030": 9})  # the base case is fine
    assert model.value("Power Battery", 2030, "volume") > 0
    with pytest.raises(AssumptionError, match="the uncertainty ranges allow an impossible market: "
                       "the assumptions leave Power Battery a negative volume"):
        model.simulate(1_000)
    crowded = load_model(overrides={"anode_share_cnpc_refineries": 0.02})  # range cut to 0-0.17
    assert crowded.concentration(5, 2023) == pytest.approx(0.48, abs=1e-12)
    with pytest.raises(AssumptionError, match="report S6 cannot hold"):
        crowded.simulate(1_000)


# -------------------------------------------------------------------------------------------
# percentiles


def test_percentiles_are_ordered_everywhere(facts):
    """P10 <= P50 <= P90 for every segment, metric and year (a company's price in years it does
    not produce has no percentiles)."""
    checked = 0
    for key, fact in facts.items():
        p10, p50, p90 = (fact["bands"][p] for p in (10, 50, 90))
        has_numbers = ~np.isnan(p50)
        assert np.all(p10[has_numbers] <= p50[has_numbers]), key
        assert np.all(p50[has_numbers] <= p90[has_numbers]), key
        checked += int(has_numbers.sum())
    assert checked > 2_000


@pytest.mark.parametrize("segment", ["Global", "Power Battery", "China", "Europe", "Others",
                                     "Coal-based", "Baolai Bio"])
def test_percentile_is_numpys_percentile_of_the_draws(simulation, segment):
    """percentile(segment, year, p) is the linear percentile of that year's draws, and ordered."""
    for year in (2019, 2023, 2027, 2030):
        column = simulation.series(segment)[:, year - 2019]
        values = [simulation.percentile(segment, year, p) for p in (0, 10, 50, 90, 100)]
        assert values == [float(np.percentile(column, p)) for p in (0, 10, 50, 90, 100)]
        assert values == sorted(values)


def test_percentile_accepts_names_and_aliases(simulation):
    """Segment and metric resolve like the model's (case, aliases)."""
    assert simulation.percentile("ev", 2030, 90, "Volume") == simulation.percentile(
        "Power Battery", 2030, 90, "volume")


@pytest.mark.parametrize("scenario", ["base", "high", "low"])
def test_the_named_scenarios_sit_inside_the_p5_p95_band(simulation, facts, scenario):
    """Every number of base, high and low, for every segment, metric and forecast year, lies
    between the simulation's P5 and P95 (Global revenue 2030 included)."""
    outside, checked = [], 0
    for (segment, metric), fact in facts.items():
        p5, p95 = fact["bands"][5], fact["bands"][95]
        for year in FORECAST_YEARS:
            if np.isnan(p5[year - 2019]):
                continue
            checked += 1
            if not p5[year - 2019] <= MODEL.value(segment, year, metric, scenario) <= p95[year - 2019]:
                outside.append((segment, metric, year))
    assert outside == [] and checked > 1_300
    for year in FORECAST_YEARS:
        number = MODEL.value(GLOBAL, year, "revenue", scenario)
        assert simulation.percentile(GLOBAL, year, 5) <= number <= simulation.percentile(GLOBAL, year, 95)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("Global", 2030, 101), InvalidArgumentError, "percentile 101 is outside 0-100"),
        (("Global", 2030, -1), InvalidArgumentError, "percentile -1 is outside 0-100"),
        (("Global", 2030, math.nan), InvalidArgumentError, "percentile nan is outside 0-100"),
        (("Global", 2030, True), InvalidArgumentError, "percentile True is not a number"),
        (("Global", 2030, "90"), InvalidArgumentError, "percentile '90' is not a number"),
        (("Global", 2035, 50), InvalidArgumentError, "year 2035 is outside 2019-2030"),
        (("Global", 2030.5, 50), InvalidArgumentError, "is not a whole year"),
        (("Atlantis", 2030, 50), UnknownNameError, 'unknown segment "Atlantis"'),
        (("Global", 2030, 50, "profit"), UnknownNameError, 'unknown metric "profit"'),
        (("Energy Storage", 2030, 50, "capacity"), NotAvailableError,
         "capacity is not available by application"),
        (("Indian Oil", 2023, 50, "price"), NotAvailableError, "Indian Oil has no price in 2023"),
    ],
)
def test_percentile_refuses_bad_arguments(simulation, args, error, message):
    """Bad arguments raise the model's errors with its messages."""
    with pytest.raises(error, match=re.escape(message)):
        simulation.percentile(*args)


@pytest.mark.parametrize(("draws", "seed", "message"), [
    (0, 0, "draws 0 is outside 1-2,000,000"), (MAX_DRAWS + 1, 0, "is outside 1-2,000,000"),
    (1.5, 0, "draws 1.5 is not a whole number"), (True, 0, "draws True is not a whole number"),
    ("100", 0, "draws '100' is not a whole number"), (100, -1, "seed -1 is outside 0-"),
    (100, 0.5, "seed 0.5 is not a whole number"),
])
def test_simulate_refuses_bad_draws_and_seeds(draws, seed, message):
    """draws must be a whole number 1-2,000,000 and seed a whole number 0 or more."""
    with pytest.raises(InvalidArgumentError, match=message):
        MODEL.simulate(draws, seed)


# -------------------------------------------------------------------------------------------
# sensitivity (tornado)


@pytest.mark.parametrize(("segment", "year", "metric"), [
    ("Global", 2030, "revenue"), ("China", 2030, "revenue"), ("Energy Storage", 2027, "volume"),
    ("Global", 2030, "capacity"), ("Baolai Bio", 2030, "revenue"), ("Global", 2030, "price"),
])
def test_sensitivity_is_the_tornado_sorted_by_swing(simulation, segment, year, metric):
    """One row per driver that moves the output: its P10 and P90, the output at each, and swing =
    |high - low| > 0, largest swing first."""
    frame = simulation.sensitivity(segment, year, metric)
    assert tuple(frame.columns) == SENSITIVITY_COLUMNS
    assert set(frame["driver"]) <= KEY_DRIVERS and len(frame) >= 2
    assert (frame["swing"] > 0).all()
    assert list(frame["swing"]) == sorted(frame["swing"], reverse=True)
    assert (frame["swing"] == (frame["output_at_high"] - frame["output_at_low"]).abs()).all()
    drivers = {d.key: d for d in simulation.drivers}
    for row in frame.itertuples(index=False):
        assert row.low_value == drivers[row.driver].quantile(0.10)
        assert row.high_value == drivers[row.driver].quantile(0.90)
    assert frame.attrs["base"] == MODEL.value(segment, year, metric)


def test_sensitivity_outputs_equal_the_model_with_that_one_driver_moved(simulation):
    """Each output is the scalar model's number with the driver at its P10 (or P90), the rest at
    base, to 1e-12 relative; drivers that do not reach the output are left out."""
    frame = simulation.sensitivity()
    for row in frame.itertuples(index=False):
        for value, output in ((row.low_value, row.output_at_low), (row.high_value, row.output_at_high)):
            expected = load_model(overrides={row.driver: value}).value(GLOBAL, 2030)
            assert output == pytest.approx(expected, rel=1e-12), row.driver
    left_out = KEY_DRIVERS - set(frame["driver"])
    assert left_out == {"energy_storage_multiple_2030", "consumer_battery_growth_forecast",
                        "utilisation_ceiling", "anode_share_cnpc_refineries",
                        "anode_share_sinopec_refineries"}
    for key in left_out:  # each is left out because it truly does not move Global revenue
        driver = next(d for d in simulation.drivers if d.key == key)
        assert load_model(overrides={key: driver.quantile(0.9)}).value(GLOBAL, 2030) == \
            MODEL.value(GLOBAL, 2030)
    assert frame["driver"][0] in ("anode_cagr_2025_2030", "petroleum_price_growth_forecast")


def test_every_driver_is_in_a_tornado_of_the_output_it_moves(simulation):
    """The risk sheet's tornados (Global revenue, Global volume, Power Battery volume, China's
    revenue, Global capacity 2030 and 2024) together show every driver with a swing above 0."""
    from xl_negcoke.workbook.layout import RISK_SHEET, Tornado, report_layout

    sheet = next(s for s in report_layout(MODEL) if s.name == RISK_SHEET)
    shown = set()
    for block in sheet.blocks:
        if isinstance(block, Tornado):
            shown |= set(simulation.sensitivity(block.segment, block.year, block.metric)["driver"])
    assert shown == KEY_DRIVERS


def test_sensitivity_defaults_to_global_revenue_2030(simulation):
    """sensitivity() with no arguments is Global revenue in 2030, and its rows are copies."""
    frame = simulation.sensitivity()
    assert frame.equals(simulation.sensitivity("Global", 2030, "revenue"))
    frame.loc[0, "swing"] = -1.0
    assert simulation.sensitivity()["swing"][0] != -1.0


# -------------------------------------------------------------------------------------------
# memory


def test_100k_draws_over_every_segment_stay_under_1_gib():
    """Simulating 100,000 draws and computing every segment and metric peaks below 1 GiB of
    allocations (tracemalloc; the benchmark also reports the process's peak)."""
    clear_simulations()
    model = load_model()
    tracemalloc.start()
    try:
        simulation = model.simulate(DRAWS, 3)
        for segment, metric in every_series():
            simulation.series(segment, metric)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        clear_simulations()
    assert peak < 2**30, f"{peak / 2**20:.0f} MiB"
    assert OTHERS in model.segments("company")
