"""The template workbook: the report's sheets in order with every table, the financial-model
conventions (inputs, names, timeline, frozen panes, print setup), native charts, one array
formula per table wired to the scenario and the assumptions, deterministic files equal to the
committed ones, and every formula equal to the model's number."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import AreaChart, BarChart, LineChart, PieChart
from openpyxl.formula import Tokenizer
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke import load_model
from xl_negcoke.model import BASE_YEAR, FIRST_YEAR, LAST_YEAR
from xl_negcoke.workbook import TEMPLATE_NAME, build_workbook, layout
from xl_negcoke.workbook.build import (
    ASSUMPTIONS,
    ASSUMPTIONS_HEADER_ROW,
    CACHE,
    CHECKS,
    CONF,
    CONTENTS,
    SOURCES,
    SUMMARY,
    UDF_MODULE,
    _Sheet,
    _Writer,
    build_book,
)
from xl_negcoke.workbook.formula import quote_sheet, year_column
from xl_negcoke.workbook.sheets import assumption_rows, scenario_validation

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "workbooks"
MODEL = load_model()
SHEETS = [sheet.name for sheet in layout.report_layout(MODEL)]  # §1-§12, then Scenarios & Risk
REPORT_SHEETS = [name for name in SHEETS if name != layout.RISK_SHEET]
REBUILD = "the committed workbook differs from a fresh build: run `xl-negcoke build` and commit workbooks/"
NO_SCENARIO = {"NEGCOKE_SEGMENTS", "NEGCOKE_SOURCE", "NEGCOKE_INFO"}  # take neither input
ASSUMPTIONS_ONLY = {"NEGCOKE_RANGE", "NEGCOKE_SENSITIVITY"}  # simulations: no scenario argument
CHART_ROW_POINTS = 15.0


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Both template files built without recalculation (fast), by suffix."""
    out = tmp_path_factory.mktemp("built")
    return {item.path.suffix: item.path.read_bytes()
            for item in build_workbook(MODEL, out, recalculate=False)}


@pytest.fixture(scope="module")
def book(built: dict[str, bytes]) -> Workbook:
    return load_workbook(io.BytesIO(built[".xlsx"]))


@pytest.fixture(scope="module")
def committed_values() -> Workbook:
    """The committed .xlsx as a reader without Python sees it: the cached values."""
    return load_workbook(COMMITTED / f"{TEMPLATE_NAME}.xlsx", data_only=True)


@pytest.fixture(scope="module")
def writer() -> _Writer:
    """Where every block lands (the same placement the build and `check` use)."""
    placed = _Writer(MODEL, None)  # type: ignore[arg-type]
    placed.place([_Sheet(spec) for spec in layout.report_layout(MODEL)])
    return placed


def formulas(book: Workbook):
    """(sheet, cell, formula text, is array) for every formula of the workbook."""
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, ArrayFormula):
                    yield ws.title, cell.coordinate, cell.value.text, True
                elif cell.data_type == "f":
                    yield ws.title, cell.coordinate, str(cell.value), False


def negcoke_calls(text: str) -> list[tuple[str, list[str]]]:
    """Every NEGCOKE_* call in a formula with its arguments as written (nested calls too)."""
    calls: list[tuple[str, list[str]]] = []
    stack: list[tuple[str, list[str], list[str]]] = []  # name, finished args, current arg
    for token in Tokenizer(text if text.startswith("=") else "=" + text).items:
        if token.type == "FUNC" and token.subtype == "OPEN":
            stack.append((token.value[:-1].upper(), [], []))
        elif token.type == "PAREN" and token.subtype == "OPEN":
            stack.append(("(", [], []))
        elif token.type in ("FUNC", "PAREN") and token.subtype == "CLOSE":
            name, args, current = stack.pop()
            if current or args:
                args.append("".join(current))
            if name.startswith("NEGCOKE_"):
                calls.append((name, args))
            if stack:
                stack[-1][2].append(f"{name}(...)")
        elif token.type == "SEP" and token.subtype == "ARG" and stack and stack[-1][0] != "(":
            stack[-1][1].append("".join(stack[-1][2]))
            stack[-1][2].clear()
        elif stack:
            stack[-1][2].append(token.value)
    return calls


