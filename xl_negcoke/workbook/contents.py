"""The Contents sheet: the scenario, the master check, what the numbers are (trust.py) and a
link per sheet."""

from __future__ import annotations

from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.workbook import styles, trust
from xl_negcoke.workbook.formula import SCENARIO_NAME, negcoke, quote_sheet

CONTENTS_LINK = "\u25c0 Contents"  # ◀ Contents
CONTENTS_LINK_CELL = "N2"  # report sheets and Checks: the right end of the subtitle row


def contents_link(ws: Worksheet, coordinate: str, contents: str = "Contents") -> None:
    """A "◀ Contents" link back to the Contents sheet in `coordinate`, right-aligned."""
    cell = ws[coordinate]
    cell.value = CONTENTS_LINK
    cell.hyperlink = Hyperlink(ref=coordinate, location=f"{quote_sheet(contents)}!A1",
                               display=CONTENTS_LINK)
    cell.font = styles.LINK
    cell.alignment = styles.RIGHT


def link_back(book: Workbook, contents: str, skip: tuple[str, ...]) -> None:
    """A Contents link on every visible sheet that has none yet, in the title row at the right
    end of the sheet's used columns (the sheets whose layout is not the timeline's)."""
    for ws in book.worksheets:
        if ws.title == contents or ws.title in skip or ws.sheet_state != "visible":
            continue
        if any(c.value == CONTENTS_LINK for row in ws.iter_rows(max_row=2) for c in row):
            continue
        column = max(ws.max_column, 2)
        while ws.cell(1, column).value is not None or isinstance(ws.cell(1, column), MergedCell):
            column += 1  # past text and merged titles or banners
        contents_link(ws, ws.cell(1, column).coordinate, contents)


def write_contents(ws: Worksheet, book: Workbook, call: Callable[[Worksheet, str, str], None],
                   sheets: list[tuple[str, str]]) -> None:
    """Contents: the scenario, the master check, what the numbers are, and a link per sheet."""
    ws["A1"] = "Negative Coke Market, Global Outlook and Forecast 2024-2030"
    ws["A1"].font = styles.TITLE
    ws["A2"] = ("A live model: every number is a NEGCOKE_* formula or a native Excel formula on "
                "those cells")
    ws["A2"].font = styles.SUBTITLE
    rows = (
        ("Active scenario", f"={SCENARIO_NAME}"),
        ("Master check", "=MasterCheck"),
        ("Dataset", negcoke("INFO", "dataset_id", live=False)),
        ("Model version", negcoke("INFO", "version", live=False)),
        ("Base year", negcoke("INFO", "base_year", live=False)),
        ("Numbers", trust.numbers_formula()),
    )
    for offset, (label, formula) in enumerate(rows, start=4):
        ws[f"A{offset}"] = label
        ws[f"A{offset}"].font = styles.TOTAL
        if formula.startswith("=NEGCOKE_"):
            call(ws, f"B{offset}", formula)
        elif label == "Numbers":  # an array formula, so LibreOffice re-evaluates it on load
            ws[f"B{offset}"] = ArrayFormula(f"B{offset}", formula)
        else:
            ws[f"B{offset}"] = formula
        ws[f"B{offset}"].alignment = styles.LEFT
    ws["B5"].number_format = styles.BOOLEAN_FORMAT
    header = trust.write_contents_rows(ws, book, 10) + 2
    ws[f"A{header}"] = "Sheet"
    ws[f"B{header}"] = "Go to"
    styles.header_row(ws, header, "B")
    for offset, (name, description) in enumerate(sheets, start=header + 1):
        ws[f"A{offset}"] = name
        cell = ws[f"B{offset}"]
        cell.value = description
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{quote_sheet(name)}!A1",
                                   display=description)
        cell.font = styles.LINK
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 72
    ws.sheet_view.showGridLines = False
    styles.page_setup(ws)
