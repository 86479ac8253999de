"""The Excel face: NEGCOKE_* functions equal the model on every good input, accept arguments the
way Excel sends them, memoize models per assumptions range, and turn every bad input into one
line of error text instead of raising."""

from __future__ import annotations

import inspect
import math
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
import suite
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_negcoke import __version__, load_model, udfs
from xl_negcoke.model import FIRST_YEAR, LAST_YEAR, YEARS
from xl_negcoke.udfs import (
    NEGCOKE_CAGR,
    NEGCOKE_COMPANY,
    NEGCOKE_FORECAST,
    NEGCOKE_INFO,
    NEGCOKE_SEGMENTS,
    NEGCOKE_SHARE,
    NEGCOKE_SOURCE,
    NEGCOKE_TABLE,
)

MODEL = load_model()
SEGMENTS = MODEL.segments("all")
COMPANIES = [name for name in MODEL.segments("company") if name != "Others"]
METRICS = ("revenue", "volume", "price", "capacity")
SCENARIOS = MODEL.scenarios
DIMENSIONS = ("type", "application", "region", "country", "company", "global", "Asia", "Europe")
COMPANY_FIELDS = ("hq_country", "region", "type", "tier", "rank", "capacity", "volume",
                  "revenue", "price", "share", "utilisation", "first_year", "last_year", "news",
                  "source")
ERROR_VALUES = ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                "#CALC!")
UDFS = (NEGCOKE_FORECAST, NEGCOKE_SHARE, NEGCOKE_CAGR, NEGCOKE_TABLE, NEGCOKE_SEGMENTS,
        NEGCOKE_COMPANY, NEGCOKE_SOURCE, NEGCOKE_INFO)


def model_or_error(call, *args):
    """What the model answers, or the Excel error code of what it raises."""
    try:
        return call(*args)
    except Exception as error:
        return getattr(error, "excel_code", "raised")


def assert_error_text(result: object) -> None:
    assert isinstance(result, str), result
    assert result.startswith(("#N/A ", "#VALUE! ")), result
    assert "\n" not in result and "\r" not in result, result
    assert "Traceback" not in result, result
    assert len(result) <= udfs.MAX_MESSAGE_CHARS


def assumptions_range(model=MODEL, rows: int | None = None) -> list[list[object]]:
    """The Assumptions table as Excel sends it: a header row, then key | value | unit | source."""
    frame = model.assumptions()[["key", "value", "unit", "source"]]
    if rows is not None:
        frame = frame.head(rows)
    return [["key", "value", "unit", "source"], *(list(row) for row in frame.itertuples(index=False))]


@pytest.fixture(autouse=True)
def fresh_models():
    """Every test starts without built models (and leaves none behind)."""
    udfs.clear_models()
    yield
    udfs.clear_models()


# -------------------------------------------------------------------------------------------
# the functions as Excel sees them


def test_the_eight_functions_have_their_excel_names():
    """Each function's Python name is its Excel name."""
    assert [f.__name__ for f in UDFS] == [
        "NEGCOKE_FORECAST", "NEGCOKE_SHARE", "NEGCOKE_CAGR", "NEGCOKE_TABLE", "NEGCOKE_SEGMENTS",
        "NEGCOKE_COMPANY", "NEGCOKE_SOURCE", "NEGCOKE_INFO"]


@pytest.mark.parametrize("function", UDFS, ids=lambda f: f.__name__)
def test_docstring_fits_excel_function_help(function):
    """Every docstring is one line under 255 characters (Excel's function help)."""
    assert function.__doc__ and len(function.__doc__) < 255 and "\n" not in function.__doc__


@pytest.mark.parametrize("function", UDFS, ids=lambda f: f.__name__)
def test_optional_arguments_default_to_none(function):
    """Optional arguments default to None, which Excel sends for an omitted argument."""
    optional = [p for p in inspect.signature(function).parameters.values()
                if p.default is not inspect.Parameter.empty]
    assert all(p.default is None for p in optional)


