"""The sheets around the report: Assumptions (the inputs), Sources (provenance), the hidden
Cache and xlwings.conf, with the sheet names every layer refers to."""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.model import Model
from xl_negcoke.workbook import styles
from xl_negcoke.workbook.formula import (
    ASSUMPTIONS_NAME,
    SCENARIO_NAME,
    define_name,
    literal,
    put_text,
)

CONTENTS = "Contents"
ASSUMPTIONS = "Assumptions"
SOURCES = "Sources"
CHECKS = "Checks"
CONF = "xlwings.conf"
CACHE = "Cache"
CACHE_FIRST_ROW = 3
UDF_MODULE = "xl_negcoke.udfs"
ASSUMPTIONS_HEADER_ROW = 5


@dataclass(frozen=True)
class Formula:
    """A formula the program composed (every other text is written as text)."""

    text: str


def write_assumptions(ws: Worksheet, model: Model, book: Workbook) -> int:
    ws["A1"] = "Assumptions"
    ws["A1"].font = styles.TITLE
    ws["A2"] = ("Inputs: blue cells. Scenario rows are written scenario.key; add rows to define a "
                "scenario of your own.")
    ws["A2"].font = styles.SUBTITLE
    ws["A3"] = "Scenario"
    ws["A3"].font = styles.TOTAL
    ws["B3"] = "base"
    ws["B3"].font = styles.INPUT
    ws["B3"].fill = styles.INPUT_FILL
    validation = DataValidation(type="list", formula1=literal(",".join(model.scenarios)),
                                allow_blank=False, showErrorMessage=True, errorTitle="Scenario",
                                error="Choose one of: " + ", ".join(model.scenarios))
    ws.add_data_validation(validation)
    validation.add("B3")
    header = ASSUMPTIONS_HEADER_ROW
    widths = {"A": 36, "B": 12, "C": 9, "D": 64, "E": 44}
    for index, title in enumerate(("key", "value", "unit", "source", "description"), start=1):
        ws.cell(header, index, title)
    styles.header_row(ws, header, "E")
    frame = model.assumptions()
    for offset, record in enumerate(frame.itertuples(index=False), start=1):
        row = header + offset
        for column, text in (("A", record.key), ("C", record.unit), ("D", record.source),
                             ("E", record.description)):
            put_text(ws[f"{column}{row}"], text)
            ws[f"{column}{row}"].font = styles.BODY
            ws[f"{column}{row}"].alignment = styles.WRAP
        value = ws.cell(row, 2, float(record.value))
        value.font = styles.INPUT
        value.fill = styles.INPUT_FILL
        value.alignment = styles.TOP
        ws.row_dimensions[row].height = max(styles.text_height(record.source, widths["D"]),
                                            styles.text_height(record.description, widths["E"]))
    last = header + len(frame)
    define_name(book, SCENARIO_NAME, ASSUMPTIONS, "$B$3")
    define_name(book, ASSUMPTIONS_NAME, ASSUMPTIONS, f"$A${header}:$D${last}")
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    ws.freeze_panes = f"B{header + 1}"
    styles.page_setup(ws)
    ws.print_title_rows = f"{header}:{header}"
    return last


