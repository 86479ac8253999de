"""Headless recalculation: evaluate every formula with the `formulas` engine and our NEGCOKE_*
functions plugged in, then write the results as cached values (cached.py).

`formulas` (vinci1it2000) was chosen by measurement over `pycel`: it evaluates our array
formulas, defined names and every native function we use, and is actively released; pycel
1.0b30 (2021) fails on openpyxl 3.1's defined names. Custom functions must be registered before
a workbook is loaded, or the engine silently returns #NAME?; a #NAME? in the result is therefore
reported as a problem, never left silent.

The template wraps every NEGCOKE_* call as `=IFERROR(NEGCOKE_...(...),IF(CacheCurrent,
Cache!<block>,NA()))` so that a spreadsheet without the functions shows the last recalculation's
numbers while the inputs equal its stamp (trust.py). The engine evaluates the bare call instead:
a call that fails must be reported on its cell, not hidden behind the values of the previous
recalculation. A recalculation writes a new stamp (scenario, inputs fingerprint, when, dataset)
and evaluates the "are the functions loaded" probe as not loaded: the stored values are what a
reader that does not recalculate sees, so they must not claim to be live.

Speed (benchmarks/bench_recalc.py): the workbook is parsed once, by the engine's own reader, and
handed to the engine without a temporary file; sheets without formulas are not compiled (the
cells formulas refer to are loaded on demand); and the cyclic garbage collector pauses while the
engine works. The engine leaves about half a million objects in reference cycles, and the
collections they trigger cost a third of the run; one collection of the youngest generation
afterwards frees them.
"""

from __future__ import annotations

import functools
import gc
import io
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from openpyxl.utils.cell import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
    range_boundaries,
)
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.errors import WorkbookError
from xl_negcoke.model.dataset import DATA_ENVIRONMENT_VARIABLE
from xl_negcoke.workbook.build import CACHE
from xl_negcoke.workbook.cached import CellError, Values, cached_members
from xl_negcoke.workbook.files import normalise_zip
from xl_negcoke.workbook.formula import (
    ASSUMPTIONS_NAME,
    CACHE_CURRENT_NAME,
    FINGERPRINT_NAME,
    NOT_LIVE,
    SCENARIO_NAME,
)
from xl_negcoke.workbook.trust import STAMP_CELLS, Stamp, inputs_fingerprint, recalculation_when

_BOOK_NAME = "book.xlsx"  # the name the engine knows the workbook by; no such file is written
_KEY = re.compile(r"^'?\[(?P<book>[^\]]+)\](?P<sheet>.*?)'?!(?P<ref>[A-Z$0-9:]+)$")
_CACHE_FALLBACK = re.compile(
    r"^=IFERROR\((?P<call>NEGCOKE_\w+\(.*\)),(?:IF\(CacheCurrent,)?Cache!\$?(?P<column>[A-Z]+)"
    r"\$?(?P<row>\d+)(?::\$?[A-Z]+\$?\d+)?(?:,NA\(\)\))?\)$", re.S | re.I)  # Calc writes negcoke_table(
_NOT_LIVE = re.compile(re.escape(NOT_LIVE), re.I)
_STRING_LITERAL = re.compile(r'"(?:[^"]|"")*"')
_FUNCTION_NAME = re.compile(r"(?<![\w.])([A-Za-z_][\w.]*)\s*\(")
# What the Cache sheet holds where a NEGCOKE_* cell is blank (a price without volume): an array
# formula shows an empty cell as 0, and LibreOffice reads an empty text as an empty cell.
NO_NUMBER = "n/a"
ERROR_TEXT = re.compile(r"^#(N/A|VALUE!|REF!|NAME\?|DIV/0!|NUM!|NULL!|SPILL!|CALC!)")

Cell = tuple[str, str]  # (sheet title, "B5")


@dataclass
class Recalculation:
    """What one evaluation found: every formula cell's value and every cell that failed."""

    values: Values
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # sheet, cell, reason
    cache: Values = field(default_factory=dict)  # the Cache sheet's fallback values and stamp
    stamp: Stamp | None = None  # the stamp written with them (None: the workbook's kept)
    formula_cells: int = 0
    udf_calls: int = 0