def test_module_does_not_import_openpyxl():
    """Importing the Excel face pulls in neither openpyxl nor the workbook layer."""
    code = ("import sys, xl_negcoke.udfs; "
            "print('openpyxl' in sys.modules, 'xl_negcoke.workbook' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# -------------------------------------------------------------------------------------------
# good inputs equal the model exactly


@pytest.mark.parametrize("segment", SEGMENTS)
def test_forecast_equals_the_model_for_every_segment(segment):
    """NEGCOKE_FORECAST gives Model.value for every year, metric and scenario (or its #N/A)."""
    for year in YEARS:
        for metric in METRICS:
            for scenario in SCENARIOS:
                expected = model_or_error(MODEL.value, segment, year, metric, scenario)
                result = NEGCOKE_FORECAST(segment, year, metric, scenario)
                if isinstance(expected, float):
                    assert result == expected, (segment, year, metric, scenario)
                else:
                    assert result.startswith(expected + " "), result


def test_forecast_defaults_are_revenue_and_base():
    """Omitted metric and scenario mean revenue in the base scenario."""
    assert NEGCOKE_FORECAST("Power Battery", 2027) == MODEL.value("Power Battery", 2027,
                                                                  "revenue", "base")


@pytest.mark.parametrize("year", [2027, 2027.0, "2027", " 2027 ", "2027.0", [[2027]], [2027],
                                  [[2027.0]], ("2027",), np.int64(2027), np.float64(2027),
                                  np.array([[2027.0]])],
                         ids=repr)
def test_year_arrives_in_any_form_excel_sends(year):
    """A year as a number, text, 1x1 range or 1-element list gives the same number."""
    assert NEGCOKE_FORECAST("Power Battery", year) == MODEL.value("Power Battery", 2027)


@pytest.mark.parametrize("segment", ["Power Battery", "power battery", "  POWER BATTERY ", "EV",
                                     "ev", [["EV"]], ["Power Battery"], "Power-Battery"],
                         ids=repr)
def test_segment_accepts_case_spaces_aliases_and_single_cells(segment):
    """Segment text in any case, with spaces, as an alias or as a 1x1 range resolves the same."""
    assert NEGCOKE_FORECAST(segment, 2027, "volume") == MODEL.value("Power Battery", 2027,
                                                                    "volume")


@pytest.mark.parametrize(("alias", "canonical"), [
    ("ESS", "Energy Storage"), ("Petroleum", "Petroleum-based"), ("Coal", "Coal-based"),
    ("USA", "United States"), ("UK", "U.K."), ("world", "Global")])
def test_design_aliases_resolve(alias, canonical):
    """The aliases named in DESIGN.md give the canonical segment's number."""
    assert NEGCOKE_FORECAST(alias, 2030) == MODEL.value(canonical, 2030)


@pytest.mark.parametrize("empty", [None, "", "  ", [[None]], [[""]], []], ids=repr)
def test_empty_optional_arguments_mean_the_default(empty):
    """None, empty text or an empty 1x1 range as an optional argument means its default."""
    expected = MODEL.value("China", 2025, "revenue", "base")
    assert NEGCOKE_FORECAST("China", 2025, empty, empty, empty) == expected
    table = NEGCOKE_TABLE("type", empty, empty, empty, empty, empty)
    assert table[0][1:] == list(YEARS)


@pytest.mark.parametrize("segment", [s for s in SEGMENTS if s != "Global"])
def test_share_equals_the_model(segment):
    """NEGCOKE_SHARE gives Model.share for every year and metric that has a share."""
    for year in YEARS:
        for metric in ("revenue", "volume", "capacity"):
            expected = model_or_error(MODEL.share, segment, year, metric)
            result = NEGCOKE_SHARE(segment, year, metric)
            if isinstance(expected, float):
                assert result == expected
            else:
                assert result.startswith(expected + " ")


@pytest.mark.parametrize("segment", SEGMENTS[:12])
@pytest.mark.parametrize("metric", METRICS)
def test_cagr_equals_the_model(segment, metric):
    """NEGCOKE_CAGR gives Model.cagr for history, forecast and whole-period spans."""
    for start, end in ((2019, 2023), (2023, 2030), (2019, 2030), (2024, 2025)):
        expected = model_or_error(MODEL.cagr, segment, start, end, metric)
        result = NEGCOKE_CAGR(segment, start, end, metric)
        if isinstance(expected, float):
            assert result == expected
        else:
            assert result.startswith(expected + " ")


@pytest.mark.parametrize("dimension", DIMENSIONS)
@pytest.mark.parametrize("metric", METRICS)
def test_table_equals_the_model(dimension, metric):
    """NEGCOKE_TABLE is the model's table as rows: a header (label, years), segments, Total."""
    expected = model_or_error(MODEL.table, dimension, metric, 2019, 2030)
    result = NEGCOKE_TABLE(dimension, metric, 2019, 2030)
    if isinstance(expected, str):
        assert result.startswith(expected + " ")
        return
    assert result[0] == [expected.index.name, *YEARS]
    assert [row[0] for row in result[1:]] == list(expected.index)
    for row, (_, numbers) in zip(result[1:], expected.iterrows(), strict=True):
        assert [None if math.isnan(n) else n for n in numbers] == row[1:]
    assert len({len(row) for row in result}) == 1, "rectangular"


def test_table_has_a_total_row_and_a_year_window():
    """A window of years gives just those columns, and the last row is the Total."""
    result = NEGCOKE_TABLE("application", "volume", 2024, 2026, "high")
    assert result[0] == ["Application", 2024, 2025, 2026]
    assert result[-1][0] == "Total"
    assert result[-1][1:] == [MODEL.value("Global", y, "volume", "high") for y in (2024, 2025, 2026)]


def test_table_shows_a_missing_price_as_an_empty_cell():
    """A company price in a year without volume is an empty cell, not NaN."""
    result = NEGCOKE_TABLE("company", "price")
    cells = [cell for row in result[1:] for cell in row[1:]]
    assert None in cells
    assert all(cell is None or math.isfinite(cell) for cell in cells)


@pytest.mark.parametrize("dimension", [*DIMENSIONS, "all"])
def test_segments_is_a_vertical_list_of_the_model_names(dimension):
    """NEGCOKE_SEGMENTS gives the model's names as a one-column list of lists."""
    assert NEGCOKE_SEGMENTS(dimension) == [[name] for name in MODEL.segments(dimension)]


@pytest.mark.parametrize("company", COMPANIES)
def test_company_equals_the_model_for_every_field(company):
    """NEGCOKE_COMPANY gives Model.company for every field, default year and given years."""
    for field in COMPANY_FIELDS:
        for year in (None, 2019, 2023, 2030):
            expected = model_or_error(MODEL.company, company, field, year, "base")
            result = NEGCOKE_COMPANY(company, field, year)
            if isinstance(expected, str) and expected in ("#N/A", "#VALUE!"):
                assert result.startswith(expected + " ")
            else:
                assert result == expected, (company, field, year)


def test_company_scenario_changes_figures():
    """A scenario argument reaches the company's figures."""
    company = COMPANIES[0]
    assert NEGCOKE_COMPANY(company, "revenue", 2030, "high") == MODEL.company(
        company, "revenue", 2030, "high")


@pytest.mark.parametrize("key", ["S1", "s3", "coke_per_anode_t", "revenue", "Power Battery",
                                 "China", "United States", "Global", COMPANIES[0], "Asia"])
def test_source_equals_the_model(key):
    """NEGCOKE_SOURCE gives the model's provenance text."""
    assert NEGCOKE_SOURCE(key) == MODEL.source(key)


def test_info_without_field_is_a_two_column_table():
    """NEGCOKE_INFO() lists every field with its value, two columns."""
    assert NEGCOKE_INFO() == [[name, value] for name, value in MODEL.info().items()]


@pytest.mark.parametrize("field", ["version", "dataset_id", "Dataset ID", "base_year",
                                   "first_year", "last_year", "scenarios", "data_dir"])
def test_info_field_equals_the_model(field):
    """NEGCOKE_INFO(field) gives one value, the field named in any case or spacing."""
    info = MODEL.info()
    canonical = field.lower().replace(" ", "_")
    assert NEGCOKE_INFO(field) == info[canonical]


def test_info_names_version_and_base_year():
    """The version is the package's and the base year is 2023."""
    assert NEGCOKE_INFO("version") == __version__
    assert NEGCOKE_INFO("base_year") == 2023


# -------------------------------------------------------------------------------------------
# the assumptions range


def test_full_assumptions_range_gives_the_embedded_numbers():
    """Passing the unchanged Assumptions table gives exactly the embedded numbers."""
    rows = assumptions_range()
    for segment in ("Global", "Power Battery", "China", COMPANIES[0]):
        for scenario in SCENARIOS:
            assert NEGCOKE_FORECAST(segment, 2030, "revenue", scenario, rows) == MODEL.value(
                segment, 2030, "revenue", scenario)


def test_edited_assumption_equals_load_model_with_overrides():
    """An edited value in the range gives what load_model(overrides=...) gives."""
    rows = assumptions_range()
    rows[1][1] = 1.8  # coke_per_anode_t
    overrides = {row[0]: row[1] for row in rows[1:]}
    expected = load_model(overrides=overrides)
    assert rows[1][0] == "coke_per_anode_t"
    for metric in METRICS:
        assert NEGCOKE_FORECAST("Global", 2027, metric, None, rows) == expected.value(
            "Global", 2027, metric)
    assert NEGCOKE_TABLE("type", "volume", None, None, None, rows)[1][1:] == list(
        expected.table("type", "volume").iloc[0])
    assert NEGCOKE_FORECAST("Global", 2027, "volume", None, rows) != MODEL.value(
        "Global", 2027, "volume")


def test_every_function_with_assumptions_equals_the_overridden_model():
    """SHARE, CAGR, TABLE and COMPANY all use the model built from the range."""
    rows = assumptions_range()
    rows[17][1] = 3.5
    expected = load_model(overrides={row[0]: row[1] for row in rows[1:]})
    assert NEGCOKE_SHARE("Energy Storage", 2030, "volume", None, rows) == expected.share(
        "Energy Storage", 2030, "volume")
    assert NEGCOKE_CAGR("Energy Storage", 2023, 2030, "volume", None, rows) == expected.cagr(
        "Energy Storage", 2023, 2030, "volume")
    assert NEGCOKE_COMPANY(COMPANIES[0], "revenue", 2030, None, rows) == expected.company(
        COMPANIES[0], "revenue", 2030)


def test_scenario_rows_and_new_scenarios_are_read():
    """Rows written scenario.key set that scenario; a new prefix defines a new scenario."""
    rows = [*assumptions_range(), ["stress.coke_per_anode_t", 2.0, "t/t", "analyst"]]
    expected = load_model(overrides={"stress.coke_per_anode_t": 2.0})
    assert NEGCOKE_FORECAST("Global", 2030, "volume", "stress", rows) == expected.value(
        "Global", 2030, "volume", "stress")


def test_header_is_case_insensitive_and_extra_columns_and_blank_rows_are_ignored():
    """Header Key/VALUE in any order with a description column; blank rows are skipped."""
    rows = [["Description", " VALUE ", "Key", "Unit"],
            [None, None, None, None],
            ["tonnes per tonne", 1.7, "coke_per_anode_t", "t/t"],
            ["", "", "", ""],
            ["note only", None, None, None],
            ["percent text", "65%", "power_battery_share_2023", "share"]]
    expected = load_model(overrides={"coke_per_anode_t": 1.7, "power_battery_share_2023": 0.65})
    assert NEGCOKE_FORECAST("Power Battery", 2027, "volume", None, rows) == expected.value(
        "Power Battery", 2027, "volume")


@pytest.mark.parametrize("empty", [None, "", [], [[None, None], [None, None]],
                                   [["key", "value", "unit", "source"]]], ids=repr)
def test_empty_assumptions_mean_the_embedded_dataset(empty):
    """An empty range or a header without rows means the embedded dataset."""
    assert NEGCOKE_FORECAST("Global", 2030, None, None, empty) == MODEL.value("Global", 2030)


def test_same_assumptions_content_builds_the_model_once(monkeypatch):
    """3,000 formulas passing equal ranges (fresh lists, as Excel sends) build one model."""
    built = []
    real_load_model = udfs.load_model

    def counting_load_model(*args, **kwargs):
        built.append(kwargs)
        return real_load_model(*args, **kwargs)

    monkeypatch.setattr(udfs, "load_model", counting_load_model)
    rows = assumptions_range()
    results = {NEGCOKE_FORECAST("Global", 2030, None, None, [list(r) for r in rows])
               for _ in range(3000)}
    results.add(NEGCOKE_FORECAST("Global", 2030, None, None, [tuple(r) for r in rows]))
    assert len(results) == 1
    assert len(built) == 2  # the embedded model for the key list, then the range's model


def test_ranges_with_empty_numbers_as_nan_share_one_model(monkeypatch):
    """NaN cells (fresh objects each call) in a note column still find the memoized model."""
    built = []
    real_load_model = udfs.load_model
    monkeypatch.setattr(udfs, "load_model", lambda **kw: built.append(kw) or real_load_model(**kw))
    for _ in range(5):
        rows = [["key", "value", "note"], ["coke_per_anode_t", 1.6, float("nan")]]
        assert isinstance(NEGCOKE_FORECAST("Global", 2030, None, None, rows), float)
    assert len(built) == 2  # the embedded model for the key list, then the range's model


def test_editing_the_same_list_in_place_is_seen():
    """Changing a value inside the very list passed before gives the new number (no stale memo)."""
    rows = assumptions_range()
    before = NEGCOKE_FORECAST("Global", 2030, "volume", None, rows)
    rows[1][1] = 2.0
    after = NEGCOKE_FORECAST("Global", 2030, "volume", None, rows)
    assert after == load_model(overrides={r[0]: r[1] for r in rows[1:]}).value(
        "Global", 2030, "volume")
    assert after != before


def test_model_cache_is_bounded():
    """More distinct ranges than the cache holds keep at most MODEL_CACHE_SIZE models."""
    for step in range(udfs.MODEL_CACHE_SIZE + 5):
        rows = [["key", "value"], ["coke_per_anode_t", 1.2 + step / 100]]
        assert isinstance(NEGCOKE_FORECAST("Global", 2030, None, None, rows), float)
    assert len(udfs._models) == udfs.MODEL_CACHE_SIZE


def test_a_malformed_range_is_reported_the_same_every_call():
    """The error of a malformed range is memoized too and reported identically each time."""
    rows = [["key", "value"], ["coke_per_anode_t", "abc"]]
    first = NEGCOKE_FORECAST("Global", 2030, None, None, rows)
    assert first == NEGCOKE_FORECAST("Global", 2030, None, None, [list(r) for r in rows])
    assert first == ("#VALUE! assumptions row 2: value 'abc' for key coke_per_anode_t is not a number; "
                     "write digits with a point for decimals and no separators, e.g. 1650, 1.65 "
                     "or 15%")


# -------------------------------------------------------------------------------------------
# bad inputs: a table-driven corpus, every argument of every function

BAD_REQUIRED_YEARS = [
    (2035, "outside 2019-2030"), (2018, "outside"), (1900, "outside"), (0, "outside"),
    (-2027, "outside"), (2027.5, "whole year"), (2027.001, "whole year"), ("2027.5", "whole year"),
    ("abc", "not a year"), ("twenty", "not a year"), ("2,027", "not a year"), ("", "missing"),
    ("   ", "missing"), (None, "missing"), ([[None]], "missing"), (True, "TRUE"),
    (False, "FALSE"), (math.nan, "NaN"), (math.inf, "infinity"), (-math.inf, "infinity"),
    ("nan", "NaN"), ("inf", "infinity"), ([[2027, 2028]], "1x2"), ([2027, 2028], "range of 2 cells"),
    ([[2027], [2028]], "2x1"), (np.array([[2027.0, 2028.0]]), "1x2"),
    (date(2027, 1, 1), "date"), (datetime(2027, 12, 31), "date"), ([[[2027]]], "nested"),
    *((error, error) for error in ERROR_VALUES),
]
BAD_OPTIONAL_YEARS = [(value, hint) for value, hint in BAD_REQUIRED_YEARS if hint != "missing"]
BAD_NAMES = [
    ("Foo", "unknown"), ("Power Batteryy Z", "unknown"), ("", "missing"), (None, "missing"),
    ("  ", "missing"), (True, "TRUE"), (math.nan, "NaN"), (math.inf, "infinity"), (2027, "unknown"),
    ([["a", "b"]], "1x2"), (["a", "b", "c"], "range of 3 cells"), (date(2027, 1, 1), "date"),
    *((error, error) for error in ERROR_VALUES),
]
BAD_OPTIONAL_NAMES = [(value, hint) for value, hint in BAD_NAMES if hint != "missing"]
BAD_ASSUMPTIONS = [
    ([["coke_per_anode_t", 1.5]], "row 1: expected the header"),
    ([["name", "amount"], ["coke_per_anode_t", 1.5]], "header"),
    ([["key", "value"], ["coke_per_anode_t", "abc"]], "row 2: value 'abc'"),
    ([["key", "value"], [None, None], ["coke_per_anode_t", "abc"]], "row 3"),
    ([["key", "value"], ["coke_per_anode_t", None]], "empty"),
    ([["key", "value"], ["coke_per_anode_t", True]], "TRUE"),
    ([["key", "value"], ["coke_per_anode_t", math.nan]], "finite"),
    ([["key", "value"], ["coke_per_anode_t", "#DIV/0!"]], "#DIV/0!"),
    ([["key", "value"], ["no_such_key", 1.0]], 'unknown key "no_such_key"'),
    ([["key", "value"], ["high.no_such_key", 1.0]], "unknown key"),
    ([["key", "value"], [None, 1.0]], "key is empty"),
    ([["key", "value"], [12, 1.0]], "not an assumption key"),
    ([["key", "value"], ["#N/A", 1.0]], "not an assumption key"),
    ([["key", "value"], ["coke_per_anode_t", 1.5], ["coke_per_anode_t", 1.6]],
     "row 3: key coke_per_anode_t is the same input as key coke_per_anode_t in assumptions row 2"),
    ([["key", "value"], ["power_battery_share_2023", 1.5]], "between 0 and 1"),
    ([["key", "value"], ["coke_per_anode_t", -1]], "negative"),
    ([["key", "value"], ["bad-name!.coke_per_anode_t", 1.5]], 'invalid scenario name "bad-name!"'),
    ([["key", "value"], ["power_battery_share_2023", 0.9]], "assumptions: power_battery_share"),
    ("coke_per_anode_t", "single value"), (1.5, "single value"), (True, "TRUE"),
    ("#REF!", "#REF!"), (math.nan, "NaN"),
    ([["key", "value"], [["nested"], 1.0]], "range of cells"),
]


def _corpus() -> list[tuple[str, object, tuple, str]]:
    """(id, function, args, expected text) for every argument of every function."""
    cases: list[tuple[str, object, tuple, str]] = []

    def add(function, name, args, hint):
        cases.append((f"{function.__name__}-{name}-{args!r}"[:120], function, args, hint))

    good = {"segment": "Power Battery", "year": 2027}
    for function in (NEGCOKE_FORECAST, NEGCOKE_SHARE):
        for value, hint in BAD_NAMES:
            add(function, "segment", (value, 2027), hint)
        for value, hint in BAD_REQUIRED_YEARS:
            add(function, "year", (good["segment"], value), hint)
        for value, hint in [*BAD_OPTIONAL_NAMES, ("weight", "unknown metric")]:
            add(function, "metric", ("China", 2027, value), hint)
        for value, hint in [*BAD_OPTIONAL_NAMES, ("stress", "unknown scenario")]:
            add(function, "scenario", ("China", 2027, None, value), hint)
        for value, hint in BAD_ASSUMPTIONS:
            add(function, "assumptions", ("China", 2027, None, None, value), hint)
    add(NEGCOKE_SHARE, "metric", ("China", 2027, "price"), "price has no share")
    add(NEGCOKE_SHARE, "metric", ("China", 2027, "ASP"), "price has no share")
    add(NEGCOKE_FORECAST, "metric", ("Power Battery", 2027, "capacity"), "capacity")
    for value, hint in BAD_NAMES:
        add(NEGCOKE_CAGR, "segment", (value, 2023, 2030), hint)
    for value, hint in BAD_REQUIRED_YEARS:
        add(NEGCOKE_CAGR, "start_year", ("Global", value, 2030), hint)
        add(NEGCOKE_CAGR, "end_year", ("Global", 2019, value), hint)
    for start, end in ((2030, 2023), (2025, 2025), ("2026", 2026.0)):
        add(NEGCOKE_CAGR, "years", ("Global", start, end), "must be before end_year")
    for value, hint in BAD_OPTIONAL_NAMES:
        add(NEGCOKE_CAGR, "metric", ("Global", 2023, 2030, value), hint)
        add(NEGCOKE_CAGR, "scenario", ("Global", 2023, 2030, None, value), hint)
    for value, hint in BAD_ASSUMPTIONS[:8]:
        add(NEGCOKE_CAGR, "assumptions", ("Global", 2023, 2030, None, None, value), hint)
    for value, hint in [*BAD_NAMES, ("all", 'dimension "all" has no table')]:
        add(NEGCOKE_TABLE, "dimension", (value,), hint)
    for value, hint in [*BAD_OPTIONAL_NAMES, ("capacity", "capacity is not available")]:
        add(NEGCOKE_TABLE, "metric", ("application", value), hint)
    for value, hint in BAD_OPTIONAL_YEARS:
        add(NEGCOKE_TABLE, "start_year", ("type", None, value), hint)
        add(NEGCOKE_TABLE, "end_year", ("type", None, 2019, value), hint)
    add(NEGCOKE_TABLE, "years", ("type", None, 2030, 2019), "after end_year")
    for value, hint in BAD_OPTIONAL_NAMES:
        add(NEGCOKE_TABLE, "scenario", ("type", None, None, None, value), hint)
    for value, hint in BAD_ASSUMPTIONS[:8]:
        add(NEGCOKE_TABLE, "assumptions", ("type", None, None, None, None, value), hint)
    for value, hint in BAD_NAMES:
        add(NEGCOKE_SEGMENTS, "dimension", (value,), hint)
    company = COMPANIES[0]
    for value, hint in [*BAD_NAMES, ("Others", "unknown company"), ("China", "unknown company")]:
        add(NEGCOKE_COMPANY, "company", (value, "revenue"), hint)
    for value, hint in [*BAD_NAMES, ("ceo", "unknown field")]:
        add(NEGCOKE_COMPANY, "field", (company, value), hint)
    for value, hint in BAD_OPTIONAL_YEARS:
        add(NEGCOKE_COMPANY, "year", (company, "revenue", value), hint)
        add(NEGCOKE_COMPANY, "year", (company, "hq_country", value), hint)
    for value, hint in BAD_OPTIONAL_NAMES:
        add(NEGCOKE_COMPANY, "scenario", (company, "revenue", None, value), hint)
        add(NEGCOKE_COMPANY, "scenario", (company, "hq_country", None, value), hint)
    for value, hint in BAD_ASSUMPTIONS[:8]:
        add(NEGCOKE_COMPANY, "assumptions", (company, "revenue", None, None, value), hint)
    for value, hint in [*BAD_NAMES, ("S99", "unknown source key"), ("coke", "unknown")]:
        add(NEGCOKE_SOURCE, "key", (value,), hint)
    for value, hint in [*BAD_OPTIONAL_NAMES, ("author", "unknown info field")]:
        add(NEGCOKE_INFO, "field", (value,), hint)
    return cases


CORPUS = _corpus()


def test_corpus_is_large_and_covers_every_argument():
    """The bad-input corpus has at least 150 cases and reaches every argument of every function."""
    assert len(CORPUS) >= 150
    covered = {(case_id.split("-")[0], case_id.split("-")[1]) for case_id, *_ in CORPUS}
    for function in UDFS:
        for name in inspect.signature(function).parameters:
            assert (function.__name__, name) in covered, (function.__name__, name)


@pytest.mark.parametrize("function", UDFS, ids=[function.__name__ for function in UDFS])
def test_bad_input_returns_one_line_of_error_text(function):
    """Each bad argument of the corpus returns "#N/A ..." or "#VALUE! ..." naming the problem and
    never raises: every case of the function is tried, and the failing ones are listed together
    (one item per function: a case costs microseconds, a pytest item with fresh models 15 ms)."""
    failures = []
    for case_id, case_function, args, hint in CORPUS:
        if case_function is not function:
            continue
        try:
            result = function(*args)
            assert_error_text(result)
            assert hint.casefold() in result.casefold(), result
        except Exception as error:  # an AssertionError, or the function raised: both are failures
            failures.append(f"{case_id}: {error.__class__.__name__}: {error}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize(("function", "args", "argument"), [
    (NEGCOKE_FORECAST, ("Foo", 2027), "segment"),
    (NEGCOKE_FORECAST, ("China", 2040), "year"),
    (NEGCOKE_FORECAST, ("China", 2027, "foo"), "metric"),
    (NEGCOKE_FORECAST, ("China", 2027, None, "foo"), "scenario"),
    (NEGCOKE_FORECAST, ("China", 2027, None, None, [["k", "v"]]), "assumptions"),
    (NEGCOKE_CAGR, ("China", 2040, 2030), "start_year"),
    (NEGCOKE_CAGR, ("China", 2023, "x"), "end_year"),
    (NEGCOKE_TABLE, ("foo",), "dimension"),
    (NEGCOKE_COMPANY, ("foo", "revenue"), "company"),
    (NEGCOKE_COMPANY, (COMPANIES[0], "foo"), "field"),
    (NEGCOKE_SOURCE, (None,), "key"),
    (NEGCOKE_INFO, ("foo",), "field"),
])
def test_error_text_names_the_argument(function, args, argument):
    """The message names the argument that is wrong."""
    assert argument in function(*args)


