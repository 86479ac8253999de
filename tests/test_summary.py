"""The Summary sheet: right after Contents and linked there; every figure a live formula (the
NEGCOKE_* cached-value pattern) equal to the model's number, the CAGRs following from the revenue
figures, the report's calibrations where the report states them, the scenario columns in order,
formats with units; and a workbook of the template before it gets it on refresh, the analyst's
work kept (an analyst's own sheet of that name stops the refresh)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import BASE_YEAR, LAST_YEAR, load_model
from xl_negcoke.workbook.build import ASSUMPTIONS, ASSUMPTIONS_HEADER_ROW, CHECKS, CONTENTS
from xl_negcoke.workbook.check import template_tables
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.ownership import RECORD_SHEET
from xl_negcoke.workbook.recalc import recalculate
from xl_negcoke.workbook.refresh import refresh_bytes
from xl_negcoke.workbook.summary import SUMMARY, placements

ROOT = Path(__file__).resolve().parents[1]
# The committed .xlsx as `build` wrote it just before the Summary sheet existed (commit 09d9da8):
# a workbook of the previous template, as analysts have them.
BEFORE_SUMMARY = ROOT / "tests" / "fixtures" / "template-before-summary.xlsx"
MODEL = load_model()
NAMED = {*(s.capitalize() for s in MODEL.scenarios), "P10", "P50", "P90", "Base case", "Base sits at"}
CALL = re.compile(r"^=IFERROR\(NEGCOKE_\w+\(.*\),IF\(CacheCurrent,Cache!\$A\$\d+,NA\(\)\)\)$")


@pytest.fixture(scope="module")
def book(template_xlsx: bytes) -> Workbook:
    return load_workbook(io.BytesIO(template_xlsx))


@pytest.fixture(scope="module")
def values(recalculated_template) -> Workbook:
    data, report = recalculated_template
    assert report.problems == []
    return load_workbook(io.BytesIO(data), data_only=True)


def figure(ws, label: str, column: object) -> object:
    """The value in the row labelled `label` under the header `column` (a year or a title) of
    the block that holds that row."""
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)
    header = max(r for r in range(1, row) if ws.cell(r, 1).value in ("Figure", "Share"))
    index = next(c for c in range(2, 15) if ws.cell(header, c).value == column)
    return ws.cell(row, index).value


def test_the_summary_comes_right_after_contents_and_contents_links_it_first(book: Workbook):
    """Sheet order Contents, Summary, 1 Introduction; Contents' first sheet link goes to
    Summary!A1 and describes it as the executive summary."""
    assert book.sheetnames[:3] == [CONTENTS, SUMMARY, "1 Introduction"]
    links = [c for row in book[CONTENTS].iter_rows() for c in row if c.hyperlink]
    assert links[0].hyperlink.location == f"{SUMMARY}!A1"
    assert links[0].value.startswith("Executive summary")


def test_the_summary_says_what_it_is_with_scenario_and_dataset(values: Workbook):
    """The title, the scenario line and the dataset id as the workbook's functions give it."""
    ws = values[SUMMARY]
    assert ws["A1"].value == "Executive summary"
    assert ws["A2"].value.startswith("Scenario: base  |  Negative Coke Market")
    assert ws["A4"].value == "What this is" and "NEGCOKE_*" in ws["B4"].value
    assert (ws["A5"].value, ws["B5"].value) == ("Scenario (selector on Assumptions)", "base")
    assert (ws["A6"].value, ws["B6"].value) == ("Dataset", MODEL.dataset.dataset_id)
    assert ws["G1"].value == "Cached: values of the recalculation at build, inputs unchanged" \
        or ws["G1"].value.startswith("Cached: values of the recalculation of ")


def test_every_number_is_a_negcoke_call_with_its_cache_fallback_or_a_native_formula(book: Workbook):
    """Each figure is `=IFERROR(NEGCOKE_...(...), IF(CacheCurrent, Cache!..., NA()))`, except the
    top-5 shares: native LARGE over 8 Capacity's company rows. S.1/S.2 calls take Scenario;
    S.3/S.4 name their scenario and take only AssumptionsTable."""
    ws = book[SUMMARY]
    spots = placements(MODEL, template_tables(MODEL)["company.capacity"])
    assert len(spots) == 3 * 5 + 3 * 3 + 6 * len(MODEL.scenarios) + 5
    for spot in spots:
        text = ws[spot.cell].value
        assert text == spot.figure.formula or CALL.match(text), spot
        if "Top-5" in spot.what:
            assert text.startswith("=(LARGE('8 Capacity'!") and "NEGCOKE" not in text, spot
            continue
        assert CALL.match(text), (spot.cell, text)
        arguments = text.split("),IF(CacheCurrent")[0]
        if spot.what.split(", ")[-1] in NAMED:  # S.3 and S.4 name their scenario
            assert arguments.endswith(",AssumptionsTable") and "Scenario" not in arguments, text
        else:  # S.1 and S.2 follow the selector
            assert arguments.endswith(",Scenario,AssumptionsTable"), text