# -- sheets -----------------------------------------------------------------------------------


def test_sheets_follow_the_report_then_assumptions_sources_checks_cache_and_conf(book: Workbook) -> None:
    """Contents, Summary, §1-§12 in the report's order, Scenarios & Risk, Assumptions, Sources,
    Checks, Cache (hidden), xlwings.conf."""
    assert [int(name.split()[0]) for name in REPORT_SHEETS] == list(range(1, 13))
    assert [*REPORT_SHEETS, layout.RISK_SHEET] == SHEETS
    expected = [CONTENTS, SUMMARY, *SHEETS, ASSUMPTIONS, SOURCES, CHECKS, CACHE, CONF]
    shown = [ws.title for ws in book.worksheets if ws.sheet_state != "veryHidden"]
    assert shown == expected
    assert book[CACHE].sheet_state == "hidden"
    assert book[CONF].sheet_state == "hidden"
    assert all(book[name].sheet_state == "visible" for name in expected if name not in (CACHE, CONF))
    assert book.worksheets[0].title == CONTENTS and book.active.title == CONTENTS


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_xlwings_conf_names_the_udf_module(built: dict[str, bytes], suffix: str) -> None:
    """Both files carry an `xlwings.conf` sheet whose UDF Modules row is xl_negcoke.udfs."""
    ws = load_workbook(io.BytesIO(built[suffix]), keep_vba=suffix == ".xlsm")[CONF]
    settings = {row[0]: row[1] for row in ws.iter_rows(max_col=2, values_only=True) if row[0]}
    assert settings["UDF Modules"] == UDF_MODULE == "xl_negcoke.udfs"


def test_contents_links_every_visible_sheet(book: Workbook) -> None:
    """Contents holds one internal hyperlink to A1 of every other visible sheet, in sheet order."""
    ws = book[CONTENTS]
    links = [cell.hyperlink.location for row in ws.iter_rows() for cell in row if cell.hyperlink]
    targets = [w.title for w in book.worksheets
               if w.sheet_state == "visible" and w.title not in (CONTENTS, CONF)]
    assert links == [f"{quote_sheet(name)}!A1" for name in targets]
    assert ws["A5"].value == "Master check" and ws["B5"].value == "=MasterCheck"
    assert ws["A4"].value == "Active scenario" and ws["B4"].value == "=Scenario"


def test_every_timeline_puts_2019_in_column_b(committed_values: Workbook) -> None:
    """Every year header row of every report sheet (and Checks) runs 2019, 2020, ... from column B."""
    seen = set()
    for name in [*SHEETS, CHECKS]:
        for row in committed_values[name].iter_rows():
            years = {cell.column_letter: cell.value for cell in row
                     if isinstance(cell.value, int) and not isinstance(cell.value, bool)
                     and FIRST_YEAR <= cell.value <= LAST_YEAR}
            if len(years) < 6:  # a size block (2023 and 2030 only) is not a timeline
                continue
            seen.add(name)
            first = min(years.values())  # a timeline may start later (the fan from 2023)
            assert years == {year_column(y): y for y in range(first, first + len(years))}, \
                (name, row[0].row)
            assert year_column(FIRST_YEAR) == "B"
    # 11 Conclusion: headline figures only, a value a row in one column (no timeline)
    assert seen >= {*REPORT_SHEETS} - {"1 Introduction", "7 Profiles", "9 Trends", "10 Supply chain",
                                       "11 Conclusion", "12 Appendix"} | {CHECKS}


