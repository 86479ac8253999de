"""Fonts, fills, number formats, widths and the printed page of the template (financial-model
conventions)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable

from openpyxl.chart import BarChart, LineChart
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

NUMBER_FORMATS = {
    "revenue": "#,##0.0",
    "volume": "#,##0.0",
    "capacity": "#,##0.0",
    "price": "#,##0",
    "share": "0.0%",
    "rate": "0.0%",
    "input": "General",
}
# A check cell shows TRUE / FALSE everywhere: Excel ignores number formats on booleans, while
# LibreOffice stores them as 1 / 0 and needs the format to show words.
BOOLEAN_FORMAT = '"TRUE";"TRUE";"FALSE"'

TITLE = Font(name="Calibri", size=16, bold=True, color="1F3864")
SUBTITLE = Font(name="Calibri", size=10, italic=True, color="595959")
BLOCK_TITLE = Font(name="Calibri", size=12, bold=True, color="1F3864")
HEADER = Font(name="Calibri", size=10, bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
TOTAL = Font(name="Calibri", size=10, bold=True)
TOTAL_BORDER = Border(top=Side(style="thin", color="1F3864"))
BODY = Font(name="Calibri", size=10)
LINK = Font(name="Calibri", size=10, color="0563C1", underline="single")
INPUT = Font(name="Calibri", size=10, color="0000FF")  # inputs: blue font
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # on a pale fill
SECTION = Font(name="Calibri", size=11, bold=True, color="1F3864")  # a theme's heading row
SECTION_FILL = PatternFill("solid", fgColor="DDEBF7")
KEY = Font(name="Calibri", size=8, color="7F7F7F")  # an assumption key beside its label
NOTE = Font(name="Calibri", size=8, color="404040")  # provenance text
NOTE_CHARS = 1.5  # characters of NOTE text per character of 10 pt text in a width
CHECK_OK_FILL = PatternFill("solid", fgColor="E2EFDA")
CHECK_OK_FONT = Font(bold=True, color="375623")
CHECK_FAIL_FILL = PatternFill("solid", fgColor="FFC7CE")
CHECK_FAIL_FONT = Font(bold=True, color="9C0006")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
RIGHT = Alignment(horizontal="right")
LEFT = Alignment(horizontal="left")
WRAP_INDENT = Alignment(wrap_text=True, vertical="top", indent=1)
PROVENANCE = Alignment(wrap_text=True, vertical="top", indent=2)
TOP_RIGHT = Alignment(vertical="top", horizontal="right")
HEADER_WRAP = Alignment(wrap_text=True, vertical="bottom", horizontal="right")
WRAP_LEFT = Alignment(wrap_text=True, vertical="top", horizontal="left")

LABEL_WIDTH = 40
YEAR_WIDTH = 11
CAGR_WIDTH = 14
GRID_CAGR_COLUMN = "N"  # the report sheets' grid: label A, years B-M, CAGR N


def span_width(first: str, last: str) -> float:
    """The width in characters of the report grid's columns first..last taken together (as
    Excel lays them out: each column's pixels, 7 per character and 5 of padding)."""
    from openpyxl.utils.cell import column_index_from_string, get_column_letter

    widths = {"A": LABEL_WIDTH, GRID_CAGR_COLUMN: CAGR_WIDTH}
    pixels = sum(math.floor(widths.get(get_column_letter(c), YEAR_WIDTH) * 7 + 5)
                 for c in range(column_index_from_string(first), column_index_from_string(last) + 1))
    return (pixels - 5) / 7

# Row heights in points. Text is measured against the widest common fallback font (DejaVu
# Sans, which LibreOffice uses for Calibri without Carlito), so wrapped text fits everywhere.
ROW_HEIGHT = 15.0
LINE_HEIGHT = 13.0  # one line of 10 pt text
CHARS_PER_WIDTH = 0.95  # characters of 10 pt text per unit of column width

# The printed page: A4 landscape, fit to width, margins in inches.
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.5, "bottom": 0.6, "header": 0.25, "footer": 0.3}
PAGE_POINTS = (842.0, 595.0)  # A4 landscape
FOOTER = "&A  |  page &P of &N"
PAGE_SAFETY = 0.94  # fill at most this much of a printed page (fonts differ between programs)

# Charts (centimetres): two side by side across the timeline, or one wider.
CHART_HEIGHT = 7.5
BAR_CHART_HEIGHT = 9.0
PAIR_CHART_WIDTH = 17.6
SINGLE_CHART_WIDTH = 24.0
CHART_TITLE_SIZE = 1100  # hundredths of a point
CHART_TEXT_SIZE = 800


