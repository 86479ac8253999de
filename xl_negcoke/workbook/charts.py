"""Native charts of the template: lines, stacked columns, bars, pies, the fan and the tornado.

Each chart reads the cells a block wrote; `build.py` decides where it sits.
"""

from __future__ import annotations

from openpyxl.chart import AreaChart, BarChart, LineChart, PieChart, Reference
from openpyxl.chart.data_source import NumFmt
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.legend import LegendEntry
from openpyxl.chart.marker import DataPoint
from openpyxl.utils.cell import column_index_from_string
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.model import BASE_YEAR, FIRST_YEAR, LAST_YEAR
from xl_negcoke.workbook import layout, styles
from xl_negcoke.workbook.formula import quote_sheet, year_column


def _risk_chart(ws: Worksheet, kind: str, payload: object) -> BarChart | AreaChart:
    """The fan chart (P10-P90 band around the base line) and the tornado."""
    if kind == "fan":
        block, header, rows, base_row, band_row = payload  # type: ignore[misc]
        first = column_index_from_string(year_column(block.start))
        last = column_index_from_string(year_column(LAST_YEAR))
        low = rows[f"P{block.percentiles[0]}"]
        area = AreaChart()
        area.grouping = "stacked"
        for row in (low, band_row):
            area.add_data(Reference(ws, min_col=1, max_col=last, min_row=row, max_row=row),
                          from_rows=True, titles_from_data=True)
        # values start in the first forecast column; the label column gives the series name
        for series, row in zip(area.series, (low, band_row), strict=True):
            series.val.numRef.f = f"{quote_sheet(ws.title)}!${year_column(block.start)}${row}:" \
                                  f"${year_column(LAST_YEAR)}${row}"
        area.series[0].graphicalProperties.noFill = True
        area.series[0].graphicalProperties.line.noFill = True
        area.series[1].graphicalProperties.solidFill = "BDD7EE"
        area.series[1].graphicalProperties.line.noFill = True
        categories = Reference(ws, min_col=first, max_col=last, min_row=header, max_row=header)
        area.set_categories(categories)
        line = LineChart()
        for row in (base_row, rows[f"P{block.percentiles[1]}"]):
            line.add_data(Reference(ws, min_col=1, max_col=last, min_row=row, max_row=row),
                          from_rows=True, titles_from_data=True)
            line.series[-1].val.numRef.f = f"{quote_sheet(ws.title)}!${year_column(block.start)}" \
                                           f"${row}:${year_column(LAST_YEAR)}${row}"
            line.series[-1].smooth = False
        line.series[1].graphicalProperties.line.dashStyle = "dash"
        line.set_categories(categories)
        area += line
        # the band's invisible base (P10) has no swatch: it leaves the legend, the band says it
        area.legend.legendEntry = [LegendEntry(idx=0, delete=True)]
        area.title = styles.chart_title(f"Global revenue, P{block.percentiles[0]}-"
                                        f"P{block.percentiles[-1]} band and base")
        styles.style_axes(area, layout.UNITS[block.metric])
        return area
    block, header, last_row = payload  # type: ignore[misc]
    bars = BarChart()
    bars.type = "bar"
    bars.grouping = "clustered"
    bars.overlap = 100
    bars.gapWidth = 40
    data = Reference(ws, min_col=8, max_col=9, min_row=header, max_row=last_row)  # H:I
    bars.add_data(data, titles_from_data=True)
    bars.set_categories(Reference(ws, min_col=1, min_row=header + 1, max_row=last_row))
    bars.x_axis.scaling.orientation = "maxMin"  # the largest swing at the top
    bars.x_axis.tickLblPos = "low"  # driver names left of the bars, not across them
    bars.y_axis.crosses = "max"
    bars.title = styles.chart_title(f"Swing of {block.segment} {block.year} {block.metric} around the "
                                    "base (tornado)")
    styles.style_axes(bars, layout.UNITS[block.metric])
    return bars


# series colours of the timeline charts; forecast points take a lighter tint of the same colour
PALETTE = ("1F3864", "2E75B6", "C55A11", "548235", "7F6000", "7030A0", "BF9000", "7F7F7F",
           "2F5597", "843C0C", "385723", "595959", "A5A5A5", "9E480E")
FORECAST_TINT = 0.55  # share of white mixed into a forecast point's colour


def _tint(colour: str, white: float = FORECAST_TINT) -> str:
    channels = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return "".join(f"{round(c + (255 - c) * white):02X}" for c in channels)