def test_every_table_of_the_report_template_is_there(writer: _Writer, committed_values: Workbook) -> None:
    """Every segment and country table of report-template.md, 2019-2030 (§3 companies to 2024)."""
    regions = MODEL.segments("region")
    expected = {
        "global.revenue": "2 Market size", "global.volume": "2 Market size",
        "global.price": "2 Market size", "global.capacity": "8 Capacity",
        "company.revenue": "3 Companies", "company.volume": "3 Companies",
        "company.price": "3 Companies", "company.capacity": "8 Capacity",
        **{f"type.{m}": "4 By type" for m in ("revenue", "volume", "price")},
        **{f"application.{m}": "5 By application" for m in ("revenue", "volume", "price")},
        **{f"region.{m}": "6 By region" for m in ("revenue", "volume", "price")},
        "region.capacity": "8 Capacity", "type.capacity": "8 Capacity",
        **{f"{region}.{m}": "6 By region" for region in regions for m in ("revenue", "volume")},
    }
    tables = {key: placed for key, placed in writer.tables.items() if placed.metric != "share"}
    assert {key: placed.sheet for key, placed in tables.items()} == expected
    assert {key for key in writer.tables if key.endswith(".share")} == {
        "company.revenue.share", "type.revenue.share", "type.volume.share",
        "application.revenue.share", "application.volume.share", "region.revenue.share",
        "region.volume.share"}
    countries = []
    for key, placed in tables.items():
        ws = committed_values[placed.sheet]
        end = 2024 if placed.sheet == "3 Companies" else LAST_YEAR  # §8 capacity runs to 2030
        assert (placed.start, placed.end) == (FIRST_YEAR, end), key
        header = [ws[f"{year_column(y)}{placed.header_row}"].value for y in range(FIRST_YEAR, end + 1)]
        assert header == list(range(FIRST_YEAR, end + 1)), key
        labels = [ws[f"A{row}"].value for row in sorted(placed.rows.values())]
        assert labels == MODEL.segments(placed.dimension), key
        if placed.total_row:
            # a price table's last row is the average of its rows, weighted by their volumes
            total = "Average (volume-weighted)" if placed.metric == "price" else "Total"
            assert ws[f"A{placed.total_row}"].value == total, key
        if placed.dimension in regions and placed.metric == "revenue":
            countries += labels
    assert sorted(countries) == sorted(MODEL.segments("country"))
    assert len(MODEL.segments("country")) == 3 + 8 + 6 + 3 + 5


# -- inputs and names -------------------------------------------------------------------------


def test_assumptions_sheet_holds_every_input_in_blue_on_a_pale_fill(book: Workbook) -> None:
    """Every row of Model.assumptions() once: readable label first, then key, value, unit, source
    (AssumptionsTable) and the full provenance; inputs blue on pale yellow."""
    ws = book[ASSUMPTIONS]
    frame = MODEL.assumptions()
    assert [c.value for c in ws[ASSUMPTIONS_HEADER_ROW][:5]] == [
        "Assumption", "key", "value", "unit", "source"]
    rows = assumption_rows(ws)
    assert sorted(rows) == sorted(frame["key"])
    for record in frame.itertuples(index=False):
        row = rows[record.key]
        label = ws[f"A{row}"].value
        assert label.endswith(record.description) and "_" not in label.split(":")[0], record.key
        assert (ws[f"D{row}"].value, ws[f"H{row}"].value) == (record.unit, record.source)
        assert ws[f"C{row}"].value == pytest.approx(float(record.value), rel=0, abs=0)
    for cell in [ws["B3"], *(ws[f"C{row}"] for row in rows.values())]:
        assert cell.font.color.rgb.endswith("0000FF"), cell.coordinate
        assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith("FFF2CC"), cell.coordinate
    for row in rows.values():
        for column in "ABDEH":
            font = ws[f"{column}{row}"].font
            assert not font.color or not font.color.rgb.endswith("0000FF"), f"{column}{row}"


