"""Build the template workbook: the report's sheets (layout.py) written as live formulas.

Every number in a report sheet is a formula: tables are one NEGCOKE_TABLE array formula each,
headline figures single NEGCOKE_* cells, and totals, shares, growth and checks native Excel
formulas on those cells. Every NEGCOKE_* call takes the Scenario cell and the Assumptions range.

Pages print the way a reader expects: one scale for every report sheet (the timeline A:N fits
the width of A4 landscape), blocks and chart rows never cut by a page break, long text wrapped
in rows tall enough to show it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.model import BASE_YEAR, FIRST_YEAR, LAST_YEAR, Model
from xl_negcoke.model.names import DIMENSION_LABELS
from xl_negcoke.workbook import layout, styles, trust
from xl_negcoke.workbook.charts import make_chart
from xl_negcoke.workbook.contents import CONTENTS_LINK_CELL, contents_link, link_back, write_contents
from xl_negcoke.workbook.formula import (
    ASSUMPTIONS_NAME,
    SCENARIO_NAME,
    define_name,
    negcoke,
    put_text,
    ref,
    with_fallback,
    year_column,
)
from xl_negcoke.workbook.risk_blocks import RiskBlocks, timeline_header
from xl_negcoke.workbook.sheets import (
    ASSUMPTIONS,
    ASSUMPTIONS_HEADER_ROW,
    CACHE,
    CACHE_FIRST_ROW,
    CHECKS,
    CONF,
    CONTENTS,
    SOURCES,
    UDF_MODULE,
    set_conf,
    write_assumptions,
    write_cache,
    write_sources,
)
from xl_negcoke.workbook.summary import SUMMARY, SUMMARY_NOTE, write_summary

# the sheet names are defined with their writers in sheets.py; the other layers read them here
__all__ = ["ASSUMPTIONS", "ASSUMPTIONS_HEADER_ROW", "CACHE", "CAGR_COLUMN", "CHECKS", "CONF",
           "CONTENTS", "SOURCES", "SUMMARY", "UDF_MODULE", "Placed", "build_book", "template_tables"]

CAGR_COLUMN = styles.GRID_CAGR_COLUMN
STATUS_COLUMN = "O"  # Checks: OK / FAIL beside the TRUE / FALSE the master check reads
DIFFERENCE_FORMAT = "0.0E+00;-0.0E+00;0"  # Checks: an exact 0, or how far off in scientific
CHECK_LABEL_WIDTH = 84
EXIT_LABEL = "exit"  # a CAGR to zero: the segment leaves the market
VALUE_COLUMN = "C"  # compact blocks (headline figures, top-n shares): the value after a label
# that may run over the empty column B
SIZE_COLUMNS = ("B", "C", "D")  # x.1 size blocks: base year, last year, CAGR
COMPACT_BLOCKS = (layout.Size, layout.Headlines, layout.Ranking, layout.Concentration,
                  layout.CompanyFacts)  # their columns are not the timeline's years
LAST_COLUMN = CAGR_COLUMN  # report sheets print A:N
FIRST_BLOCK_ROW = 4
TOLERANCE = "1E-9"
TITLE_ROW_HEIGHT = 24.0
BLOCK_TITLE_ROW_HEIGHT = 17.0
PRINT_TITLE_ROWS = "1:2"
SHEET_NOTES = {SUMMARY: SUMMARY_NOTE, ASSUMPTIONS: "Every input (blue cells) and the scenario selector",
               SOURCES: "The provenance of every number", CHECKS: "Reconciliation checks"}


@dataclass
class Placed:
    """Where a table landed: its sheet, header row, one row per segment and the Total row."""

    sheet: str
    header_row: int
    rows: dict[str, int]
    total_row: int | None
    start: int
    end: int
    metric: str
    dimension: str

    def cell(self, segment: str, year: int) -> str:
        return f"{year_column(year)}{self.rows[segment]}"

    def total(self, year: int) -> str:
        return f"{year_column(year)}{self.total_row}"


@dataclass
class _Sheet:
    spec: layout.Sheet
    tops: list[int] = field(default_factory=list)
    charts: list[tuple[str, object]] = field(default_factory=list)
    band: tuple[int, int] | None = None  # first and last row reserved for the charts
    units: list[tuple[int, int]] = field(default_factory=list)  # rows a page break must not cut
    heights: dict[int, float] = field(default_factory=dict)  # rows taller than the default


def _charted(block: layout.Block) -> bool:
    return (isinstance(block, layout.Table) and block.chart is not None) or \
        (isinstance(block, layout.Size) and block.pie) or isinstance(block, (layout.Fan,
                                                                              layout.Tornado))


def _band_rows(blocks: tuple[layout.Block, ...]) -> tuple[int, int]:
    """Rows reserved under the charted blocks: per line of two charts (the tallest chart and
    a blank row), and the number of lines."""
    bars = any(isinstance(b, layout.Table) and b.chart == "bar" for b in blocks)
    height_cm = styles.BAR_CHART_HEIGHT if bars else styles.CHART_HEIGHT
    charts = sum(1 for b in blocks if _charted(b))
    return math.ceil(height_cm / 2.54 * 72 / styles.ROW_HEIGHT) + 1, math.ceil(charts / 2)


class _Writer(RiskBlocks):
    """Places every block (first pass) and writes cells and charts (second pass)."""

    def __init__(self, model: Model, book: Workbook) -> None:
        self.model = model
        self.book = book
        self.tables: dict[str, Placed] = {}
        self.table_names: dict[str, str] = {}  # table key -> its block title without the unit
        # company fact -> (sheet, row per company, column) of the CompanyFacts block showing it
        self.facts: dict[str, tuple[str, dict[str, int], str]] = {}
        self.checks: list[tuple[str, dict[int, str] | str]] = []
        self.companies = [c for c in model.segments("company") if c != "Others"]
        self.cache_row = CACHE_FIRST_ROW
        self.percentile_rows: list[tuple[str, str, str, tuple[int, ...]]] = []  # for the Checks
        self.scenario_rows: dict[str, int] = {}  # scenario -> row of the Scenarios block
        self.calls: dict[str, list[str]] = {}  # sheet -> first cell of each call on the inputs

    def call(self, ws: Worksheet, cells: str, formula: str) -> None:
        """Write a NEGCOKE_* call over `cells` (one cell or an array block) with a fallback.

        The fallback is a same-shaped block on the hidden Cache sheet that every recalculation
        fills with the call's last result, so a spreadsheet without the functions (Excel without
        the add-in, LibreOffice, viewers) shows those numbers instead of #NAME?.
        """
        c1, r1, c2, r2 = range_boundaries(cells if ":" in cells else f"{cells}:{cells}")
        height, width = r2 - r1 + 1, c2 - c1 + 1
        cache = (f"$A${self.cache_row}" if height == width == 1 else
                 f"$A${self.cache_row}:${get_column_letter(width)}${self.cache_row + height - 1}")
        self.cache_row += height
        # a call that takes the inputs shows its cached value only while they equal the stamp
        takes_inputs = ASSUMPTIONS_NAME in formula
        wrapped = with_fallback(formula, f"{CACHE}!{cache}", takes_inputs)
        if takes_inputs:  # a model number: the Checks test it is still a formula
            self.calls.setdefault(ws.title, []).append(f"{get_column_letter(c1)}{r1}")
        if height == width == 1 and not formula.startswith("=NEGCOKE_TABLE"):
            ws[cells.split(":")[0]] = wrapped
        else:
            ws[cells.split(":")[0]] = ArrayFormula(cells, wrapped)

    # -- sizes --------------------------------------------------------------------------------

    def rows_of(self, dimension: str) -> list[str]:
        return self.model.segments(dimension)

    def height(self, block: layout.Block) -> int:
        """Rows a block takes, its title included."""
        if isinstance(block, layout.Table):
            n = len(self.rows_of(block.dimension)) + (0 if block.dimension == "global" else 1)
            height = 2 + n + (1 if block.growth else 0)
            if block.share:
                height += 3 + n
            return height
        if isinstance(block, layout.Size):
            return 3 + len(self.rows_of(self.tables[block.table].dimension))
        if isinstance(block, layout.Headlines):
            return 2 + len(block.rows)
        if isinstance(block, layout.Text):
            return 1 + len(block.rows)
        if isinstance(block, layout.Segments):
            return 2 + max(len(self.rows_of(d)) for d in block.dimensions)
        if isinstance(block, (layout.CompanyFacts, layout.Ranking)):
            return 2 + len(self.companies)
        if isinstance(block, layout.Concentration):
            return 1 + len(block.counts)
        if isinstance(block, layout.Profiles):
            return 1 + len(self.companies) * (8 + len(block.tables))
        if isinstance(block, layout.Ratio):
            return 2 + len(self.tables[block.numerator].rows)
        if isinstance(block, layout.Claims):
            return 2 + sum(1 for c in self.model.dataset.claims if c["category"] != "calibration")
        if isinstance(block, layout.Scenarios):
            return 2 + len(block.scenarios)
        if isinstance(block, layout.Fan):
            return 2 + len(block.percentiles) + 3
        if isinstance(block, layout.Tornado):
            return 2 + 1 + self.tornado_drivers(block)
        raise TypeError(f"unknown block {block!r}")

    def place(self, sheets: list[_Sheet]) -> None:
        """Compute every block's top row (and each sheet's chart rows) and register tables.

        The charts of a sheet go in one band of rows right under the last block that has one,
        so they sit next to the section's headline tables and never cover a table.
        """
        for sheet in sheets:  # tables first, so blocks above them can size themselves
            for block in sheet.spec.blocks:
                if isinstance(block, layout.Table):
                    self._register_table(sheet.spec.name, block, 0)
        for sheet in sheets:
            top = FIRST_BLOCK_ROW
            charted = [i for i, b in enumerate(sheet.spec.blocks) if _charted(b)]
            for index, block in enumerate(sheet.spec.blocks):
                sheet.tops.append(top)
                if isinstance(block, layout.Table):
                    self._register_table(sheet.spec.name, block, top)
                top += self.height(block) + 1
                if charted and index == charted[-1]:
                    per_line, lines = _band_rows(sheet.spec.blocks)
                    sheet.band = (top, top + per_line * lines - 1)
                    top += per_line * lines + 1

    def _register_table(self, sheet: str, block: layout.Table, top: int) -> None:
        header = top + 1
        segments = self.rows_of(block.dimension)
        rows = {s: header + 1 + i for i, s in enumerate(segments)}
        total = None if block.dimension == "global" else header + 1 + len(segments)
        self.tables[block.key] = Placed(sheet, header, rows, total, block.start, block.end,
                                        block.metric, block.dimension)
        name = block.title.split(" (")[0]
        self.table_names[block.key] = name
        self.table_names[f"{block.key}.share"] = f"{name}, share"
        if block.share:
            share_header = header + len(segments) + (2 if total else 1) + (1 if block.growth else 0) + 1
            share_rows = {s: share_header + 1 + i for i, s in enumerate(segments)}
            self.tables[f"{block.key}.share"] = Placed(
                sheet, share_header, share_rows, share_header + 1 + len(segments), block.start,
                block.end, "share", block.dimension)

    # -- writing ------------------------------------------------------------------------------

    def write_sheet(self, sheet: _Sheet, ws: Worksheet) -> None:
        ws["A1"] = sheet.spec.title
        ws["A1"].font = styles.TITLE
        _row_height(ws, sheet, 1, TITLE_ROW_HEIGHT)
        ws["A2"] = (f'="Scenario: "&{SCENARIO_NAME}&"  |  Negative Coke Market, Global Outlook and '
                    f'Forecast 2024-2030  |  {trust.YEAR_LEGEND}"')
        ws["A2"].font = styles.SUBTITLE
        contents_link(ws, CONTENTS_LINK_CELL, CONTENTS)
        trust.write_banner(ws)
        for block, top in zip(sheet.spec.blocks, sheet.tops, strict=True):
            ws.cell(top, 1, block.title).font = styles.BLOCK_TITLE
            _row_height(ws, sheet, top, BLOCK_TITLE_ROW_HEIGHT)
            sheet.units.append((top, top + self.height(block) - 1))  # the default: keep it whole
            getattr(self, f"_write_{type(block).__name__.lower()}")(ws, block, top, sheet)
            if not isinstance(block, (layout.Tornado, *COMPACT_BLOCKS)):  # columns are not years
                self._mark_years(ws, top + 1, top + self.height(block) - 1)
        self._place_charts(ws, sheet)
        _sheet_setup(ws)
        last_row = max(ws.max_row, sheet.band[1] if sheet.band else 0)
        ws.print_area = f"A1:{LAST_COLUMN}{last_row}"
        ws.print_title_rows = PRINT_TITLE_ROWS
        width = styles.column_points(styles.LABEL_WIDTH) + styles.column_points(styles.CAGR_WIDTH) \
            + 12 * styles.column_points(styles.YEAR_WIDTH)
        for row in styles.page_breaks(width, sheet.units, sheet.heights):
            ws.row_breaks.append(Break(id=row))

    def _mark_years(self, ws: Worksheet, first_row: int, last_row: int) -> None:
        """Year headers show A, E or F after the year (a number format: the year stays a number
        for the formulas and charts that read it); forecast columns get a pale fill."""
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            status = self.model.status(year)
            column = column_index_from_string(year_column(year))
            for row in range(first_row, last_row + 1):
                cell = ws._cells.get((row, column))  # only cells a block wrote
                if cell is None:
                    continue
                if cell.fill == styles.HEADER_FILL:
                    cell.number_format = trust.year_format(status)
                elif status == "forecast" and cell.number_format != "General":
                    cell.fill = trust.FORECAST_FILL

    def _split_unit(self, sheet: _Sheet, *units: tuple[int, int]) -> None:
        """Replace the block's default unit (the last one) with smaller ones."""
        sheet.units.pop()
        sheet.units.extend(units)

    def _write_table(self, ws: Worksheet, block: layout.Table, top: int, sheet: _Sheet) -> None:
        placed = self.tables[block.key]
        last_row = placed.total_row or max(placed.rows.values())
        last_col = year_column(block.end)
        formula = negcoke("TABLE", block.dimension, block.metric, block.start, block.end)
        self.call(ws, f"A{placed.header_row}:{last_col}{last_row}", formula)
        number_format = styles.NUMBER_FORMATS[block.metric]
        styles.header_row(ws, placed.header_row, last_col)
        for row in range(placed.header_row + 1, last_row + 1):
            for year in range(block.start, block.end + 1):
                ws[f"{year_column(year)}{row}"].number_format = number_format
        if placed.total_row:
            styles.total_row(ws, placed.total_row, last_col)
        if block.end == LAST_YEAR:
            _cagr_header(ws, placed.header_row)
            for row in range(placed.header_row + 1, last_row + 1):
                ws[f"{CAGR_COLUMN}{row}"] = _cagr(f"{year_column(BASE_YEAR)}{row}",
                                                  f"{year_column(LAST_YEAR)}{row}",
                                                  LAST_YEAR - BASE_YEAR)
                _rate_style(ws[f"{CAGR_COLUMN}{row}"])
            if placed.total_row:
                styles.total_row(ws, placed.total_row, CAGR_COLUMN)
        row = last_row + 1
        if block.growth:
            ws[f"A{row}"] = "Growth, year on year"
            ws[f"A{row}"].font = styles.SUBTITLE
            for year in range(block.start + 1, block.end + 1):
                this, before = year_column(year), year_column(year - 1)
                ws[f"{this}{row}"] = (f'=IF({before}{last_row}=0,"n/a",'
                                      f'{this}{last_row}/{before}{last_row}-1)')
                _rate_style(ws[f"{this}{row}"])
            row += 1
        if block.share:
            self._write_share(ws, block, placed)
            share = self.tables[f"{block.key}.share"]
            self._split_unit(sheet, (top, row - 1), (share.header_row - 1, share.total_row))
        if block.chart:
            sheet.charts.append((block.chart, (block, placed)))

    def _write_share(self, ws: Worksheet, block: layout.Table, placed: Placed) -> None:
        """Shares of the table's Total: one native array formula for the whole block."""
        share = self.tables[f"{block.key}.share"]
        first_col, last_col = year_column(block.start), year_column(block.end)
        title = f"Share of {layout.METRIC_TITLES[block.metric].lower()} by {block.dimension}"
        ws[f"A{share.header_row - 1}"] = title
        ws[f"A{share.header_row - 1}"].font = styles.TOTAL
        ws[f"A{share.header_row}"] = "Share of total"
        ws[f"{first_col}{share.header_row}"] = ArrayFormula(
            f"{first_col}{share.header_row}:{last_col}{share.header_row}",
            f"={first_col}{placed.header_row}:{last_col}{placed.header_row}")
        first, last = min(share.rows.values()), max(share.rows.values())
        body_first, body_last = min(placed.rows.values()), max(placed.rows.values())
        ws[f"A{first}"] = ArrayFormula(f"A{first}:A{last}", f"=A{body_first}:A{body_last}")
        # one formula per cell: Gnumeric gives #VALUE! for a row against a block inside IF
        for segment, row in share.rows.items():
            for year in range(block.start, block.end + 1):
                column = year_column(year)
                total, body = f"{column}${placed.total_row}", f"{column}{placed.rows[segment]}"
                ws[f"{column}{row}"] = f"=IF({total}=0,0,{body}/{total})"
        ws[f"A{share.total_row}"] = "Total"
        ws[f"{first_col}{share.total_row}"] = ArrayFormula(
            f"{first_col}{share.total_row}:{last_col}{share.total_row}",
            "=" + "+".join(f"{first_col}{r}:{last_col}{r}" for r in range(first, last + 1)))
        for row in range(first, share.total_row + 1):
            for year in range(block.start, block.end + 1):
                ws[f"{year_column(year)}{row}"].number_format = styles.NUMBER_FORMATS["share"]
        styles.header_row(ws, share.header_row, last_col)
        styles.total_row(ws, share.total_row, last_col)

    def _year_header(self, cell: object, year: int) -> None:
        """A year in a compact block's header: the A/E/F format of its status."""
        cell.value = year  # type: ignore[attr-defined]
        cell.number_format = trust.year_format(self.model.status(year))  # type: ignore[attr-defined]
        cell.alignment = styles.RIGHT  # type: ignore[attr-defined]

    def _shade(self, cell: object, year: int) -> None:
        """A forecast year's figure gets the forecast fill, as on the timeline."""
        if self.model.status(year) == "forecast":
            cell.fill = trust.FORECAST_FILL  # type: ignore[attr-defined]

    def _write_size(self, ws: Worksheet, block: layout.Size, top: int, sheet: _Sheet) -> None:
        """Compact: the segment, its base-year and last-year figures and the CAGR side by side
        (SIZE_COLUMNS), not spread over the twelve year columns."""
        placed = self.tables[block.table]
        header = top + 1
        base, last, cagr = SIZE_COLUMNS
        ws[f"A{header}"] = DIMENSION_LABELS.get(placed.dimension, "Segment")
        styles.header_row(ws, header, cagr)
        self._year_header(ws[f"{base}{header}"], BASE_YEAR)
        self._year_header(ws[f"{last}{header}"], LAST_YEAR)
        _cagr_header(ws, header, cagr, short=True)
        segments = [*placed.rows, "Total"]
        for offset, segment in enumerate(segments, start=1):
            row = header + offset
            source_row = placed.total_row if segment == "Total" else placed.rows[segment]
            ws[f"A{row}"] = f"={ref(placed.sheet, f'A{source_row}', ws.title)}"
            for column, year in ((base, BASE_YEAR), (last, LAST_YEAR)):
                source = f"{year_column(year)}{source_row}"
                ws[f"{column}{row}"] = f"={ref(placed.sheet, source, ws.title)}"
                ws[f"{column}{row}"].number_format = styles.NUMBER_FORMATS[placed.metric]
                self._shade(ws[f"{column}{row}"], year)
            ws[f"{cagr}{row}"] = _cagr(f"{base}{row}", f"{last}{row}", LAST_YEAR - BASE_YEAR)
            _rate_style(ws[f"{cagr}{row}"])
        styles.total_row(ws, header + len(segments), cagr)
        if block.pie:
            sheet.charts.append(("pie", (block, header + 1, header + len(segments) - 1, base)))

    def _write_headlines(self, ws: Worksheet, block: layout.Headlines, top: int,
                         sheet: _Sheet) -> None:
        """Compact: a figure a row, its value in VALUE_COLUMN (the label says the year and unit)."""
        header = top + 1
        ws[f"A{header}"] = "Figure"
        ws[f"{VALUE_COLUMN}{header}"] = "Value"
        styles.header_row(ws, header, VALUE_COLUMN)
        ws[f"{VALUE_COLUMN}{header}"].alignment = styles.RIGHT
        for offset, item in enumerate(block.rows, start=1):
            row = header + offset
            ws[f"A{row}"] = item.label
            cell = f"{VALUE_COLUMN}{row}"
            if item.kind == "cagr":
                formula = negcoke("CAGR", item.segment, item.year, item.end_year, item.metric)
                number_format = styles.NUMBER_FORMATS["rate"]
            else:
                formula = negcoke(item.kind.upper(), item.segment, item.year, item.metric)
                number_format = styles.NUMBER_FORMATS["share" if item.kind == "share" else item.metric]
            self.call(ws, cell, formula)
            ws[cell].number_format = number_format
            ws[cell].font = styles.TOTAL
            ws[cell].alignment = styles.RIGHT
            if item.kind != "cagr":
                self._shade(ws[cell], item.year)
            if item.name:
                define_name(self.book, item.name, ws.title, f"${VALUE_COLUMN}${row}")

    def _write_text(self, ws: Worksheet, block: layout.Text, top: int, sheet: _Sheet) -> None:
        for offset, (label, text) in enumerate(block.rows, start=1):
            row = top + offset
            put_text(ws[f"A{row}"], label)
            ws[f"A{row}"].font = styles.TOTAL
            ws[f"A{row}"].alignment = styles.TOP
            _long_text(ws, sheet, row, text, text)

    def _write_segments(self, ws: Worksheet, block: layout.Segments, top: int, sheet: _Sheet) -> None:
        header = top + 1
        for index, dimension in enumerate(block.dimensions):
            column = "A" if index == 0 else year_column(FIRST_YEAR + index * 3)
            ws[f"{column}{header}"] = f"By {dimension}"
            span = 1 if index == 0 else 3  # three timeline columns: room for the longest name
            for offset in range(span):
                cell = ws.cell(header, column_index_from_string(column) + offset)
                cell.font = styles.HEADER
                cell.fill = styles.HEADER_FILL
            count = len(self.rows_of(dimension))
            self.call(ws, f"{column}{header + 1}:{column}{header + count}",
                      negcoke("SEGMENTS", dimension, live=False))

    def _write_companyfacts(self, ws: Worksheet, block: layout.CompanyFacts, top: int,
                            sheet: _Sheet) -> None:
        header = top + 1
        titles = {"hq_country": "HQ country", "type": "Type", "tier": "Tier",
                  "rank": f"Rank {BASE_YEAR}"}
        # every other timeline column, so facts such as "Petroleum-based" show in full
        columns = {f: get_column_letter(2 + 2 * i) for i, f in enumerate(block.fields)}
        ws[f"A{header}"] = "Company"
        for name, column in columns.items():
            ws[f"{column}{header}"] = titles[name]
        styles.header_row(ws, header, max(columns.values(), key=column_index_from_string))
        rows: dict[str, int] = {}
        for offset, company in enumerate(self.companies, start=1):
            row = header + offset
            rows[company] = row
            put_text(ws[f"A{row}"], company)
            for name, column in columns.items():
                self.call(ws, f"{column}{row}", negcoke("COMPANY", company, name, BASE_YEAR))
                ws[f"{column}{row}"].alignment = styles.LEFT
        for name, column in columns.items():
            self.facts[name] = (ws.title, rows, column)

    def _write_ranking(self, ws: Worksheet, block: layout.Ranking, top: int, sheet: _Sheet) -> None:
        """Compact: company (in the wide column A), rank, base-year figure, and a helper column
        that orders equal ranks as the rows of the rank's CompanyFacts block."""
        assert "rank" in self.facts, "CompanyFacts with the rank must come before Ranking"
        facts_sheet, facts_rows, rank_column = self.facts["rank"]
        placed = self.tables[block.table]
        header = top + 1
        base = year_column(BASE_YEAR)
        ws[f"A{header}"] = "Company"
        ws[f"B{header}"] = "Rank"
        ws[f"D{header}"] = "Order"  # helper: equal ranks ordered as in the facts block
        styles.header_row(ws, header, "D")
        self._year_header(ws[f"C{header}"], BASE_YEAR)
        for column in "BD":
            ws[f"{column}{header}"].alignment = styles.RIGHT
        first, last = min(facts_rows.values()), max(facts_rows.values())
        names = ref(facts_sheet, f"$A${first}:$A${last}", ws.title)
        ranks = ref(facts_sheet, f"${rank_column}${first}:${rank_column}${last}", ws.title)
        order = f"$D${header + 1}:$D${header + len(self.companies)}"
        table_first, table_last = min(placed.rows.values()), max(placed.rows.values())
        values = ref(placed.sheet, f"${base}${table_first}:${base}${table_last}", ws.title)
        labels = ref(placed.sheet, f"$A${table_first}:$A${table_last}", ws.title)
        for k, company in enumerate(self.companies, start=1):
            row = header + k
            own = ref(facts_sheet, f"${rank_column}${facts_rows[company]}", ws.title)
            earlier = ref(facts_sheet, f"${rank_column}${first}:${rank_column}${facts_rows[company] - 1}",
                          ws.title)
            # the k-th facts row takes the position rank + the number of equal ranks above it
            ws[f"D{row}"] = f"={own}" if k == 1 else f"={own}+COUNTIF({earlier},{own})"
            ws[f"D{row}"].font = styles.SUBTITLE
            ws[f"B{row}"] = f"=INDEX({ranks},MATCH({k},{order},0))"
            ws[f"A{row}"] = f"=INDEX({names},MATCH({k},{order},0))"
            ws[f"C{row}"] = f"=INDEX({values},MATCH(A{row},{labels},0))"
            ws[f"C{row}"].number_format = styles.NUMBER_FORMATS["revenue"]

    def _write_concentration(self, ws: Worksheet, block: layout.Concentration, top: int,
                             sheet: _Sheet) -> None:
        placed = self.tables[block.table]
        source = year_column(block.year)
        column = VALUE_COLUMN  # compact: the share beside its label
        rows = [r for s, r in placed.rows.items() if s != "Others"]
        span = ref(placed.sheet, f"{source}{min(rows)}:{source}{max(rows)}", ws.title)
        total = ref(placed.sheet, placed.total(block.year), ws.title)
        metric = layout.METRIC_TITLES[placed.metric].lower()
        for offset, count in enumerate(block.counts, start=1):
            row = top + offset
            ws[f"A{row}"] = f"Top-{count} share of {block.year} {metric}"
            terms = "+".join(f"LARGE({span},{k})" for k in range(1, count + 1))
            ws[f"{column}{row}"] = f"=({terms})/{total}"
            ws[f"{column}{row}"].number_format = styles.NUMBER_FORMATS["share"]
            ws[f"{column}{row}"].font = styles.TOTAL
            if (count == 5 and placed.metric == "capacity"
                    and "Top5CapacityShare" not in self.book.defined_names):
                define_name(self.book, "Top5CapacityShare", ws.title, f"${column}${row}")

    def _write_profiles(self, ws: Worksheet, block: layout.Profiles, top: int, sheet: _Sheet) -> None:
        assert {"hq_country", "type", "tier"} <= set(self.facts), \
            "CompanyFacts with hq_country, type and tier must come before Profiles"
        labels = {"company.volume": "Sales volume (kt)", "company.revenue": "Revenue (US$ million)",
                  "company.price": "Price (US$/t)", "company.revenue.share": "Share of revenue"}
        row = top + 1
        units: list[tuple[int, int]] = []
        for company in self.companies:
            first_row = row
            put_text(ws[f"A{row}"], company)
            ws[f"A{row}"].font = styles.BLOCK_TITLE
            _row_height(ws, sheet, row, BLOCK_TITLE_ROW_HEIGHT)
            for label, name in (("HQ country", "hq_country"), ("Type", "type"), ("Tier", "tier")):
                row += 1
                ws[f"A{row}"] = label
                facts_sheet, facts_rows, column = self.facts[name]
                ws[f"B{row}"] = f"={ref(facts_sheet, f'{column}{facts_rows[company]}', ws.title)}"
            row += 1
            ws[f"A{row}"] = "Business overview"
            ws[f"A{row}"].alignment = styles.TOP
            self.call(ws, f"B{row}", negcoke("COMPANY", company, "overview", BASE_YEAR))
            _long_text(ws, sheet, row, None, self.model.company(company, "overview"))
            row += 1
            ws[f"A{row}"] = "Key news"
            ws[f"A{row}"].alignment = styles.TOP
            self.call(ws, f"B{row}", negcoke("COMPANY", company, "news", BASE_YEAR))
            _long_text(ws, sheet, row, None, self.model.company(company, "news", BASE_YEAR))
            row += 1
            ws[f"A{row}"] = "Sources"  # where the facts above come from
            ws[f"A{row}"].alignment = styles.TOP
            self.call(ws, f"B{row}", negcoke("SOURCE", company, live=False))
            _long_text(ws, sheet, row, None, self.model.source(company))
            ws[f"B{row}"].font = styles.SUBTITLE
            row += 1
            first = self.tables[block.tables[0]]
            ws[f"A{row}"] = "Figures"
            _row_array(ws, row, first, first.header_row)
            styles.header_row(ws, row, year_column(first.end))
            for key in block.tables:
                row += 1
                placed = self.tables[key]
                ws[f"A{row}"] = labels[key]
                _row_array(ws, row, placed, placed.rows[company])
                for year in range(placed.start, placed.end + 1):
                    ws[f"{year_column(year)}{row}"].number_format = styles.NUMBER_FORMATS[placed.metric]
            units.append((first_row if units else top, row))
            row += 2
        self._split_unit(sheet, *units)

    def _write_ratio(self, ws: Worksheet, block: layout.Ratio, top: int, sheet: _Sheet) -> None:
        numerator, denominator = self.tables[block.numerator], self.tables[block.denominator]
        header = top + 1
        ws[f"A{header}"] = DIMENSION_LABELS.get(numerator.dimension, "Segment")
        _row_array(ws, header, numerator, numerator.header_row)
        styles.header_row(ws, header, year_column(numerator.end))
        first, last = year_column(numerator.start), year_column(numerator.end)
        for offset, segment in enumerate(numerator.rows, start=1):
            row = header + offset
            top_row, bottom_row = numerator.rows[segment], denominator.rows[segment]
            ws[f"A{row}"] = f"={ref(numerator.sheet, f'A{top_row}', ws.title)}"
            top_cells = ref(numerator.sheet, f"{first}{top_row}:{last}{top_row}", ws.title)
            bottom = ref(denominator.sheet, f"{first}{bottom_row}:{last}{bottom_row}", ws.title)
            ws[f"{first}{row}"] = ArrayFormula(f"{first}{row}:{last}{row}",
                                               f'=IF({bottom}=0,"n/a",{top_cells}/{bottom})')
            for year in range(numerator.start, numerator.end + 1):
                _rate_style(ws[f"{year_column(year)}{row}"], "share")

    def _write_claims(self, ws: Worksheet, block: layout.Claims, top: int, sheet: _Sheet) -> None:
        """One claim a row: ID and section | claim | figure | note and source, wrapped."""
        header = top + 1
        parts = (("A", "A", "Claim ID and section"), ("B", "F", "Claim"), ("G", "H", "Figure"),
                 ("I", CAGR_COLUMN, "Note and source"))
        for first, _last, title in parts:
            ws[f"{first}{header}"] = title
        styles.header_row(ws, header, CAGR_COLUMN)
        row = header
        units: list[tuple[int, int]] = []
        for claim in self.model.dataset.claims:
            if claim["category"] == "calibration":
                continue
            row += 1
            texts = (f"{claim['id']} {claim['section']}", claim["claim"], claim["figure"],
                     f"{claim['note']} ({claim['source']})")
            height = styles.ROW_HEIGHT
            for (first, last, _title), text in zip(parts, texts, strict=True):
                cell = ws[f"{first}{row}"]
                put_text(cell, text)  # claims.csv text: never a formula
                cell.alignment = styles.WRAP
                cell.font = styles.BODY
                if first != last:
                    ws.merge_cells(f"{first}{row}:{last}{row}")
                height = max(height, styles.text_height(text, styles.span_width(first, last)))
            _row_height(ws, sheet, row, height)
            units.append((top if not units else row, row))  # the header stays with claim one
        self._split_unit(sheet, *units)

    # -- charts -------------------------------------------------------------------------------

    def _place_charts(self, ws: Worksheet, sheet: _Sheet) -> None:
        """The sheet's charts side by side in the rows reserved under the charted blocks."""
        if not sheet.charts or sheet.band is None:
            return
        per_line, _lines = _band_rows(sheet.spec.blocks)
        pair = len(sheet.charts) > 1
        for index, (kind, payload) in enumerate(sheet.charts):
            chart = make_chart(ws, kind, payload, self.model.first_forecast_year())
            chart.width = styles.PAIR_CHART_WIDTH if pair else styles.SINGLE_CHART_WIDTH
            chart.height = styles.BAR_CHART_HEIGHT if kind == "bar" else styles.CHART_HEIGHT
            column = "A" if index % 2 == 0 else year_column(FIRST_YEAR + 5)  # G: 18.4 cm in
            chart.anchor = f"{column}{sheet.band[0] + (index // 2) * per_line}"
            ws.add_chart(chart)
        sheet.units.append(sheet.band)
        sheet.units.sort()

    # -- checks -------------------------------------------------------------------------------

    def write_checks(self, ws: Worksheet) -> None:
        """Checks: every table sums to its Total and agrees with section 2, per year.

        A row per check in plain words: the difference in each year (B:M, in the table's unit;
        shares as fractions), whether it holds in every year (N: TRUE/FALSE, what `check` and
        the master check read) and OK/FAIL in red or green (O)."""
        ws["A1"] = "Checks"
        ws["A1"].font = styles.TITLE
        ws["A2"] = "Master check (TRUE when every check below holds)"
        ws["A2"].font = styles.TOTAL
        ws["A3"] = (f"Each year shows the difference found (the table's unit; shares as fractions; "
                    f"percentiles: the smaller gap, never below 0). A check holds when every "
                    f"difference is within {TOLERANCE} of the figure it compares.")
        ws["A3"].font = styles.SUBTITLE
        header = 4
        timeline_header(ws, header, "Check")
        ws[f"{CAGR_COLUMN}{header}"] = "Holds"
        ws[f"{STATUS_COLUMN}{header}"] = "Status"
        styles.header_row(ws, header, STATUS_COLUMN)
        for column in (CAGR_COLUMN, STATUS_COLUMN):
            ws[f"{column}{header}"].alignment = styles.RIGHT
        row = header
        market = {m: self.tables[f"global.{m}"] for m in ("revenue", "volume", "price", "capacity")}

        def check(label: str, first: str, last: str, difference: str, holds: str,
                  number_format: str = DIFFERENCE_FORMAT) -> None:
            """A row: the per-year `difference` over first..last, `holds` (given the range of
            those differences as {d}) in N."""
            nonlocal row
            row += 1
            ws[f"A{row}"] = label
            ws[f"{first}{row}"] = ArrayFormula(f"{first}{row}:{last}{row}", f"={difference}")
            for column in range(column_index_from_string(first), column_index_from_string(last) + 1):
                ws.cell(row, column).number_format = number_format
            ws[f"{CAGR_COLUMN}{row}"] = ArrayFormula(f"{CAGR_COLUMN}{row}",
                                                     "=" + holds.format(d=f"{first}{row}:{last}{row}"))

        def within(other: str) -> str:
            return f"AND(ABS({{d}})<={TOLERANCE}*IF(ABS({other})>1,ABS({other}),1))"

        for key, placed in self.tables.items():
            if placed.dimension == "global":
                continue
            first, last = year_column(placed.start), year_column(placed.end)

            def span(table: Placed, table_row: int, first: str = first, last: str = last) -> str:
                return ref(table.sheet, f"{first}{table_row}:{last}{table_row}", ws.title)

            totals = span(placed, placed.total_row)
            name = self.table_names[key]
            if placed.metric == "share":
                check(f"{name}: the shares add up to 100%", first, last, f"{totals}-1",
                      f"AND(ABS({{d}})<={TOLERANCE})")
            elif placed.metric != "price":
                parts = "+".join(span(placed, r) for r in placed.rows.values())
                check(f"{name}: the rows add up to the Total", first, last, f"{parts}-{totals}",
                      within(totals))
            if placed.metric in market:
                # a region's countries add up to that region's row in the region table
                if placed.dimension in self.model.segments("region"):
                    target = self.tables[f"region.{placed.metric}"]
                    target_row = target.rows[placed.dimension]
                    number = self.table_names[f"region.{placed.metric}"].split()[0]
                    what = f"{placed.dimension} in {number}"
                else:
                    target = market[placed.metric]
                    target_row = target.rows["Global"]
                    what = self.table_names[f"global.{placed.metric}"]
                total = "average" if placed.metric == "price" else "Total"
                other = span(target, target_row)
                check(f"{name}: the {total} equals {what}", first, last, f"{totals}-{other}",
                      within(other))
        for sheet, first, last, (p_low, p_mid, p_high) in self.percentile_rows:

            def span(table_row: int, first: str = first, last: str = last, sheet: str = sheet) -> str:
                return ref(sheet, f"{first}{table_row}:{last}{table_row}", ws.title)

            lower, upper = f"{span(p_mid)}-{span(p_low)}", f"{span(p_high)}-{span(p_mid)}"
            check(f"{sheet}: P10 <= P50 <= P90 in every year", first, last,
                  f"IF({lower}<{upper},{lower},{upper})", "AND({d}>=0)", styles.NUMBER_FORMATS["revenue"])
        for label, formula in trust.trust_checks(self.calls):  # one cell each: no years
            row += 1
            ws[f"A{row}"] = label
            ws[f"{CAGR_COLUMN}{row}"] = formula
        for check_row in range(header + 1, row + 1):
            ws[f"{CAGR_COLUMN}{check_row}"].number_format = styles.BOOLEAN_FORMAT
            ws[f"{CAGR_COLUMN}{check_row}"].alignment = styles.RIGHT
            status = ws[f"{STATUS_COLUMN}{check_row}"]
            status.value = f'=IFERROR(IF({CAGR_COLUMN}{check_row},"OK","FAIL"),"FAIL")'
            status.alignment = styles.RIGHT
            status.font = styles.TOTAL
        # FALSE, never an error: a stale cache turns the checks' inputs into #N/A
        ws["B2"] = f"=IFERROR(AND({CAGR_COLUMN}{header + 1}:{CAGR_COLUMN}{row}),FALSE)"
        ws["B2"].font = styles.TOTAL
        ws["B2"].number_format = styles.BOOLEAN_FORMAT
        ws["B2"].alignment = styles.LEFT
        ws["C2"] = '=IF(B2,"OK: every check holds","FAIL: see the rows marked FAIL")'
        ws["C2"].font = styles.TOTAL
        contents_link(ws, CONTENTS_LINK_CELL, CONTENTS)
        styles.ok_fail(ws, f"{STATUS_COLUMN}{header + 1}:{STATUS_COLUMN}{row}", "C2")
        define_name(self.book, "MasterCheck", CHECKS, "$B$2")
        _sheet_setup(ws, freeze=f"B{header + 1}")
        ws.column_dimensions["A"].width = CHECK_LABEL_WIDTH
        ws.column_dimensions[STATUS_COLUMN].width = 8
        ws.print_title_rows = f"{header}:{header}"


