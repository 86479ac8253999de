"""Check a workbook: every formula evaluates, every check on the Checks sheet holds, every
template cell equals the model's number for the workbook's own scenario and assumptions, no
model formula was replaced, the cache is current and of the installed dataset (tampering.py).

Template cells are the tables (each NEGCOKE_TABLE block), their shares of the Total and their
CAGR column, and every figure of the Summary sheet; a number typed over any of them, or over a
check formula, is listed.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter

from xl_negcoke.errors import AssumptionError, NegcokeError, WorkbookError
from xl_negcoke.model import BASE_YEAR, LAST_YEAR, Model, load_model
from xl_negcoke.model.dataset import check_value
from xl_negcoke.model.inputs import read_assumptions
from xl_negcoke.workbook.build import (
    ASSUMPTIONS,
    ASSUMPTIONS_HEADER_ROW,
    CAGR_COLUMN,
    CHECKS,
    EXIT_LABEL,
    Placed,
    template_tables,
)
from xl_negcoke.workbook.formula import year_column
from xl_negcoke.workbook.ownership import RECORD_SHEET, Record, read_record
from xl_negcoke.workbook.recalc import Recalculation, evaluate
from xl_negcoke.workbook.refresh.anchors import (
    Placements,
    find_layout,
    fresh_placements,
    move_book,
    moved_record,
)
from xl_negcoke.workbook.sheets import assumption_columns
from xl_negcoke.workbook.summary import SUMMARY, placements
from xl_negcoke.workbook.tampering import overridden_cells, stamp_problems
from xl_negcoke.workbook.template import owned_book

RELATIVE_TOLERANCE = 1e-9
MASTER_CHECK = "B2"
CHECKS_HEADER_ROW = 4


@dataclass
class CheckReport:
    """Everything `xl-negcoke check` found; clean when `problems` is empty."""

    problems: list[str] = field(default_factory=list)
    formula_cells: int = 0
    checks: int = 0
    compared: int = 0


@dataclass
class _Inputs:
    """What a workbook says about itself: scenario, assumption rows and its Checks rows."""

    scenario: str
    overrides: dict[str, object]
    check_rows: dict[int, tuple[str, object]]  # row -> (label, value of the All-years cell)
    rows: list[tuple[str, object, object]] = field(default_factory=list)  # (cell, key, value)


def workbook_inputs(data: bytes) -> tuple[str, dict[str, object]]:
    """The scenario and the assumption rows (key -> value) a workbook's formulas use."""
    inputs = _read_inputs(data)
    return inputs.scenario, inputs.overrides


def _read_inputs(data: bytes) -> _Inputs:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged part; evaluate() has usually said so already
        raise WorkbookError(f"not a readable workbook ({exc.__class__.__name__})") from None
    try:
        if ASSUMPTIONS not in book.sheetnames:
            raise WorkbookError(f"no {ASSUMPTIONS} sheet: not a workbook built by xl-negcoke build")
        ws = book[ASSUMPTIONS]
        scenario = ws["B3"].value
        overrides: dict[str, object] = {}
        rows: list[tuple[str, object, object]] = []
        key_column, value_column = assumption_columns(ws)
        for number, cells in enumerate(ws.iter_rows(
                min_row=ASSUMPTIONS_HEADER_ROW + 1, max_col=max(key_column, value_column),
                values_only=True), start=ASSUMPTIONS_HEADER_ROW + 1):
            key = cells[key_column - 1] if len(cells) >= key_column else None
            value = cells[value_column - 1] if len(cells) >= value_column else None
            if isinstance(key, str) and key.strip():
                overrides[key.strip()] = value
                rows.append((f"{ASSUMPTIONS}!{get_column_letter(key_column)}{number}", key, value))
        check_rows: dict[int, tuple[str, object]] = {}
        if CHECKS in book.sheetnames:
            last = book[CHECKS].iter_rows(min_row=CHECKS_HEADER_ROW + 1, values_only=True)
            for row, values in enumerate(last, start=CHECKS_HEADER_ROW + 1):
                label = values[0] if values else None
                if isinstance(label, str) and label.strip():
                    all_years = values[13] if len(values) > 13 else None  # column N
                    check_rows[row] = (label.strip(), all_years)
    finally:
        book.close()
    return _Inputs(str(scenario or "base"), overrides, check_rows, rows)


def _close(a: object, b: float) -> bool:
    if not isinstance(a, (int, float)) or isinstance(a, bool):
        return False
    return math.isclose(float(a), b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)


