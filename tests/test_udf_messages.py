"""Every argument-coercion helper's error message, exactly: one test per helper (udfs.py,
model/inputs.py, errors.py, the Model's own checks) with the full expected text of each failure
mode. A substring such as "2019-2030" appears in several messages, so only full equality shows
that the right check answered."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from xl_negcoke import udfs
from xl_negcoke.errors import (
    AssumptionError,
    DataError,
    InvalidArgumentError,
    NotAvailableError,
    UnknownNameError,
    shorten,
)
from xl_negcoke.model import load_model
from xl_negcoke.model.inputs import NotANumber, parse_key, parse_number, read_assumptions, show
from xl_negcoke.model.names import Resolver

YEARS = "2019-2030"
NUMBER_RULE = "write digits with a point for decimals and no separators, e.g. 1650, 1.65 or 15%"
PERCENTILE = 'a percentile 0-100, e.g. 10, 50 or 90 (or "P90")'
SEGMENT = 'a segment such as "Power Battery" (see NEGCOKE_SEGMENTS("all"))'
LAYOUT = "a header row key | value | unit | source, then one row per assumption"
KEY_HELP = "(see the key column of the Assumptions sheet; scenario values are written scenario.key)"
HEADER = ("key", "value", "unit", "source")


def message(call, *args, error=Exception) -> str:
    """The message `call(*args)` raises (the test fails when it returns)."""
    with pytest.raises(error) as raised:
        call(*args)
    return str(raised.value)


@pytest.fixture(scope="module")
def model():
    return load_model()


# errors.py -----------------------------------------------------------------------------------------


def test_shorten_flattens_and_cuts_user_text():
    """Whitespace runs become one space, other unprintable characters ?, and 60 characters at
    most, the last three "..."."""
    assert shorten("  a\n\tb  ") == "a b"
    assert shorten("a\x00b") == "a?b"
    assert shorten("x" * 60) == "x" * 60
    assert shorten("x" * 61) == "x" * 57 + "..."
    assert shorten("abcdef", 5) == "ab..."


def test_unknown_name_error_text():
    """unknown <kind> "<name>"; valid (or closest): names; (hint)."""
    assert str(UnknownNameError("metric", "foo", ["revenue", "volume"])) == (
        'unknown metric "foo"; valid: revenue, volume')
    assert str(UnknownNameError("segment", "Chna", ["China"], "see X", complete=False)) == (
        'unknown segment "Chna"; closest: China (see X)')
    assert str(UnknownNameError("segment", "zzz", [], "see X")) == 'unknown segment "zzz" (see X)'
    assert str(UnknownNameError("key", "a\nb" + "c" * 70, [])) == (
        'unknown key "a b' + "c" * 54 + '..."')
    assert UnknownNameError("metric", "foo", []).excel_code == "#N/A"
    assert UnknownNameError("metric", "foo", ["revenue"]).args == ('unknown metric "foo"; valid: revenue',)


def test_data_error_text_names_file_row_and_column():
    """file, row n, column c: message (on one line, at most 400 characters)."""
    assert str(DataError("assumptions.csv", "bad", 3, "value")) == (
        "assumptions.csv, row 3, column value: bad")
    assert str(DataError("countries.csv", "bad")) == "countries.csv: bad"
    assert str(DataError("producers.csv", "bad", column="plant")) == "producers.csv, column plant: bad"
    assert str(DataError("years.csv", "x\ny" + "z" * 500, 2)) == (
        "years.csv, row 2: x y" + "z" * 394 + "...")


# model/inputs.py -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    (True, f"TRUE is not a number (TRUE/FALSE is never read as 1/0); {NUMBER_RULE}"),
    (np.bool_(False), f"FALSE is not a number (TRUE/FALSE is never read as 1/0); {NUMBER_RULE}"),
    (float("inf"), f"infinity is not a finite number; {NUMBER_RULE}"),
    (float("-inf"), f"-infinity is not a finite number; {NUMBER_RULE}"),
    (float("nan"), f"NaN is not a finite number; {NUMBER_RULE}"),
    ("1,650", "'1,650' is not a number (commas are refused: a thousands separator and a decimal "
              f"comma look alike); {NUMBER_RULE}"),
    ("1_6", f"'1_6' is not a number (underscores are refused); {NUMBER_RULE}"),
    (" true ", f"'true' is not a number (TRUE/FALSE is never read as 1/0); {NUMBER_RULE}"),
    ("-inf", f"'-inf' is not a number (NaN and infinity are refused); {NUMBER_RULE}"),
    ("NaN", f"'NaN' is not a number (NaN and infinity are refused); {NUMBER_RULE}"),
    ("1e999", f"'1e999' is not a finite number; {NUMBER_RULE}"),
    ("12 kt", f"'12 kt' is not a number; {NUMBER_RULE}"),
    ("xinf", f"'xinf' is not a number; {NUMBER_RULE}"),
    ("", f"'' is not a number; {NUMBER_RULE}"),
    (date(2024, 1, 2), f"the date or time 2024-01-02 is not a number; {NUMBER_RULE}"),
    (None, f"empty is not a number; {NUMBER_RULE}"),
    ([1], f"[1] is not a number; {NUMBER_RULE}"),
])
def test_parse_number_messages(value, expected):
    """parse_number: each kind of non-number has its own reason, then what a number looks like."""
    error = message(parse_number, value, error=NotANumber)
    assert error == expected
    shown, _, reason = expected.partition(" is ")
    with pytest.raises(NotANumber) as raised:
        parse_number(value)
    assert (raised.value.shown, raised.value.reason) == (shown, f"is {reason}")


@pytest.mark.parametrize(("text", "number"), [
    ("1650", 1650.0), ("-0.5", -0.5), ("+.5", 0.5), ("1.5e3", 1500.0), (" 15% ", 0.15),
    ("15 %", 0.15), ("7.", 7.0), ("2E-2", 0.02)])
def test_parse_number_reads_plain_digits_and_percentages(text, number):
    """The valid spellings: digits, a point, an exponent, a trailing %."""
    assert parse_number(text) == number


@pytest.mark.parametrize(("value", "expected"), [
    (None, "empty"), (True, "TRUE"), (False, "FALSE"), ("a\tb", '"a b"'),
    ("y" * 70, '"' + "y" * 57 + '..."'), (float("nan"), "NaN"), (float("inf"), "infinity"),
    (float("-inf"), "-infinity"), (1 / 3, "0.3333333333"), (2027, "2027"), (2.5e-12, "2.5e-12"),
    (1j, "1j")])
def test_show_quotes_values_the_way_a_reader_knows_them(value, expected):
    """inputs.show: empty, TRUE/FALSE, quoted text, NaN/infinity, 10 significant digits."""
    assert show(value) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    (5, "key 5 is not an assumption key"),
    ("  ", 'key "" is not an assumption key'),
    (None, "key empty is not an assumption key"),
    ("zzz", 'unknown key "zzz"'),
    ("high.zzz", 'unknown key "high.zzz"'),
    ("coal_price_rati", 'unknown key "coal_price_rati"; closest: coal_price_ratio, china_price_ratio_x'),
    ("high-x.coal_price_ratio", 'invalid scenario name "high-x"; use letters, digits and _ (at most '
                                "31) (in key high-x.coal_price_ratio)"),
    ("a" * 32 + ".coal_price_ratio", f'invalid scenario name "{"a" * 32}"; use letters, digits and _ '
                                     f"(at most 31) (in key {'a' * 32}.coal_price_ratio)"),
    ("Upside.coal_price_ratio", 'scenario name "upside" is another name of high; write high (in key '
                                "Upside.coal_price_ratio)"),
    ("baseline.coal_price_ratio", 'scenario name "baseline" is another name of base; write base (in '
                                  "key baseline.coal_price_ratio)"),
])
def test_parse_key_messages(raw, expected):
    """parse_key: not text, unknown name (with the closest names), bad or aliased scenario."""
    assert message(parse_key, raw, {"coal_price_ratio", "china_price_ratio_x"}, error=ValueError) == (
        expected)


@pytest.mark.parametrize(("raw", "scenario", "name"), [
    ("coal_price_ratio", "base", "coal_price_ratio"), (" base.coal_price_ratio ", "base",
                                                       "coal_price_ratio"),
    (".coal_price_ratio", "base", "coal_price_ratio"), ("HIGH.coal_price_ratio", "high",
                                                        "coal_price_ratio"),
    ("my_case . coal_price_ratio", "my_case", "coal_price_ratio")])
def test_parse_key_splits_scenario_and_name(raw, scenario, name):
    """key, base.key, .key and SCENARIO.key, spaces trimmed and the scenario in lower case."""
    key = parse_key(raw, {"coal_price_ratio"})
    assert (key.scenario, key.name) == (scenario, name)
    assert key.text == (name if scenario == "base" else f"{scenario}.{name}")


def rows(*pairs, start=1):
    return [(f"row {number}", key, value) for number, (key, value) in enumerate(pairs, start)]


@pytest.mark.parametrize(("entries", "expected"), [
    (rows(("zzz", 1)), f'row 1: unknown key "zzz" {KEY_HELP}'),
    (rows(("a", 1), ("base.a", 2)), "row 2: key base.a is the same input as key a in row 1; keep "
                                    "one of the two rows"),
    (rows(("high.a", 1), ("HIGH.a", 2)), "row 2: key HIGH.a is the same input as key high.a in "
                                         "row 1; keep one of the two rows"),
    (rows(("a", "1,5")), "row 1: value '1,5' for key a is not a number (commas are refused: a "
                         f"thousands separator and a decimal comma look alike); {NUMBER_RULE}"),
    (rows(("s1.a", None)), f"row 1: value empty for key s1.a is not a number; {NUMBER_RULE}"),
    (rows(("a", -1)), "row 1: a must not be negative"),
    (rows(*((f"s{n}.a", 1) for n in range(1, 14))), "row 13: scenario s13 is one more than the 12 "
                                                   "scenarios besides base a table may define"),
])
def test_read_assumptions_messages(entries, expected):
    """read_assumptions: the row, then what is wrong with it (key, twice, value, range, count)."""
    error = message(read_assumptions, entries, {"a"},
                    lambda name, value: "must not be negative" if value < 0 else None,
                    error=AssumptionError)
    assert error == expected


def test_read_assumptions_refuses_more_than_2000_rows():
    """Row 2,001 is one too many."""
    entries = ((f"row {n}", "a" if n == 1 else f"s{n % 5}.a" if n < 6 else "x", 1)
               for n in range(1, 2002))
    error = message(read_assumptions, entries, {"a", "x"}, error=AssumptionError)
    # rows 6 to 2,000 repeat key x: the duplicate is found first
    assert error == "row 7: key x is the same input as key x in row 6; keep one of the two rows"
    many = ((f"row {n}", f"k{n}", 1) for n in range(1, 2002))
    assert message(read_assumptions, many, {f"k{n}" for n in range(1, 2002)}, error=AssumptionError) == (
        "row 2001: more than 2,000 assumption rows; an assumptions table holds at most that many")


def test_read_assumptions_same_place_is_not_repeated():
    """Two keys of one input in the same place name the place once."""
    error = message(read_assumptions, [("overrides", "a", 1), ("overrides", ".a", 2)], {"a"},
                    error=AssumptionError)
    assert error == "overrides: key .a is the same input as key a; keep one of the two rows"


# names.py: the resolver ---------------------------------------------------------------------------


def test_resolver_lists_every_name_when_there_are_few():
    """Up to 16 names, an unknown one lists them all (valid:), with the hint."""
    resolver = Resolver("metric", ("revenue", "volume"), {"volume": ("kt",)}, "a hint")
    assert resolver.resolve(" KT ") == "volume"
    assert message(resolver.resolve, "foo", error=UnknownNameError) == (
        'unknown metric "foo"; valid: revenue, volume (a hint)')
    assert message(resolver.resolve, 5, error=UnknownNameError) == (
        'unknown metric "5"; valid: revenue, volume (a hint)')
    assert message(resolver.resolve, ["x"], error=UnknownNameError) == (
        "unknown metric \"['x']\"; valid: revenue, volume (a hint)")


def test_resolver_names_the_closest_when_there_are_many():
    """Above 16 names: the closest three (closest:), or none and the hint."""
    names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
             "juliett", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec"]
    resolver = Resolver("thing", names, {"hotel": ("inn", "Charlee Inn")})
    assert message(resolver.resolve, "Charlee", error=UnknownNameError) == (
        'unknown thing "Charlee"; closest: charlie, oscar')  # oscar: c-a-r in 12 letters, ratio 0.5
    # names come first: the alias "Charlee Inn" of hotel is as close, but is looked at only when
    # no name is
    assert message(resolver.resolve, "inns", error=UnknownNameError) == (
        'unknown thing "inns"; closest: hotel')  # close to an alias: its name
    assert message(resolver.resolve, "zzzz", error=UnknownNameError) == 'unknown thing "zzzz"'


# the Model's own argument checks -------------------------------------------------------------------


@pytest.mark.parametrize(("year", "expected"), [
    (2035, f"year 2035 is outside {YEARS}"),
    (2018.0, f"year 2018 is outside {YEARS}"),
    (2027.5, f"year 2027.5 is not a whole year; use {YEARS}"),
    (float("nan"), f"year nan is not a whole year; use {YEARS}"),
    ("2027", f"year '2027' is not a year; use {YEARS}"),
    (True, f"year True is not a year; use {YEARS}"),
    (None, f"year None is not a year; use {YEARS}"),
])
def test_model_year_messages(model, year, expected):
    """Model.value (and every method taking a year): not a number, not whole, outside."""
    assert message(model.value, "Global", year, error=InvalidArgumentError) == expected


def test_model_cagr_table_share_and_concentration_messages(model):
    """The Model's other argument checks, each with its exact text."""
    assert message(model.cagr, "Global", 2025, 2025, error=InvalidArgumentError) == (
        "start_year 2025 must be before end_year 2025")
    assert message(model.cagr, "Global", 2018, 2025, error=InvalidArgumentError) == (
        f"start_year 2018 is outside {YEARS}")
    assert message(model.cagr, "Global", 2020, 2031, error=InvalidArgumentError) == (
        f"end_year 2031 is outside {YEARS}")
    assert message(model.table, "type", "revenue", 2025, 2024, error=InvalidArgumentError) == (
        "start_year 2025 is after end_year 2024")
    assert message(model.table, "all", error=InvalidArgumentError) == (
        'dimension "all" has no table; use type, application, region, country, company or a '
        "region's name")
    assert message(model.table, "application", "capacity", error=NotAvailableError) == (
        "capacity is not available by application (Power Battery); use revenue, volume, price")
    assert message(model.share, "China", 2025, "price", error=NotAvailableError) == (
        "price has no share; use revenue, volume or capacity")
    assert message(model.value, "Energy Storage", 2025, "capacity", error=NotAvailableError) == (
        "capacity is not available by application (Energy Storage); use revenue, volume, price")
    assert message(model.series, "EV", "capacity", error=NotAvailableError) == (
        "capacity is not available by application (Power Battery); use revenue, volume, price")
    for n in (0, 1.5, True, "3"):
        assert message(model.concentration, n, 2023, error=InvalidArgumentError) == (
            f"n {n!r} must be a whole number of companies, 1 or more")
    assert message(model.concentration, 5, 2023, "price", error=NotAvailableError) == (
        "price has no concentration; use capacity, volume or revenue")