@dataclass
class FormulaCells:
    """The formula cells of a workbook, found in one pass over its sheets."""

    cells: set[Cell] = field(default_factory=set)  # every cell of every array block too
    sheets: list[str] = field(default_factory=list)
    cache: dict[Cell, Cell] = field(default_factory=dict)  # NEGCOKE_* cell -> its Cache cell
    texts: dict[Cell, str] = field(default_factory=dict)  # each cell -> the formula it shows


def _registry() -> list[str]:
    from xl_negcoke import udfs

    return [name for name in dir(udfs) if name.startswith("NEGCOKE_")]


def _plain(value: object) -> object:
    import schedula

    if value is schedula.EMPTY:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _argument(value: object) -> object:
    from formulas.ranges import Ranges

    if isinstance(value, Ranges):
        value = value.value
    if isinstance(value, np.ndarray):
        if value.shape in ((1, 1), (), (1,)):
            return _plain(value.ravel()[0])
        return [[_plain(v) for v in row] for row in value.tolist()]
    return _plain(value)


_calls = [0]  # NEGCOKE_* calls made by the evaluation that is running
_registered: dict[str, dict[str, object]] = {}  # name -> what _register put in the engine's table


def _adapt(name: str) -> Callable[..., object]:
    """Wrap one NEGCOKE_* function for the engine: ranges in as lists, 2-D lists out as arrays.

    The function is looked up when called, so the one registration serves every evaluation.
    """
    from formulas.functions import Array
    from formulas.tokens.operand import XlError

    from xl_negcoke import udfs

    def call(*args: object) -> object:
        values = [_argument(a) for a in args]
        error = next((v for v in values if isinstance(v, XlError)), None)
        if error is not None:
            return error
        _calls[0] += 1
        result = getattr(udfs, name)(*values)
        if isinstance(result, list):
            rows = [list(r) if isinstance(r, list) else [r] for r in result]
            return np.array(rows, dtype=object).view(Array)
        return result

    return functools.update_wrapper(call, getattr(udfs, name))


def _register() -> None:
    """Put the NEGCOKE_* functions into the engine's function table (shared by every model).

    They are impure to the engine, as RAND is: it evaluates a formula's constant parts when it
    compiles it, and the compiled cells are kept between evaluations (engine.py), so a call must
    run at each calculation, never once at compile time with the data folder of that moment.
    """
    import collections

    import formulas
    from formulas.functions import COMPILING, wrap_impure_func, wrap_ranges_func

    functions = formulas.get_functions()  # the engine's shared table: registration is global
    for name in _registry():
        if name not in _registered or functions.get(name) is not _registered[name]:
            _registered[name] = {"extra_inputs": collections.OrderedDict([(COMPILING, False)]),
                                 "function": wrap_impure_func(wrap_ranges_func(_adapt(name)))}
            functions[name] = _registered[name]


