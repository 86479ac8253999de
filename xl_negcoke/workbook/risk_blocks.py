"""The blocks of the Scenarios & Risk sheet: one figure in each scenario, the percentile fan and
the tornado (a mixin of build's writer, which provides `call`, `scenario_rows`,
`percentile_rows` and `drivers`)."""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.model import FIRST_YEAR, LAST_YEAR
from xl_negcoke.workbook import layout, styles
from xl_negcoke.workbook.formula import negcoke, put_text, year_column
from xl_negcoke.workbook.sheets import UNIT_FORMATS

#: Where NEGCOKE_SENSITIVITY's array stands (driver, low, high, output at low, output at high,
#: swing) and the drivers' key | label | format (right of the printed timeline, grouped).
TORNADO_ARRAY_COLUMNS = ("W", "X", "Y", "Z", "AA", "AB")
TORNADO_LOOKUP_COLUMNS = ("AD", "AE", "AF", "AG")
LABEL_CHARS = 1.1  # a name's wrap: 10 pt Calibri fits this many characters per unit of width
#: Units as the tornado's unit column says them.
UNIT_NAMES = {"rate": "%", "share": "%", "share/yr": "pts/yr", "x": "multiple"}


def timeline_header(ws: Worksheet, row: int, label: str) -> None:
    """A header row with `label` and the years 2019-2030 in their timeline columns."""
    ws[f"A{row}"] = label
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        ws[f"{year_column(year)}{row}"] = year