def check_workbook(data: bytes, data_dir: str | os.PathLike[str] | None = None) -> CheckReport:
    """Recalculate in memory and report formula errors, failed checks and model differences."""
    recalculation = evaluate(data, data_dir, keep_stamp=True)  # the workbook's own stamp
    report = CheckReport(formula_cells=recalculation.formula_cells)
    for sheet, cell, reason in recalculation.problems:
        report.problems.append(f"{sheet}!{cell}: {reason}")
    inputs = _read_inputs(data)
    _failed_checks(recalculation, inputs, report)
    book = load_workbook(io.BytesIO(data))  # formulas and the ownership record
    try:
        model = _workbook_model(data_dir, inputs.rows)
    except AssumptionError as error:  # names the cell itself
        report.problems.append(str(error))
        return report
    except NegcokeError as error:
        report.problems.append(f"{ASSUMPTIONS}: {error}")
        report.problems += stamp_problems(book, recalculation.values, None)
        return report
    fresh = owned_book(model)  # one fresh build serves every comparison with the template
    placed = _placed(book, fresh, report)
    _formulas_over_text(fresh, recalculation, report)  # fresh is at this workbook's places now
    try:
        scenario = model.resolve_scenario(inputs.scenario)
    except NegcokeError as error:
        report.problems.append(f"{ASSUMPTIONS}!B3: {error}")
        report.problems += stamp_problems(book, recalculation.values, model.dataset.dataset_id)
        return report
    cells = _Cells(data, recalculation, placed)
    tables = template_tables(model)  # placed once: the Summary reads 8's capacity table
    _compare_tables(model, scenario, tables, cells, report)
    _compare_summary(model, scenario, tables, cells, report, book.sheetnames)
    report.problems += stamp_problems(book, recalculation.values, model.dataset.dataset_id)
    report.problems += overridden_cells(book, fresh, placed.record)
    return report


@dataclass
class _Placed:
    """Where the template's cells are in this workbook: blocks move when the analyst inserted or
    deleted rows or columns (refresh/anchors.py finds them; a refreshed workbook's record keeps
    their shifts)."""

    placements: Placements = field(default_factory=dict)  # template -> workbook
    record: Record | None = None  # the ownership record at the workbook's places (None: as read)

    def at(self, sheet: str, coordinate: str) -> str:
        placement = self.placements.get(sheet)
        if placement is None or not placement.moved:
            return coordinate
        row, column = placement.cell(*coordinate_to_tuple(coordinate))
        return f"{get_column_letter(column)}{row}"


def _placed(book: Workbook, fresh: Workbook, report: CheckReport) -> _Placed:
    """The template's places in `book`, with `fresh` (a new build) moved there; a block that
    cannot be placed is a problem, and the template's places are used."""
    if RECORD_SHEET not in book.sheetnames:
        return _Placed()
    record = read_record(book)
    try:
        layout = find_layout(book, record)
    except WorkbookError as error:
        report.problems.append(str(error).split("; nothing was changed")[0] +
                               "; compared at the template's places")
        return _Placed()
    if not layout.moved:
        return _Placed()
    placements, _shifts = fresh_placements(fresh, read_record(fresh), layout)
    move_book(fresh, placements)
    return _Placed(placements, moved_record(record, layout, book))


def _workbook_model(data_dir: str | os.PathLike[str] | None,
                    rows: list[tuple[str, object, object]]) -> Model:
    """The model for the workbook's assumption rows, read by the same parser as the NEGCOKE_*
    functions (so a repeated key or a decimal comma is found here too)."""
    base = load_model(data_dir)
    valid = {key for key in base.assumptions()["key"] if "." not in key}
    overrides = read_assumptions(rows, valid, check_value)
    return load_model(data_dir, overrides) if overrides else base


def _formulas_over_text(fresh: Workbook, recalculation: Recalculation, report: CheckReport) -> None:
    """Every formula standing where the template (a fresh build, already moved to this
    workbook's places by `_placed`) writes text (names, sources, news, claims): the program
    never writes data as a formula, so such a cell was put there by someone else."""
    for ws in fresh.worksheets:
        if ws.title == RECORD_SHEET:  # the ownership record is no part of the template's sheets
            continue
        for row in ws.iter_rows():
            for cell in row:
                at = cell.coordinate
                if cell.data_type == "s" and cell.value is not None and \
                        (ws.title, at) in recalculation.values:
                    report.problems.append(f"{ws.title}!{at}: a formula where the "
                                           "template writes text (from the data or a label); "
                                           "text is never written as a formula")


class _Cells:
    """A workbook's formula results, and (read only when a difference needs naming) the values
    typed over template cells."""

    def __init__(self, data: bytes, recalculation: Recalculation, placed: _Placed) -> None:
        self.data = data
        self.values = recalculation.values
        self.at = placed.at  # the template's cell -> where it is in this workbook
        self._constants: dict[tuple[str, str], object] | None = None

    def is_formula(self, sheet: str, cell: str) -> bool:
        return (sheet, cell) in self.values

    def get(self, sheet: str, cell: str) -> object:
        if (sheet, cell) in self.values:
            return self.values[(sheet, cell)]
        if self._constants is None:
            book = load_workbook(io.BytesIO(self.data), data_only=True)
            self._constants = {(ws.title, c.coordinate): c.value for ws in book.worksheets
                               for row in ws.iter_rows() for c in row if c.value is not None}
        return self._constants.get((sheet, cell))