def test_assumptions_formats_rates_and_shares_as_percentages(book: Workbook) -> None:
    """A rate or share shows as a percentage (0.62 shows 62.0%, the cell still holds 0.62);
    tonnes and prices with thousands separators, ratios as plain decimals."""
    ws = book[ASSUMPTIONS]
    rows = assumption_rows(ws)
    cell = ws[f"C{rows['power_battery_share_2023']}"]
    assert (cell.value, cell.number_format) == (0.62, "0.0#%")
    expected = {"anode_growth_2025": "0.0#%", "china_share_change_per_year_forecast": "0.0#%",
                "high.anode_cagr_2025_2030": "0.0#%", "anode_world_kt_2023": "#,##0.0",
                "capacity_kt_baolai_bio": "#,##0.0", "petroleum_price_usd_per_t_2023": "#,##0.0",
                "coke_per_anode_t": "0.0##", "coal_price_ratio": "0.0##"}
    assert {key: ws[f"C{rows[key]}"].number_format for key in expected} == expected
    units = dict(zip(MODEL.assumptions()["key"], MODEL.assumptions()["unit"], strict=True))
    for key, row in rows.items():  # every rate and share, whatever its key
        if units[key] in ("rate", "share", "share/yr"):
            assert ws[f"C{row}"].number_format.endswith("%"), key


def test_assumptions_are_grouped_by_theme_under_heading_rows_the_table_skips(book: Workbook) -> None:
    """Each theme has one heading row (text in the label column only, so the functions skip it);
    the scenario rows come last under their own heading."""
    ws = book[ASSUMPTIONS]
    rows = assumption_rows(ws)
    headings = [row for row in range(ASSUMPTIONS_HEADER_ROW + 1, ws.max_row + 1)
                if row not in rows.values() and ws[f"A{row}"].value]
    titles = [ws[f"A{row}"].value for row in headings]
    assert titles[0].startswith("Demand") and titles[-1].startswith("Scenarios")
    assert len(titles) == len(set(titles)) == 6
    for row in headings:
        assert all(ws.cell(row, column).value is None for column in range(2, 6)), row
    assert headings[0] == ASSUMPTIONS_HEADER_ROW + 1
    assert min(r for k, r in rows.items() if "." in k) > max(r for k, r in rows.items() if "." not in k)


def test_high_and_low_cases_stand_beside_the_base_input(book: Workbook) -> None:
    """High and Low read the value of the input's scenario rows (formulas, blank when the scenario
    keeps the base)."""
    ws = book[ASSUMPTIONS]
    rows = assumption_rows(ws)
    row = rows["petroleum_price_growth_forecast"]
    assert (ws[f"F{ASSUMPTIONS_HEADER_ROW}"].value, ws[f"G{ASSUMPTIONS_HEADER_ROW}"].value) == ("High", "Low")
    assert ws[f"F{row}"].value == f"=C{rows['high.petroleum_price_growth_forecast']}"
    assert ws[f"G{row}"].value == f"=C{rows['low.petroleum_price_growth_forecast']}"
    assert ws[f"F{row}"].number_format == "0.0#%"
    assert ws[f"F{rows['coke_per_anode_t']}"].value is None


def test_scenario_cell_offers_every_scenario_in_a_list(book: Workbook) -> None:
    """The scenario selector B3 holds "base" and a list of the model's scenarios that warns on
    another name instead of refusing it (a scenario just defined with name.key rows)."""
    ws = book[ASSUMPTIONS]
    assert ws["B3"].value == "base"
    (validation,) = ws.data_validations.dataValidation
    assert validation.type == "list" and str(validation.sqref) == "B3"
    assert validation.formula1 == '"' + ",".join(MODEL.scenarios) + '"' == '"base,high,low"'
    assert validation.showErrorMessage and validation.errorStyle == "warning"


def test_scenario_list_keeps_within_excels_255_characters() -> None:
    """Twelve scenarios of 31-character names do not fit Excel's 255-character list: the list
    keeps base and as many as fit, in order (the others are still accepted, with a warning)."""
    names = [f"s{i:02d}" + "x" * 28 for i in range(12)]
    listed = scenario_validation(names).formula1.strip('"').split(",")
    assert listed == ["base", *names[:len(listed) - 1]]
    assert len(",".join(listed)) <= 255 < len(",".join(["base", *names[:len(listed)]]))