def test_model_name_messages(model):
    """Unknown metric, scenario and dimension list every valid name; a segment far from any
    name gets the hint only."""
    assert message(model.value, "Global", 2025, "foo", error=UnknownNameError) == (
        'unknown metric "foo"; valid: revenue, volume, price, capacity')
    assert message(model.value, "Global", 2025, "revenue", "zzz", error=UnknownNameError) == (
        'unknown scenario "zzz"; valid: base, high, low')
    assert message(model.segments, "zzz", error=UnknownNameError) == (
        'unknown dimension "zzz"; valid: type, application, region, country, company, global, all, '
        "North America, Europe, Asia, South America, Middle East & Africa")
    assert message(model.value, "qqqqqq", 2025, error=UnknownNameError) == (
        'unknown segment "qqqqqq" (see NEGCOKE_SEGMENTS("all"))')
    assert message(model.company, "Phillips 66", "colour", error=UnknownNameError) == (
        'unknown field "colour"; valid: hq_country, region, type, tier, rank, capacity, volume, '
        "revenue, price, share, utilisation, first_year, last_year, news, overview, source")
    assert message(model.source, "qqqqqq", error=UnknownNameError) == (
        'unknown source key "qqqqqq" (an assumption key, a claim id S1-S17, a conflict id C1-C'
        f"{len(model.dataset.conflicts)}, a segment or a metric)")


