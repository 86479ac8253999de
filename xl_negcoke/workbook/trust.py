"""What the numbers on a sheet are, said by the workbook itself: live, cached with unchanged
inputs, or STALE.

Every recalculation stamps the hidden Cache sheet with the scenario, a fingerprint of the
inputs, when it ran and the dataset (`Stamp`). The fingerprint is one native array formula over
AssumptionsTable (`FINGERPRINT_FORMULA`) built only from exact integer arithmetic, so Excel,
LibreOffice, Gnumeric and the `formulas` engine compute the same number: each key contributes
its length, each value ROUND(value x 1,000,000), both times their row, and every partial sum
stays an integer below 2^53. A value changed by less than 0.0000005 is not seen.

`CacheCurrent` compares the stamp with the inputs now; each NEGCOKE_* call that takes the
inputs falls back to its cached value only while it is TRUE (formula.with_fallback), each model
sheet's title row says which of the three states it shows, and the Checks sheet holds "numbers
current" and "no NEGCOKE_* cell typed over" rows that feed the master check.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.workbook import styles
from xl_negcoke.workbook.formula import (
    ASSUMPTIONS_NAME,
    CACHE_CURRENT_NAME,
    CACHE_DATASET_NAME,
    CACHE_FINGERPRINT_NAME,
    CACHE_SCENARIO_NAME,
    CACHE_WHEN_NAME,
    FINGERPRINT_NAME,
    NOT_LIVE,
    SCENARIO_NAME,
    define_name,
    quote_sheet,
)

FINGERPRINT_SCALE = 1_000_000
_TABLE = ASSUMPTIONS_NAME
FINGERPRINT_FORMULA = (
    f"=SUMPRODUCT((COLUMN({_TABLE})-MIN(COLUMN({_TABLE}))<2)"
    f"*IF(ISNUMBER({_TABLE}),ROUND({_TABLE}*{FINGERPRINT_SCALE},0),LEN({_TABLE}))*ROW({_TABLE}))")
CACHE_CURRENT_FORMULA = (f"=IFERROR(AND({SCENARIO_NAME}={CACHE_SCENARIO_NAME},"
                         f"{FINGERPRINT_NAME}={CACHE_FINGERPRINT_NAME}),FALSE)")

# the stamp's cells on the Cache sheet (row 2; the cached blocks start at row 3)
STAMP_ROW = 2
STAMP_CELLS = {CACHE_SCENARIO_NAME: "B2", CACHE_FINGERPRINT_NAME: "C2", CACHE_WHEN_NAME: "D2",
               CACHE_DATASET_NAME: "E2"}
STALE_ADVICE = ("load the NEGCOKE_* functions (xlwings: Import Functions) or run "
                "xl-negcoke recalc on this file")
BANNER_FONT = Font(name="Calibri", size=10, bold=True, color="375623")  # live or cached: green
STALE_FONT = Font(bold=True, color="C00000")  # a conditional format turns STALE red
BANNER_CELLS = "G1:N1"  # right of the sheet title, on the title row of every model sheet
BANNER_ALIGNMENT = Alignment(horizontal="right", vertical="center", wrap_text=True)
CHECK_REFERENCES_PER_ROW = 60  # ISFORMULA references per Checks row (formula length)

# A/E/F year headers: the year stays a number (formulas and charts read it), the format adds
# the letter. Forecast columns carry a pale fill.
YEAR_FORMATS = {"actual": '0"A"', "estimate": '0"E"', "forecast": '0"F"'}
FORECAST_FILL = PatternFill("solid", fgColor="EDF2F9")
YEAR_LEGEND = "A actual, E estimate, F forecast (shaded)"


@dataclass(frozen=True)
class Stamp:
    """What a recalculation writes on the Cache sheet beside the values it cached."""

    scenario: str
    fingerprint: int
    when: str  # "of 2026-12-02" or "at build"
    dataset_id: str

    def cells(self) -> dict[str, object]:
        return {STAMP_CELLS[CACHE_SCENARIO_NAME]: self.scenario,
                STAMP_CELLS[CACHE_FINGERPRINT_NAME]: self.fingerprint,
                STAMP_CELLS[CACHE_WHEN_NAME]: self.when,
                STAMP_CELLS[CACHE_DATASET_NAME]: self.dataset_id}


def recalculation_when(as_of: dt.date | None = None) -> str:
    """How a recalculation names its moment: "of <date>" (`as_of`, else today)."""
    return f"of {(as_of or dt.date.today()).isoformat()}"


def build_when() -> str:
    """How `build` names its recalculation without making the bytes depend on the clock: the
    date of SOURCE_DATE_EPOCH when set (the reproducible-builds convention), else "at build"."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return recalculation_when(dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date())
    return "at build"


