"""The Summary sheet (right after Contents): the headline on one printed page.

S.1 global revenue, sales volume and average price in the base year, the latest actual year and
the last forecast year with both CAGRs; S.2 the key shares; S.3 the scenarios side by side; S.4
the simulated range of the last year's revenue. Every number is a NEGCOKE_* call (S.1 and S.2
take the Scenario cell, S.3 and S.4 name their scenario) or a native formula on model cells, and
each carries the model's number for it (`Figure.expected`, the same model API as
`xl-negcoke summary`), so `check` compares the sheet with the model cell by cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.model import BASE_YEAR, LAST_YEAR, Model
from xl_negcoke.workbook import layout, styles, trust
from xl_negcoke.workbook.charts import make_chart, scenario_lines
from xl_negcoke.workbook.contents import CONTENTS_LINK_CELL, contents_link
from xl_negcoke.workbook.formula import SCENARIO_NAME, negcoke, ref

if TYPE_CHECKING:
    from xl_negcoke.workbook.build import Placed

SUMMARY = "Summary"
SUMMARY_NOTE = "Executive summary: the headline figures and the scenarios side by side"
LATEST_ACTUAL_YEAR = BASE_YEAR + 1  # as in `xl-negcoke summary` and 2.1
TOP_COMPANIES = 5
DATASET_ROW = 6
FIRST_SECTION_ROW = 8
LAST_COLUMN = "N"  # one page wide, on the same grid as the report sheets
CHART_COLUMN = "H"  # the charts stand right of the tables, one above the other
CHART_WIDTH, CHART_HEIGHT = 15.5, 7.0  # cm: H:N is 15.7 cm wide
VOLUME_TABLE = "application.volume"  # the second chart: sales volume by application
PERCENTILE_FORMAT = '"P"0'
#: The sheet's text for where the numbers come from (the scenario and dataset cells follow it).
ABOUT = ("The headline of the Negative Coke Market model (Global Outlook and Forecast 2024-2030): "
         "global revenue, sales volume and average price, key shares, and the scenarios side by "
         "side. Every number is a live NEGCOKE_* formula or a native formula on those cells: "
         "switch the scenario or edit an input on Assumptions and it follows.")

Expected = Callable[[Model, str], float]  # (model, the workbook's scenario) -> the model's number


@dataclass(frozen=True)
class Figure:
    """One number of the summary: its formula, format and the model's number for it."""

    formula: str
    number_format: str
    expected: Expected
    call: bool = True  # a NEGCOKE_* call (written with its Cache fallback), else a native formula


@dataclass(frozen=True)
class Section:
    """A titled block: a header row (text, or a year shown 2023A), then a label and a figure per
    column from B on each row, and an optional note under it."""

    title: str
    header: tuple[str | int, ...]
    rows: tuple[tuple[str, tuple[Figure, ...]], ...]
    note: str = ""

    def height(self) -> int:
        return 2 + len(self.rows) + (1 if self.note else 0)


@dataclass(frozen=True)
class Placement:
    """Where a figure stands and what it is (for `check`'s messages)."""

    cell: str
    what: str
    figure: Figure


def _forecast(segment: str, year: int, metric: str, scenario: str | None = None) -> Figure:
    named = scenario is not None
    return Figure(negcoke("FORECAST", segment, year, metric, *([scenario] if named else []),
                          scenario=not named),
                  styles.NUMBER_FORMATS[metric],
                  lambda model, selected: model.value(segment, year, metric, scenario or selected))


def _cagr(segment: str, start: int, end: int, metric: str, scenario: str | None = None) -> Figure:
    named = scenario is not None
    return Figure(negcoke("CAGR", segment, start, end, metric, *([scenario] if named else []),
                          scenario=not named),
                  styles.NUMBER_FORMATS["rate"],
                  lambda model, selected: model.cagr(segment, start, end, metric, scenario or selected))


def _share(segment: str, year: int, metric: str) -> Figure:
    return Figure(negcoke("SHARE", segment, year, metric), styles.NUMBER_FORMATS["share"],
                  lambda model, selected: model.share(segment, year, metric, selected))


def _top_share(capacity: Placed, year: int) -> Figure:
    """The top companies' share of capacity: native LARGE over the company rows of 8's table
    (Others is not a company), as 3.6 and 8.3 compute it."""
    rows = [r for s, r in capacity.rows.items() if s != "Others"]
    column = capacity.cell(next(iter(capacity.rows)), year)[0]
    span = ref(capacity.sheet, f"{column}{min(rows)}:{column}{max(rows)}", SUMMARY)
    total = ref(capacity.sheet, capacity.total(year), SUMMARY)
    terms = "+".join(f"LARGE({span},{k})" for k in range(1, TOP_COMPANIES + 1))
    return Figure(f"=({terms})/{total}", styles.NUMBER_FORMATS["share"],
                  lambda model, selected: model.concentration(TOP_COMPANIES, year, "capacity",
                                                              selected), call=False)