def test_model_company_messages(model):
    """A company with no anode capacity has no utilisation; no price in a year without volume."""
    seadrift = next(c for c in model.dataset.companies if c.name == "Seadrift Coke")
    assert message(model.company, "Seadrift Coke", "utilisation", 2025, error=NotAvailableError) == (
        f"Seadrift Coke does not produce in 2025 ({seadrift.first_year}-{seadrift.last_year})")
    assert message(model.value, "Mitsubishi Chemical", 2029, "price", error=NotAvailableError) == (
        "Mitsubishi Chemical has no price in 2029 (no volume that year)")


# udfs.py: one helper per kind of argument ----------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ([[1, 2], [3, 4]], "year is a range of 2x2 cells; give one cell or value"),
    ([[1, 2, 3]], "year is a range of 1x3 cells; give one cell or value"),
    ([1, 2, 3], "year is a range of 3 cells; give one cell or value"),
    (np.array([[1.0], [2.0]]), "year is a range of 2x1 cells; give one cell or value"),
    ([[[2027]]], "year is a nested list; give one cell or value"),
])
def test_single_messages(value, expected):
    """_single: a range of several cells, or a nested list, where one value is expected."""
    assert message(udfs._single, value, "year", error=InvalidArgumentError) == expected


@pytest.mark.parametrize(("value", "single"), [
    (2027, 2027), ([[2027]], 2027), ([2027], 2027), ((2027,), 2027), (np.array([[5.0]]), 5.0),
    ([], None), ([[]], None), ("x", "x")])
