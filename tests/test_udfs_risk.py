"""NEGCOKE_RANGE and NEGCOKE_SENSITIVITY: the Simulation's numbers in a cell, arguments taken the
way Excel sends them, simulations memoized, and every bad input one line of error text."""

from __future__ import annotations

import inspect
import math
from datetime import date

import numpy as np
import pytest

from xl_negcoke import load_model, udfs
from xl_negcoke.model.simulation import clear_simulations
from xl_negcoke.udfs import EXCEL_DRAWS, EXCEL_SEED, NEGCOKE_RANGE, NEGCOKE_SENSITIVITY, SENSITIVITY_HEADER

MODEL = load_model()
ERROR_VALUES = ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!")


@pytest.fixture(autouse=True)
def fresh_models():
    """Every test starts without built models or simulations (and leaves none behind)."""
    udfs.clear_models()
    clear_simulations()
    yield
    udfs.clear_models()
    clear_simulations()


def excel_simulation(model=None):
    """The simulation behind the functions: EXCEL_DRAWS draws, seed EXCEL_SEED."""
    return (model or udfs._base_model()).simulate(EXCEL_DRAWS, EXCEL_SEED)


def assumptions_range(model=MODEL) -> list[list[object]]:
    """The Assumptions table as Excel sends it: a header row, then key | value | unit | source."""
    frame = model.assumptions()[["key", "value", "unit", "source"]]
    return [["key", "value", "unit", "source"], *(list(row) for row in frame.itertuples(index=False))]


def assert_error_text(result: object, hint: str) -> None:
    assert isinstance(result, str), result
    assert result.startswith(("#N/A ", "#VALUE! ")), result
    assert "\n" not in result and "\r" not in result and "Traceback" not in result, result
    assert len(result) <= udfs.MAX_MESSAGE_CHARS
    assert hint in result, (hint, result)


# -------------------------------------------------------------------------------------------
# the functions as Excel sees them


@pytest.mark.parametrize("function", [NEGCOKE_RANGE, NEGCOKE_SENSITIVITY], ids=lambda f: f.__name__)
def test_help_text_fits_and_optional_arguments_default_to_none(function):
    """One-line docstring under 255 characters; optional arguments default to None."""
    assert function.__doc__ and len(function.__doc__) < 255 and "\n" not in function.__doc__
    optional = [p for p in inspect.signature(function).parameters.values()
                if p.default is not inspect.Parameter.empty]
    assert optional and all(p.default is None for p in optional)
    assert function.__name__ in udfs.__all__


def test_the_documented_draws_are_fixed():
    """Excel uses 20,000 draws and seed 0, as the docstrings say."""
    assert (EXCEL_DRAWS, EXCEL_SEED) == (20_000, 0)
    assert "20,000 draws" in NEGCOKE_RANGE.__doc__ and "seed 0" in NEGCOKE_RANGE.__doc__


def test_20k_draws_are_within_1_percent_of_100k():
    """P10, P50 and P90 of Global revenue 2030 with Excel's 20,000 draws are within 1% of the
    100,000-draw figures (the reason 20,000 is enough in a cell)."""
    for p in (10, 50, 90):
        excel = NEGCOKE_RANGE("Global", 2030, p)
        full = MODEL.simulate(100_000, 0).percentile("Global", 2030, p)
        assert excel == pytest.approx(full, rel=0.01)


# -------------------------------------------------------------------------------------------
# good inputs equal the Simulation


@pytest.mark.parametrize("segment", ["Global", "Petroleum-based", "Power Battery", "Energy Storage",
                                     "Asia", "China", "United States", "Baolai Bio", "Others"])
@pytest.mark.parametrize("metric", ["revenue", "volume", "price", "capacity"])
def test_range_equals_the_simulation(segment, metric):
    """NEGCOKE_RANGE gives Simulation.percentile for every year and percentile (or its #N/A)."""
    simulation = excel_simulation()
    for year in (2019, 2023, 2026, 2030):
        for p in (0, 5, 10, 50, 90, 95, 100):
            result = NEGCOKE_RANGE(segment, year, p, metric)
            try:
                expected = simulation.percentile(segment, year, p, metric)
            except Exception as error:
                assert result.startswith(error.excel_code + " "), result
            else:
                assert result == expected, (segment, year, p, metric)