def test_error_texts_read_as_documented():
    """The examples of DESIGN.md and the README read exactly like this."""
    assert NEGCOKE_FORECAST("Power Battery", 2035) == "#VALUE! year 2035 is outside 2019-2030"
    assert NEGCOKE_FORECAST("Foo", 2027) == '#N/A unknown segment "Foo" (see NEGCOKE_SEGMENTS("all"))'
    assert NEGCOKE_FORECAST("Foo", 2027).endswith('(see NEGCOKE_SEGMENTS("all"))')
    assert NEGCOKE_CAGR("Global", 2030, 2023) == (
        "#VALUE! start_year 2030 must be before end_year 2023")
    assert NEGCOKE_SHARE("China", 2027, "price") == (
        "#N/A price has no share; use revenue, volume or capacity")


def test_unexpected_exception_becomes_internal_error_text(monkeypatch):
    """A bug inside becomes "#VALUE! internal error: Class: message" on one line."""

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(udfs, "load_model", broken)
    assert NEGCOKE_FORECAST("Global", 2030) == (
        "#VALUE! internal error: RuntimeError: boom second line")


def test_long_messages_are_cut_to_one_short_line():
    """A huge argument still gives one line of at most MAX_MESSAGE_CHARS characters, quoting
    60 characters of the argument."""
    result = NEGCOKE_FORECAST("x" * 5000 + "\n" + "y", 2027)
    assert_error_text(result)
    assert result == f'#N/A unknown segment "{"x" * 57}..." (see NEGCOKE_SEGMENTS("all"))'


