"""The sheets around the report: Assumptions (the inputs), Sources (provenance), the hidden
Cache and xlwings.conf, with the sheet names every layer refers to."""

from __future__ import annotations

import re
from collections.abc import Iterable
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
#: The scenario list of a data validation holds at most 255 characters (Excel).
MAX_LIST_CHARS = 255
#: A cited web address: `source:` then a domain (a dot and letters), then its path.
_ADDRESS = re.compile(r"source:\s*((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?:/[^\s;,]*)?)", re.ASCII)
LINK_WIDTH = 24
#: The Assumptions sheet's columns: a readable label, then the table the functions read
#: (AssumptionsTable: key | value | unit | source), then what the reader compares: the high and
#: low cases of each input and its full provenance (outside the table, ignored by the parser).
LABEL_COLUMN, KEY_COLUMN, VALUE_COLUMN, UNIT_COLUMN, SOURCE_COLUMN = "A", "B", "C", "D", "E"
HIGH_COLUMN, LOW_COLUMN, PROVENANCE_COLUMN = "F", "G", "H"
ASSUMPTIONS_WIDTHS = {"A": 46, "B": 30, "C": 11, "D": 9, "E": 15, "F": 10, "G": 10, "H": 72}
#: The number format of an input by its unit (a format never changes the value: 0.62 stays 0.62
#: and shows 62.0%).
UNIT_FORMATS = {"rate": "0.0#%", "share": "0.0#%", "share/yr": "0.0#%", "kt": "#,##0.0",
                "kt/yr": "#,##0.0", "US$/t": "#,##0.0", "t/t": "0.0##", "x": "0.0##"}
#: The themes of the inputs, in the sheet's order: a heading row each, then its keys (matched by
#: prefix; scenario rows form the last theme).
SECTIONS = (
    ("Demand: world anode and coke per tonne", ("coke_per_anode_t", "anode_world_kt_",
                                                 "anode_growth_", "anode_cagr_")),
    ("Demand mix: graphite and applications", ("artificial_graphite_share_", "power_battery_",
                                               "energy_storage_", "consumer_battery_")),
    ("Type mix and prices", ("petroleum_share_", "petroleum_price_", "coal_price_",
                             "china_price_")),
    ("Regions: China's share and the countries' weights", ("china_revenue_share_",
                                                            "china_share_change_", "weight_")),
    ("Supply: producers' capacity and utilisation", ("top5_capacity_share_", "utilisation_",
                                                     "capacity_kt_", "anode_share_")),
)
OTHER_SECTION = "Other inputs"
SCENARIO_SECTION = "Scenarios: values that replace the base in one scenario (scenario.key)"
PROVENANCE_KINDS = (("report:", "report"), ("source:", "public source"),
                    ("derived:", "derived"), ("assumption:", "assumption"))


@dataclass(frozen=True)
class Formula:
    """A formula the program composed (every other text is written as text)."""

    text: str


def section_of(key: str) -> str:
    """The heading an input is grouped under on the Assumptions sheet."""
    if "." in key:
        return SCENARIO_SECTION
    return next((title for title, prefixes in SECTIONS if key.startswith(prefixes)), OTHER_SECTION)


def provenance_kinds(source: str) -> str:
    """The kinds of provenance a source text gives, e.g. "derived, public source"."""
    found = sorted((source.find(marker), name) for marker, name in PROVENANCE_KINDS
                   if marker in source)
    return ", ".join(name for _position, name in found)


def scenario_validation(scenarios: Iterable[str]) -> DataValidation:
    """The list on the scenario cell: base and every scenario the Assumptions table defines.
    A name not in the list is a warning, not a refusal, so a scenario the analyst has just
    defined with `name.key` rows can be chosen before the list is next rebuilt (refresh)."""
    names: list[str] = []
    for name in ("base", *scenarios):
        if name not in names and len(",".join([*names, name])) <= MAX_LIST_CHARS:
            names.append(name)
    return DataValidation(
        type="list", formula1=literal(",".join(names)), allow_blank=False, showErrorMessage=True,
        errorStyle="warning", errorTitle="Scenario",
        error=("Not a scenario of the list. A scenario is base, high, low or one defined on this "
               "sheet by rows written name.key. Yes keeps the name (the functions say if no row "
               "defines it)."), showInputMessage=True, promptTitle="Scenario",
        prompt="base, high, low or a scenario of your own: add rows name.key below the table")