def _range(percentile: int | str) -> Figure:
    """NEGCOKE_RANGE of the last year's revenue (the draws are around the base case)."""
    base = percentile == "base"

    def expected(model: Model, _selected: str) -> float:
        from xl_negcoke.udfs import EXCEL_DRAWS, EXCEL_SEED  # the draws the function makes

        simulation = model.simulate(EXCEL_DRAWS, EXCEL_SEED)
        if base:
            return simulation.base_percentile("Global", LAST_YEAR, "revenue")
        return simulation.percentile("Global", LAST_YEAR, float(percentile), "revenue")

    return Figure(negcoke("RANGE", "Global", LAST_YEAR, percentile, "revenue", scenario=False),
                  PERCENTILE_FORMAT if base else styles.NUMBER_FORMATS["revenue"], expected)


def sections(model: Model, capacity: Placed) -> tuple[Section, ...]:
    """The summary's blocks for `model`'s scenarios; `capacity` is the company capacity table."""
    years = (BASE_YEAR, LATEST_ACTUAL_YEAR, LAST_YEAR)
    spans = ((BASE_YEAR, LAST_YEAR), (LATEST_ACTUAL_YEAR, LAST_YEAR))

    def headline(label: str, metric: str) -> tuple[str, tuple[Figure, ...]]:
        return label, (*(_forecast("Global", y, metric) for y in years),
                       *(_cagr("Global", a, b, metric) for a, b in spans))

    # the dataset's scenarios: a scenario of the workbook's own rows is not a column (the
    # selector shows it in S.1 and S.2)
    scenarios = ("base", *(name for name in model.dataset.scenarios if name != "base"))
    short = f"{LAST_YEAR % 100:02d}"
    return (
        Section("S.1 Global market in the selected scenario",
                ("Figure", *years, *(f"CAGR {a % 100:02d}-{short}" for a, _b in spans)), (
                    headline("Revenue (US$ million)", "revenue"),
                    headline("Sales volume (kt)", "volume"),
                    headline("Average price (US$/t)", "price"),
                )),
        Section("S.2 Key shares in the selected scenario", ("Share", *years), (
            ("Power Battery share of sales volume", tuple(_share("Power Battery", y, "volume")
                                                         for y in years)),
            ("China share of revenue", tuple(_share("China", y, "revenue") for y in years)),
            (f"Top-{TOP_COMPANIES} companies' share of capacity",
             tuple(_top_share(capacity, y) for y in years)),
        )),
        Section("S.3 Scenarios side by side (each column names its scenario)",
                ("Figure", *(s.capitalize() for s in scenarios)), (
                    (f"Revenue {LAST_YEAR} (US$ million)",
                     tuple(_forecast("Global", LAST_YEAR, "revenue", s) for s in scenarios)),
                    *((f"Revenue CAGR {a}-{b}", tuple(_cagr("Global", a, b, "revenue", s)
                                                      for s in scenarios)) for a, b in spans),
                    (f"Sales volume {LAST_YEAR} (kt)",
                     tuple(_forecast("Global", LAST_YEAR, "volume", s) for s in scenarios)),
                    *((f"Volume CAGR {a}-{b}", tuple(_cagr("Global", a, b, "volume", s)
                                                     for s in scenarios)) for a, b in spans),
                )),
        Section(f"S.4 Revenue {LAST_YEAR}: the simulated range around the base case",
                ("Figure", "P10", "P50", "P90", "Base case", "Base sits at"), (
                    (f"Revenue {LAST_YEAR} (US$ million)",
                     (_range(10), _range(50), _range(90),
                      _forecast("Global", LAST_YEAR, "revenue", "base"), _range("base"))),
                ), note="P10, P50, P90: percentiles of the simulated market (the uncertain drivers "
                        "drawn around the base case); Base sits at: the percentile the base case sits "
                        "at. Drivers and tornadoes: the Scenarios & Risk sheet."),
    )


def placements(model: Model, capacity: Placed) -> list[Placement]:
    """Every figure of the sheet with its cell and a description."""
    out: list[Placement] = []
    top = FIRST_SECTION_ROW
    for section in sections(model, capacity):
        for offset, (label, figures) in enumerate(section.rows, start=2):
            for index, figure in enumerate(figures):
                out.append(Placement(f"{get_column_letter(2 + index)}{top + offset}",
                                     f"{label}, {section.header[1 + index]}", figure))
        top += section.height() + 1
    return out


