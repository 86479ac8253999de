"""Fonts, fills and number formats of the template (financial-model conventions)."""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

NUMBER_FORMATS = {
    "revenue": "#,##0.0",
    "volume": "#,##0.0",
    "capacity": "#,##0.0",
    "price": "#,##0",
    "share": "0.0%",
    "rate": "0.0%",
    "input": "General",
}

TITLE = Font(name="Calibri", size=16, bold=True, color="1F3864")
SUBTITLE = Font(name="Calibri", size=10, italic=True, color="595959")
BLOCK_TITLE = Font(name="Calibri", size=12, bold=True, color="1F3864")
HEADER = Font(name="Calibri", size=10, bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
TOTAL = Font(name="Calibri", size=10, bold=True)
TOTAL_BORDER = Border(top=Side(style="thin", color="1F3864"))
BODY = Font(name="Calibri", size=10)
LINK = Font(name="Calibri", size=11, color="0563C1", underline="single")
INPUT = Font(name="Calibri", size=10, color="0000FF")  # inputs: blue font
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # on a pale fill
CHECK_OK_FILL = PatternFill("solid", fgColor="E2EFDA")
WRAP = Alignment(wrap_text=True, vertical="top")
RIGHT = Alignment(horizontal="right")

LABEL_WIDTH = 40
YEAR_WIDTH = 11