def test_single_unwraps_one_value(value, single):
    """_single: the one value of a 1x1 range, list or array; an empty range is None."""
    assert udfs._single(value, "year") == single


@pytest.mark.parametrize(("value", "expected"), [
    (True, "start_year is TRUE; give a year 2019-2030"),
    (False, "start_year is FALSE; give a year 2019-2030"),
    (float("nan"), "start_year is NaN; give a year 2019-2030"),
    (float("-inf"), "start_year is -infinity; give a year 2019-2030"),
    ("#REF!", "start_year is the error #REF! from the cell it refers to; fix that cell or give a "
              "year 2019-2030"),
    (" #n/a ", "start_year is the error #N/A from the cell it refers to; fix that cell or give a "
               "year 2019-2030"),
    (date(2027, 3, 1), "start_year is the date 2027-03-01; give a year 2019-2030"),
    (datetime(2027, 3, 1, 12), "start_year is the date 2027-03-01; give a year 2019-2030"),
])
def test_reject_special_messages(value, expected):
    """_reject_special: TRUE/FALSE, NaN/infinity, an error value from a cell, a date."""
    assert message(udfs._reject_special, value, "start_year", "a year 2019-2030",
                   error=InvalidArgumentError) == expected


@pytest.mark.parametrize("value", [2027, 2027.0, "x", None, "#DIV/0 "])
def test_reject_special_lets_other_values_through(value):
    """_reject_special answers nothing for numbers, text and empty cells."""
    assert udfs._reject_special(value, "year", "a year") is None