def _rounded(value: float) -> int:
    """ROUND(value * scale, 0) the way spreadsheets round: half away from zero, on the product
    read to 15 significant digits."""
    product = Decimal(f"{value * FINGERPRINT_SCALE:.15g}")
    return int(product.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def inputs_fingerprint(cells: Iterable[tuple[int, int, object]]) -> int:
    """FINGERPRINT_FORMULA computed in Python: `cells` are (row, column offset in the table,
    value) of AssumptionsTable; only the first two columns (key, value) count."""
    total = 0
    for row, offset, value in cells:
        if offset >= 2 or value is None:
            continue
        if isinstance(value, bool):  # Excel: ISNUMBER(TRUE) is FALSE, LEN(TRUE) is 4
            total += len(str(value).upper()) * row
        elif isinstance(value, (int, float)):
            total += _rounded(float(value)) * row
        else:
            total += len(str(value)) * row
    return total


# -- the sheets ----------------------------------------------------------------------------------


def write_stamp_cells(cache: Worksheet, book: Workbook) -> None:
    """Labels of the stamp on the Cache sheet and a defined name for each stamp cell (the
    recalculation writes the values)."""
    cache[f"A{STAMP_ROW}"] = "Stamp of the recalculation: scenario, inputs fingerprint, when, dataset"
    cache[f"A{STAMP_ROW}"].font = styles.SUBTITLE
    for name, cell in STAMP_CELLS.items():
        column, row = cell[0], cell[1:]
        define_name(book, name, cache.title, f"${column}${row}")


def banner_formula() -> str:
    """The state of a model sheet's numbers, in words (an array formula: LibreOffice
    re-evaluates those on load)."""
    return (f'=IF(NOT({NOT_LIVE}),"Live: NEGCOKE_* functions loaded",'
            f'IF({CACHE_CURRENT_NAME},"Cached: values of the recalculation "&{CACHE_WHEN_NAME}'
            f'&", inputs unchanged","STALE: inputs changed since the recalculation; load the '
            f'functions or run xl-negcoke recalc"))')


def write_banner(ws: Worksheet) -> None:
    """The banner on a model sheet's title row (merged across G:N, wrapped)."""
    anchor = BANNER_CELLS.split(":")[0]
    cell = ws[anchor]
    cell.value = ArrayFormula(anchor, banner_formula())
    cell.font = BANNER_FONT
    cell.alignment = BANNER_ALIGNMENT
    ws.merge_cells(BANNER_CELLS)
    absolute = "$" + anchor[0] + "$" + anchor[1:]
    ws.conditional_formatting.add(anchor, FormulaRule(formula=[f'LEFT({absolute},5)="STALE"'],
                                                      font=STALE_FONT))


def numbers_formula() -> str:
    """Contents' "Numbers" line: what a reader is looking at."""
    return (f'=IF(NOT({NOT_LIVE}),"live (NEGCOKE_* functions loaded)",'
            f'IF({CACHE_CURRENT_NAME},"values of the recalculation "&{CACHE_WHEN_NAME}&", scenario "'
            f'&{CACHE_SCENARIO_NAME}&", dataset "&{CACHE_DATASET_NAME}&"; inputs unchanged",'
            f'"STALE: the scenario or an input changed since the recalculation "&{CACHE_WHEN_NAME}'
            f'&" (scenario "&{CACHE_SCENARIO_NAME}&"); {STALE_ADVICE}"))')


def write_contents_rows(ws: Worksheet, book: Workbook, first_row: int) -> int:
    """The rows under "Numbers" on Contents: the inputs' fingerprint now and at the
    recalculation, and whether the cache is current. Returns the last row written."""
    rows = (
        ("Inputs fingerprint", ArrayFormula(f"B{first_row}", FINGERPRINT_FORMULA), FINGERPRINT_NAME),
        ("Fingerprint at recalculation", f"={CACHE_FINGERPRINT_NAME}", None),
        # an array formula too: LibreOffice re-evaluates those on load even in a file that was
        # changed by a program that does not recalculate
        ("Cache current", ArrayFormula(f"B{first_row + 2}", CACHE_CURRENT_FORMULA),
         CACHE_CURRENT_NAME),
    )
    for offset, (label, formula, name) in enumerate(rows):
        row = first_row + offset
        ws[f"A{row}"] = label
        ws[f"A{row}"].font = styles.TOTAL
        ws[f"B{row}"] = formula
        ws[f"B{row}"].alignment = styles.LEFT
        if name:
            define_name(book, name, ws.title, f"$B${row}")
    ws[f"B{first_row}"].number_format = "0"
    ws[f"B{first_row + 1}"].number_format = "0"
    ws[f"B{first_row + 2}"].number_format = styles.BOOLEAN_FORMAT
    return first_row + len(rows) - 1


def trust_checks(calls: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(label, formula of the All-years cell) of the Checks rows the trust rules add: the numbers
    are current, and per model sheet no NEGCOKE_* cell (or table anchor) is typed over."""
    rows = [("Numbers current: functions loaded, or scenario and inputs equal the Cache stamp",
             f"=OR(NOT({NOT_LIVE}),{CACHE_CURRENT_NAME})")]
    for sheet, cells in calls.items():
        for start in range(0, len(cells), CHECK_REFERENCES_PER_ROW):
            chunk = cells[start:start + CHECK_REFERENCES_PER_ROW]
            part = "" if len(cells) <= CHECK_REFERENCES_PER_ROW else \
                f" ({start // CHECK_REFERENCES_PER_ROW + 1})"
            references = ",".join(f"_xlfn.ISFORMULA({quote_sheet(sheet)}!{c})" for c in chunk)
            # ISFORMULA is Excel 2013: an older Excel skips the row rather than fail the master
            rows.append((f"{sheet}: no NEGCOKE_* cell typed over{part}",
                         f"=IFERROR(AND({references}),TRUE)"))
    return rows


def year_format(status: str) -> str:
    return YEAR_FORMATS[status]
