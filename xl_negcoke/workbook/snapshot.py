"""A values-only copy for colleagues without Python: formulas replaced by their cached values,
formats and charts kept, a line on Contents saying what it is, and the sheets only formulas or
refresh read removed: `xlwings.conf`, the hidden Cache sheet and the ownership record (a
snapshot is not refreshed; a new one is taken)."""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.errors import WorkbookError
from xl_negcoke.workbook import styles
from xl_negcoke.workbook.build import CACHE, CONF, CONTENTS
from xl_negcoke.workbook.cached import Values, cached_members
from xl_negcoke.workbook.files import book_bytes, normalise_zip
from xl_negcoke.workbook.ownership import RECORD_SHEET

NOTE_CELL = "A2"  # replaces the "A live model: ..." subtitle
NUMBERS_NOTE = "values only: a snapshot without formulas"


def snapshot_bytes(data: bytes, source_name: str, as_of: dt.date) -> bytes:
    """The values-only workbook for a recalculated workbook's bytes.

    Raises:
        WorkbookError: a formula cell has no cached value (the workbook was not recalculated).
    """
    formulas = load_workbook(io.BytesIO(data))
    values = load_workbook(io.BytesIO(data), data_only=True)
    missing: list[str] = []
    numbers: Values = {}  # every number put in place of a formula, to write back exactly
    for ws in formulas.worksheets:
        cached = values[ws.title]
        blocks = [cell.value.ref for row in ws.iter_rows() for cell in row
                  if isinstance(cell.value, ArrayFormula)]
        for ref in blocks:
            for row in cached[ref if ":" in ref else f"{ref}:{ref}"]:  # one cell: a 1x1 block
                for cell in row:
                    ws[cell.coordinate].value = cell.value
                    numbers[(ws.title, cell.coordinate)] = cell.value
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    value = cached[cell.coordinate].value
                    if value is None:
                        missing.append(f"{ws.title}!{cell.coordinate}")
                    cell.value = value
                    numbers[(ws.title, cell.coordinate)] = value
    if missing:
        raise WorkbookError(f"{source_name}: {len(missing)} formula cells have no cached value "
                            f"(first {missing[0]}); run xl-negcoke recalc on it first")
    for name in (CONF, CACHE, RECORD_SHEET):  # nothing reads them in a values-only copy
        if name in formulas.sheetnames:
            del formulas[name]
    if CONTENTS in formulas.sheetnames:
        contents = formulas[CONTENTS]
        scenario = _labelled(contents, "Active scenario")
        dataset = _labelled(contents, "Dataset")
        contents[NOTE_CELL] = (f"Snapshot (values only, no formulas) of {source_name}, dataset "
                               f"{dataset}, scenario {scenario}, as of {as_of.isoformat()}")
        contents[NOTE_CELL].font = styles.SUBTITLE
        note = _labelled_cell(contents, "Numbers")
        if note is not None:
            note.value = NUMBERS_NOTE
    saved = book_bytes(formulas)
    # openpyxl writes numbers with 16 significant digits; a float needing 17 would differ from
    # the workbook's cached value in its last digit, so those cells are written again exactly
    exact = {cell: value for cell, value in numbers.items()
             if isinstance(value, float) and cell[0] in formulas.sheetnames
             and math.isfinite(value) and float(f"{value:.16g}") != value}
    if not exact:
        return saved
    with zipfile.ZipFile(io.BytesIO(saved)) as archive:
        return normalise_zip(saved, cached_members(archive, {}, exact))


def _labelled_cell(ws: Worksheet, label: str):
    """The cell right of `label` in column A of the Contents block (rows 1-20), if any."""
    for row in range(1, 21):
        if ws.cell(row, 1).value == label:
            return ws.cell(row, 2)
    return None


def _labelled(ws: Worksheet, label: str) -> object:
    cell = _labelled_cell(ws, label)
    return "unknown" if cell is None else cell.value


def snapshot_name(path: Path) -> str:
    return f"{path.stem}-snapshot.xlsx"