def assumption_columns(ws: Worksheet) -> tuple[int, int]:
    """The key and value columns (1-based) of an Assumptions sheet, read from its header row:
    B and C since the label column came first, A and B in workbooks built before."""
    header = next(ws.iter_rows(min_row=ASSUMPTIONS_HEADER_ROW, max_row=ASSUMPTIONS_HEADER_ROW,
                               values_only=True), ())
    titles = [str(v).strip().casefold() if isinstance(v, str) else "" for v in header]
    if "key" in titles and "value" in titles:
        return titles.index("key") + 1, titles.index("value") + 1
    return 1, 2  # the first layout: key, value in A, B


def assumption_rows(ws: Worksheet) -> dict[str, int]:
    """{key: row} of every key below the header of an Assumptions sheet (either layout)."""
    key_column, _value = assumption_columns(ws)
    rows: dict[str, int] = {}
    for row in range(ASSUMPTIONS_HEADER_ROW + 1, ws.max_row + 1):
        key = ws.cell(row, key_column).value
        if isinstance(key, str) and key.strip():
            rows.setdefault(key.strip(), row)
    return rows


def scenarios_in(ws: Worksheet) -> list[str]:
    """The scenarios an Assumptions sheet defines (lower case, in the order of their first
    `name.key` row)."""
    names: list[str] = []
    for key in assumption_rows(ws):
        scenario = key.rpartition(".")[0].strip().lower()
        if scenario and scenario != "base" and scenario not in names:
            names.append(scenario)
    return names


def write_assumptions(ws: Worksheet, model: Model, book: Workbook) -> dict[str, int]:
    """The input sheet: a readable label, the AssumptionsTable columns (key | value | unit |
    source), the high and low case beside each input and its full provenance; inputs grouped by
    theme under heading rows (blank in the table, so the functions skip them). Returns
    {key: row}."""
    ws["A1"] = "Assumptions"
    ws["A1"].font = styles.TITLE
    ws["A2"] = ("Inputs: blue cells on a pale fill. High and Low show an input's value in that "
                "scenario where it differs from the base (its scenario.key row below). Add rows "
                "name.key below the table to define a scenario of your own.")
    ws["A2"].font = styles.SUBTITLE
    ws["A3"] = "Scenario"
    ws["A3"].font = styles.TOTAL
    ws["B3"] = "base"
    ws["B3"].font = styles.INPUT
    ws["B3"].fill = styles.INPUT_FILL
    ws["C3"] = "choose base, high, low or a scenario defined below"
    ws["C3"].font = styles.SUBTITLE
    validation = scenario_validation(model.scenarios)
    ws.add_data_validation(validation)
    validation.add("B3")
    header = ASSUMPTIONS_HEADER_ROW
    titles = {LABEL_COLUMN: "Assumption", KEY_COLUMN: "key", VALUE_COLUMN: "value",
              UNIT_COLUMN: "unit", SOURCE_COLUMN: "source", HIGH_COLUMN: "High",
              LOW_COLUMN: "Low", PROVENANCE_COLUMN: "Provenance (every source: the Sources sheet)"}
    for column, title in titles.items():
        ws[f"{column}{header}"] = title
    styles.header_row(ws, header, PROVENANCE_COLUMN)
    for column in (VALUE_COLUMN, HIGH_COLUMN, LOW_COLUMN):
        ws[f"{column}{header}"].alignment = styles.RIGHT
    frame = model.assumptions()
    order = [title for title, _prefixes in SECTIONS] + [OTHER_SECTION, SCENARIO_SECTION]
    records = sorted(frame.itertuples(index=False), key=lambda r: order.index(section_of(r.key)))
    rows: dict[str, int] = {}
    row, section = header, None
    for record in records:
        row += 1
        if section_of(record.key) != section:
            section = section_of(record.key)
            ws[f"A{row}"] = section
            ws[f"A{row}"].font = styles.SECTION
            for column in titles:
                ws[f"{column}{row}"].fill = styles.SECTION_FILL
            ws.row_dimensions[row].height = 18
            row += 1
        rows[record.key] = row
        scenario = record.key.rpartition(".")[0]
        label = f"{scenario.capitalize()} case: {record.description}" if scenario \
            else record.description
        for column, text, font in ((LABEL_COLUMN, label, styles.BODY),
                                   (KEY_COLUMN, record.key, styles.KEY),
                                   (UNIT_COLUMN, record.unit, styles.BODY),
                                   (SOURCE_COLUMN, provenance_kinds(record.source), styles.NOTE),
                                   (PROVENANCE_COLUMN, record.source, styles.NOTE)):
            put_text(ws[f"{column}{row}"], text)
            ws[f"{column}{row}"].font = font
            ws[f"{column}{row}"].alignment = {UNIT_COLUMN: styles.WRAP_INDENT,
                                              PROVENANCE_COLUMN: styles.PROVENANCE}.get(column,
                                                                                 styles.WRAP)
        value = ws[f"{VALUE_COLUMN}{row}"]
        value.value = float(record.value)
        value.font = styles.INPUT
        value.fill = styles.INPUT_FILL
        value.alignment = styles.TOP
        value.number_format = UNIT_FORMATS.get(record.unit, "General")
        ws.row_dimensions[row].height = max(
            styles.text_height(label, ASSUMPTIONS_WIDTHS[LABEL_COLUMN]),
            styles.text_height(record.source, ASSUMPTIONS_WIDTHS[PROVENANCE_COLUMN]
                               * styles.NOTE_CHARS))
    last = row
    for key, row in rows.items():  # the high and low case beside the base input
        if "." in key:
            continue
        for column, scenario in ((HIGH_COLUMN, "high"), (LOW_COLUMN, "low")):
            other = rows.get(f"{scenario}.{key}")
            if other is not None:
                cell = ws[f"{column}{row}"]
                cell.value = f"={VALUE_COLUMN}{other}"
                cell.number_format = ws[f"{VALUE_COLUMN}{row}"].number_format
                cell.font = styles.BODY
                cell.alignment = styles.TOP
    define_name(book, SCENARIO_NAME, ASSUMPTIONS, "$B$3")
    define_name(book, ASSUMPTIONS_NAME, ASSUMPTIONS,
                f"${KEY_COLUMN}${header}:${SOURCE_COLUMN}${last}")
    for column, width in ASSUMPTIONS_WIDTHS.items():
        ws.column_dimensions[column].width = width
    ws.freeze_panes = f"{VALUE_COLUMN}{header + 1}"
    styles.page_setup(ws)
    ws.print_title_rows = f"{header}:{header}"
    return rows