@pytest.mark.parametrize(("arguments", "same_as"), [
    (("EV", "2030", "P90"), ("Power Battery", 2030, 90)),
    (("  power battery ", 2030.0, [[90]]), ("Power Battery", 2030, 90)),
    (("ESS", [[2027]], "10", "Volume"), ("Energy Storage", 2027, 10, "volume")),
    (("USA", 2030, 50.0, None, None), ("United States", 2030, 50)),
    (("Global", 2030, "p1"), ("Global", 2030, 1)),
    (("Global", 2030, 1.5), ("Global", 2030, 1.5)),
    (("Global", 2030, np.float64(75)), ("Global", 2030, 75)),
    (("World", 2030, 0, ""), ("Global", 2030, 0)),
])
def test_range_takes_arguments_as_excel_sends_them(arguments, same_as):
    """Aliases, text years, 1x1 ranges, "P90" and empty optional arguments all work."""
    assert NEGCOKE_RANGE(*arguments) == excel_simulation().percentile(*same_as)


def test_range_follows_the_assumptions_range():
    """An edited assumption moves the simulation: the numbers equal the overridden model's."""
    rows = assumptions_range()
    rows[[r[0] for r in rows].index("coke_per_anode_t")][1] = 1.8
    overridden = load_model(overrides={"coke_per_anode_t": 1.8})
    result = NEGCOKE_RANGE("Global", 2030, 90, None, rows)
    assert result == excel_simulation(overridden).percentile("Global", 2030, 90)
    assert result > NEGCOKE_RANGE("Global", 2030, 90)
    assert NEGCOKE_RANGE("Global", 2030, 90, None, assumptions_range()) == NEGCOKE_RANGE(
        "Global", 2030, 90)


def test_the_simulation_is_built_once_per_model(monkeypatch):
    """Repeated calls reuse one memoized simulation."""
    calls = []
    original = udfs.Model.simulate

    def counting(self, draws=100_000, seed=0):
        simulation = original(self, draws, seed)
        calls.append(id(simulation))
        return simulation

    monkeypatch.setattr(udfs.Model, "simulate", counting)
    for p in (10, 50, 90):
        NEGCOKE_RANGE("Global", 2030, p)
    NEGCOKE_SENSITIVITY()
    assert len(calls) == 4 and len(set(calls)) == 1


@pytest.mark.parametrize(("arguments", "same_as"), [
    ((), ("Global", 2030, "revenue")),
    ((None, None, None, None), ("Global", 2030, "revenue")),
    (("China",), ("China", 2030, "revenue")),
    (("ESS", "2027", "volume"), ("Energy Storage", 2027, "volume")),
    (("Global", 2030, "capacity"), ("Global", 2030, "capacity")),
    (("Baolai", [[2025]], "Revenue"), ("Baolai Bio", 2025, "revenue")),
])
def test_sensitivity_is_the_tornado_with_a_header_row(arguments, same_as):
    """A header row, then one row per driver that moves the figure: key, P10, P90, output at each,
    swing (largest first, never 0)."""
    table = NEGCOKE_SENSITIVITY(*arguments)
    frame = excel_simulation().sensitivity(*same_as)
    assert table[0] == list(SENSITIVITY_HEADER) == ["driver", "low value", "high value", "output at low",
                                                    "output at high", "swing"]
    assert table[1:] == [list(row) for row in frame.itertuples(index=False)]
    assert 3 <= len(table) <= 1 + len(MODEL.dataset.uncertainty)
    assert all(row[5] > 0 for row in table[1:])
    assert all(isinstance(cell, float) for row in table[1:] for cell in row[1:])
    swings = [row[5] for row in table[1:]]
    assert swings == sorted(swings, reverse=True)


