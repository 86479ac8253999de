"""The Excel face of xl_negcoke: the NEGCOKE_* worksheet functions.

The workbook's `xlwings.conf` names this module (`UDF Modules` = `xl_negcoke.udfs`); classic
xlwings imports it for "Import Functions" and xlwings Lite registers the same functions from
`main.py`. Each function is thin: coerce the arguments Excel sends, ask the model, return. Bad
input never raises into Excel: it comes back as one line of text, e.g.
`#VALUE! year 2035 is outside 2019-2030`.

Only options that xlwings Lite also understands are used (no `caller`, `vba` or `expand`).
Every argument reads cell errors as text (`err_to_str`), so an error in a referenced cell is
reported instead of silently turning into an empty (default) argument.
"""

from __future__ import annotations

import functools
import math
import numbers
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import xlwings as xw

from xl_negcoke.errors import AssumptionError, InvalidArgumentError, NegcokeError, shorten
from xl_negcoke.model import FIRST_YEAR, LAST_YEAR, Model, load_model
from xl_negcoke.model.dataset import check_value
from xl_negcoke.model.inputs import MAX_ASSUMPTION_ROWS, read_assumptions
from xl_negcoke.model.inputs import show as _show
from xl_negcoke.model.names import Resolver

__all__ = [
    "NEGCOKE_CAGR",
    "NEGCOKE_COMPANY",
    "NEGCOKE_FORECAST",
    "NEGCOKE_INFO",
    "NEGCOKE_RANGE",
    "NEGCOKE_SEGMENTS",
    "NEGCOKE_SENSITIVITY",
    "NEGCOKE_SHARE",
    "NEGCOKE_SOURCE",
    "NEGCOKE_TABLE",
    "clear_models",
]

#: Error values Excel can hand over from another cell (with `err_to_str`, as text).
EXCEL_ERRORS = frozenset({
    "#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
    "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#DATA!",
    "#PYTHON!", "#TIMEOUT!",
})
#: Built models kept per distinct assumptions range (the workbook normally has one or two), least
#: recently used first out; together they hold at most MODEL_CACHE_SCENARIOS scenarios (a
#: scenario is what a model's memory grows with).
MODEL_CACHE_SIZE = 8
MODEL_CACHE_SCENARIOS = 40
#: Widest assumptions range read (the workbook's table has 4 columns).
MAX_ASSUMPTION_COLUMNS = 64
#: Longest error text returned to a cell (user input is quoted to about 60 characters).
MAX_MESSAGE_CHARS = 254

_YEARS = f"{FIRST_YEAR}-{LAST_YEAR}"
_NAN = float("nan")
#: What a valid name looks like, for "missing" messages (the model lists close names itself).
_VALID_NAMES = {
    "segment": 'a segment such as "Power Battery" (see NEGCOKE_SEGMENTS("all"))',
    "company": 'a company (see NEGCOKE_SEGMENTS("company"))',
    "dimension": "type, application, region, country, company, global, all or a region's name",
    "metric": "revenue, volume, price or capacity",
    "scenario": "base, high, low or a scenario of the assumptions",
    "field": "a company field such as capacity, revenue, share, rank, hq_country or news",
    "info field": ("version, dataset_id, base_year, first_year, last_year, first_forecast_year, "
                   "status <year> (e.g. status 2027), scenarios or data_dir"),
    "key": "an assumption key, a claim id S1-S17, a segment or a metric",
}
_ASSUMPTIONS_LAYOUT = "a header row key | value | unit | source, then one row per assumption"
#: Draws behind NEGCOKE_RANGE and NEGCOKE_SENSITIVITY (seed 0, memoized per model): 20,000 keeps
#: the first call near 0.1 s; P10, P50 and P90 stay within 1% of those of 100,000 draws.
EXCEL_DRAWS = 20_000
EXCEL_SEED = 0
SENSITIVITY_HEADER = ("driver", "low value", "high value", "output at low", "output at high", "swing")
_PERCENTILE = 'a percentile 0-100, e.g. 10, 50 or 90 (or "P90")'


# -------------------------------------------------------------------------------------------
# errors become one line of text


def _error_text(code: str, message: str) -> str:
    """`code message` on one line, short enough for a cell."""
    text = f"{code} {' '.join(message.split())}"
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 3] + "..."
    return text