def test_every_figure_equals_the_models_number(values: Workbook):
    """Recalculated, each of the 50 figures equals the model's number for it (the API `xl-negcoke
    summary` uses) within 1e-9 relative."""
    ws = values[SUMMARY]
    spots = placements(MODEL, template_tables(MODEL)["company.capacity"])
    for spot in spots:
        assert ws[spot.cell].value == pytest.approx(spot.figure.expected(MODEL, "base"), rel=1e-9), spot
    assert figure(ws, "Revenue (US$ million)", LAST_YEAR) == MODEL.value("Global", LAST_YEAR, "revenue")


def test_the_cagrs_follow_from_the_revenue_figures(values: Workbook):
    """Revenue 2023 is 1,598.24 and 2030 5,490.23 (US$ million): CAGR 2023-30 = (5,490.23 /
    1,598.24)^(1/7) - 1 = 3.43517^0.142857 - 1 = 19.28%; 2024 is 1,475.37: CAGR 2024-30 =
    (5,490.23 / 1,475.37)^(1/6) - 1 = 3.72126^0.166667 - 1 = 24.48%."""
    ws = values[SUMMARY]
    assert figure(ws, "Revenue (US$ million)", BASE_YEAR) == pytest.approx(1598.24, abs=0.005)
    assert figure(ws, "Revenue (US$ million)", BASE_YEAR + 1) == pytest.approx(1475.37, abs=0.005)
    assert figure(ws, "Revenue (US$ million)", LAST_YEAR) == pytest.approx(5490.23, abs=0.005)
    assert figure(ws, "Revenue (US$ million)", "CAGR 23-30") == pytest.approx(0.1928, abs=5e-5)
    assert figure(ws, "Revenue (US$ million)", "CAGR 24-30") == pytest.approx(0.2448, abs=5e-5)
    # and exactly from the sheet's own figures
    first, latest, last = (figure(ws, "Sales volume (kt)", y) for y in (BASE_YEAR, BASE_YEAR + 1,
                                                                        LAST_YEAR))
    assert figure(ws, "Sales volume (kt)", "CAGR 23-30") == pytest.approx((last / first) ** (1 / 7) - 1,
                                                                          rel=1e-12)
    assert figure(ws, "Sales volume (kt)", "CAGR 24-30") == pytest.approx((last / latest) ** (1 / 6) - 1,
                                                                          rel=1e-12)


def test_the_shares_the_report_states_show_in_the_base_year(values: Workbook):
    """Report S1: Power Battery takes 62% of 2023 volume; S5: China 76% of 2023 revenue; S6: the
    top five producers 48% of 2023 capacity (reference/seed-report.md)."""
    ws = values[SUMMARY]
    assert figure(ws, "Power Battery share of sales volume", BASE_YEAR) == pytest.approx(0.62, abs=1e-9)
    assert figure(ws, "China share of revenue", BASE_YEAR) == pytest.approx(0.76, abs=1e-9)
    assert figure(ws, "Top-5 companies' share of capacity", BASE_YEAR) == pytest.approx(0.48, abs=1e-9)


def test_the_scenario_columns_run_high_over_base_over_low(values: Workbook):
    """2030 revenue and volume and both CAGRs: High > Base > Low; the Base column equals S.1's
    2030 figures (the selected scenario is base); the range brackets the base case."""
    ws = values[SUMMARY]
    for label in ("Revenue 2030 (US$ million)", "Revenue CAGR 2023-2030", "Revenue CAGR 2024-2030",
                  "Sales volume 2030 (kt)", "Volume CAGR 2023-2030", "Volume CAGR 2024-2030"):
        high, base, low = (figure(ws, label, name) for name in ("High", "Base", "Low"))
        assert high > base > low, label
    assert figure(ws, "Revenue 2030 (US$ million)", "Base") == figure(ws, "Revenue (US$ million)",
                                                                      LAST_YEAR)
    assert figure(ws, "Sales volume 2030 (kt)", "Base") == figure(ws, "Sales volume (kt)", LAST_YEAR)
    assert figure(ws, "Revenue CAGR 2023-2030", "Base") == figure(ws, "Revenue (US$ million)",
                                                                  "CAGR 23-30")
    label = f"Revenue {LAST_YEAR} (US$ million)"
    row = max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)  # S.4
    p10, p50, p90, base, sits_at = (ws.cell(row, c).value for c in range(2, 7))
    assert p10 < base < p90 and p10 < p50 < p90
    assert base == figure(ws, "Revenue (US$ million)", LAST_YEAR)
    assert 10 < sits_at < 90