CELL_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=20), st.sampled_from([*ERROR_VALUES, "2027", "EV", "revenue", "high"]),
    st.dates())
ARGUMENTS = st.one_of(CELL_VALUES, st.lists(CELL_VALUES, max_size=3),
                      st.lists(st.lists(CELL_VALUES, min_size=1, max_size=3), max_size=3))


@settings(max_examples=suite.examples(300), deadline=None)
@given(st.sampled_from(UDFS), st.lists(ARGUMENTS, min_size=0, max_size=6))
def test_any_arguments_give_a_value_or_error_text(function, args):
    """Any cell values, ranges or argument counts return a value or error text, never raise."""
    count = len(inspect.signature(function).parameters)
    required = sum(p.default is inspect.Parameter.empty
                   for p in inspect.signature(function).parameters.values())
    args = args[:count] + [None] * max(0, required - len(args))
    result = function(*args)
    if isinstance(result, str) and result.startswith("#"):
        assert_error_text(result)
    else:
        assert isinstance(result, (float, int, str, list)), result


def test_years_cover_the_documented_range():
    """Every year 2019-2030 is accepted and 2018, 2031 are not."""
    assert FIRST_YEAR == 2019 and LAST_YEAR == 2030
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        assert isinstance(NEGCOKE_FORECAST("Global", year), float)
    for year in (FIRST_YEAR - 1, LAST_YEAR + 1):
        assert_error_text(NEGCOKE_FORECAST("Global", year))