def test_sources_link_every_cited_address(book: Workbook) -> None:
    """A Sources row whose provenance cites source:<address> links to https://<address>."""
    ws = book[SOURCES]
    linked = 0
    for row in range(5, ws.max_row + 1):
        provenance = str(ws[f"D{row}"].value or "")
        link = ws[f"E{row}"]
        if "source:" in provenance and link.value:
            assert link.hyperlink.target.startswith("https://"), row
            assert link.hyperlink.target[len("https://"):] in provenance, row
            linked += 1
    assert linked > 100
    row = next(r for r in range(5, ws.max_row + 1) if ws[f"B{r}"].value == "coke_per_anode_t")
    assert ws[f"E{row}"].hyperlink.target == (
        "https://pmarketresearch.com/chemi/petroleum-crude-oil-market/acicular-pitch-coke-market")
    assert ws[f"E{row}"].value == "pmarketresearch.com (+2)"


def test_defined_names_point_at_inputs_and_key_outputs(book: Workbook, committed_values: Workbook) -> None:
    """Scenario, AssumptionsTable and key outputs are workbook names; outputs hold the model's figures."""
    names = {name: item.attr_text for name, item in book.defined_names.items()}
    last = max(assumption_rows(book[ASSUMPTIONS]).values())
    assert last == ASSUMPTIONS_HEADER_ROW + len(MODEL.assumptions()) + 6  # and 6 heading rows
    assert names["Scenario"] == "Assumptions!$B$3"
    assert names["AssumptionsTable"] == f"Assumptions!$B${ASSUMPTIONS_HEADER_ROW}:$E${last}"
    assert names["MasterCheck"] == "Checks!$B$2"
    outputs = {"Revenue2023": MODEL.value("Global", BASE_YEAR, "revenue"),
               "Revenue2030": MODEL.value("Global", LAST_YEAR, "revenue"),
               "RevenueCAGR": MODEL.cagr("Global", BASE_YEAR, LAST_YEAR, "revenue"),
               "Top5CapacityShare": MODEL.concentration(5, BASE_YEAR, "capacity", "base")}
    for name, expected in outputs.items():
        sheet, cell = names[name].rsplit("!", 1)
        value = committed_values[sheet.strip("'")][cell.replace("$", "")].value
        assert value == pytest.approx(expected, rel=1e-9), name
    assert committed_values[CHECKS]["B2"].value is True


def test_every_sheet_prints_fit_to_width_and_scrolls_with_frozen_panes(book: Workbook) -> None:
    """Every sheet prints A4 landscape one page wide; report and list sheets freeze their headers."""
    for ws in book.worksheets:
        if ws.sheet_state == "veryHidden":  # refresh's ownership record: never shown or printed
            continue
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
    for name in SHEETS:
        assert book[name].freeze_panes == "B3", name
        assert book[name].print_title_rows == "$1:$2", name
    assert book[CHECKS].freeze_panes == "B5"
    assert book[ASSUMPTIONS].freeze_panes == f"C{ASSUMPTIONS_HEADER_ROW + 1}"
    assert book[SOURCES].freeze_panes == "A5"
    for name in SHEETS:  # one scale for every report sheet: the timeline A:N
        last_row = int(book[name].print_area.rsplit("$", 1)[1])
        assert book[name].print_area.endswith(f"!$A$1:$N${last_row}"), name
        assert last_row >= book[name].max_row, name  # charts may take rows below the last cell


def test_page_breaks_never_cut_a_table(book: Workbook, writer: _Writer) -> None:
    """A manual page break never falls between a table's header and its Total row."""
    for name in REPORT_SHEETS:
        breaks = [item.id for item in book[name].row_breaks.brk]
        for placed in writer.tables.values():
            if placed.sheet == name:
                last = placed.total_row or max(placed.rows.values())
                assert not [b for b in breaks if placed.header_row - 1 <= b < last], (name, placed)