def test_range_base_gives_the_base_cases_percentile():
    """NEGCOKE_RANGE(segment, year, "base") is the percentile (0-100) of the 20,000 draws at or
    below the base case: the draws at or below it number that percentage."""
    simulation = excel_simulation()
    value = NEGCOKE_RANGE("Global", 2030, "Base")
    column = simulation.series("Global")[:, 2030 - 2019]
    assert value == 100.0 * (column <= MODEL.value("Global", 2030) * (1 + 1e-12)).sum() / len(column)
    assert NEGCOKE_RANGE("EV", 2027, " base ", "volume") == simulation.base_percentile(
        "Power Battery", 2027, "volume")


def test_sensitivity_follows_the_assumptions_range():
    """With an edited price growth, the tornado's price driver centres on the new value."""
    rows = [["key", "value"], ["petroleum_price_growth_forecast", 0.05]]
    table = NEGCOKE_SENSITIVITY("Global", 2030, "revenue", rows)
    price = next(row for row in table[1:] if row[0] == "petroleum_price_growth_forecast")
    base = next(row for row in NEGCOKE_SENSITIVITY()[1:] if row[0] == "petroleum_price_growth_forecast")
    assert price[1] == pytest.approx(base[1] + 0.03) and price[2] == pytest.approx(base[2] + 0.03)


# -------------------------------------------------------------------------------------------
# bad inputs: every argument of both functions

BAD_SEGMENTS = [("Atlantis", 'unknown segment "Atlantis"'), ("", "segment is missing"),
                (None, "segment is missing"), (True, "TRUE"), (math.nan, "NaN"),
                (2030, 'unknown segment "2030"'), ([["Global", "China"]], "1x2"),
                (date(2030, 1, 1), "date"), *((error, error) for error in ERROR_VALUES)]
BAD_YEARS = [(2035, "year 2035 is outside 2019-2030"), (2018, "outside"), (2027.5, "whole year"),
             ("abc", "not a year"), (None, "year is missing"), ("", "year is missing"),
             (False, "FALSE"), (math.inf, "infinity"), ([[2027, 2028]], "1x2"),
             (date(2027, 1, 1), "date"), *((error, error) for error in ERROR_VALUES)]
BAD_PERCENTILES = [
    (101, "percentile 101 is outside 0-100"), (-5, "outside 0-100"), (1000, "outside 0-100"),
    (0.9, "percentile 0.9 is ambiguous"), (0.5, "ambiguous"), (1, "percentile 1 is ambiguous"),
    ("90%", "percentile 0.9 is ambiguous"), ("0.1", "ambiguous"), ("P101", "outside 0-100"),
    ("ninety", 'percentile "ninety" is not a number'), ("P", "not a number"),
    (None, "percentile is missing"), ("", "percentile is missing"), ("  ", "percentile is missing"),
    (True, "TRUE"), (math.nan, "NaN"), (-math.inf, "infinity"), ([[10, 90]], "1x2"),
    ([10, 50, 90], "range of 3 cells"), (date(2030, 1, 1), "date"),
    *((error, error) for error in ERROR_VALUES),
]
BAD_METRICS = [("profit", 'unknown metric "profit"'), (True, "TRUE"), (math.nan, "NaN"),
               ([["revenue", "volume"]], "1x2"), *((error, error) for error in ERROR_VALUES)]
BAD_ASSUMPTIONS = [
    ([["coke_per_anode_t", 1.5]], "row 1: expected the header"),
    ([["key", "value"], ["coke_per_anode_t", "abc"]], "row 2: value 'abc'"),
    ([["key", "value"], ["no_such_key", 1.0]], 'unknown key "no_such_key"'),
    ([["key", "value"], ["coke_per_anode_t", -1]], "negative"),
    ("coke_per_anode_t", "single value"), ("#REF!", "#REF!"),
    ([["key", "value"], ["energy_storage_multiple_2030", 9]],
     "uncertainty ranges allow an impossible market"),
    ([["key", "value"], ["anode_share_cnpc_refineries", 0.02]], "report S6 cannot hold"),
]