def _returns_error_text(function: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every exception of `function` into Excel error text (the one place that does)."""

    @functools.wraps(function)
    def excel_function(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except NegcokeError as error:
            return _error_text(error.excel_code, str(error))
        except Exception as error:
            return _error_text("#VALUE!", f"internal error: {type(error).__name__}: {error}")

    return excel_function


# -------------------------------------------------------------------------------------------
# argument coercion: one helper per kind, each with a fast path for what Excel usually sends


def _single(value: object, name: str) -> object:
    """The one value of a scalar, a 1-element list or a 1x1 list of lists."""
    if hasattr(value, "tolist") and not isinstance(value, numbers.Number):
        value = value.tolist()  # a numpy array from a Python caller
    if not isinstance(value, (list, tuple)):
        return value
    if all(isinstance(row, (list, tuple)) for row in value) and value:
        rows, columns = len(value), max(len(row) for row in value)
        cells = [cell for row in value for cell in row]
        shape = f"{rows}x{columns}"
    else:
        cells = list(value)
        shape = str(len(cells))
    if not cells:
        return None
    if len(cells) > 1:
        raise InvalidArgumentError(f"{name} is a range of {shape} cells; give one cell or value")
    if isinstance(cells[0], (list, tuple)):
        raise InvalidArgumentError(f"{name} is a nested list; give one cell or value")
    return cells[0]


def _reject_special(value: object, name: str, expected: str) -> None:
    """Raise for TRUE/FALSE, NaN, infinity, error values and dates, which are never arguments."""
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{name} is {_show(value)}; give {expected}")
    if isinstance(value, numbers.Real) and not math.isfinite(value):
        raise InvalidArgumentError(f"{name} is {_show(value)}; give {expected}")
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        raise InvalidArgumentError(f"{name} is the error {value.strip().upper()} from the cell "
                                   f"it refers to; fix that cell or give {expected}")
    if isinstance(value, date):
        raise InvalidArgumentError(f"{name} is the date {value:%Y-%m-%d}; give {expected}")


def _year(value: Any, name: str = "year", default: int | None = None) -> int:
    """A year from 2027, 2027.0, "2027", " 2027 " or [[2027]]; None or "" means `default`."""
    if type(value) is int:
        if FIRST_YEAR <= value <= LAST_YEAR:
            return value
    elif type(value) is float and FIRST_YEAR <= value <= LAST_YEAR and value == int(value):
        return int(value)
    return _year_slow(value, name, default)


def _year_slow(value: Any, name: str, default: int | None) -> int:
    value = _single(value, name)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            value = None
        elif text.upper() not in EXCEL_ERRORS:
            try:
                value = float(text)
            except ValueError:
                raise InvalidArgumentError(f"{name} {_show(text)} is not a year; use "
                                           f"{_YEARS}") from None
    if value is None:
        if default is None:
            raise InvalidArgumentError(f"{name} is missing; use {_YEARS}")
        return default
    expected = f"a year {_YEARS}"
    _reject_special(value, name, expected)
    if not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"{name} {_show(value)} is not a year; use {_YEARS}")
    number = float(value)
    if number != int(number):
        raise InvalidArgumentError(f"{name} {_show(number)} is not a whole year; use {_YEARS}")
    if not FIRST_YEAR <= number <= LAST_YEAR:
        raise InvalidArgumentError(f"{name} {_show(number)} is outside {_YEARS}")
    return int(number)


def _name(value: Any, name: str, default: str | None = None, valid: str | None = None) -> str:
    """A name (segment, metric, company, ...) as trimmed text; the model resolves case and
    aliases. None or "" means `default` (required when `default` is None); `valid` says what
    a good value looks like when `name` alone does not."""
    if type(value) is str:
        text = value.strip()
        if text and text[0] != "#":
            return text
    elif value is None and default is not None:
        return default
    return _name_slow(value, name, default, valid or _VALID_NAMES[name])


def _name_slow(value: Any, name: str, default: str | None, valid: str) -> str:
    value = _single(value, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is None:
            raise InvalidArgumentError(f"{name} is missing; give {valid}")
        return default
    _reject_special(value, name, valid)
    if isinstance(value, numbers.Real):
        return _show(value)  # no name is a number: the model answers "unknown ... valid: ..."
    return str(value).strip()


# -------------------------------------------------------------------------------------------
# the assumptions range -> overrides -> a memoized Model

_lock = threading.Lock()
_models: OrderedDict[tuple, Model | NegcokeError] = OrderedDict()
_base: list[Model] = []  # the model of the embedded dataset, once built
_names_of: dict[int, set[str]] = {}  # id of that model -> its assumption keys
_recent: tuple = (None, (), None)  # (copy of the last assumptions list seen, its cells equal to 0 or
# 1 with their types, its model), swapped whole: TRUE == 1 in Python, so equal is not the same


def clear_models() -> None:
    """Forget every built model (after the data folder changed, and in tests)."""
    global _recent
    with _lock:
        _models.clear()
        _base.clear()
        _names_of.clear()
        _recent = (None, (), None)


def _base_model() -> Model:
    if not _base:
        with _lock:
            if not _base:
                _base.append(load_model())
    return _base[0]


def _model(assumptions: Any) -> Model:
    """The model for an assumptions range (None: the embedded dataset), built once per content."""
    if assumptions is None:
        return _base[0] if _base else _base_model()
    if type(assumptions) is list:
        recent = _recent
        try:
            # the same range as the previous call: no hashing
            if assumptions == recent[0] and all(type(assumptions[i][j]) is kind
                                                for i, j, kind in recent[1]):
                return recent[2]
        except ValueError:  # rows that are numpy arrays do not compare to one truth value
            pass
    return _model_slow(assumptions)


def _ambiguous_cells(rows: list) -> tuple[tuple[int, int, type], ...]:
    """(row, column, type) of every cell equal to 0 or 1: there TRUE == 1 and FALSE == 0, so
    an equal range is the same range only if these cells also have the same types."""
    return tuple((i, j, type(cell)) for i, row in enumerate(rows) if type(row) in (list, tuple)
                 for j, cell in enumerate(row)
                 if (isinstance(cell, numbers.Number) or type(cell).__name__ == "bool_")
                 and (cell == 0 or cell == 1))


def _model_slow(assumptions: Any) -> Model:
    global _recent
    rows = _assumption_rows(assumptions)
    if rows is None:
        return _base_model()
    try:
        key = tuple(tuple((type(cell), cell) for cell in row) for row in rows)  # TRUE is not 1
        hash(key)
    except TypeError:
        raise InvalidArgumentError("assumptions must be a range of cells (rows of values), the "
                                   f"workbook's Assumptions table: {_ASSUMPTIONS_LAYOUT}") from None
    with _lock:
        entry = _models.get(key)
        if entry is not None:
            _models.move_to_end(key)
    if entry is None:
        try:
            entry = _build_model(rows)
        except NegcokeError as error:
            entry = error.with_traceback(None)
        with _lock:
            _models[key] = entry
            while len(_models) > 1 and (len(_models) > MODEL_CACHE_SIZE
                                        or _cached_scenarios() > MODEL_CACHE_SCENARIOS):
                _models.popitem(last=False)
    if isinstance(entry, NegcokeError):
        raise entry.with_traceback(None)
    if type(assumptions) is list:
        _recent = ([row.copy() if type(row) is list else row for row in assumptions],
                   _ambiguous_cells(assumptions), entry)
    return entry


def _cached_scenarios() -> int:
    return sum(len(entry.scenarios) if isinstance(entry, Model) else 1 for entry in _models.values())


def _assumption_rows(assumptions: Any) -> list[tuple] | None:
    """The range as a list of row tuples; None when it is empty (meaning: no overrides)."""
    if hasattr(assumptions, "tolist") and not isinstance(assumptions, numbers.Number):
        assumptions = assumptions.tolist()
    if isinstance(assumptions, str) and not assumptions.strip():
        return None
    if not isinstance(assumptions, (list, tuple)):
        _reject_special(assumptions, "assumptions", "the Assumptions table range")
        raise InvalidArgumentError(f"assumptions is the single value {_show(assumptions)}; give the"
                                   f" Assumptions table range: {_ASSUMPTIONS_LAYOUT}")
    if not assumptions:
        return None
    if not any(_is_row(row) for row in assumptions):
        assumptions = [assumptions]  # one row arrives as a flat list
    if len(assumptions) > MAX_ASSUMPTION_ROWS + 1:  # before touching the cells: one line, at once
        raise AssumptionError(f"assumptions: {len(assumptions):,} rows; an assumptions table holds at "
                              f"most {MAX_ASSUMPTION_ROWS:,} rows and a header")
    widest = max(len(row) if _is_row(row) else 1 for row in assumptions)
    if widest > MAX_ASSUMPTION_COLUMNS:
        raise AssumptionError(f"assumptions: {widest:,} columns; give the Assumptions table "
                              f"({_ASSUMPTIONS_LAYOUT}), at most {MAX_ASSUMPTION_COLUMNS} columns")
    rows = []
    for row in assumptions:
        if hasattr(row, "tolist") and not isinstance(row, numbers.Number):
            row = row.tolist()
        cells = row if isinstance(row, (list, tuple)) else (row,)
        # one NaN object for every NaN, so that equal ranges give equal (cache) keys
        rows.append(tuple(_NAN if type(cell) is float and cell != cell else cell for cell in cells))
    if all(_is_blank(cell) for row in rows for cell in row):
        return None
    return rows


def _is_row(row: object) -> bool:
    """A row of a range: a list or tuple, or a numpy array from a Python caller."""
    return isinstance(row, (list, tuple)) or (hasattr(row, "tolist") and not isinstance(row, numbers.Number))


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _build_model(rows: list[tuple]) -> Model:
    overrides = _overrides(rows)
    if not overrides:
        return _base_model()
    try:
        return load_model(overrides=overrides)
    except AssumptionError as error:  # a combination of values, e.g. shares adding above 1
        raise AssumptionError(f"assumptions: {error}") from None


def _overrides(rows: list[tuple]) -> dict[str, float]:
    """{key: value} from the range's rows, each problem named by its row in the range."""
    numbered = ((number, row) for number, row in enumerate(rows, 1)
                if not all(_is_blank(cell) for cell in row))
    header_number, header = next(numbered)
    columns = [str(cell).strip().casefold() if isinstance(cell, str) else "" for cell in header]
    if "key" not in columns or "value" not in columns:
        found = " | ".join(_show(cell)[:30] for cell in header[:5])
        raise AssumptionError(f"assumptions row {header_number}: expected the header row "
                              f"key | value | unit | source; found {found}")
    key_column, value_column = columns.index("key"), columns.index("value")

    def entries() -> Iterator[tuple[str, object, object]]:
        for number, row in numbered:
            raw_key = row[key_column] if key_column < len(row) else None
            raw_value = row[value_column] if value_column < len(row) else None
            where = f"assumptions row {number}"
            if _is_blank(raw_key):
                if _is_blank(raw_value):
                    continue  # a row with only a note or a unit
                raise AssumptionError(f"{where}: the key is empty (value {_show(raw_value)})")
            if not isinstance(raw_key, str) or raw_key.strip().upper() in EXCEL_ERRORS:
                raise AssumptionError(f"{where}: key {_show(raw_key)} is not an assumption key")
            key = shorten(raw_key.strip())
            if _is_blank(raw_value):
                raise AssumptionError(f"{where}: value for key {key} is empty")
            if isinstance(raw_value, str) and raw_value.strip().upper() in EXCEL_ERRORS:
                raise AssumptionError(f"{where}: value for key {key} is the error "
                                      f"{raw_value.strip().upper()}")
            yield where, raw_key, raw_value

    return read_assumptions(entries(), _assumption_names(), check_value)


def _assumption_names() -> set[str]:
    """Every base assumption key of the embedded model (scenario rows add a `scenario.` prefix)."""
    model = _base_model()
    names = _names_of.get(id(model))
    if names is None:
        names = {key for key in model.assumptions()["key"] if "." not in key}
        _names_of.clear()
        _names_of[id(model)] = names
    return names


# -------------------------------------------------------------------------------------------
# the worksheet functions

_ASSUMPTIONS_DOC = ("Optional: the Assumptions table range (key | value | unit | source); "
                    "empty = the embedded dataset")
_SCENARIO_DOC = 'Optional: "base" (default), "high", "low" or a scenario of the assumptions'
_METRIC_DOC = 'Optional: "revenue" (US$ million, default), "volume" (kt), "price" (US$/t), "capacity"'


@xw.func
@xw.arg("segment", doc='Type, application, region, country, company or "Global", e.g. "EV"',
        err_to_str=True)
@xw.arg("year", doc=f"Year {_YEARS}", err_to_str=True)
@xw.arg("metric", doc=_METRIC_DOC, err_to_str=True)
@xw.arg("scenario", doc=_SCENARIO_DOC, err_to_str=True)
@xw.arg("assumptions", doc=_ASSUMPTIONS_DOC, ndim=2, err_to_str=True)
@_returns_error_text
def NEGCOKE_FORECAST(segment: Any, year: Any, metric: Any = None, scenario: Any = None,
                     assumptions: Any = None) -> Any:
    """Negative coke market: one segment in one year (revenue US$ million, volume kt, price US$/t or capacity kt/yr), for a scenario."""  # noqa: E501
    return _model(assumptions).value(_name(segment, "segment"), _year(year),
                                     _name(metric, "metric", "revenue"),
                                     _name(scenario, "scenario", "base"))


@xw.func
@xw.arg("segment", doc='Type, application, region, country or company, e.g. "China"',
        err_to_str=True)
@xw.arg("year", doc=f"Year {_YEARS}", err_to_str=True)
@xw.arg("metric", doc='Optional: "revenue" (default), "volume" or "capacity"', err_to_str=True)
@xw.arg("scenario", doc=_SCENARIO_DOC, err_to_str=True)
@xw.arg("assumptions", doc=_ASSUMPTIONS_DOC, ndim=2, err_to_str=True)
@_returns_error_text
def NEGCOKE_SHARE(segment: Any, year: Any, metric: Any = None, scenario: Any = None,
                  assumptions: Any = None) -> Any:
    """Share (0-1) of a segment in the global negative coke market in a year, by revenue, volume or capacity."""  # noqa: E501
    return _model(assumptions).share(_name(segment, "segment"), _year(year),
                                     _name(metric, "metric", "revenue"),
                                     _name(scenario, "scenario", "base"))


@xw.func
@xw.arg("segment", doc='Type, application, region, country, company or "Global"',
        err_to_str=True)
@xw.arg("start_year", doc=f"First year {_YEARS}", err_to_str=True)
@xw.arg("end_year", doc="Last year, after start_year", err_to_str=True)
@xw.arg("metric", doc=_METRIC_DOC, err_to_str=True)
@xw.arg("scenario", doc=_SCENARIO_DOC, err_to_str=True)
@xw.arg("assumptions", doc=_ASSUMPTIONS_DOC, ndim=2, err_to_str=True)
@_returns_error_text
def NEGCOKE_CAGR(segment: Any, start_year: Any, end_year: Any, metric: Any = None,
                 scenario: Any = None, assumptions: Any = None) -> Any:
    """Compound annual growth rate of a negative coke segment from start_year to end_year (0.25 = 25% a year)."""  # noqa: E501
    return _model(assumptions).cagr(_name(segment, "segment"), _year(start_year, "start_year"),
                                    _year(end_year, "end_year"),
                                    _name(metric, "metric", "revenue"),
                                    _name(scenario, "scenario", "base"))


@xw.func
@xw.arg("dimension", doc='"type", "application", "region", "country", "company", "global" or '
        'a region name (its countries)', err_to_str=True)
@xw.arg("metric", doc=_METRIC_DOC, err_to_str=True)
@xw.arg("start_year", doc=f"Optional: first year (default {FIRST_YEAR})", err_to_str=True)
@xw.arg("end_year", doc=f"Optional: last year (default {LAST_YEAR})", err_to_str=True)
@xw.arg("scenario", doc=_SCENARIO_DOC, err_to_str=True)
@xw.arg("assumptions", doc=_ASSUMPTIONS_DOC, ndim=2, err_to_str=True)
@_returns_error_text
def NEGCOKE_TABLE(dimension: Any, metric: Any = None, start_year: Any = None, end_year: Any = None,
                  scenario: Any = None, assumptions: Any = None) -> Any:
    """Table of a dimension by year: a header row (label, years), one row per segment and a Total row. Enter as an array formula (spills in Excel 365)."""  # noqa: E501
    frame = _model(assumptions).table(_name(dimension, "dimension"),
                                      _name(metric, "metric", "revenue"),
                                      _year(start_year, "start_year", FIRST_YEAR),
                                      _year(end_year, "end_year", LAST_YEAR),
                                      _name(scenario, "scenario", "base"))
    rows = [[frame.index.name, *(int(year) for year in frame.columns)]]
    for label, values in zip(frame.index, frame.to_numpy().tolist(), strict=True):
        rows.append([label, *(None if number != number else number for number in values)])
    return rows


@xw.func
@xw.arg("dimension", doc='"type", "application", "region", "country", "company", a region name '
        'or "all"', err_to_str=True)
@_returns_error_text
def NEGCOKE_SEGMENTS(dimension: Any) -> Any:
    """Valid names of a dimension as a vertical list ("all": every segment). Enter as an array formula (spills in Excel 365)."""  # noqa: E501
    return [[name] for name in _base_model().segments(_name(dimension, "dimension"))]


@xw.func
@xw.arg("company", doc='Company name, e.g. "Phillips 66" (see NEGCOKE_SEGMENTS("company"))',
        err_to_str=True)
@xw.arg("field", doc='"capacity", "volume", "revenue", "price", "share", "utilisation", "rank", '
        '"hq_country", "region", "type", "tier", "news", "overview", "source"...', err_to_str=True)
@xw.arg("year", doc=f"Optional: year {_YEARS} for figures (default: base year)", err_to_str=True)
@xw.arg("scenario", doc=_SCENARIO_DOC, err_to_str=True)
@xw.arg("assumptions", doc=_ASSUMPTIONS_DOC, ndim=2, err_to_str=True)
@_returns_error_text
def NEGCOKE_COMPANY(company: Any, field: Any, year: Any = None, scenario: Any = None,
                    assumptions: Any = None) -> Any:
    """A negative coke producer's figure (capacity, volume, revenue, price, share, rank) or fact (hq_country, type, tier, news, source)."""  # noqa: E501
    model = _model(assumptions)
    company_name = _name(company, "company")
    field_name = _name(field, "field")
    year_number = None if _is_blank(_single(year, "year")) else _year(year)
    scenario_name = model.resolve_scenario(_name(scenario, "scenario", "base"))
    return model.company(company_name, field_name, year_number, scenario_name)


@xw.func
@xw.arg("key", doc='Assumption key, claim id (S1-S17), conflict id (C1, C2, ...), segment, company '
        'or metric, e.g. "S5"', err_to_str=True)
@_returns_error_text
def NEGCOKE_SOURCE(key: Any) -> Any:
    """Provenance of a number: the source text of an assumption, a report claim, a segment, a company or a metric."""  # noqa: E501
    return _base_model().source(_name(key, "key"))


@xw.func
@xw.arg("field", doc='Optional: "version", "dataset_id", "base_year", "first_year", "last_year", '
        '"first_forecast_year", "status 2027" (actual, estimate or forecast), "scenarios", '
        '"data_dir"; empty = all', err_to_str=True)
@_returns_error_text
def NEGCOKE_INFO(field: Any = None) -> Any:
    """About the model: version, dataset id, base year, years and scenarios; without field, a two-column table of all."""  # noqa: E501
    info = _base_model().info()
    if _is_blank(_single(field, "field")):
        return [[name, value] for name, value in info.items()]
    name = _name(field, "field", valid=_VALID_NAMES["info field"])
    return info[Resolver("info field", tuple(info), {}, "see NEGCOKE_INFO()").resolve(name)]


def _percentile(value: Any) -> float:
    """A percentile 0-100 from 90, 90.0, "90", "P90" or [[90]]. Numbers above 0 and up to 1 are
    refused as ambiguous (0.9 or 90% could mean P90 or P0.9); "P1" asks for the 1st percentile."""
    if type(value) in (int, float) and (value == 0 or 1 < value <= 100):
        return float(value)
    value = _single(value, "percentile")
    prefixed = False
    if isinstance(value, str):
        text = value.strip()
        if not text:
            value = None
        elif text.upper() not in EXCEL_ERRORS:
            prefixed = text[0] in "Pp"
            digits = text[1:].strip() if prefixed else text
            try:
                value = float(digits.rstrip("%")) / (100.0 if digits.endswith("%") else 1.0)
            except ValueError:
                raise InvalidArgumentError(f"percentile {_show(text)} is not a number; give "
                                           f"{_PERCENTILE}") from None
    if value is None:
        raise InvalidArgumentError(f"percentile is missing; give {_PERCENTILE}")
    _reject_special(value, "percentile", _PERCENTILE)
    if not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"percentile {_show(value)} is not a number; give {_PERCENTILE}")
    number = float(value)
    if not 0 <= number <= 100:
        raise InvalidArgumentError(f"percentile {_show(number)} is outside 0-100; give {_PERCENTILE}")
    if 0 < number <= 1 and not prefixed:
        raise InvalidArgumentError(f"percentile {_show(number)} is ambiguous: percentiles run 0-100, "
                                   'so give 90 for P90 (not 0.9 or 90%), or "P1" for the 1st')
    return number


