"""The ownership record: which cells, names and charts the model wrote, with a fingerprint of
each cell, stored in a very hidden sheet by `build`. Refresh reads it to tell the template's own
content (rewritten) from an analyst's edit of a model-owned cell (kept and reported).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.errors import WorkbookError

RECORD_SHEET = "_xl_negcoke"
FORMAT = 1
HEADER_ROW = 8
INPUT = "input"  # an owned cell the analyst is meant to edit (Assumptions values, Scenario)
ARRAY_MEMBER = "array"  # a cell inside a model array block: its content is the block's result


def fingerprint(value: object) -> str:
    """A short, stable digest of a cell's content (formula text, array block or value)."""
    if isinstance(value, ArrayFormula):
        text = f"array|{value.ref}|{value.text}"
    elif value is None or value == "":  # Excel stores no empty text: "" reads back as empty
        text = "empty"
    elif isinstance(value, bool):
        text = f"bool|{value}"
    elif isinstance(value, (int, float)):
        text = f"number|{float(value)!r}"
    else:
        text = f"{type(value).__name__}|{value}"
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def cell_fingerprint(cell: Cell) -> str:
    return fingerprint(cell.value)


@dataclass
class Record:
    """What the model owns in a workbook."""

    version: str = ""
    dataset_id: str = ""
    cells: dict[str, dict[str, str]] = field(default_factory=dict)  # sheet -> cell -> digest
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)  # sheet -> cell -> digest
    names: list[str] = field(default_factory=list)
    charts: dict[str, list[str]] = field(default_factory=dict)  # sheet -> chart anchors
    sheets: list[str] = field(default_factory=list)  # model sheets, in build order

    def owns(self, sheet: str, coordinate: str) -> bool:
        return coordinate in self.cells.get(sheet, {}) or coordinate in self.inputs.get(sheet, {})


def _anchor(chart: object) -> str:
    anchor = getattr(chart, "anchor", None)
    marker = getattr(anchor, "_from", None)
    if marker is not None:
        return f"{get_column_letter(marker.col + 1)}{marker.row + 1}"
    return str(anchor)


def chart_anchor(chart: object) -> str:
    """Where a chart sits, as the cell of its top-left corner."""
    return _anchor(chart)


def record_book(book: Workbook, version: str, dataset_id: str,
                inputs: dict[str, set[str]]) -> Record:
    """The record of a freshly built book: every non-empty cell and every array block."""
    record = Record(version=version, dataset_id=dataset_id,
                    names=sorted(book.defined_names.keys()),
                    sheets=[ws.title for ws in book.worksheets if ws.title != RECORD_SHEET])
    for ws in book.worksheets:
        if ws.title == RECORD_SHEET:
            continue
        cells = record.cells.setdefault(ws.title, {})
        sheet_inputs = inputs.get(ws.title, set())
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                target = record.inputs.setdefault(ws.title, {}) if cell.coordinate in sheet_inputs \
                    else cells
                target[cell.coordinate] = cell_fingerprint(cell)
                if isinstance(cell.value, ArrayFormula):
                    c1, r1, c2, r2 = range_boundaries(cell.value.ref)
                    for r in range(r1, r2 + 1):
                        for c in range(c1, c2 + 1):
                            cells.setdefault(f"{get_column_letter(c)}{r}", ARRAY_MEMBER)
        charts = [_anchor(chart) for chart in ws._charts]
        if charts:
            record.charts[ws.title] = charts
    return record


def write_record(book: Workbook, record: Record) -> Worksheet:
    """Store the record in a very hidden sheet (replacing an older one)."""
    if RECORD_SHEET in book.sheetnames:
        del book[RECORD_SHEET]
    ws = book.create_sheet(RECORD_SHEET)
    ws.sheet_state = "veryHidden"
    ws["A1"] = ("xl_negcoke ownership record: the cells, names and charts the model wrote, with a "
                "fingerprint of each. xl-negcoke refresh reads it; do not edit.")
    ws.append([])
    ws["A3"], ws["B3"] = "format", FORMAT
    ws["A4"], ws["B4"] = "version", record.version
    ws["A5"], ws["B5"] = "dataset", record.dataset_id
    ws["A6"], ws["B6"] = "names", "|".join(record.names)
    ws["A7"], ws["B7"] = "sheets", "|".join(record.sheets)
    row = HEADER_ROW
    ws.cell(row, 1, "kind")
    ws.cell(row, 2, "sheet")
    ws.cell(row, 3, "row")
    ws.cell(row, 4, "cells")
    for kind, table in (("cells", record.cells), (INPUT, record.inputs)):
        for sheet, cells in table.items():
            by_row: dict[int, list[str]] = {}
            for coordinate, digest in cells.items():
                column = coordinate.rstrip("0123456789")
                by_row.setdefault(int(coordinate[len(column):]), []).append(f"{column}:{digest}")
            for number in sorted(by_row):
                row += 1
                ws.cell(row, 1, kind)
                ws.cell(row, 2, sheet)
                ws.cell(row, 3, number)
                ws.cell(row, 4, ",".join(by_row[number]))
    for sheet, anchors in record.charts.items():
        row += 1
        ws.cell(row, 1, "charts")
        ws.cell(row, 2, sheet)
        ws.cell(row, 4, ",".join(anchors))
    return ws


def read_record(book: Workbook) -> Record:
    """The record of a workbook built by xl-negcoke build.

    Raises:
        WorkbookError: when the workbook has no record (not made by `xl-negcoke build`).
    """
    if RECORD_SHEET not in book.sheetnames:
        raise WorkbookError("this workbook has no xl_negcoke ownership record, so refresh cannot "
                            "tell the model's cells from yours; it was not made by "
                            "`xl-negcoke build` (build a new template and copy your work across)")
    ws = book[RECORD_SHEET]
    if ws["B3"].value != FORMAT:
        raise WorkbookError(f"ownership record format {ws['B3'].value!r} is not {FORMAT}; "
                            "update xl_negcoke")
    record = Record(version=str(ws["B4"].value or ""), dataset_id=str(ws["B5"].value or ""),
                    names=[n for n in str(ws["B6"].value or "").split("|") if n],
                    sheets=[s for s in str(ws["B7"].value or "").split("|") if s])
    for kind, sheet, number, cells in ws.iter_rows(min_row=HEADER_ROW + 1, max_col=4,
                                                   values_only=True):
        if kind == "charts":
            record.charts[str(sheet)] = [a for a in str(cells or "").split(",") if a]
            continue
        table = record.inputs if kind == INPUT else record.cells
        target = table.setdefault(str(sheet), {})
        for item in str(cells or "").split(","):
            if item:
                column, digest = item.split(":")
                target[f"{column}{number}"] = digest
    return record
