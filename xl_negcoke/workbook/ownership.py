"""The ownership record: which cells, names and charts the model wrote, with a fingerprint of
each cell, stored in a very hidden sheet by `build`. Refresh reads it to tell the template's own
content (rewritten) from an analyst's edit of a model-owned cell (kept and reported).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.errors import WorkbookError

RECORD_SHEET = "_xl_negcoke"
FORMAT = 2  # 2: formulas fingerprinted as Excel saves them (formula_text)
SHIFTED_FORMAT = 3  # 3: 2 plus the shifts of blocks the analyst moved (written only when there are)
READABLE_FORMATS = (1, 2, 3)
HEADER_ROW = 8
INPUT = "input"  # an owned cell the analyst is meant to edit (Assumptions values, Scenario)
ARRAY_MEMBER = "array"  # a cell inside a model array block: its content is the block's result


_QUOTED = re.compile(r'("(?:[^"]|"")*"|\'(?:[^\']|\'\')*\')')
_NUMBER = re.compile(r"(?<![\w$.:\\])(\d+\.?\d*(?:E[+-]?\d+)?)(?![\w(.:])")
_FUTURE_PREFIX = re.compile(r"_XL(?:FN|WS|UDF)\.")
_ADDIN_QUALIFIER = re.compile(r"(?:\[\d+\]|'[^']*\.XLAM')!(?=NEGCOKE_)")


_LOGICAL_CALL = re.compile(r"(?<![A-Z0-9_.])(TRUE|FALSE)\(\)")


def formula_text(text: str) -> str:
    """A formula in the form Excel's own save leaves unchanged: Excel upper-cases names and
    references, rewrites number literals (1E-9 becomes 0.000000001), prefixes newer functions
    with _xlfn. and may qualify add-in functions; string literals and quoted sheet names stay."""
    parts = _QUOTED.split(text.lstrip("="))
    for index in range(0, len(parts), 2):  # the parts outside quotes
        part = _ADDIN_QUALIFIER.sub("", _FUTURE_PREFIX.sub("", parts[index].upper()))
        part = _LOGICAL_CALL.sub(r"\1", part)  # LibreOffice saves TRUE and FALSE as TRUE(), FALSE()
        parts[index] = _NUMBER.sub(lambda m: repr(float(m.group(1))), part)
    return "=" + "".join(parts)


def _content(value: object, normalise: bool) -> str:
    if isinstance(value, ArrayFormula):
        text = value.text or ""
        ref = str(value.ref)
        first, _, last = ref.replace("$", "").partition(":")
        if normalise and first == last:  # LibreOffice saves a one-cell array "B9" as "B9:B9"
            ref = first
        return f"array|{ref}|{formula_text(text) if normalise else text}"
    if value is None or value == "":  # Excel stores no empty text: "" reads back as empty
        return "empty"
    if isinstance(value, bool):
        return f"bool|{value}"
    if isinstance(value, (int, float)):
        return f"number|{float(value)!r}"
    if normalise and isinstance(value, str) and value.startswith("=") and len(value) > 1:
        return f"formula|{formula_text(value)}"
    return f"{type(value).__name__}|{value}"


def fingerprint(value: object, normalise: bool = True) -> str:
    """A short, stable digest of a cell's content (formula text, array block or value).

    Formulas are compared in the form Excel saves them (`formula_text`), so a workbook that
    was opened and saved in Excel still matches the record; `normalise=False` gives the digest
    of record format 1, which stored the text as written.
    """
    return hashlib.sha1(_content(value, normalise).encode("utf-8")).hexdigest()[:10]


def cell_fingerprint(cell: Cell, normalise: bool = True) -> str:
    return fingerprint(cell.value, normalise)


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
    format: int = FORMAT
    # sheet -> top-left cell of a block -> (rows, columns) it sits away from the template's place,
    # after the analyst inserted or deleted rows or columns (refresh/anchors.py)
    shifts: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)

    def owns(self, sheet: str, coordinate: str) -> bool:
        return coordinate in self.cells.get(sheet, {}) or coordinate in self.inputs.get(sheet, {})

    def digest(self, value: object) -> str:
        """The fingerprint of `value` as this record's format computes it."""
        return fingerprint(value, normalise=self.format >= 2)


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
        members: set[str] = set()
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                target = record.inputs.setdefault(ws.title, {}) if cell.coordinate in sheet_inputs \
                    else cells
                target[cell.coordinate] = cell_fingerprint(cell)
                if isinstance(cell.value, ArrayFormula):
                    c1, r1, c2, r2 = range_boundaries(cell.value.ref)
                    members.update(f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1)
                                   for c in range(c1, c2 + 1) if (r, c) != (r1, c1))
        # a block's cells (even where a recalculation cached values), in a stable order
        for coordinate in sorted(members, key=coordinate_to_tuple):
            cells[coordinate] = ARRAY_MEMBER
        charts = [_anchor(chart) for chart in ws._charts]
        if charts:
            record.charts[ws.title] = charts
    return record


def write_record(book: Workbook, record: Record) -> Worksheet:
    """Store the record in a very hidden sheet (replacing an older one in its place)."""
    index = None
    if RECORD_SHEET in book.sheetnames:
        index = book.sheetnames.index(RECORD_SHEET)
        del book[RECORD_SHEET]
    ws = book.create_sheet(RECORD_SHEET, index)
    ws.sheet_state = "veryHidden"
    ws["A1"] = ("xl_negcoke ownership record: the cells, names and charts the model wrote, with a "
                "fingerprint of each. xl-negcoke refresh reads it; do not edit.")
    ws.append([])
    ws["A3"], ws["B3"] = "format", SHIFTED_FORMAT if any(record.shifts.values()) else FORMAT
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
    for sheet, shifts in record.shifts.items():
        if shifts:
            row += 1
            ws.cell(row, 1, "shift")
            ws.cell(row, 2, sheet)
            ws.cell(row, 4, ",".join(f"{cell}:{rows}:{columns}" for cell, (rows, columns) in shifts.items()))
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
    version = ws["B3"].value
    if isinstance(version, float) and version.is_integer():
        version = int(version)
    if version not in READABLE_FORMATS:
        raise WorkbookError(f"ownership record format {version!r} is not one this xl_negcoke reads "
                            f"({', '.join(map(str, READABLE_FORMATS))}); update xl_negcoke")
    record = Record(version=str(ws["B4"].value or ""), dataset_id=str(ws["B5"].value or ""),
                    names=[n for n in str(ws["B6"].value or "").split("|") if n],
                    sheets=[s for s in str(ws["B7"].value or "").split("|") if s],
                    format=int(version))
    try:
        for kind, sheet, number, cells in ws.iter_rows(min_row=HEADER_ROW + 1, max_col=4,
                                                       values_only=True):
            if kind is None:
                continue
            if kind == "charts":
                record.charts[str(sheet)] = [a for a in str(cells or "").split(",") if a]
                continue
            if kind == "shift":
                for item in str(cells or "").split(","):
                    cell, rows, columns = item.split(":")
                    record.shifts.setdefault(str(sheet), {})[cell] = (int(rows), int(columns))
                continue
            table = record.inputs if kind == INPUT else record.cells
            target = table.setdefault(str(sheet), {})
            row = int(number)  # a record saved by Excel may read 12.0
            for item in str(cells or "").split(","):
                if item:
                    column, digest = item.split(":")
                    target[f"{column}{row}"] = digest
    except (TypeError, ValueError):
        raise WorkbookError(f"the ownership record (very hidden sheet {RECORD_SHEET}) is damaged; "
                            "refresh cannot tell the model's cells from yours") from None
    return record