# -- charts -----------------------------------------------------------------------------------


def _kind(chart: object) -> str:
    if isinstance(chart, AreaChart):
        return "fan"
    if isinstance(chart, LineChart):
        return "line"
    if isinstance(chart, PieChart):
        return "pie"
    assert isinstance(chart, BarChart)
    return "stacked" if chart.grouping == "stacked" and chart.type == "col" else chart.type


def test_sections_carry_the_issue_charts(book: Workbook) -> None:
    """Summary: revenue by scenario (line) and volume by application (stacked); market size: line;
    type, application, region: stacked columns and a 2023 pie; companies: bars."""
    kinds = {ws.title: sorted(_kind(c) for c in ws._charts) for ws in book.worksheets if ws._charts}
    assert kinds == {SUMMARY: ["line", "stacked"], "2 Market size": ["line"], "3 Companies": ["bar"],
                     "4 By type": ["pie", "stacked"], "5 By application": ["pie", "stacked"],
                     "6 By region": ["pie", "stacked"], "8 Capacity": ["bar"],
                     layout.RISK_SHEET: ["bar"] * 6 + ["fan"]}  # a tornado per output (R.3-R.8)
    for name in ("4 By type", "5 By application", "6 By region"):
        pie = next(c for c in book[name]._charts if isinstance(c, PieChart))
        assert "!$B$" in pie.series[0].val.numRef.f  # 2023: the size block's first column


def test_tornado_tables_name_drivers_in_words_with_units_and_formatted_values(
        committed_values: Workbook) -> None:
    """Every tornado row of Scenarios & Risk shows its driver's name (no assumption key), a unit,
    and its P10 / P90 as text in the unit's format: petroleum_price_growth_forecast's P10 is
    -1.41% (the function's -0.0141), not -0.014."""
    ws = committed_values[layout.RISK_SHEET]
    keys = set(MODEL.assumptions()["key"])
    headers = [r for r in range(1, ws.max_row + 1) if ws[f"A{r}"].value == "Driver"]
    assert len(headers) == 6
    names = 0
    for header in headers:
        assert [ws.cell(header, c).value for c in range(3, 10)] == [
            "Low value (P10)", "High value (P90)", ws[f"E{header}"].value, ws[f"F{header}"].value,
            "Swing", "Low - base", "High - base"]
        assert ws[f"E{header}"].value.endswith(" at low") and ws[f"F{header}"].value.endswith(" at high")
        row = header + 1
        while isinstance(ws[f"A{row}"].value, str) and not ws[f"A{row}"].value.startswith("Base"):
            label, unit = ws[f"A{row}"].value, ws[f"B{row}"].value
            assert label not in keys and "_" not in label and " " in label, (row, label)
            assert unit in ("%", "pts/yr", "multiple", "t/t", "kt", "US$/t"), (row, unit)
            if unit in ("%", "pts/yr"):
                assert ws[f"C{row}"].value.endswith("%") and ws[f"D{row}"].value.endswith("%"), row
            names += 1
            row += 1
    assert names >= 30
    row = next(r for r in range(1, ws.max_row + 1)
               if ws[f"A{r}"].value == "Petroleum-based price growth per year 2025-2030")
    assert (ws[f"B{row}"].value, ws[f"C{row}"].value) == ("%", "-1.41%")


def test_risk_notes_name_the_correlated_drivers_in_words(book: Workbook) -> None:
    """R.9 names the correlated pair by their descriptions, not by their keys."""
    ws = book[layout.RISK_SHEET]
    row = next(r for r in range(1, ws.max_row + 1) if ws[f"A{r}"].value == "Correlation")
    text = next(c.value for c in ws[row][1:] if c.value)
    assert text.startswith("World anode growth per year 2026-2030 and Petroleum-based price growth "
                           "per year 2025-2030: 0.5 (derived:")