def test_numbers_carry_their_units_and_formats(book: Workbook):
    """US$ million and kt with thousands separators and one decimal, US$/t whole, shares and CAGRs
    in %, the base case's percentile as P39; year headers 2023A 2024A 2030F."""
    ws = book[SUMMARY]
    expected = {"Revenue": "#,##0.0", "Sales volume": "#,##0.0", "Average price": "#,##0"}
    for spot in placements(MODEL, template_tables(MODEL)["company.capacity"]):
        number_format = ws[spot.cell].number_format
        if "CAGR" in spot.what or "share" in spot.what:
            assert number_format == "0.0%", spot
        elif spot.what.endswith("Base sits at"):
            assert number_format == '"P"0', spot
        else:
            unit = next(f for name, f in expected.items() if spot.what.startswith(name))
            assert number_format == unit, spot
            assert "(US$ million)" in spot.what or "(kt)" in spot.what or "(US$/t)" in spot.what
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Figure")
    assert [ws.cell(header, c).number_format for c in (2, 3, 4)] == ['0"A"', '0"A"', '0"F"']
    assert [ws.cell(header, c).value for c in range(2, 7)] == [BASE_YEAR, BASE_YEAR + 1, LAST_YEAR,
                                                               "CAGR 23-30", "CAGR 24-30"]


def test_the_checks_list_the_summarys_calls(book: Workbook):
    """Checks has a "Summary: no NEGCOKE_* cell typed over" row feeding the master check."""
    labels = [book[CHECKS].cell(r, 1).value for r in range(1, book[CHECKS].max_row + 1)]
    assert f"{SUMMARY}: no NEGCOKE_* cell typed over" in labels


@pytest.mark.slow  # another whole refresh or recalculation (5-7 s)
def test_the_selected_scenario_moves_s1_and_s2_but_not_the_named_columns(template_xlsx: bytes,
                                                                        values: Workbook):
    """With Scenario = high, S.1's 2030 revenue equals the High column of S.3 (and the base
    workbook's), while S.3 and S.4 stay as they were."""
    book = load_workbook(io.BytesIO(template_xlsx))
    book[ASSUMPTIONS]["B3"] = "high"
    data, report = recalculate(book_bytes(book))
    assert report.problems == []
    high = load_workbook(io.BytesIO(data), data_only=True)[SUMMARY]
    base = values[SUMMARY]
    assert figure(high, "Revenue (US$ million)", LAST_YEAR) == figure(base, "Revenue 2030 (US$ million)",
                                                                      "High")
    assert figure(high, "Revenue (US$ million)", LAST_YEAR) == pytest.approx(
        MODEL.value("Global", LAST_YEAR, "revenue", "high"), rel=1e-9)
    assert figure(high, "China share of revenue", LAST_YEAR) == pytest.approx(
        MODEL.share("China", LAST_YEAR, "revenue", "high"), rel=1e-9)
    named = next(r for r in range(1, base.max_row + 1) if str(base.cell(r, 1).value).startswith("S.3"))
    for row in high.iter_rows(min_row=named):
        for cell in row:
            if isinstance(cell.value, (int, float)):
                assert base[cell.coordinate].value == cell.value, cell.coordinate


# -- a workbook of the template before the Summary sheet ---------------------------------------


@pytest.fixture(scope="module")
def refreshed_old() -> tuple[bytes, bytes, object]:
    """The previous template's workbook with an analyst's work (a note on 2 Market size, a sheet
    of their own, a changed input), refreshed: (before, after, plan)."""
    book = load_workbook(BEFORE_SUMMARY)
    assert SUMMARY not in book.sheetnames
    book["2 Market size"]["P5"] = "my note"
    book.create_sheet("My analysis")["A1"] = "=Revenue2030*2"
    ws = book[ASSUMPTIONS]
    row = next(r for r in range(ASSUMPTIONS_HEADER_ROW + 1, ws.max_row + 1)
               if ws.cell(r, 1).value == "coke_per_anode_t")
    ws.cell(row, 2).value = ws.cell(row, 2).value * 1.1
    before = book_bytes(book)
    after, plan = refresh_bytes(before, MODEL)
    return before, after, plan