@xw.func
@xw.arg("segment", doc='Type, application, region, country, company or "Global", e.g. "EV"',
        err_to_str=True)
@xw.arg("year", doc=f"Year {_YEARS}", err_to_str=True)
@xw.arg("percentile", doc='Percentile 0-100, e.g. 10, 50 or 90 (or "P90"); fractions such as 0.9 '
        'are refused; "base" gives the percentile at which the base case sits', err_to_str=True)
@xw.arg("metric", doc=_METRIC_DOC, err_to_str=True)
@xw.arg("assumptions", doc=_ASSUMPTIONS_DOC, ndim=2, err_to_str=True)
@_returns_error_text
def NEGCOKE_RANGE(segment: Any, year: Any, percentile: Any, metric: Any = None,
                  assumptions: Any = None) -> Any:
    """Uncertainty range: a percentile (0-100, e.g. 10, 50, 90) of a segment in a year over 20,000 draws of the drivers in uncertainty.csv around the base case (seed 0)."""  # noqa: E501
    model = _model(assumptions)
    name = model.resolve_segment(_name(segment, "segment"))
    year_number = _year(year)
    single = _single(percentile, "percentile")
    base = isinstance(single, str) and single.strip().casefold() == "base"
    percent = None if base else _percentile(percentile)
    metric_name = model.resolve_metric(_name(metric, "metric", "revenue"))
    model.value(name, year_number, metric_name)  # a metric the segment lacks: before simulating
    simulation = model.simulate(EXCEL_DRAWS, EXCEL_SEED)
    if percent is None:
        return simulation.base_percentile(name, year_number, metric_name)
    return simulation.percentile(name, year_number, percent, metric_name)


