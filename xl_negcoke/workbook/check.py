"""Check a workbook: every formula evaluates, every check on the Checks sheet holds, and every
template cell equals the model's number for the workbook's own scenario and assumptions."""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field

from openpyxl import load_workbook

from xl_negcoke.errors import NegcokeError, WorkbookError
from xl_negcoke.model import Model, load_model
from xl_negcoke.workbook import layout
from xl_negcoke.workbook.build import (
    ASSUMPTIONS,
    ASSUMPTIONS_HEADER_ROW,
    CAGR_COLUMN,
    CHECKS,
    _Sheet,
    _Writer,
)
from xl_negcoke.workbook.formula import year_column
from xl_negcoke.workbook.recalc import Recalculation, evaluate

RELATIVE_TOLERANCE = 1e-9


@dataclass
class CheckReport:
    """Everything `xl-negcoke check` found; clean when `problems` is empty."""

    problems: list[str] = field(default_factory=list)
    formula_cells: int = 0
    checks: int = 0
    compared: int = 0


def workbook_inputs(data: bytes) -> tuple[str, dict[str, object]]:
    """The scenario and the assumption rows (key -> value) a workbook's formulas use."""
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    if ASSUMPTIONS not in book.sheetnames:
        raise WorkbookError(f"no {ASSUMPTIONS} sheet: not a workbook built by xl-negcoke build")
    ws = book[ASSUMPTIONS]
    scenario = ws["B3"].value
    overrides: dict[str, object] = {}
    for key, value in ws.iter_rows(min_row=ASSUMPTIONS_HEADER_ROW + 1, max_col=2, values_only=True):
        if isinstance(key, str) and key.strip():
            overrides[key.strip()] = value
    book.close()
    return str(scenario or "base"), overrides


def _close(a: object, b: float) -> bool:
    if not isinstance(a, (int, float)) or isinstance(a, bool):
        return False
    return math.isclose(float(a), b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)


def check_workbook(data: bytes, data_dir: str | os.PathLike[str] | None = None) -> CheckReport:
    """Recalculate in memory and report formula errors, failed checks and model differences."""
    recalculation = evaluate(data, data_dir)
    report = CheckReport(formula_cells=recalculation.formula_cells)
    for sheet, cell, reason in recalculation.problems:
        report.problems.append(f"{sheet}!{cell}: {reason}")
    _failed_checks(recalculation, report)
    try:
        scenario, overrides = workbook_inputs(data)
        model = load_model(data_dir, overrides)
    except NegcokeError as error:
        report.problems.append(f"{ASSUMPTIONS}: {error}")
        return report
    _compare_tables(model, model.resolve_scenario(scenario) if scenario in model.scenarios
                    else scenario, recalculation, report)
    return report


def _failed_checks(recalculation: Recalculation, report: CheckReport) -> None:
    for (sheet, cell), value in sorted(recalculation.values.items()):
        if sheet != CHECKS or (not cell.startswith(CAGR_COLUMN) and cell != "B2"):
            continue
        report.checks += 1
        if value is not True:
            label = recalculation.values.get((sheet, f"A{cell[1:]}"), "")
            report.problems.append(f"{sheet}!{cell}: check is {value!r}" + (f" ({label})" if label else ""))


def _compare_tables(model: Model, scenario: str, recalculation: Recalculation,
                    report: CheckReport) -> None:
    try:
        scenario = model.resolve_scenario(scenario)
    except NegcokeError as error:
        report.problems.append(f"{ASSUMPTIONS}!B3: {error}")
        return
    writer = _Writer(model, None)  # type: ignore[arg-type]  # placing needs no workbook
    writer.place([_Sheet(spec) for spec in layout.report_layout(model)])
    for key, placed in writer.tables.items():
        if placed.metric == "share":
            continue
        table = model.table(placed.dimension, placed.metric, placed.start, placed.end, scenario)
        for segment, row in [*placed.rows.items(), *(
                [("Total", placed.total_row)] if placed.total_row else [])]:
            for year in range(placed.start, placed.end + 1):
                cell = f"{year_column(year)}{row}"
                expected = float(table.loc[segment, year])
                got = recalculation.values.get((placed.sheet, cell))
                report.compared += 1
                if math.isnan(expected):  # no volume, so no price: any blank or text is right
                    if got is None or isinstance(got, str):
                        continue
                if not _close(got, expected):
                    report.problems.append(f"{placed.sheet}!{cell} ({key}, {segment}, {year}) is "
                                           f"{got!r}; the model says {expected!r}")