def column_points(width: float) -> float:
    """The printed width in points of a column `width` characters wide (Excel's rule)."""
    return math.floor(width * 7 + 5) * 0.75


def text_height(text: object, width: float, minimum: float = ROW_HEIGHT) -> float:
    """The row height in points that shows `text` wrapped in a cell (or merged cells) `width`
    characters wide."""
    per_line = max(1, int(width * CHARS_PER_WIDTH))
    lines = sum(max(1, len(textwrap.wrap(part, per_line))) for part in str(text or "").split("\n"))
    return max(minimum, lines * LINE_HEIGHT + 2)


def page_setup(ws: Worksheet) -> None:
    """A4 landscape, fit to one page wide (as many pages down as needed), sheet name and page
    number in the footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins = PageMargins(**MARGINS)
    ws.oddFooter.center.text = FOOTER
    ws.oddFooter.center.size = 8


def page_breaks(width_points: float, units: Iterable[tuple[int, int]], heights: dict[int, float],
                title_rows: int = 2) -> list[int]:
    """The rows after which a page must break so that no unit (first row, last row) is cut.

    The sheet prints `width_points` wide at the fit-to-width scale, so a page holds a known
    height of rows; a unit that would run past the page starts the next one. The first
    `title_rows` repeat on every page (print titles). A unit taller than a page is left to the
    printing program.
    """
    page_width = PAGE_POINTS[0] - 72 * (MARGINS["left"] + MARGINS["right"])
    page_height = PAGE_POINTS[1] - 72 * (MARGINS["top"] + MARGINS["bottom"])
    scale = min(1.0, math.floor(page_width / width_points * 100) / 100)

    def height(first: int, last: int) -> float:
        return sum(heights.get(r, ROW_HEIGHT) for r in range(first, last + 1))

    capacity = (page_height / scale - height(1, title_rows)) * PAGE_SAFETY
    breaks: list[int] = []
    used, cursor = 0.0, title_rows
    for _first, last in sorted(units):
        if last <= cursor:
            continue
        needed = height(cursor + 1, last)  # with the blank rows before the unit
        if used > 0 and used + needed > capacity:
            breaks.append(cursor)  # the blank rows open the next page, under the titles
            used = 0.0
        used += needed
        cursor = last
    return breaks


def rich_text(size: int, bold: bool = False) -> RichText:
    """Chart text properties: `size` in hundredths of a point."""
    properties = CharacterProperties(sz=size, b=bold)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=properties), endParaRPr=properties)])


def chart_title(text: str, size: int = CHART_TITLE_SIZE) -> Title:
    """A bold chart or axis title of `size` (openpyxl's default is 18 pt, too big beside tables)."""
    properties = CharacterProperties(sz=size, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=properties),
                          r=[RegularTextRun(rPr=properties, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def style_axes(chart: BarChart | LineChart, unit: str) -> None:
    """Small axis labels (twelve years fit), thousands separators, the unit as axis title and
    the legend under the plot."""
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False  # openpyxl 3.1 leaves axes hidden in Excel unless told
        axis.txPr = rich_text(CHART_TEXT_SIZE)
    chart.y_axis.number_format = "#,##0"
    chart.y_axis.title = chart_title(unit, CHART_TEXT_SIZE)
    if chart.legend is not None:
        chart.legend.position = "b"
        chart.legend.txPr = rich_text(CHART_TEXT_SIZE)


def header_row(ws: Worksheet, row: int, last_col: str) -> None:
    """Style columns A..last_col of `row` as a table header."""
    for cell in ws[f"A{row}:{last_col}{row}"][0]:
        cell.font = HEADER
        cell.fill = HEADER_FILL


def total_row(ws: Worksheet, row: int, last_col: str) -> None:
    """Style columns A..last_col of `row` as a Total row."""
    for cell in ws[f"A{row}:{last_col}{row}"][0]:
        cell.font = TOTAL
        cell.border = TOTAL_BORDER


def ok_fail(ws: Worksheet, *ranges: str) -> None:
    """Green for a cell that starts with OK, red for FAIL (conditional formats: they follow the
    checks as the numbers change)."""
    for cells in ranges:
        first = cells.split(":")[0]
        ws.conditional_formatting.add(cells, FormulaRule(formula=[f'LEFT({first},2)="OK"'],
                                                         font=CHECK_OK_FONT, fill=CHECK_OK_FILL))
        ws.conditional_formatting.add(cells, FormulaRule(formula=[f'LEFT({first},4)="FAIL"'],
                                                         font=CHECK_FAIL_FONT, fill=CHECK_FAIL_FILL))
