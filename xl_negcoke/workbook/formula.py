"""Formula text: NEGCOKE_* calls and cell references, quoted the way Excel expects."""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName

from xl_negcoke.model import FIRST_YEAR

SCENARIO_NAME = "Scenario"  # defined name of the scenario selector
ASSUMPTIONS_NAME = "AssumptionsTable"  # defined name of the assumptions range (with header)
YEAR_COLUMN_OFFSET = 2  # 2019 is column B on every sheet


def year_column(year: int) -> str:
    """The column letter of `year` on the shared timeline (2019 = B ... 2030 = M)."""
    return get_column_letter(year - FIRST_YEAR + YEAR_COLUMN_OFFSET)


def quote_sheet(name: str) -> str:
    """A sheet name as it appears in a reference: 'My sheet'!A1 (quotes doubled)."""
    if name.replace("_", "").isalnum() and not name[0].isdigit():
        return name
    return "'" + name.replace("'", "''") + "'"


def ref(sheet: str, cell: str, current: str | None = None) -> str:
    """A reference to `cell` on `sheet`, without the sheet when it is the current one."""
    return cell if sheet == current else f"{quote_sheet(sheet)}!{cell}"


def literal(value: object) -> str:
    """An Excel literal: strings quoted with doubled quotes, numbers as written."""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return repr(value) if isinstance(value, float) else str(value)


def negcoke(function: str, *args: object, live: bool = True, scenario: bool = True) -> str:
    """`=NEGCOKE_<function>(args..., Scenario, AssumptionsTable)` for live calls.

    Live calls take the scenario selector and the assumptions range, so editing either
    recomputes through Excel's own dependency graph; with `scenario=False` they take only the
    assumptions range (a call that names its scenario, or a function without one). Trailing
    None arguments are dropped and inner None arguments are left empty (Excel passes them as
    missing).
    """
    parts = [("" if a is None else literal(a)) for a in args]
    if live:
        parts += [SCENARIO_NAME, ASSUMPTIONS_NAME] if scenario else [ASSUMPTIONS_NAME]
    while parts and parts[-1] == "":
        parts.pop()
    return f"=NEGCOKE_{function.upper()}({','.join(parts)})"


def put_text(cell: Cell, value: object) -> None:
    """Write `value` as a constant: a text stays text whatever it starts with (=, +, -, @), so
    nothing the program writes from data is ever a formula (openpyxl would otherwise store a
    text starting with = as a formula)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def define_name(book: Workbook, name: str, sheet: str, cells: str) -> None:
    """A workbook-level defined name for `cells` on `sheet` (e.g. Scenario -> Assumptions!$B$3)."""
    book.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheet(sheet)}!{cells}")


# -- the trust machinery's names (cells in sheets.py and trust.py) ------------------------------
CACHE_SCENARIO_NAME = "CacheScenario"  # Cache stamp: the scenario of the recalculation
CACHE_FINGERPRINT_NAME = "CacheFingerprint"  # Cache stamp: the inputs' fingerprint then
CACHE_WHEN_NAME = "CacheWhen"  # Cache stamp: "of 2026-12-02" / "at build"
CACHE_DATASET_NAME = "CacheDataset"  # Cache stamp: the dataset id of the cached values
FINGERPRINT_NAME = "InputsFingerprint"  # the fingerprint of the inputs now (native formula)
CACHE_CURRENT_NAME = "CacheCurrent"  # TRUE while scenario and inputs equal the stamp
# TRUE when the NEGCOKE_* functions are not loaded; recalc evaluates it as TRUE (see recalc.py)
NOT_LIVE = 'ISERROR(NEGCOKE_INFO("version"))'


def with_fallback(call: str, cache: str, conditional: bool) -> str:
    """`=IFERROR(<call>, <fallback>)` for a NEGCOKE_* call (`call` starts with "=").

    The fallback is the call's block on the Cache sheet; for a call that takes the scenario and
    the inputs it is shown only while they equal the cache's stamp (`CacheCurrent`), else #N/A,
    so a stale number is never shown as right.
    """
    fallback = f"IF({CACHE_CURRENT_NAME},{cache},NA())" if conditional else cache
    return f"=IFERROR({call[1:]},{fallback})"