@pytest.mark.parametrize(("value", "expected"), [
    ("abc", f'year "abc" is not a year; use {YEARS}'),
    ("2027 ", None),
    (None, f"year is missing; use {YEARS}"),
    ("  ", f"year is missing; use {YEARS}"),
    ([[None]], f"year is missing; use {YEARS}"),
    (2027.5, f"year 2027.5 is not a whole year; use {YEARS}"),
    ("2027.5", f"year 2027.5 is not a whole year; use {YEARS}"),
    (2035, f"year 2035 is outside {YEARS}"),
    (2018.0, f"year 2018 is outside {YEARS}"),
    ("2035", f"year 2035 is outside {YEARS}"),
    ([[2031]], f"year 2031 is outside {YEARS}"),
    (np.int64(2040), f"year 2040 is outside {YEARS}"),
    (1j, f"year 1j is not a year; use {YEARS}"),
    (True, f"year is TRUE; give a year {YEARS}"),
    ("#NUM!", f"year is the error #NUM! from the cell it refers to; fix that cell or give a year "
              f"{YEARS}"),
    ([[2027, 2028]], "year is a range of 1x2 cells; give one cell or value"),
])
def test_year_messages(value, expected):
    """_year: not a year, missing, not whole, outside the model's years, special values."""
    if expected is None:
        assert udfs._year(value) == 2027
        return
    assert message(udfs._year, value, error=InvalidArgumentError) == expected