@xw.func
@xw.arg("segment", doc='Optional: segment, e.g. "China" (default "Global")', err_to_str=True)
@xw.arg("year", doc=f"Optional: year {_YEARS} (default {LAST_YEAR})", err_to_str=True)
@xw.arg("metric", doc=_METRIC_DOC, err_to_str=True)
@xw.arg("assumptions", doc=_ASSUMPTIONS_DOC, ndim=2, err_to_str=True)
@_returns_error_text
def NEGCOKE_SENSITIVITY(segment: Any = None, year: Any = None, metric: Any = None,
                        assumptions: Any = None) -> Any:
    """Tornado table: each uncertain driver at its P10 and P90 with the rest at base, the segment's value at each and the swing, largest first. Enter as an array formula (spills in Excel 365)."""  # noqa: E501
    model = _model(assumptions)
    name = model.resolve_segment(_name(segment, "segment", "Global"))
    year_number = _year(year, "year", LAST_YEAR)
    metric_name = model.resolve_metric(_name(metric, "metric", "revenue"))
    model.value(name, year_number, metric_name)
    frame = model.simulate(EXCEL_DRAWS, EXCEL_SEED).sensitivity(name, year_number, metric_name)
    return [list(SENSITIVITY_HEADER),
            *([driver, *(float(number) for number in numbers)]
              for driver, *numbers in frame.itertuples(index=False))]