# ---------------------------------------------------------------------------------------------
# helpers


def _row_array(ws: Worksheet, row: int, placed: Placed, source_row: int) -> None:
    """One array formula copying a table row (years start..end) into `row`."""
    first, last = year_column(placed.start), year_column(placed.end)
    ws[f"{first}{row}"] = ArrayFormula(
        f"{first}{row}:{last}{row}",
        f"={ref(placed.sheet, f'{first}{source_row}:{last}{source_row}', ws.title)}")


def _cagr(first: str, last: str, years: int) -> str:
    """The CAGR as a native formula: "n/a" without a positive start, EXIT_LABEL when the figure
    falls to zero (a company that leaves the market; -100% would read as a growth rate)."""
    return (f'=IF(AND(ISNUMBER({first}),{first}>0),IF({last}=0,"{EXIT_LABEL}",'
            f'({last}/{first})^(1/{years})-1),"n/a")')


def _cagr_header(ws: Worksheet, row: int, column: str = CAGR_COLUMN, short: bool = False) -> None:
    """ "CAGR 2023-30" (short: "CAGR 23-30", for a year-wide column)."""
    cell = ws[f"{column}{row}"]
    cell.value = f"CAGR {BASE_YEAR % 100 if short else BASE_YEAR}-{LAST_YEAR % 100}"
    cell.font = styles.HEADER
    cell.fill = styles.HEADER_FILL
    cell.alignment = styles.RIGHT