class RiskBlocks:
    """Writers of the Scenarios, Fan and Tornado blocks."""

    call: Any
    scenario_rows: dict[str, int]
    percentile_rows: list[tuple[str, str, str, tuple[int, ...]]]
    model: Any

    def tornado_drivers(self, block: layout.Tornado) -> int:
        """How many drivers move the tornado's output (the others are left out of its table).
        The tornado does not depend on the draws, so one draw tells."""
        simulation = self.model.simulate(1, 0)
        return len(simulation.sensitivity(block.segment, block.year, block.metric))

    def _write_scenarios(self, ws: Worksheet, block: layout.Scenarios, top: int,
                         sheet: Any) -> None:
        header = top + 1
        timeline_header(ws, header, "Scenario")
        styles.header_row(ws, header, year_column(LAST_YEAR))
        for offset, scenario in enumerate(block.scenarios, start=1):
            row = header + offset
            put_text(ws[f"A{row}"], scenario.capitalize())
            for year in range(FIRST_YEAR, LAST_YEAR + 1):
                cell = f"{year_column(year)}{row}"
                self.call(ws, cell, negcoke("FORECAST", block.segment, year, block.metric, scenario,
                                            scenario=False))
                ws[cell].number_format = styles.NUMBER_FORMATS[block.metric]
        self.scenario_rows = {s: header + i for i, s in enumerate(block.scenarios, start=1)}

    def _write_fan(self, ws: Worksheet, block: layout.Fan, top: int, sheet: Any) -> None:
        header = top + 1
        first, last = year_column(block.start), year_column(LAST_YEAR)
        ws[f"A{header}"] = "Percentile"
        for year in range(block.start, LAST_YEAR + 1):
            ws[f"{year_column(year)}{header}"] = year
        styles.header_row(ws, header, last)
        rows: dict[str, int] = {}
        for offset, percentile in enumerate(block.percentiles, start=1):
            row = header + offset
            rows[f"P{percentile}"] = row
            ws[f"A{row}"] = f"P{percentile}"
            for year in range(block.start, LAST_YEAR + 1):
                cell = f"{year_column(year)}{row}"
                self.call(ws, cell, negcoke("RANGE", block.segment, year, percentile, block.metric,
                                            scenario=False))
                ws[cell].number_format = styles.NUMBER_FORMATS[block.metric]
        base_row, band_row = header + len(block.percentiles) + 1, header + len(block.percentiles) + 2
        rank_row = band_row + 1
        ws[f"A{base_row}"] = "Base scenario"
        ws[f"A{band_row}"] = f"P{block.percentiles[0]}-P{block.percentiles[-1]} band (width)"
        ws[f"A{rank_row}"] = "Base scenario's percentile"
        for year in range(block.start, LAST_YEAR + 1):
            cell = f"{year_column(year)}{rank_row}"
            self.call(ws, cell, negcoke("RANGE", block.segment, year, "base", block.metric,
                                        scenario=False))
            ws[cell].number_format = "0.0"
        low, high = rows[f"P{block.percentiles[0]}"], rows[f"P{block.percentiles[-1]}"]
        for year in range(block.start, LAST_YEAR + 1):
            column = year_column(year)
            if "base" in self.scenario_rows:  # the Scenarios block above holds the base line
                ws[f"{column}{base_row}"] = f"={column}{self.scenario_rows['base']}"
            else:
                self.call(ws, f"{column}{base_row}", negcoke(
                    "FORECAST", block.segment, year, block.metric, "base", scenario=False))
            ws[f"{column}{band_row}"] = f"={column}{high}-{column}{low}"
            for row in (base_row, band_row):
                ws[f"{column}{row}"].number_format = styles.NUMBER_FORMATS[block.metric]
        self.percentile_rows.append((ws.title, first, last, tuple(rows.values())))
        sheet.charts.append(("fan", (block, header, rows, base_row, band_row)))

    def _write_tornado(self, ws: Worksheet, block: layout.Tornado, top: int, sheet: Any) -> None:
        """The readable tornado (A:I: the driver's name and unit, its P10 and P90 formatted by
        unit, the outputs and the swings) reads NEGCOKE_SENSITIVITY's array, which stands in
        grouped columns right of the printed timeline with each driver's name, unit and format."""
        header = top + 1
        drivers = self.tornado_drivers(block)
        last_row = header + drivers
        raw, lookup = TORNADO_ARRAY_COLUMNS, TORNADO_LOOKUP_COLUMNS
        self.call(ws, f"{raw[0]}{header}:{raw[-1]}{last_row}",
                  negcoke("SENSITIVITY", block.segment, block.year, block.metric, scenario=False))
        table = f"${lookup[0]}${header + 1}:${lookup[-1]}${last_row}"
        frame = self.model.simulate(1, 0).sensitivity(block.segment, block.year, block.metric)
        described = self.model.assumptions().set_index("key")
        labels: list[str] = []
        for row, key in enumerate(frame["driver"], start=header + 1):
            unit = str(described.at[key, "unit"]) if key in described.index else ""
            description = str(described.at[key, "description"]) if key in described.index else key
            label = layout.driver_label(description)
            labels.append(label)
            for column, text in zip(lookup, (key, label, UNIT_NAMES.get(unit, unit),
                                             UNIT_FORMATS.get(unit, "#,##0.0##")), strict=True):
                put_text(ws[f"{column}{row}"], text)
        metric = block.metric.capitalize()
        titles = {"A": f'=IF({raw[0]}{header}="driver","Driver",{raw[0]}{header})', "B": "Unit",
                  "C": "Low value (P10)", "D": "High value (P90)", "E": f"{metric} at low",
                  "F": f"{metric} at high", "G": "Swing", "H": "Low - base", "I": "High - base"}
        for column, title in titles.items():
            ws[f"{column}{header}"] = title
        styles.header_row(ws, header, "I")
        for column in "CDEFGHI":
            ws[f"{column}{header}"].alignment = styles.HEADER_WRAP
        heights = {header: 2 * styles.LINE_HEIGHT + 4}
        line = max(styles.text_height(label, styles.LABEL_WIDTH * LABEL_CHARS) for label in labels)
        heights.update({row: line for row in range(header + 1, last_row + 1)})
        for row, height in heights.items():
            ws.row_dimensions[row].height = sheet.heights[row] = height
        base = f"E{top + 2 + drivers}"  # under the outputs at low and high
        ws[f"A{top + 2 + drivers}"] = f"Base scenario, {block.year} ({layout.UNITS[block.metric]})"
        self.call(ws, base, negcoke("FORECAST", block.segment, block.year, block.metric, "base",
                                    scenario=False))
        ws[base].number_format = styles.NUMBER_FORMATS[block.metric]
        absolute = f"${base[0]}${base[1:]}"
        key_of, low, high, at_low, at_high, swing = raw
        for row in range(header + 1, last_row + 1):
            ws[f"A{row}"] = f"=IFERROR(VLOOKUP({key_of}{row},{table},2,FALSE),{key_of}{row})"
            ws[f"A{row}"].alignment = styles.WRAP
            ws[f"B{row}"] = f'=IFERROR(VLOOKUP({key_of}{row},{table},3,FALSE),"")'
            ws[f"B{row}"].alignment = styles.TOP
            for column, source in (("C", low), ("D", high)):
                ws[f"{column}{row}"] = (f"=IFERROR(TEXT({source}{row},VLOOKUP({key_of}{row},{table},"
                                        f"4,FALSE)),{source}{row})")
                ws[f"{column}{row}"].alignment = styles.TOP_RIGHT
            for column, source in (("E", at_low), ("F", at_high), ("G", swing)):
                ws[f"{column}{row}"] = f"={source}{row}"
            ws[f"H{row}"] = f"={at_low}{row}-{absolute}"
            ws[f"I{row}"] = f"={at_high}{row}-{absolute}"
            for column in "EFGHI":
                ws[f"{column}{row}"].number_format = styles.NUMBER_FORMATS[block.metric]
                ws[f"{column}{row}"].alignment = styles.TOP
            for column in (low, high):
                ws[f"{column}{row}"].number_format = "0.000"
        for column in (*raw, *lookup):  # the function's output: grouped, shown with the + button
            ws.column_dimensions[column].outlineLevel = 1
            ws.column_dimensions[column].hidden = True
        ws[f"{raw[0]}{top}"] = "NEGCOKE_SENSITIVITY: the function's output the table at left reads"
        ws[f"{raw[0]}{top}"].font = styles.SUBTITLE
        ws[f"{lookup[0]}{top}"] = "Each driver's name, unit and number format"
        ws[f"{lookup[0]}{top}"].font = styles.SUBTITLE
        sheet.charts.append(("tornado", (block, header, last_row)))