def _corpus() -> list[tuple[object, tuple, str]]:
    """(function, args, expected text) for every argument of both functions."""
    cases: list[tuple[object, tuple, str]] = []
    for value, hint in BAD_SEGMENTS:
        cases.append((NEGCOKE_RANGE, (value, 2030, 90), hint))
    for value, hint in BAD_YEARS:
        cases.append((NEGCOKE_RANGE, ("Global", value, 90), hint))
    for value, hint in BAD_PERCENTILES:
        cases.append((NEGCOKE_RANGE, ("Global", 2030, value), hint))
    for value, hint in BAD_METRICS:
        cases.append((NEGCOKE_RANGE, ("Global", 2030, 90, value), hint))
    cases.append((NEGCOKE_RANGE, ("Storage", 2030, 50, "capacity"),
                  "capacity is not available by application (Energy Storage)"))
    cases.append((NEGCOKE_RANGE, ("Indian Oil", 2023, 50, "price"), "Indian Oil has no price in 2023"))
    for value, hint in BAD_ASSUMPTIONS:
        cases.append((NEGCOKE_RANGE, ("Global", 2030, 90, None, value), hint))
    for value, hint in BAD_SEGMENTS:
        if value is not None and value != "":  # empty means the default, Global
            cases.append((NEGCOKE_SENSITIVITY, (value,), hint))
    for value, hint in BAD_YEARS:
        if "missing" not in hint:
            cases.append((NEGCOKE_SENSITIVITY, ("Global", value), hint))
    for value, hint in BAD_METRICS:
        cases.append((NEGCOKE_SENSITIVITY, ("Global", 2030, value), hint))
    cases.append((NEGCOKE_SENSITIVITY, ("Power Battery", 2030, "capacity"), "capacity is not available"))
    for value, hint in BAD_ASSUMPTIONS:
        cases.append((NEGCOKE_SENSITIVITY, (None, None, None, value), hint))
    return cases


CORPUS = _corpus()


def test_corpus_is_large_and_covers_every_argument():
    """At least 30 bad inputs, with every argument of both functions represented."""
    assert len(CORPUS) >= 30
    range_arguments = {i for function, args, _ in CORPUS if function is NEGCOKE_RANGE
                       for i in range(len(args))}
    sensitivity_arguments = {len(args) - 1 for function, args, _ in CORPUS
                             if function is NEGCOKE_SENSITIVITY}
    assert range_arguments == {0, 1, 2, 3, 4} and sensitivity_arguments == {0, 1, 2, 3}


@pytest.mark.parametrize("function", [NEGCOKE_RANGE, NEGCOKE_SENSITIVITY],
                         ids=["NEGCOKE_RANGE", "NEGCOKE_SENSITIVITY"])
def test_bad_input_returns_one_line_of_error_text(function):
    """Each bad argument of the corpus gives one line of #N/A or #VALUE! text naming the problem:
    every case of the function is tried, and the failing ones are listed together."""
    failures = []
    for case_function, args, hint in CORPUS:
        if case_function is not function:
            continue
        try:
            assert_error_text(function(*args), hint)
        except Exception as error:  # an AssertionError, or the function raised: both are failures
            failures.append(f"{function.__name__}{args!r}"[:100] + f": {error.__class__.__name__}: {error}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize(("args", "expected"), [
    (("Foo", 2030, 90), '#N/A unknown segment "Foo"'),
    (("Global", 2035, 90), "#VALUE! year 2035 is outside 2019-2030"),
    (("Global", 2030, 150), '#VALUE! percentile 150 is outside 0-100; give a percentile 0-100, e.g. '
                            '10, 50 or 90 (or "P90")'),
    (("Global", 2030, 0.9), '#VALUE! percentile 0.9 is ambiguous: percentiles run 0-100, so give 90 '
                            'for P90 (not 0.9 or 90%), or "P1" for the 1st'),
])
def test_range_error_texts_read_as_documented(args, expected):
    """The error texts start exactly like this (the analyst's view)."""
    assert NEGCOKE_RANGE(*args).startswith(expected)


def test_an_unexpected_exception_becomes_internal_error_text(monkeypatch):
    """A bug inside the simulation never raises into Excel."""
    def broken(self, draws=100_000, seed=0):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(udfs.Model, "simulate", broken)
    assert NEGCOKE_RANGE("Global", 2030, 50) == "#VALUE! internal error: ZeroDivisionError: boom"
    assert NEGCOKE_SENSITIVITY() == "#VALUE! internal error: ZeroDivisionError: boom"