def write_summary(ws: Worksheet, model: Model, call: Callable[[Worksheet, str, str], None],
                  tables: dict[str, Placed], scenario_rows: dict[str, int]) -> None:
    """Write the Summary sheet; `call` writes a NEGCOKE_* call with its Cache fallback, `tables`
    are the placed tables and `scenario_rows` the rows of the Scenarios block (Scenarios & Risk),
    which the charts read."""
    capacity = tables["company.capacity"]
    ws["A1"] = "Executive summary"
    ws["A1"].font = styles.TITLE
    ws.row_dimensions[1].height = 24.0
    ws["A2"] = (f'="Scenario: "&{SCENARIO_NAME}&"  |  Negative Coke Market, Global Outlook and '
                f'Forecast 2024-2030  |  {trust.YEAR_LEGEND}"')
    ws["A2"].font = styles.SUBTITLE
    contents_link(ws, CONTENTS_LINK_CELL)  # where the report sheets have theirs
    trust.write_banner(ws)
    ws["A4"] = "What this is"
    ws["A4"].font = styles.TOTAL
    ws["A4"].alignment = styles.TOP
    ws["B4"] = ABOUT
    ws["B4"].font = styles.BODY
    ws["B4"].alignment = styles.WRAP
    ws.merge_cells(f"B4:{LAST_COLUMN}4")
    ws.row_dimensions[4].height = styles.text_height(ABOUT, styles.span_width("B", LAST_COLUMN))
    ws["A5"] = "Scenario (selector on Assumptions)"
    ws["B5"] = f"={SCENARIO_NAME}"
    ws["A6"] = "Dataset"
    call(ws, f"B{DATASET_ROW}", negcoke("INFO", "dataset_id", live=False))
    for row in (5, 6):
        ws[f"A{row}"].font = styles.TOTAL
        ws[f"B{row}"].font = styles.TOTAL
        ws[f"B{row}"].alignment = styles.LEFT
    top = FIRST_SECTION_ROW
    for section in sections(model, capacity):
        _write_section(ws, model, call, section, top)
        top += section.height() + 1
    ws.column_dimensions["A"].width = styles.LABEL_WIDTH
    for index in range(2, 14):
        ws.column_dimensions[get_column_letter(index)].width = styles.YEAR_WIDTH
    ws.column_dimensions[LAST_COLUMN].width = styles.CAGR_WIDTH
    ws.sheet_view.showGridLines = False
    styles.page_setup(ws)
    last_row = max(top - 2, _write_charts(ws, model, tables, scenario_rows))
    ws.print_area = f"A1:{LAST_COLUMN}{last_row}"


def _write_charts(ws: Worksheet, model: Model, tables: dict[str, Placed],
                  scenario_rows: dict[str, int]) -> int:
    """Revenue by scenario and sales volume by application, right of S.1-S.4; returns the last
    row they cover."""
    first_forecast = model.first_forecast_year()
    charts = []
    if scenario_rows:
        charts.append(scenario_lines(layout.RISK_SHEET, min(scenario_rows.values()) - 1,
                                     scenario_rows, "revenue", first_forecast))
    placed = tables[VOLUME_TABLE]
    block = next(b for sheet in layout.report_layout(model) for b in sheet.blocks
                 if isinstance(b, layout.Table) and b.key == VOLUME_TABLE)
    charts.append(make_chart(ws.parent[placed.sheet], "stacked", (block, placed), first_forecast))
    rows_per_chart = math.ceil(CHART_HEIGHT / 2.54 * 72 / styles.ROW_HEIGHT) + 1
    row = FIRST_SECTION_ROW
    for chart in charts:
        chart.width, chart.height = CHART_WIDTH, CHART_HEIGHT
        chart.anchor = f"{CHART_COLUMN}{row}"
        ws.add_chart(chart)
        row += rows_per_chart
    return row - 2


def _write_section(ws: Worksheet, model: Model, call: Callable[[Worksheet, str, str], None],
                   section: Section, top: int) -> None:
    ws.cell(top, 1, section.title).font = styles.BLOCK_TITLE
    ws.row_dimensions[top].height = 17.0
    header = top + 1
    last = get_column_letter(len(section.header))
    for index, title in enumerate(section.header, start=1):
        cell = ws.cell(header, index, title)
        if isinstance(title, int):  # a year: 2023A, 2030F (the year stays a number)
            cell.number_format = trust.year_format(model.status(title))
        if index > 1:
            cell.alignment = styles.RIGHT
    styles.header_row(ws, header, last)
    for offset, (label, figures) in enumerate(section.rows, start=1):
        row = header + offset
        ws.cell(row, 1, label)
        for index, figure in enumerate(figures, start=2):
            coordinate = f"{get_column_letter(index)}{row}"
            if figure.call:
                call(ws, coordinate, figure.formula)
            else:
                ws[coordinate] = figure.formula
            cell = ws[coordinate]
            cell.number_format = figure.number_format
            cell.alignment = styles.RIGHT
            title = section.header[index - 1]
            if isinstance(title, int) and model.status(title) == "forecast":
                cell.fill = trust.FORECAST_FILL
    if section.note:  # wrapped left of the charts
        row = header + len(section.rows) + 1
        cell = ws.cell(row, 1, section.note)
        cell.font = styles.SUBTITLE
        cell.alignment = styles.WRAP
        last_text_column = get_column_letter(column_index_from_string(CHART_COLUMN) - 1)
        ws.merge_cells(f"A{row}:{last_text_column}{row}")
        ws.row_dimensions[row].height = styles.text_height(section.note,
                                                           styles.span_width("A", last_text_column))