def test_fan_chart_legend_has_no_entry_without_a_swatch(book: Workbook) -> None:
    """The fan's invisible P10 base area is deleted from the legend; the band says P10-P90."""
    (fan,) = [c for c in book[layout.RISK_SHEET]._charts if isinstance(c, AreaChart)]
    base, band = fan.series
    assert base.graphicalProperties.noFill  # the invisible base the band stands on
    assert [(e.idx, e.delete) for e in fan.legend.legendEntry] == [(0, True)]
    ws = book[layout.RISK_SHEET]
    assert ws[band.tx.strRef.f.split("!")[1].replace("$", "")].value == "P10-P90 band (width)"


def test_charts_cover_no_cell() -> None:
    """Every chart sits on empty rows reserved for it, so it never hides a table or text."""
    book = build_book(MODEL)
    for ws in book.worksheets:
        for chart in ws._charts:
            column, row = coordinate_from_string(chart.anchor)
            rows = math.ceil(chart.height / 2.54 * 72 / CHART_ROW_POINTS)
            assert chart.width <= 36.0, (ws.title, chart.anchor)  # inside A:N (36.3 cm in Excel)
            first_col = column_index_from_string(column)
            for r in range(row, row + rows):
                filled = [c.coordinate for c in ws[r][first_col - 1:14] if c.value is not None]
                assert not filled, (ws.title, chart.anchor, filled)


# -- formulas ---------------------------------------------------------------------------------


def test_every_negcoke_call_takes_the_scenario_and_the_assumptions_last(book: Workbook) -> None:
    """Each NEGCOKE_* call ends with Scenario, AssumptionsTable (SEGMENTS, SOURCE and INFO take
    neither); a call that names its scenario (Scenarios & Risk, Summary's side-by-side columns)
    takes AssumptionsTable only."""
    count = 0
    named = {f'"{s}"' for s in MODEL.scenarios}
    for sheet, cell, text, _array in formulas(book):
        for name, args in negcoke_calls(text):
            count += 1
            if name in NO_SCENARIO:
                assert "Scenario" not in args and "AssumptionsTable" not in args, (sheet, cell, text)
            elif name in ASSUMPTIONS_ONLY or sheet == layout.RISK_SHEET or (
                    sheet == SUMMARY and args[-2] in named):  # risk and side by side: named
                assert args[-1] == "AssumptionsTable" and "Scenario" not in args, (sheet, cell, text)
            else:
                assert args[-2:] == ["Scenario", "AssumptionsTable"], (sheet, cell, text)
    assert count > 100


def test_every_table_is_one_array_formula_over_negcoke_table(book: Workbook, writer: _Writer) -> None:
    """A table's whole block (header to Total) is a single array formula calling NEGCOKE_TABLE once."""
    tables = {key: placed for key, placed in writer.tables.items() if placed.metric != "share"}
    for key, placed in tables.items():
        ws = book[placed.sheet]
        anchor = ws[f"A{placed.header_row}"].value
        last_row = placed.total_row or max(placed.rows.values())
        assert isinstance(anchor, ArrayFormula), key
        assert anchor.ref == f"A{placed.header_row}:{year_column(placed.end)}{last_row}", key
        calls = negcoke_calls(anchor.text)
        assert [name for name, _ in calls] == ["NEGCOKE_TABLE"], key
        dimension, metric, start, end = calls[0][1][:4]
        assert (dimension, metric, start, end) == (f'"{placed.dimension}"', f'"{placed.metric}"',
                                                   str(placed.start), str(placed.end)), key
        c1, r1, c2, r2 = range_boundaries(anchor.ref)
        inside = [ws.cell(r, c).value for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
        assert inside[1:] == [None] * (len(inside) - 1), key  # nothing else written in the block
    table_calls = [(sheet, cell) for sheet, cell, text, array in formulas(book)
                   for name, _ in negcoke_calls(text) if name == "NEGCOKE_TABLE"]
    assert len(table_calls) == len(tables)