def _load(data: bytes) -> Workbook:
    """The workbook parsed by the engine's reader (an openpyxl reader that keeps raw numbers)."""
    from formulas.excel.xlreader import load_workbook

    try:
        return load_workbook(io.BytesIO(data))
    except Exception as exc:  # openpyxl raises many kinds on a damaged part; name it in one line
        raise WorkbookError(f"not a readable workbook ({exc.__class__.__name__}: "
                            f"{_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else "no detail"


def _scan(book: Workbook, strip_fallbacks: bool) -> FormulaCells:
    """Find every formula cell; with `strip_fallbacks`, rewrite each `IFERROR(NEGCOKE_...(...),
    Cache!...)` in `book` to the bare call, so the engine evaluates what the call returns."""
    found = FormulaCells(sheets=[ws.title for ws in book.worksheets])
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, ArrayFormula):
                    block, text = cell.value.ref, cell.value.text or ""
                elif cell.data_type == "f":
                    block, text = cell.coordinate, str(cell.value)
                else:
                    continue
                c1, r1, c2, r2 = range_boundaries(block if ":" in block else f"{block}:{block}")
                block_cells = [(ws.title, f"{get_column_letter(c)}{r}")
                               for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
                found.cells.update(block_cells)
                if strip_fallbacks:  # a member's content is its block's last result; the engine
                    # would take a cached error there (#N/A in a stale file Calc saved) as the result
                    for position in ((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)):
                        member = ws._cells.get(position)
                        if member is not None and member is not cell:
                            member.value = None
                found.texts.update((c, text) for c in block_cells)
                if strip_fallbacks and _NOT_LIVE.search(text):  # stored values say "not live"
                    text = _NOT_LIVE.sub("TRUE", text)
                    cell.value = ArrayFormula(block, text) if isinstance(cell.value, ArrayFormula) \
                        else text
                fallback = _CACHE_FALLBACK.match(text)
                if fallback is None:
                    continue
                cache_column = column_index_from_string(fallback["column"])
                cache_row = int(fallback["row"])
                for sheet, coordinate in block_cells:
                    column, number = coordinate_from_string(coordinate)
                    cache_cell = (f"{get_column_letter(cache_column + column_index_from_string(column) - c1)}"
                                  f"{cache_row + number - r1}")
                    found.cache[(sheet, coordinate)] = (CACHE, cache_cell)
                if strip_fallbacks:
                    bare = f"={fallback['call']}"
                    cell.value = ArrayFormula(block, bare) if isinstance(cell.value, ArrayFormula) else bare
    return found


def formula_cells(data: bytes) -> tuple[set[Cell], list[str], dict[Cell, Cell]]:
    """Every formula cell (each cell of an array block too), the sheet titles, and for each
    NEGCOKE_* call with a Cache fallback: formula cell -> its cell on the Cache sheet."""
    found = _scan(_load(data), strip_fallbacks=False)
    return found.cells, found.sheets, found.cache


class _NoProgress:
    """Stands in for tqdm: the engine's progress bar would litter the terminal and CI logs."""

    total = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def update(self, *args: object, **kwargs: object) -> None:
        return None

    def refresh(self, *args: object, **kwargs: object) -> None:
        return None


@contextmanager
def _quiet_progress(formulas_module: object) -> Iterator[None]:
    module = formulas_module.ExcelModel.complete.__globals__["tqdm"]  # type: ignore[attr-defined]
    original = module.tqdm
    module.tqdm = _NoProgress
    try:
        yield
    finally:
        module.tqdm = original


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, then collect the youngest generation once.

    Everything allocated meanwhile is still in that generation, so the one collection afterwards
    frees the engine's cyclic garbage without rescanning the rest of the process.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(0)


@contextmanager
def data_folder(data_dir: str | os.PathLike[str] | None) -> Iterator[None]:
    """Make the NEGCOKE_* functions read `data_dir` (None: leave the default) for a while."""
    if data_dir is None:
        yield
        return
    from xl_negcoke import udfs

    before = os.environ.get(DATA_ENVIRONMENT_VARIABLE)
    os.environ[DATA_ENVIRONMENT_VARIABLE] = str(data_dir)
    udfs.clear_models()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(DATA_ENVIRONMENT_VARIABLE, None)
        else:
            os.environ[DATA_ENVIRONMENT_VARIABLE] = before
        udfs.clear_models()


def evaluate(data: bytes, data_dir: str | os.PathLike[str] | None = None, when: str | None = None,
             keep_stamp: bool = False) -> Recalculation:
    """Evaluate every formula of a workbook (bytes of an .xlsx / .xlsm).

    Args:
        data: the workbook file's bytes.
        data_dir: the data folder the NEGCOKE_* functions read (None: the default).
        when: how the new stamp names this recalculation (None: "of <today>").
        keep_stamp: evaluate against the workbook's own Cache stamp and write none (check).

    Raises:
        WorkbookError: the bytes are no readable workbook, or the engine fails on the workbook
            as a whole (a failure of single cells is listed in `Recalculation.problems`).
    """
    with data_folder(data_dir), _collector_paused():
        return _evaluate(data, None if keep_stamp else (when or recalculation_when()))


def _stamp_cells(book: Workbook) -> dict[str, tuple[str, str]] | None:
    """Defined name -> (sheet, cell) of the stamp and the inputs; None for a workbook built
    before stamps (no CacheCurrent)."""
    names = (*STAMP_CELLS, SCENARIO_NAME, ASSUMPTIONS_NAME, FINGERPRINT_NAME, CACHE_CURRENT_NAME)
    found: dict[str, tuple[str, str]] = {}
    for name in names:
        if name not in book.defined_names:
            return None
        destinations = list(book.defined_names[name].destinations)
        if len(destinations) != 1:
            return None
        sheet, cells = destinations[0]
        found[name] = (sheet, cells.replace("$", ""))
    return found


def _write_stamp(book: Workbook, when: str) -> Stamp | None:
    """Put a new stamp for the workbook's scenario and inputs into `book` (before the engine
    runs, so every formula reading it evaluates against it)."""
    from xl_negcoke import udfs

    cells = _stamp_cells(book)
    if cells is None:
        return None
    sheet, table = cells[ASSUMPTIONS_NAME]
    c1, r1, c2, r2 = range_boundaries(table)
    ws = book[sheet]
    inputs = [(row, column - c1, ws.cell(row, column).value)
              for row in range(r1, r2 + 1) for column in range(c1, min(c2, c1 + 1) + 1)]
    scenario_sheet, scenario_cell = cells[SCENARIO_NAME]
    scenario = book[scenario_sheet][scenario_cell].value
    stamp = Stamp(scenario="" if scenario is None else str(scenario),
                  fingerprint=inputs_fingerprint(inputs), when=when,
                  dataset_id=str(udfs.NEGCOKE_INFO("dataset_id")))
    for name, value in zip(STAMP_CELLS, (stamp.scenario, stamp.fingerprint, stamp.when,
                                         stamp.dataset_id), strict=True):
        stamp_sheet, stamp_cell = cells[name]
        book[stamp_sheet][stamp_cell].value = value
    return stamp


def _engine_solution(book: Workbook, formula_sheets: set[str]) -> dict:
    """Build the engine's model of `book` and calculate it.

    Only sheets holding formulas are compiled whole; the cells formulas refer to on other sheets
    (inputs, names) are loaded on demand by the engine's `finish`, so the constants of the Cache
    sheet, the ownership record and the Sources text are never compiled.
    """
    import formulas
    from formulas.excel import BOOK

    from xl_negcoke.workbook.engine import Engine

    logging.getLogger("formulas").setLevel(logging.ERROR)
    engine = Engine()
    engine.books = {_BOOK_NAME.upper(): {BOOK: book}}  # the parsed book, so no file is read
    with _quiet_progress(formulas):
        loaded, context = engine.add_book(_BOOK_NAME)
        if loaded is not book:
            raise WorkbookError(f"formulas {formulas.__version__} no longer accepts a parsed "
                                "workbook; pin formulas to the version in pyproject.toml")
        for ws in loaded.worksheets:
            if ws.title in formula_sheets:
                engine.push(ws, context)
        engine.finish()
    return engine.calculate()


def _evaluate(data: bytes, when: str | None) -> Recalculation:
    from formulas.tokens.operand import XlError

    _register()
    _calls[0] = 0
    book = _load(data)
    stamp = None if when is None else _write_stamp(book, when)
    found = _scan(book, strip_fallbacks=True)
    try:
        solution = _engine_solution(book, {sheet for sheet, _cell in found.cells})
    except WorkbookError:
        raise
    except Exception as exc:  # the engine's own failures name no cell; report them as one line
        raise WorkbookError(f"the formula engine could not evaluate the workbook: "
                            f"{exc.__class__.__name__}: {_first_line(exc)}") from None
    values = _cell_values(solution, found)
    report = Recalculation(values={}, formula_cells=len(found.cells), udf_calls=_calls[0],
                           stamp=stamp)
    for cell in sorted(found.cells):
        if cell not in values:
            report.problems.append((*cell, "the engine returned no value"))
            continue
        value = values[cell]
        if isinstance(value, XlError):
            value = CellError(str(value))
            report.problems.append((*cell, f"evaluates to {value}{_unknown_functions(found.texts[cell])}"))
        elif isinstance(value, str) and ERROR_TEXT.match(value):
            report.problems.append((*cell, value))
        report.values[cell] = value
        if cell in found.cache:
            report.cache[found.cache[cell]] = NO_NUMBER if value is None else value
    if stamp is not None:
        _check_stamp(book, stamp, report)
    return report


def _check_stamp(book: Workbook, stamp: Stamp, report: Recalculation) -> None:
    """Add the stamp to the Cache values, and a problem when the engine's fingerprint formula
    disagrees with the Python one (the stamp would then never match in a spreadsheet)."""
    cells = _stamp_cells(book) or {}
    for name, value in zip(STAMP_CELLS, (stamp.scenario, stamp.fingerprint, stamp.when,
                                         stamp.dataset_id), strict=True):
        report.cache[cells[name]] = value
    where = cells[FINGERPRINT_NAME]
    computed = report.values.get(where)
    if not isinstance(computed, (int, float)) or computed != stamp.fingerprint:
        report.problems.append((*where, f"the inputs fingerprint evaluates to {computed!r}, not "
                                f"{stamp.fingerprint} as stamped"))


def _cell_values(solution: dict, found: FormulaCells) -> Values:
    """The engine's results (keyed by cells and ranges) as one value per wanted formula cell."""
    by_upper = {s.upper(): s for s in found.sheets}
    values: Values = {}
    for key, result in solution.items():
        match = _KEY.match(str(key))
        if not match:
            continue
        sheet = by_upper.get(match["sheet"].replace("''", "'").upper())
        if sheet is None:
            continue
        ref = match["ref"].replace("$", "")
        c1, r1, c2, r2 = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
        array = np.asarray(getattr(result, "value", result), dtype=object)
        if array.ndim != 2:
            array = array.reshape(1, -1) if array.ndim == 1 else array.reshape(1, 1)
        for i, row in enumerate(range(r1, r2 + 1)):
            for j, column in enumerate(range(c1, c2 + 1)):
                cell = (sheet, f"{get_column_letter(column)}{row}")
                if cell in found.cells and cell not in values:
                    inside = i < array.shape[0] and j < array.shape[1]
                    values[cell] = _plain(array[i, j] if inside else array[0, 0])
    return values


def _unknown_functions(formula: str) -> str:
    """'; unknown function FOO' when the formula calls functions the engine does not know."""
    from formulas.functions import get_functions, not_implemented

    functions = get_functions()
    names = _FUNCTION_NAME.findall(_STRING_LITERAL.sub('""', formula))
    unknown = sorted({n.upper() for n in names
                      if functions.get(n.upper().removeprefix("_XLFN."), not_implemented)
                      is not_implemented})
    if not unknown:
        return ""
    return f"; unknown function{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"


def with_cached_values(data: bytes, values: Values, constants: Values | None = None) -> bytes:
    """The workbook's bytes with `values` cached beside their formulas and `constants` (the
    Cache sheet) written as plain cell values."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = cached_members(archive, values, constants)
    return normalise_zip(data, members)


def recalculate(data: bytes, data_dir: str | os.PathLike[str] | None = None,
                when: str | None = None) -> tuple[bytes, Recalculation]:
    """Evaluate a workbook and return its bytes with every result cached beside its formula
    and a new stamp on the Cache sheet (`when`: see evaluate)."""
    report = evaluate(data, data_dir, when)
    return with_cached_values(data, report.values, report.cache), report


def require_evaluated(report: Recalculation, name: str) -> None:
    """Raise when any formula cell did not evaluate: nothing is written from such a report.

    Raises:
        WorkbookError: naming how many cells failed and the first one with its reason.
    """
    if report.problems:
        sheet, cell, reason = report.problems[0]
        raise WorkbookError(f"{name}: {len(report.problems)} formula cells did not evaluate "
                            f"(first {sheet}!{cell}: {reason}); nothing was written")