def _rate_style(cell: object, kind: str = "rate") -> None:
    """A growth rate or share: percent, right-aligned (so "n/a" lines up with the numbers)."""
    cell.number_format = styles.NUMBER_FORMATS[kind]  # type: ignore[attr-defined]
    cell.alignment = styles.RIGHT  # type: ignore[attr-defined]


def _row_height(ws: Worksheet, sheet: _Sheet | None, row: int, height: float) -> None:
    ws.row_dimensions[row].height = height
    if sheet is not None:
        sheet.heights[row] = height


def _long_text(ws: Worksheet, sheet: _Sheet, row: int, value: object, text: object) -> None:
    """Text across B:N of `row`, wrapped, in a row tall enough for `text` (what it shows)."""
    cell = ws[f"B{row}"]
    if value is not None:
        put_text(cell, value)
    cell.font = styles.BODY
    cell.alignment = styles.WRAP
    ws.merge_cells(f"B{row}:{LAST_COLUMN}{row}")
    _row_height(ws, sheet, row, styles.text_height(text, styles.span_width("B", LAST_COLUMN)))


def _sheet_setup(ws: Worksheet, freeze: str = "B3") -> None:
    """Timeline column widths, panes frozen at `freeze`, no gridlines, the report's page setup.

    Panes are frozen once per sheet: openpyxl adds a topRight and a bottomLeft <selection> at
    each freeze, so a second one leaves 5 selections with duplicate panes, which the schema
    (CT_SheetView: at most 4, one per pane) forbids and Excel "repairs" with a dialog.
    """
    ws.column_dimensions["A"].width = styles.LABEL_WIDTH
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        ws.column_dimensions[year_column(year)].width = styles.YEAR_WIDTH
    ws.column_dimensions[CAGR_COLUMN].width = styles.CAGR_WIDTH
    ws.freeze_panes = freeze
    ws.sheet_view.showGridLines = False
    styles.page_setup(ws)