@pytest.mark.parametrize(("value", "year"), [
    (2019, 2019), (2030, 2030), (2027.0, 2027), (" 2027 ", 2027), ([[2030.0]], 2030),
    (np.float64(2024), 2024), (None, 2021), ("", 2021)])
def test_year_accepts_what_excel_sends(value, year):
    """_year: ints, whole floats, text and 1x1 ranges; empty means the default."""
    assert udfs._year(value, "start_year", 2021) == year


@pytest.mark.parametrize(("value", "name", "expected"), [
    (None, "segment", f"segment is missing; give {SEGMENT}"),
    ("  ", "segment", f"segment is missing; give {SEGMENT}"),
    ([[None]], "company", 'company is missing; give a company (see NEGCOKE_SEGMENTS("company"))'),
    ("#N/A", "metric", "metric is the error #N/A from the cell it refers to; fix that cell or give "
                       "revenue, volume, price or capacity"),
    (True, "scenario", "scenario is TRUE; give base, high, low or a scenario of the assumptions"),
    (float("nan"), "dimension", "dimension is NaN; give type, application, region, country, "
                                "company, global, all or a region's name"),
    (date(2024, 5, 6), "field", "field is the date 2024-05-06; give a company field such as "
                                "capacity, revenue, share, rank, hq_country or news"),
    ([["a", "b"]], "key", "key is a range of 1x2 cells; give one cell or value"),
])
def test_name_messages(value, name, expected):
    """_name: missing, an error value, TRUE/FALSE, NaN, a date, a range, each saying what a valid
    name of that argument looks like."""
    assert message(udfs._name, value, name, error=InvalidArgumentError) == expected


@pytest.mark.parametrize(("value", "name"), [
    (" EV ", "EV"), ([["China"]], "China"), (5, "5"), (2.5, "2.5"), (None, "base"), ("", "base")])
def test_name_returns_trimmed_text_or_the_default(value, name):
    """_name: trimmed text; a number as the model would quote it; empty means the default."""
    assert udfs._name(value, "scenario", "base") == name


def test_name_uses_the_given_description_of_valid_values():
    """The info field's `valid` text replaces the generic field description."""
    assert message(udfs._name, None, "field", None, "X or Y", error=InvalidArgumentError) == (
        "field is missing; give X or Y")


@pytest.mark.parametrize(("value", "expected"), [
    ("abc", f'percentile "abc" is not a number; give {PERCENTILE}'),
    ("P", f'percentile "P" is not a number; give {PERCENTILE}'),
    (None, f"percentile is missing; give {PERCENTILE}"),
    (" ", f"percentile is missing; give {PERCENTILE}"),
    (True, f"percentile is TRUE; give {PERCENTILE}"),
    ("#N/A", f"percentile is the error #N/A from the cell it refers to; fix that cell or give "
             f"{PERCENTILE}"),
    (1j, f"percentile 1j is not a number; give {PERCENTILE}"),
    (150, f"percentile 150 is outside 0-100; give {PERCENTILE}"),
    (-5, f"percentile -5 is outside 0-100; give {PERCENTILE}"),
    ("P101", f"percentile 101 is outside 0-100; give {PERCENTILE}"),
    (0.9, 'percentile 0.9 is ambiguous: percentiles run 0-100, so give 90 for P90 (not 0.9 or 90%), '
          'or "P1" for the 1st'),
    ("90%", 'percentile 0.9 is ambiguous: percentiles run 0-100, so give 90 for P90 (not 0.9 or '
            '90%), or "P1" for the 1st'),
    (1, 'percentile 1 is ambiguous: percentiles run 0-100, so give 90 for P90 (not 0.9 or 90%), '
        'or "P1" for the 1st'),
])
def test_percentile_messages(value, expected):
    """_percentile: not a number, missing, special, outside 0-100, ambiguous 0-1."""
    assert message(udfs._percentile, value, error=InvalidArgumentError) == expected