def source_addresses(text: str) -> list[str]:
    """The web addresses a provenance text cites (`source:<address>`), in order, each once."""
    found: list[str] = []
    for match in _ADDRESS.finditer(text):
        address = match.group(1).rstrip(".,;:)]")
        if address not in found:
            found.append(address)
    return found


def write_sources(ws: Worksheet, model: Model, assumption_rows: dict[str, int]) -> None:
    ws["A1"] = "Sources: the provenance of every number"
    ws["A1"].font = styles.TITLE
    ws["A2"] = ("report:S<n> = stated by the report; source:<address> = public figure; derived:<how> "
                "= arithmetic here; assumption:<why> = analyst assumption")
    ws["A2"].font = styles.SUBTITLE
    header = 4
    widths = {"A": 15, "B": 36, "C": 30, "D": 72}
    for index, title in enumerate(("File", "Item", "Value", "Provenance", "Link (first address)"),
                                  start=1):
        ws.cell(header, index, title)
    styles.header_row(ws, header, "E")
    row = header

    def value_of(key: str) -> Formula:
        return Formula(f"={ASSUMPTIONS}!{VALUE_COLUMN}{assumption_rows[key]}")

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
        addresses = source_addresses(str(entry[3]))
        if addresses:
            link = ws[f"E{row}"]
            link.value = addresses[0].split("/")[0] + (f" (+{len(addresses) - 1})"
                                                       if len(addresses) > 1 else "")
            link.data_type = "s"
            link.hyperlink = f"https://{addresses[0]}"
            link.font = styles.LINK
            link.alignment = styles.TOP
        ws.row_dimensions[row].height = height
    for column, width in {**widths, "E": LINK_WIDTH}.items():
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