def test_refresh_adds_the_summary_after_contents_and_keeps_the_analysts_work(refreshed_old):
    """The Summary sheet is added right after Contents, with its charts, Contents links it, and
    the note, the analyst's sheet and their input survive; nothing is reported as an edit."""
    before, after, plan = refreshed_old
    assert plan.added_sheets == [SUMMARY]
    assert (plan.kept_edits, plan.collisions) == ([], [])
    assert plan.user_sheets == ["My analysis"]
    assert any(item.startswith("coke_per_anode_t = ") for item in plan.kept_inputs)
    old, new = load_workbook(io.BytesIO(before)), load_workbook(io.BytesIO(after))
    assert [s for s in new.sheetnames if s != SUMMARY] == old.sheetnames
    assert new.sheetnames[:2] == [CONTENTS, SUMMARY]
    assert new["2 Market size"]["P5"].value == "my note"
    assert new["My analysis"]["A1"].value == "=Revenue2030*2"
    assert len(new[SUMMARY]._charts) == 2
    links = [c.hyperlink.location for row in new[CONTENTS].iter_rows() for c in row if c.hyperlink]
    assert links[0] == f"{SUMMARY}!A1"


def test_the_refreshed_summary_shows_the_workbooks_own_inputs(refreshed_old):
    """After the refresh the Summary's figures are the model's for the analyst's inputs (coke
    per tonne of anode raised by a tenth moves 2030 volume)."""
    _before, after, _plan = refreshed_old
    ws = load_workbook(io.BytesIO(after), data_only=True)[SUMMARY]
    key = "coke_per_anode_t"
    value = float(MODEL.assumptions().set_index("key").loc[key, "value"])
    edited = load_model(None, {key: value * 1.1})
    spots = placements(edited, template_tables(edited)["company.capacity"])
    for spot in spots:
        assert ws[spot.cell].value == pytest.approx(spot.figure.expected(edited, "base"), rel=1e-9), spot
    volume = figure(ws, "Sales volume (kt)", LAST_YEAR)
    assert volume == pytest.approx(edited.value("Global", LAST_YEAR, "volume"), rel=1e-9)
    assert abs(volume / MODEL.value("Global", LAST_YEAR, "volume") - 1) > 0.01


@pytest.mark.slow  # another whole refresh or recalculation (5-7 s)
def test_an_analysts_own_sheet_named_like_the_summary_stops_the_refresh():
    """A sheet of the analyst's called "summary" (Excel ignores case) would be taken for the
    model's: the refresh refuses, naming it, and writes nothing."""
    book = load_workbook(BEFORE_SUMMARY)
    book.create_sheet("summary")["A1"] = "my own summary"
    with pytest.raises(WorkbookError, match=r"your sheet 'summary' has the name of a sheet the new "
                                            r"template adds \('Summary'\); rename yours"):
        refresh_bytes(book_bytes(book), MODEL)


def test_the_fixture_is_a_workbook_of_the_previous_template():
    """The fixture has the ownership record of a build and no Summary sheet."""
    book = load_workbook(BEFORE_SUMMARY)
    assert RECORD_SHEET in book.sheetnames and SUMMARY not in book.sheetnames
    assert book.sheetnames[:2] == [CONTENTS, "1 Introduction"]


def test_a_scenario_of_the_workbooks_own_rows_adds_no_column():
    """The side-by-side columns are the dataset's scenarios (base, high, low): a scenario the
    analyst defines in Assumptions rows shows through the selector in S.1 and S.2, so `check`
    looks for the template's cells, not a fourth column."""
    own = load_model(None, {"mycase.coke_per_anode_t": 1.7})
    assert "mycase" in own.scenarios
    cells = [p.cell for p in placements(own, template_tables(own)["company.capacity"])]
    assert cells == [p.cell for p in placements(MODEL, template_tables(MODEL)["company.capacity"])]
    assert {p.what.split(", ")[-1] for p in placements(own, template_tables(own)["company.capacity"])
            if p.what.startswith("Sales volume 2030")} == {"Base", "High", "Low"}
