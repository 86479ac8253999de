"""What `check` finds against the trust rules: a model formula replaced (by a constant or another
formula), a stale cache, and cached values of another dataset than the installed one.

Overrides are found with the ownership record: each model-owned cell's fingerprint at build is
compared with the cell now. A fresh build of the template (for the installed dataset) says what
the recorded content was, so only cells that held a formula are reported; an edited label is
the analyst's business. A record from another template version, where the fresh build does not
match, still reports a cell whose number or formula changed.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.workbook.cached import Values
from xl_negcoke.workbook.formula import (
    CACHE_DATASET_NAME,
    CACHE_FINGERPRINT_NAME,
    CACHE_SCENARIO_NAME,
    CACHE_WHEN_NAME,
    FINGERPRINT_NAME,
    SCENARIO_NAME,
)
from xl_negcoke.workbook.ownership import ARRAY_MEMBER, RECORD_SHEET, Record, read_record
from xl_negcoke.workbook.sheets import CACHE, CHECKS

_SHOWN = 60  # characters of a formula or constant quoted in a problem line


def _cell(book: Workbook, name: str) -> tuple[str, str] | None:
    """(sheet, cell) of a one-cell defined name, if the workbook has it."""
    if name not in book.defined_names:
        return None
    destinations = list(book.defined_names[name].destinations)
    if len(destinations) != 1 or destinations[0][0] not in book.sheetnames:
        return None
    sheet, cells = destinations[0]
    return sheet, cells.replace("$", "")


def _value(book: Workbook, name: str) -> object:
    where = _cell(book, name)
    return None if where is None else book[where[0]][where[1]].value


def _short(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "..."


def stamp_problems(book: Workbook, values: Values, installed_dataset: str | None) -> list[str]:
    """A stale cache (scenario or inputs differ from the Cache stamp) and a dataset that is not
    the installed one. `values` are the workbook's formula results (the inputs fingerprint)."""
    stamp_cell = _cell(book, CACHE_FINGERPRINT_NAME)
    if stamp_cell is None:
        return []  # a workbook from before stamps: nothing to compare
    where = f"{stamp_cell[0]}!{stamp_cell[1]}"
    stamped = _value(book, CACHE_FINGERPRINT_NAME)
    when = _value(book, CACHE_WHEN_NAME) or "(no date)"
    if stamped is None:
        return [f"{where}: the cache carries no stamp, so its values are never shown without "
                "the functions; run xl-negcoke recalc on this file"]
    problems = []
    scenario, stamped_scenario = _value(book, SCENARIO_NAME), _value(book, CACHE_SCENARIO_NAME)
    fingerprint_cell = _cell(book, FINGERPRINT_NAME)
    fingerprint = values.get(fingerprint_cell) if fingerprint_cell else None
    advice = ("without the functions the model cells show #N/A and the sheets say STALE; run "
              "xl-negcoke recalc on this file")
    if str(scenario) != str(stamped_scenario):
        scenario_cell = _cell(book, CACHE_SCENARIO_NAME)
        problems.append(f"{scenario_cell[0]}!{scenario_cell[1]}: stale cache: scenario is "  # type: ignore[index]
                        f"{_short(scenario)}, the cache holds scenario {_short(stamped_scenario)} "
                        f"(recalculation {when}); {advice}")
    if fingerprint != stamped:
        problems.append(f"{where}: stale cache: the inputs changed since the recalculation {when} "
                        f"(fingerprint {fingerprint!r}, stamped {stamped!r}); {advice}")
    dataset = _value(book, CACHE_DATASET_NAME)
    if installed_dataset is not None and dataset not in (None, installed_dataset):
        dataset_cell = _cell(book, CACHE_DATASET_NAME)
        problems.append(f"{dataset_cell[0]}!{dataset_cell[1]}: the cached values are of dataset "  # type: ignore[index]
                        f"{_short(dataset)}, the installed dataset is {installed_dataset}; run "
                        "xl-negcoke refresh on this file")
    return problems


def _is_formula(value: object) -> bool:
    return isinstance(value, ArrayFormula) or (isinstance(value, str) and value.startswith("=")
                                               and len(value) > 1)


def _formula(value: object) -> str:
    return (value.text or "") if isinstance(value, ArrayFormula) else str(value)


def overridden_cells(book: Workbook, reference: Workbook, record: Record | None = None) -> list[str]:
    """Every model-owned formula cell (ownership record) that now holds a constant, nothing or
    another formula; `reference` is a fresh build of the template. Checks (reported with the
    check's label) and the Cache are left out. `record`: the workbook's record with its cells
    where they are now, when blocks moved (`reference` moved there too); None reads it."""
    if RECORD_SHEET not in book.sheetnames:
        return []
    record = read_record(book) if record is None else record
    problems = []
    for sheet, cells in record.cells.items():
        if sheet in (CHECKS, CACHE, RECORD_SHEET) or sheet not in book.sheetnames:
            continue
        ws = book[sheet]
        fresh = reference[sheet] if sheet in reference.sheetnames else None
        for coordinate, digest in cells.items():
            if digest == ARRAY_MEMBER:  # covered by its block's anchor
                continue
            now = ws[coordinate].value
            if record.digest(now) == digest:
                continue
            original = fresh[coordinate].value if fresh is not None else None
            if fresh is not None and record.digest(original) == digest:
                if not _is_formula(original):
                    continue  # a label or number the model wrote: the analyst may edit it
            elif not (_is_formula(now) or isinstance(now, (int, float))):
                continue  # unknown original (another template version) and text now
            problems.append(f"{sheet}!{coordinate}: {_override(now)} (xl-negcoke refresh puts "
                            "the model's formula back)")
    return problems


def _override(now: object) -> str:
    if now is None or now == "":
        return "the model's formula was deleted"
    if _is_formula(now):
        return f"the model's formula was replaced by another formula, {_short(_formula(now))}"
    return f"the model's formula was replaced by the constant {_short(now)}"
