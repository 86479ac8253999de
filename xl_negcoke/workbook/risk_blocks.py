"""The blocks of the Scenarios & Risk sheet: one figure in each scenario, the percentile fan and
the tornado (a mixin of build's writer, which provides `call`, `scenario_rows`,
`percentile_rows` and `drivers`)."""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.model import FIRST_YEAR, LAST_YEAR
from xl_negcoke.workbook import layout, styles
from xl_negcoke.workbook.formula import negcoke, put_text, year_column


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
        ws[f"A{band_row}"] = f"Band P{block.percentiles[-1]} - P{block.percentiles[0]}"
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
        header = top + 1
        drivers = self.tornado_drivers(block)
        last_row = header + drivers
        self.call(ws, f"A{header}:F{last_row}", negcoke("SENSITIVITY", block.segment, block.year,
                                                        block.metric, scenario=False))
        styles.header_row(ws, header, "H")
        ws[f"G{header}"] = "low - base"
        ws[f"H{header}"] = "high - base"
        base = f"{year_column(block.year)}{top + 2 + drivers}"
        ws[f"A{top + 2 + drivers}"] = f"Base scenario, {block.year}"
        self.call(ws, base, negcoke("FORECAST", block.segment, block.year, block.metric, "base",
                                    scenario=False))
        ws[base].number_format = styles.NUMBER_FORMATS[block.metric]
        absolute = f"${base[0]}${base[1:]}"
        for row in range(header + 1, last_row + 1):
            ws[f"G{row}"] = f"=D{row}-{absolute}"
            ws[f"H{row}"] = f"=E{row}-{absolute}"
            for column in "DEFGH":
                ws[f"{column}{row}"].number_format = styles.NUMBER_FORMATS[block.metric]
            for column in "BC":
                ws[f"{column}{row}"].number_format = "0.000"
        sheet.charts.append(("tornado", (block, header, last_row)))