# -------------------------------------------------------------------------------------------
# the documented examples (the "In Excel" section of README.md)

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [path for path in (ROOT / "README.md",)
             if path.exists() and "NEGCOKE_FORECAST(" in path.read_text(encoding="utf-8")]
FUNCTIONS = {function.__name__: function for function in (*UDFS, udfs.NEGCOKE_RANGE)}


def documented_examples() -> list[tuple[str, str, str]]:
    """(document, formula, shown result) for each table row whose first cell is one formula."""
    examples = []
    for path in DOCUMENTS:
        for line in path.read_text(encoding="utf-8").splitlines():
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            if len(cells) >= 2 and re.fullmatch(r"`=NEGCOKE_\w+\(.*\)`", cells[0]):
                examples.append((path.name, cells[0][2:-1], cells[1].replace("\\|", "|")))
    return examples


def evaluate(formula: str) -> object:
    """An Excel formula of literals evaluated with our functions (an omitted argument is None)."""
    python = re.sub(r",\s*(?=,)", ", None", formula)
    return eval(python, {"__builtins__": {}}, dict(FUNCTIONS))  # our own docs, literals only


def shown(result: object, like: str) -> str:
    """`result` formatted the way the document shows `like`."""
    if like.startswith("`"):
        text = f"`{result}`"
        return text[: len(like) - 4] + "...`" if like.endswith("...`") else text
    if like.endswith("%"):
        return f"{result * 100:.1f}%"
    if isinstance(result, int):
        return str(result)
    decimals = len(like.partition(".")[2])
    return f"{result:,.{decimals}f}"


def test_documents_have_examples_for_every_function():
    """The In Excel section shows at least one example per formula."""
    assert DOCUMENTS
    formulas = " ".join(formula for _, formula, _ in documented_examples())
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in FUNCTIONS:
        assert f"{name}(" in formulas or f"={name}(" in text, name


@pytest.mark.parametrize(("document", "formula", "expected"), documented_examples(),
                         ids=[f"{d}:{f}" for d, f, _ in documented_examples()])
def test_documented_result_is_what_the_function_returns(document, formula, expected):
    """Every formula in a documentation table shows the result the function really returns."""
    assert shown(evaluate(formula), expected) == expected


def test_documented_table_is_what_negcoke_table_returns():
    """The NEGCOKE_TABLE example in the docs is the function's output, rounded to 0.1."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for row in NEGCOKE_TABLE("type", "revenue", 2023, 2030):
        cells = [f"{cell:,.1f}" if isinstance(cell, float) else str(cell) for cell in row]
        assert "| " + " | ".join(cells) + " |" in text