def _failed_checks(recalculation: Recalculation, inputs: _Inputs, report: CheckReport) -> None:
    """Every check that is not TRUE, and every check whose formula was replaced by a value."""
    values = recalculation.values
    report.checks += 1
    if (CHECKS, MASTER_CHECK) not in values:
        report.problems.append(f"{CHECKS}!{MASTER_CHECK}: the master check is not a formula")
    elif values[(CHECKS, MASTER_CHECK)] is not True:
        report.problems.append(f"{CHECKS}!{MASTER_CHECK}: master check is "
                               f"{values[(CHECKS, MASTER_CHECK)]!r}")
    for row, (label, constant) in sorted(inputs.check_rows.items()):
        cell = (CHECKS, f"{CAGR_COLUMN}{row}")
        report.checks += 1
        if cell not in values:
            report.problems.append(f"{CHECKS}!{cell[1]}: holds {constant!r}, not a check formula "
                                   f"({label})")
        elif values[cell] is not True:
            report.problems.append(f"{CHECKS}!{cell[1]}: check is {values[cell]!r} ({label})")


def _compare_tables(model: Model, scenario: str, tables: dict[str, Placed], cells: _Cells,
                    report: CheckReport) -> None:
    for key, placed in tables.items():
        base = tables[key.removesuffix(".share")]
        table = model.table(base.dimension, base.metric, base.start, base.end, scenario)
        if placed.metric == "share":
            _compare_shares(key, placed, table, cells, report)
            continue
        table = table.rename(index={table.index[-1]: "Total"}) if placed.total_row else table
        for segment, row in _rows(placed):  # the last row is "Total" (prices: the average)
            for year in range(placed.start, placed.end + 1):
                expected = float(table.loc[segment, year])
                if math.isnan(expected):  # no volume, so no price: any blank or text is right
                    _compare(report, cells, placed.sheet, f"{year_column(year)}{row}",
                             f"{key}, {segment}, {year}", expected, blank_ok=True)
                else:
                    _compare(report, cells, placed.sheet, f"{year_column(year)}{row}",
                             f"{key}, {segment}, {year}", expected)
            if placed.end == LAST_YEAR and placed.start <= BASE_YEAR:
                first, last = float(table.loc[segment, BASE_YEAR]), float(table.loc[segment, LAST_YEAR])
                if math.isnan(first) or not first > 0:
                    expected_cagr: float | str = "n/a"
                elif math.isnan(last):
                    continue
                elif last == 0:
                    expected_cagr = EXIT_LABEL
                else:
                    expected_cagr = (last / first) ** (1 / (LAST_YEAR - BASE_YEAR)) - 1
                _compare(report, cells, placed.sheet, f"{CAGR_COLUMN}{row}",
                         f"{key}, {segment}, CAGR {BASE_YEAR}-{LAST_YEAR}", expected_cagr)


def _compare_summary(model: Model, scenario: str, tables: dict[str, Placed], cells: _Cells,
                     report: CheckReport, sheets: list[str]) -> None:
    """Every Summary figure against the model's number for it (the API `xl-negcoke summary`
    uses); a workbook of a template before the Summary sheet is told how to get one."""
    if SUMMARY not in sheets:
        report.problems.append(f"no {SUMMARY} sheet: a workbook of an earlier template "
                               "(xl-negcoke refresh adds it)")
        return
    for placement in placements(model, tables["company.capacity"]):
        _compare(report, cells, SUMMARY, placement.cell, placement.what,
                 placement.figure.expected(model, scenario))


def _rows(placed: Placed) -> list[tuple[str, int]]:
    return [*placed.rows.items(), *([("Total", placed.total_row)] if placed.total_row else [])]


def _compare_shares(key: str, placed: Placed, table: pd.DataFrame, cells: _Cells,
                    report: CheckReport) -> None:
    for year in range(placed.start, placed.end + 1):
        total = float(table.iloc[-1][year])  # the Total row
        shares = {s: (0.0 if total == 0 else float(table.loc[s, year]) / total) for s in placed.rows}
        for segment, row in _rows(placed):
            expected = sum(shares.values()) if segment == "Total" else shares[segment]
            _compare(report, cells, placed.sheet, f"{year_column(year)}{row}",
                     f"{key}, {segment}, {year}", expected)


def _compare(report: CheckReport, cells: _Cells, sheet: str, cell: str, what: str,
             expected: float | str, blank_ok: bool = False) -> None:
    cell = cells.at(sheet, cell)
    got = cells.get(sheet, cell)
    report.compared += 1
    if blank_ok and (got is None or isinstance(got, str)):
        return
    if isinstance(expected, str):
        if got == expected:
            return
    elif _close(got, expected):
        return
    formula = "" if cells.is_formula(sheet, cell) else " (typed over the template's formula)"
    report.problems.append(f"{sheet}!{cell} ({what}) is {got!r}{formula}; the model says {expected!r}")