def _mark_forecast(chart: BarChart | LineChart, kind: str, start: int, end: int,
                   first_forecast: int) -> str:
    """Style the forecast years' points (dashed lines, lighter columns); return the title's
    note saying so ("" when the chart shows no forecast year)."""
    if first_forecast > end:
        return ""
    first_index = max(first_forecast - start, 0)
    for number, series in enumerate(chart.series):
        colour = PALETTE[number % len(PALETTE)]
        if kind == "line":
            series.graphicalProperties.line.solidFill = colour
        else:
            series.graphicalProperties.solidFill = colour
            series.graphicalProperties.line.solidFill = colour
        for index in range(first_index, end - start + 1):
            point = DataPoint(idx=index)
            # Excel dashes a forecast segment; LibreOffice and Gnumeric draw it solid (the title
            # says where the forecast starts). No point markers: they crash Gnumeric 1.12.
            if kind == "line":
                point.graphicalProperties.line.solidFill = colour
                point.graphicalProperties.line.width = 28575
                point.graphicalProperties.line.dashStyle = "sysDash"
            else:
                point.graphicalProperties.solidFill = _tint(colour)
                point.graphicalProperties.line.solidFill = _tint(colour)
            series.dPt.append(point)
    # the header cells show 2025F; the axis shows plain years (it would take one cell's letter)
    chart.x_axis.numFmt = NumFmt(formatCode="0", sourceLinked=False)
    return f" (forecast from {first_forecast}: {'dashed' if kind == 'line' else 'lighter'})"


def make_chart(ws: Worksheet, kind: str, payload: object, first_forecast: int = LAST_YEAR + 1
               ) -> BarChart | LineChart | PieChart:
    """The chart of a block; timeline charts mark the years from `first_forecast` on."""
    if kind in ("fan", "tornado"):
        return _risk_chart(ws, kind, payload)  # type: ignore[return-value]
    if kind == "pie":
        block, first, last, column = payload  # type: ignore[misc]
        pie = PieChart()
        base = column_index_from_string(column)
        pie.add_data(Reference(ws, min_col=base, min_row=first, max_row=last), titles_from_data=False)
        pie.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
        dimension = block.title.split(" by ", 1)[1].split(",")[0]
        pie.title = styles.chart_title(f"Share of {BASE_YEAR} revenue by {dimension}")
        pie.dataLabels = DataLabelList(showPercent=True, showVal=False, showCatName=False,
                                       showSerName=False, showLegendKey=False, numFmt="0%")
        pie.dataLabels.txPr = styles.rich_text(styles.CHART_TEXT_SIZE)
        pie.legend.txPr = styles.rich_text(styles.CHART_TEXT_SIZE)
        return pie
    block, placed = payload  # type: ignore[misc]
    last_col = placed.end - FIRST_YEAR + 2
    rows = list(placed.rows.values())
    unit = layout.UNITS[placed.metric]
    chart: BarChart | LineChart
    if kind == "line":
        chart = LineChart()
    else:
        chart = BarChart()
        chart.type = "col" if kind == "stacked" else "bar"
        chart.gapWidth = 60
    if kind == "bar":  # one bar per company for the base year, the largest-revenue first
        base = BASE_YEAR - FIRST_YEAR + 2
        chart.add_data(Reference(ws, min_col=base, min_row=min(rows), max_row=max(rows)),
                       titles_from_data=False)
        chart.set_categories(Reference(ws, min_col=1, min_row=min(rows), max_row=max(rows)))
        chart.legend = None
        chart.x_axis.scaling.orientation = "maxMin"  # first row at the top
        chart.y_axis.crosses = "max"  # and the value axis stays at the bottom
        title = f"{block.title.split(' ', 1)[1]}, {BASE_YEAR}"
    else:
        data = Reference(ws, min_col=1, max_col=last_col, min_row=min(rows), max_row=max(rows))
        chart.add_data(data, from_rows=True, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=2, max_col=last_col, min_row=placed.header_row,
                                       max_row=placed.header_row))
        title = block.title.split(" ", 1)[1]
    if kind == "stacked":
        chart.grouping = "stacked"
        chart.overlap = 100
    for series in chart.series:
        if kind == "line":
            series.smooth = False
            series.graphicalProperties.line.width = 28575  # 2.25 pt
    if kind != "bar":
        title += _mark_forecast(chart, kind, placed.start, placed.end, first_forecast)
    chart.title = styles.chart_title(title)
    styles.style_axes(chart, unit)
    return chart


def scenario_lines(sheet: str, header_row: int, rows: dict[str, int], metric: str,
                   first_forecast: int = LAST_YEAR + 1) -> LineChart:
    """One line per scenario over the timeline, from the rows of a Scenarios block on `sheet`
    (the label column names each line)."""
    chart = LineChart()
    sheet_name = quote_sheet(sheet)
    first, last = year_column(FIRST_YEAR), year_column(LAST_YEAR)
    for row in rows.values():
        chart.add_data(Reference(range_string=f"{sheet_name}!$A${row}:${last}${row}"),
                       from_rows=True, titles_from_data=True)
    chart.set_categories(Reference(range_string=f"{sheet_name}!${first}${header_row}:"
                                                f"${last}${header_row}"))
    for series in chart.series:
        series.smooth = False
        series.graphicalProperties.line.width = 28575  # 2.25 pt
    note = _mark_forecast(chart, "line", FIRST_YEAR, LAST_YEAR, first_forecast)
    chart.title = styles.chart_title(f"Global {layout.METRIC_TITLES[metric].lower()} by scenario"
                                     f"{note}")
    styles.style_axes(chart, layout.UNITS[metric])
    return chart
