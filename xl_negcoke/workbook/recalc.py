"""Headless recalculation: evaluate every formula with the `formulas` engine and our NEGCOKE_*
functions plugged in, then write the results as cached values (cached.py).

`formulas` (vinci1it2000) was chosen by measurement over `pycel`: it evaluates our array
formulas, defined names and every native function we use, and is actively released; pycel
1.0b30 (2021) fails on openpyxl 3.1's defined names. Custom functions must be registered before
a workbook is loaded, or the engine silently returns #NAME?; a #NAME? in the result is therefore
reported as a problem, never left silent.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from openpyxl import load_workbook
from openpyxl.utils.cell import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
    range_boundaries,
)
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.errors import WorkbookError
from xl_negcoke.model.dataset import DATA_ENVIRONMENT_VARIABLE
from xl_negcoke.workbook.build import CACHE
from xl_negcoke.workbook.cached import CellError, Values, cached_members
from xl_negcoke.workbook.files import normalise_zip

_KEY = re.compile(r"^'?\[(?P<book>[^\]]+)\](?P<sheet>.*?)'?!(?P<ref>[A-Z$0-9:]+)$")
_CACHE_FALLBACK = re.compile(r",Cache!\$?(?P<column>[A-Z]+)\$?(?P<row>\d+)(?::\$?[A-Z]+\$?\d+)?\)$")
ERROR_TEXT = re.compile(r"^#(N/A|VALUE!|REF!|NAME\?|DIV/0!|NUM!|NULL!|SPILL!|CALC!)")


@dataclass
class Recalculation:
    """What one evaluation found: every formula cell's value and every cell that failed."""

    values: Values
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # sheet, cell, reason
    cache: Values = field(default_factory=dict)  # the Cache sheet's fallback values
    formula_cells: int = 0
    udf_calls: int = 0


def _registry() -> dict[str, Callable[..., object]]:
    from xl_negcoke import udfs

    return {name: getattr(udfs, name) for name in dir(udfs) if name.startswith("NEGCOKE_")}


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


def _adapt(function: Callable[..., object], counter: list[int]) -> Callable[..., object]:
    """Wrap one NEGCOKE_* function for the engine: ranges in as lists, 2-D lists out as arrays."""
    from formulas.functions import Array, wrap_ranges_func
    from formulas.tokens.operand import XlError

    def call(*args: object) -> object:
        values = [_argument(a) for a in args]
        error = next((v for v in values if isinstance(v, XlError)), None)
        if error is not None:
            return error
        counter[0] += 1
        result = function(*values)
        if isinstance(result, list):
            rows = [list(r) if isinstance(r, list) else [r] for r in result]
            return np.array(rows, dtype=object).view(Array)
        return result

    return wrap_ranges_func(functools.update_wrapper(call, function))


def _register(counter: list[int]) -> None:
    import formulas

    functions = formulas.get_functions()  # the engine's shared table: registration is global
    for name, function in _registry().items():
        functions[name] = _adapt(function, counter)


def formula_cells(data: bytes) -> tuple[set[tuple[str, str]], list[str], dict]:
    """Every formula cell (each cell of an array block too), the sheet titles, and for each
    NEGCOKE_* call with a Cache fallback: formula cell -> its cell on the Cache sheet."""
    book = load_workbook(io.BytesIO(data))
    cells: set[tuple[str, str]] = set()
    cache: dict[tuple[str, str], tuple[str, str]] = {}
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
                cells.update(block_cells)
                fallback = _CACHE_FALLBACK.search(text)
                if fallback:
                    cache_column = column_index_from_string(fallback["column"])
                    cache_row = int(fallback["row"])
                    for sheet, coordinate in block_cells:
                        column, number = coordinate_from_string(coordinate)
                        cache[(sheet, coordinate)] = (CACHE, f"{get_column_letter(cache_column + column_index_from_string(column) - c1)}{cache_row + number - r1}")
    return cells, [ws.title for ws in book.worksheets], cache


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


def evaluate(data: bytes, data_dir: str | os.PathLike[str] | None = None) -> Recalculation:
    """Evaluate every formula of a workbook (bytes of an .xlsx / .xlsm).

    Args:
        data: the workbook file's bytes.
        data_dir: the data folder the NEGCOKE_* functions read (None: the default).
    """
    with data_folder(data_dir):
        return _evaluate(data)


def _evaluate(data: bytes) -> Recalculation:
    import formulas
    from formulas.tokens.operand import XlError

    counter = [0]
    _register(counter)
    wanted, sheets, cache = formula_cells(data)
    by_upper = {s.upper(): s for s in sheets}
    folder = tempfile.mkdtemp(prefix="xl-negcoke-")
    path = os.path.join(folder, "book.xlsx")
    try:
        with open(path, "wb") as stream:
            stream.write(data)
        logging.getLogger("formulas").setLevel(logging.ERROR)
        with _quiet_progress(formulas):
            engine = formulas.ExcelModel().loads(path).finish()
        solution = engine.calculate()
    except Exception as exc:  # the engine's own failures name no cell; report them as one line
        raise WorkbookError(f"the formula engine could not evaluate the workbook: "
                            f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                            ) from None
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)
    values: Values = {}
    for key, result in solution.items():
        match = _KEY.match(str(key))
        if not match:
            continue
        sheet = by_upper.get(match["sheet"].replace("''", "'").upper())
        if sheet is None:
            continue
        c1, r1, c2, r2 = range_boundaries(match["ref"].replace("$", "") if ":" in match["ref"]
                                          else f"{match['ref']}:{match['ref']}".replace("$", ""))
        array = np.asarray(getattr(result, "value", result), dtype=object)
        if array.ndim != 2:
            array = array.reshape(1, -1) if array.ndim == 1 else array.reshape(1, 1)
        for i, row in enumerate(range(r1, r2 + 1)):
            for j, column in enumerate(range(c1, c2 + 1)):
                cell = (sheet, f"{get_column_letter(column)}{row}")
                if cell in wanted and cell not in values:
                    inside = i < array.shape[0] and j < array.shape[1]
                    values[cell] = _plain(array[i, j] if inside else array[0, 0])
    report = Recalculation(values={}, formula_cells=len(wanted), udf_calls=counter[0])
    for cell in sorted(wanted):
        if cell not in values:
            report.problems.append((*cell, "the engine returned no value"))
            continue
        value = values[cell]
        if isinstance(value, XlError):
            value = CellError(str(value))
            report.problems.append((*cell, f"evaluates to {value}"))
        elif isinstance(value, str) and ERROR_TEXT.match(value):
            report.problems.append((*cell, value))
        report.values[cell] = value
        if cell in cache:
            report.cache[cache[cell]] = value
    return report


def with_cached_values(data: bytes, values: Values, constants: Values | None = None) -> bytes:
    """The workbook's bytes with `values` cached beside their formulas and `constants` (the
    Cache sheet) written as plain cell values."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = cached_members(archive, values, constants)
    return normalise_zip(data, members)


def recalculate(data: bytes, data_dir: str | os.PathLike[str] | None = None
                ) -> tuple[bytes, Recalculation]:
    """Evaluate a workbook and return its bytes with every result cached beside its formula."""
    report = evaluate(data, data_dir)
    return with_cached_values(data, report.values, report.cache), report
