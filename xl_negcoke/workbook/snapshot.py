"""A values-only copy for colleagues without Python: formulas replaced by their cached values,
formats and charts kept, `xlwings.conf` removed, and a line on Contents saying what it is."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.errors import WorkbookError
from xl_negcoke.workbook import styles
from xl_negcoke.workbook.build import CONF, CONTENTS
from xl_negcoke.workbook.files import book_bytes

NOTE_CELL = "A3"


def snapshot_bytes(data: bytes, source_name: str, as_of: dt.date) -> bytes:
    """The values-only workbook for a recalculated workbook's bytes."""
    formulas = load_workbook(io.BytesIO(data))
    values = load_workbook(io.BytesIO(data), data_only=True)
    missing: list[str] = []
    for ws in formulas.worksheets:
        cached = values[ws.title]
        blocks = [cell.value.ref for row in ws.iter_rows() for cell in row
                  if isinstance(cell.value, ArrayFormula)]
        for ref in blocks:
            for row in cached[ref]:
                for cell in row:
                    ws[cell.coordinate].value = cell.value
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    value = cached[cell.coordinate].value
                    if value is None:
                        missing.append(f"{ws.title}!{cell.coordinate}")
                    cell.value = value
    if missing:
        raise WorkbookError(f"{source_name}: {len(missing)} formula cells have no cached value "
                            f"(first {missing[0]}); run xl-negcoke recalc on it first")
    if CONF in formulas.sheetnames:
        del formulas[CONF]
    if CONTENTS in formulas.sheetnames:
        contents = formulas[CONTENTS]
        scenario = values[CONTENTS]["B4"].value
        dataset = values[CONTENTS]["B6"].value
        contents[NOTE_CELL] = (f"Snapshot (values only, no formulas) of {source_name}, dataset "
                               f"{dataset}, scenario {scenario}, as of {as_of.isoformat()}")
        contents[NOTE_CELL].font = styles.SUBTITLE
    return book_bytes(formulas)


def snapshot_name(path: Path) -> str:
    return f"{path.stem}-snapshot.xlsx"