@pytest.mark.parametrize(("value", "percent"), [
    (90, 90.0), (0, 0.0), (100, 100.0), (50.5, 50.5), ("P90", 90.0), ("p1", 1.0), (" 10 ", 10.0),
    ([[75]], 75.0), ("P 0.5", 0.5), ("P50%", 0.5)])
def test_percentile_accepts_numbers_and_p_prefixes(value, percent):
    """_percentile: 0 and above 1 to 100 as numbers; "P" makes 1 and below a percentile."""
    assert udfs._percentile(value) == percent


def header_and(*rows_):
    return [list(HEADER), *[list(row) for row in rows_]]


@pytest.mark.parametrize(("assumptions", "expected"), [
    (5, f"assumptions is the single value 5; give the Assumptions table range: {LAYOUT}"),
    ("text", f'assumptions is the single value "text"; give the Assumptions table range: {LAYOUT}'),
    (True, "assumptions is TRUE; give the Assumptions table range"),
    ("#REF!", "assumptions is the error #REF! from the cell it refers to; fix that cell or give the "
              "Assumptions table range"),
    ([["a", "b"], ["coal_price_ratio", 1]], 'assumptions row 1: expected the header row key | value | '
                                            'unit | source; found "a" | "b"'),
    ([[None, None], [1, "value", None, None, None, "x", "y"]], "assumptions row 2: expected the header "
                                                               'row key | value | unit | source; found 1 '
                                                               '| "value" | empty | empty | empty'),
    (header_and([None, 5]), "assumptions row 2: the key is empty (value 5)"),
    (header_and([7, 5]), "assumptions row 2: key 7 is not an assumption key"),
    (header_and(["#N/A", 5]), 'assumptions row 2: key "#N/A" is not an assumption key'),
    (header_and(["coal_price_ratio", " "]), "assumptions row 2: value for key coal_price_ratio is empty"),
    (header_and([None, None], ["coal_price_ratio", "#DIV/0!"]),
     "assumptions row 3: value for key coal_price_ratio is the error #DIV/0!"),
    (header_and(["qqqqqq", 1]), f'assumptions row 2: unknown key "qqqqqq" {KEY_HELP}'),
    (header_and(["coal_price_ratio", "1,5"]), "assumptions row 2: value '1,5' for key coal_price_ratio "
                                              "is not a number (commas are refused: a thousands "
                                              "separator and a decimal comma look alike); write "
                                              "digits with a point for decimals and no separators, "
                                              "e.g. 1650, 1.65 or 15%"),
    (header_and(["china_revenue_share_2023", 1.5]), "assumptions row 2: china_revenue_share_2023 is a "
                                                    "share and must lie between 0 and 1, not 1.5"),
    (header_and(["coke_per_anode_t", -1]), "assumptions row 2: coke_per_anode_t must not be negative, "
                                           "not -1"),
    (header_and(["anode_cagr_2025_2030", -1]), "assumptions row 2: anode_cagr_2025_2030 is a growth "
                                               "rate and must be above -1 (-100%), not -1"),
    (header_and(["coal_price_ratio", 1], ["base.coal_price_ratio", 1]),
     "assumptions row 3: key base.coal_price_ratio is the same input as key coal_price_ratio in "
     "assumptions row 2; keep one of the two rows"),
    (header_and(["energy_storage_share_2023", 0.4]),
     "assumptions: power_battery_share_2023 + energy_storage_share_2023 exceed 1 (0.62 + 0.4); they "
     "must leave Consumer Battery a share of 0 or more"),
    ([list(HEADER)] * 2002, "assumptions: 2,002 rows; an assumptions table holds at most 2,000 rows "
                            "and a header"),
    ([["key", "value", *range(63)]], f"assumptions: 65 columns; give the Assumptions table ({LAYOUT}), "
                                     "at most 64 columns"),
    ([["key", "value"], ["coal_price_ratio", {"a": 1}]],
     f"assumptions must be a range of cells (rows of values), the workbook's Assumptions table: "
     f"{LAYOUT}"),
])
def test_assumptions_range_messages(assumptions, expected):
    """The assumptions range: not a range, no header, a row without key or value, an error value,
    an unknown key, a bad number or range, the same input twice, impossible values, too big."""
    udfs.clear_models()
    with pytest.raises((InvalidArgumentError, AssumptionError)) as raised:
        udfs._model(assumptions)
    assert str(raised.value) == expected