def write_sources(ws: Worksheet, model: Model) -> None:
    ws["A1"] = "Sources: the provenance of every number"
    ws["A1"].font = styles.TITLE
    ws["A2"] = ("report:S<n> = stated by the report; source:<address> = public figure; derived:<how> "
                "= arithmetic here; assumption:<why> = analyst assumption")
    ws["A2"].font = styles.SUBTITLE
    header = 4
    widths = {"A": 18, "B": 40, "C": 18, "D": 84}
    for index, title in enumerate(("File", "Item", "Value", "Provenance"), start=1):
        ws.cell(header, index, title)
    styles.header_row(ws, header, "D")
    row = header
    assumption_rows = {key: ASSUMPTIONS_HEADER_ROW + 1 + i
                       for i, key in enumerate(model.assumptions()["key"])}

    def value_of(key: str) -> Formula:
        return Formula(f"={ASSUMPTIONS}!B{assumption_rows[key]}")

    dataset = model.dataset
    entries: list[tuple[str, str, Formula | str, str]] = []
    for key, item in dataset.assumptions.items():
        entries.append(("assumptions.csv", key, value_of(key), item.source))
    for country in dataset.countries:
        entries.append(("countries.csv", country.name, value_of(dataset.country_weight_key(country)),
                        country.source))
        entries.append(("countries.csv", f"{country.name} (2030)",
                        value_of(dataset.country_weight_2030_key(country)), country.source))
    for company in dataset.companies:
        entries.append(("companies.csv", company.name, company.type, company.source))
    for plant in dataset.plants:
        label = f"{plant.producer}, {plant.site}"
        if plant.anode_share is None:  # report S6 sets its anode capacity: no input
            capacity, share = plant.capacity_kt, "calibrated (report S6)"
        else:
            capacity = value_of(dataset.plant_capacity_key(plant))
            share = value_of(dataset.plant_anode_share_key(plant))
        entries.append(("producers.csv", f"{label}: capacity (kt/yr)", capacity, plant.capacity_source))
        entries.append(("producers.csv", f"{label}: anode share", share, plant.anode_share_source))
    for scenario, values in dataset.scenarios.items():
        for key, item in values.items():
            entries.append(("scenarios.csv", f"{scenario}.{key}", value_of(f"{scenario}.{key}"),
                            item.source))
    for item in dataset.uncertainty.values():
        spread = f", sd {item.sd:g}" if item.sd is not None else ""
        entries.append(("uncertainty.csv", item.key, f"{item.distribution} {item.low:g} / "
                        f"{item.base:g} / {item.high:g}{spread}", item.source))
    for pair in dataset.correlations:
        entries.append(("correlations.csv", f"{pair.key} ~ {pair.with_key}", pair.correlation,
                        pair.source))
    for conflict in dataset.conflicts:
        entries.append(("conflicts.csv", f"{conflict.id}: {conflict.claim}",
                        f"A {conflict.value_a} / B {conflict.value_b}",
                        f"{conflict.source_a}; {conflict.source_b}"))
    for claim in dataset.claims:
        entries.append(("claims.csv", f"{claim['id']}: {claim['claim']}", claim["figure"],
                        claim["source"]))
    for item in dataset.news:
        entries.append(("company_news.csv", f"{item['company']} {item['date']}", item["news"],
                        item["source"]))
    for entry in entries:
        row += 1
        height = styles.ROW_HEIGHT
        for (column, width), value in zip(widths.items(), entry, strict=True):
            cell = ws[f"{column}{row}"]
            if isinstance(value, Formula):
                cell.value = value.text
            else:
                put_text(cell, value)  # names, figures, news and provenance stay text
                height = max(height, styles.text_height(value, width))
            cell.font = styles.BODY
            cell.alignment = styles.WRAP
        ws[f"C{row}"].alignment = styles.WRAP_LEFT
        ws.row_dimensions[row].height = height
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    ws.freeze_panes = f"A{header + 1}"
    styles.page_setup(ws)
    ws.print_title_rows = f"{header}:{header}"


def write_cache(ws: Worksheet) -> None:
    ws["A1"] = ("Values of the last recalculation of every NEGCOKE_* call: shown when the "
                "functions are not loaded (Excel without the add-in, LibreOffice, viewers)")
    ws["A1"].font = styles.SUBTITLE
    ws.sheet_state = "hidden"
    styles.page_setup(ws)


def write_conf(ws: Worksheet) -> None:
    """The xlwings.conf sheet: UDF Modules names our module (other settings: xlwings defaults)."""
    ws["A1"] = "UDF Modules"
    ws["B1"] = UDF_MODULE


def set_conf(ws: Worksheet) -> None:
    """xlwings.conf: hidden, so printing the workbook does not print it (xlwings reads a hidden
    sheet as well; unhide it to see or edit the settings)."""
    ws.sheet_state = "hidden"
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 24
    styles.page_setup(ws)
    for row in range(1, ws.max_row + 1):
        if str(ws.cell(row, 1).value or "").strip().lower() == "udf modules":
            ws.cell(row, 2, UDF_MODULE)
            return
    if ws.max_row <= 1 and ws["A1"].value is None:
        write_conf(ws)
    else:
        ws.append(["UDF Modules", UDF_MODULE])