# ---------------------------------------------------------------------------------------------
# charts


def template_tables(model: Model) -> dict[str, Placed]:
    """Where the template puts each table and share block ("type.revenue", "type.revenue.share")
    for `model`'s segments, without writing a workbook (check compares these cells)."""
    writer = _Writer(model, None)  # type: ignore[arg-type]  # placing needs no workbook
    writer.place([_Sheet(spec) for spec in layout.report_layout(model)])
    return writer.tables


def build_book(model: Model, book: Workbook | None = None) -> Workbook:
    """Write the whole template into `book` (a new workbook when None).

    A given book is the xlwings quickstart: its first sheet becomes Contents (its VBA code name
    stays attached) and its `_xlwings.conf` sheet becomes `xlwings.conf`.
    """
    if book is None:
        book = Workbook()
        contents = book.active
        conf = None
    else:
        contents = book.worksheets[0]
        conf = next((ws for ws in book.worksheets if ws.title.lstrip("_") == CONF), None)
    contents.title = CONTENTS
    writer = _Writer(model, book)
    sheets = [_Sheet(spec) for spec in layout.report_layout(model)]
    writer.place(sheets)
    worksheets = [book.create_sheet(sheet.spec.name) for sheet in sheets]
    assumptions = book.create_sheet(ASSUMPTIONS)
    assumption_rows = write_assumptions(assumptions, model, book)
    for sheet, ws in zip(sheets, worksheets, strict=True):
        writer.write_sheet(sheet, ws)
    # after the report sheets (it reads 8's capacity table), before Checks (which list its calls)
    write_summary(book.create_sheet(SUMMARY, 1), model, writer.call, writer.tables,
                  writer.scenario_rows)
    write_sources(book.create_sheet(SOURCES), model, assumption_rows)
    writer.write_checks(book.create_sheet(CHECKS))
    if conf is None:
        conf = book.create_sheet(CONF)
    else:
        conf.title = CONF
        book.move_sheet(conf, len(book.worksheets) - 1 - book.worksheets.index(conf))
    set_conf(conf)
    cache = book.create_sheet(CACHE, len(book.worksheets) - 1)
    titles = {sheet.spec.name: sheet.spec.title for sheet in sheets}
    write_contents(contents, writer.book, writer.call, [
        (ws.title, titles.get(ws.title, SHEET_NOTES.get(ws.title, "")))
        for ws in book.worksheets[1:] if ws.title not in (CACHE, CONF)])
    write_cache(cache)
    trust.write_stamp_cells(cache, book)
    link_back(book, CONTENTS, (CACHE, CONF))
    book.active = 0
    return book