@pytest.mark.parametrize("empty", [None, "", "  ", [], [[None, " "]], np.array([])])
def test_empty_assumptions_are_the_embedded_model(empty):
    """An empty range (or no argument) is the embedded dataset's model."""
    assert udfs._model(empty) is udfs._base_model()


# the cell text: code, one line, cut to 254 characters ----------------------------------------------


def test_worksheet_functions_show_code_and_message():
    """The text a cell shows is the error's Excel code, a space and the message."""
    assert udfs.NEGCOKE_FORECAST("EV", 2035) == f"#VALUE! year 2035 is outside {YEARS}"
    assert udfs.NEGCOKE_FORECAST("EV", 2027, "foo") == (
        '#N/A unknown metric "foo"; valid: revenue, volume, price, capacity')
    assert udfs.NEGCOKE_SHARE("EV", 2027, "price") == (
        "#N/A price has no share; use revenue, volume or capacity")
    assert udfs.NEGCOKE_CAGR("EV", 2027, 2027) == "#VALUE! start_year 2027 must be before end_year 2027"
    assert udfs.NEGCOKE_TABLE("type", None, 2026, 2025) == "#VALUE! start_year 2026 is after end_year 2025"
    assert udfs.NEGCOKE_RANGE("EV", 2027, 0.5) == (
        '#VALUE! percentile 0.5 is ambiguous: percentiles run 0-100, so give 90 for P90 (not 0.9 or '
        '90%), or "P1" for the 1st')
    assert udfs.NEGCOKE_INFO("zzzzzz") == '#N/A unknown info field "zzzzzz" (see NEGCOKE_INFO())'
    assert udfs.NEGCOKE_SEGMENTS(None) == (
        "#VALUE! dimension is missing; give type, application, region, country, company, global, all "
        "or a region's name")


def test_long_error_text_is_cut_at_254_characters():
    """A company list longer than a cell allows ends in "..." at 254 characters."""
    names = ", ".join(c.name for c in load_model().dataset.companies)
    full = f'#N/A unknown company "zzz"; valid: {names} (see NEGCOKE_SEGMENTS("company"))'
    assert len(full) > 254
    assert udfs.NEGCOKE_COMPANY("zzz", "capacity") == full[:251] + "..."


def test_unexpected_errors_become_internal_error_text(monkeypatch):
    """An exception that is no NegcokeError is named, with its type, as an internal error."""
    def broken(*_args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(udfs, "_model", broken)
    assert udfs.NEGCOKE_FORECAST("EV", 2027) == "#VALUE! internal error: ZeroDivisionError: division by zero"


def test_assumptions_rows_may_be_numpy_arrays_or_short():
    """A range whose rows are numpy arrays reads like lists; a row shorter than the key or value
    column is blank there (a note in the first column only is skipped)."""
    udfs.clear_models()
    rows = [np.array(["unit", "key", "value"], dtype=object), np.array(["a note"], dtype=object),
            np.array(["x", "coal_price_ratio", 1.0], dtype=object)]
    model = udfs._model(rows)
    assert model.value("Coal-based", 2030, "price") == model.value("Petroleum-based", 2030, "price")
    with pytest.raises(AssumptionError) as raised:
        udfs._model([["unit", "key", "value"], ["kt", "coal_price_ratio"]])
    assert str(raised.value) == "assumptions row 2: value for key coal_price_ratio is empty"
