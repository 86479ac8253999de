"""What a finance reader sees in the template's labels (issue 14, item 5): one number per section,
price rows named for what they are, compact small tables, an exit that is not a -100% CAGR,
business overviews and news dates from the data, Checks in plain words with the differences,
a way back to Contents from every sheet, and nothing printed for xlwings.conf."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from xl_negcoke.errors import DataError
from xl_negcoke.model import BASE_YEAR, LAST_YEAR, load_dataset, load_model
from xl_negcoke.model.dataset import DEFAULT_DATA_DIR
from xl_negcoke.workbook import TEMPLATE_NAME, layout
from xl_negcoke.workbook.build import CACHE, CHECKS, CONF, CONTENTS, UDF_MODULE, template_tables
from xl_negcoke.workbook.contents import CONTENTS_LINK
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.formula import year_column
from xl_negcoke.workbook.recalc import evaluate

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "workbooks" / f"{TEMPLATE_NAME}.xlsx"
MODEL = load_model()
SECTION = re.compile(r"^(\d+(?:\.\d+)*) ")


@pytest.fixture(scope="module")
def formulas() -> Workbook:
    return load_workbook(COMMITTED)


@pytest.fixture(scope="module")
def values() -> Workbook:
    """The committed workbook as a reader without Python sees it (values of the build's
    recalculation by the formulas engine)."""
    return load_workbook(COMMITTED, data_only=True)


def _numbered_titles() -> list[tuple[str, str, str]]:
    """(sheet, section number, title) of every numbered block of the report sheets."""
    found = []
    for sheet in layout.report_layout(MODEL):
        for block in sheet.blocks:
            match = SECTION.match(block.title)
            if match:
                found.append((sheet.name, match.group(1), block.title))
    return found


# -- section numbers ------------------------------------------------------------------------------


def test_no_two_blocks_share_a_section_number():
    """Every numbered block has its own number (2.3 appeared twice, as did 6.3 and each region's
    6.n)."""
    numbers = [number for _sheet, number, _title in _numbered_titles()]
    assert len(numbers) > 40
    assert sorted(n for n in set(numbers) if numbers.count(n) > 1) == []


def test_each_block_number_belongs_to_its_sheets_section():
    """A block's number starts with its sheet's section (4.2 on '4 By type') and goes one level
    below it: no block is numbered as the whole section ("7 Profiles" was)."""
    for sheet, number, title in _numbered_titles():
        assert number.split(".")[0] == sheet.split()[0], title
        assert "." in number, title


def test_a_heading_names_one_section():
    """No heading strings several section numbers together ("3.1 Top players, 3.7 product type
    and 3.8 tier")."""
    for _sheet, _number, title in _numbered_titles():
        assert not re.search(r"\d+\.\d+ .*\b\d+\.\d+ [a-z]", title), title
    titles = {number: title for _sheet, number, title in _numbered_titles()}
    assert titles["3.1"].startswith("3.1 Top players")
    assert titles["3.7"] == "3.7 Product type by company"
    assert titles["3.8"].startswith("3.8 Tier 1 and tier 2-3 producers")
    assert titles["2.3.1"].startswith("2.3.1 Sales volume") and \
        titles["2.3.2"].startswith("2.3.2 Average price")


def test_the_company_sheet_shows_type_and_tier_under_their_own_headings(values: Workbook):
    """3.7 lists each company's type and 3.8 its tier, under headings of their own."""
    ws = values["3 Companies"]
    column_a = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    seven = next(r for text, r in column_a.items() if str(text).startswith("3.7 "))
    eight = next(r for text, r in column_a.items() if str(text).startswith("3.8 "))
    assert [ws.cell(seven + 1, c).value for c in (1, 2)] == ["Company", "Type"]
    assert [ws.cell(eight + 1, c).value for c in (1, 2)] == ["Company", "Tier"]
    assert ws.cell(seven + 2, 1).value == "China National Petroleum"
    assert ws.cell(seven + 2, 2).value == "Petroleum-based"  # companies.csv
    assert ws.cell(eight + 2, 2).value == MODEL.tier("China National Petroleum") == "Tier 1"


# -- what a row is ---------------------------------------------------------------------------------


def test_a_price_tables_last_row_is_the_volume_weighted_average():
    """A price table's last row is labelled "Average (volume-weighted)" and is one: 2023 by type,
    (P_petroleum x V_petroleum + P_coal x V_coal) / (V_petroleum + V_coal)."""
    table = MODEL.table("type", "price")
    assert table.index[-1] == "Average (volume-weighted)"
    volume = {t: MODEL.value(t, BASE_YEAR, "volume") for t in ("Petroleum-based", "Coal-based")}
    price = {t: MODEL.value(t, BASE_YEAR, "price") for t in volume}
    weighted = sum(price[t] * volume[t] for t in volume) / sum(volume.values())
    assert table.loc["Average (volume-weighted)", BASE_YEAR] == pytest.approx(weighted, rel=1e-12)
    assert MODEL.table("type", "revenue").index[-1] == "Total"  # a sum stays a Total


def test_the_workbooks_price_rows_say_average_not_total(values: Workbook):
    """Every price table of the committed workbook ends with the average's label, never "Total"."""
    for key, placed in template_tables(MODEL).items():
        if placed.metric == "price" and placed.total_row:
            assert values[placed.sheet][f"A{placed.total_row}"].value == "Average (volume-weighted)", key


def test_a_company_that_exits_shows_exit_not_minus_100_percent(formulas: Workbook, values: Workbook):
    """Mitsubishi Chemical's only plant (Sakaide) runs to 2027 (producers.csv), so its 2030
    capacity is 0: its CAGR cell reads "exit", a native formula, and no CAGR cell anywhere reads
    -100%."""
    assert MODEL.value("Mitsubishi Chemical", LAST_YEAR, "capacity") == 0
    assert MODEL.value("Mitsubishi Chemical", BASE_YEAR, "capacity") > 0
    placed = template_tables(MODEL)["company.capacity"]
    cell = f"N{placed.rows['Mitsubishi Chemical']}"
    assert values[placed.sheet][cell].value == "exit"
    formula = formulas[placed.sheet][cell].value
    assert isinstance(formula, str) and formula.startswith("=IF(") and '"exit"' in formula
    minus_100 = [(ws.title, c.coordinate) for ws in values.worksheets for row in ws.iter_rows()
                 for c in row if isinstance(c.value, float) and c.value == -1.0
                 and c.number_format == "0.0%"]
    assert minus_100 == []


# -- compact small tables ---------------------------------------------------------------------------


def test_size_blocks_sit_in_three_columns(values: Workbook):
    """4.1 (type size): 2023 in B, 2030 in C, the CAGR in D and nothing in E:N; the numbers are
    the revenue table's (Petroleum-based 2023 and 2030, CAGR = (2030/2023)^(1/7) - 1)."""
    ws = values["4 By type"]
    header = next(r for r in range(1, 20) if str(ws.cell(r, 1).value).startswith("4.1 ")) + 1
    assert [ws.cell(header, c).value for c in range(2, 5)] == [BASE_YEAR, LAST_YEAR, "CAGR 23-30"]
    assert all(ws.cell(r, c).value is None for r in range(header, header + 4) for c in range(5, 15))
    first, last = (MODEL.value("Petroleum-based", y) for y in (BASE_YEAR, LAST_YEAR))
    assert ws.cell(header + 1, 1).value == "Petroleum-based"
    assert ws.cell(header + 1, 2).value == pytest.approx(first, rel=1e-12)
    assert ws.cell(header + 1, 3).value == pytest.approx(last, rel=1e-12)
    assert ws.cell(header + 1, 4).value == pytest.approx((last / first) ** (1 / 7) - 1, rel=1e-12)


def test_headline_figures_sit_in_one_value_column(formulas: Workbook):
    """2.1's figures (a value a row) are all in column C, next to their labels; none in the
    year columns D:N."""
    ws = formulas["2 Market size"]
    header = next(r for r in range(1, 20) if str(ws.cell(r, 1).value).startswith("2.1 ")) + 1
    rows = range(header + 1, header + 7)
    assert all(str(ws[f"C{r}"].value).startswith("=IFERROR(NEGCOKE_") for r in rows)
    assert all(ws.cell(r, c).value is None for r in rows for c in range(4, 15))


# -- profiles ---------------------------------------------------------------------------------------


def test_business_overview_is_the_companys_facts():
    """Seadrift Coke's overview: its type and HQ (companies.csv), its overview text, and its plant
    (producers.csv): no capacity arithmetic."""
    assert MODEL.company("Seadrift Coke", "overview") == (
        "Petroleum-based producer headquartered in the United States. Captive needle-coke "
        "producer of GrafTech. Plants: Port Lavaca, Texas (United States; needle coke).")
    for company in MODEL.segments("company"):
        if company != "Others":
            assert "kt/yr" not in MODEL.company(company, "overview"), company


def test_profiles_show_the_overview_not_the_provenance(formulas: Workbook):
    """The profiles' "Business overview" cells call NEGCOKE_COMPANY(..., "overview")."""
    ws = formulas["7 Profiles"]
    overviews = [ws[f"B{r}"].value for r in range(1, ws.max_row + 1)
                 if ws[f"A{r}"].value == "Business overview"]
    assert len(overviews) == len(MODEL.segments("company")) - 1
    assert all('"overview"' in str(v) and "NEGCOKE_SOURCE" not in str(v) for v in overviews)


def test_no_news_item_carries_a_placeholder_date(values: Workbook):
    """company_news.csv dates are as precise as their source (day, month, year) or "n/d"; none is
    the 2019-01-01 placeholder, and no profile shows one."""
    dates = [item["date"] for item in MODEL.dataset.news]
    assert "2019-01-01" not in dates and "n/d" in dates
    assert all(re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?|n/d", d) for d in dates)
    ws = values["7 Profiles"]
    shown = [ws[f"B{r}"].value for r in range(1, ws.max_row + 1) if ws[f"A{r}"].value == "Key news"]
    assert shown and not any(str(v).startswith("2019-01-01") for v in shown)


def test_the_latest_news_is_the_latest_dated_item():
    """An undated item counts as the oldest: C-Chem's latest is the dated 2023-06-16 one, ENEOS
    (one undated item) shows n/d, PMC Tech its year."""
    assert MODEL.company("C-Chem", "news").startswith("2023-06-16: ")
    assert MODEL.company("ENEOS", "news").startswith("n/d: ")
    assert MODEL.company("PMC Tech", "news").startswith("2015: ")


@pytest.mark.parametrize("date", ["2019-13-01", "Jan 2019", "19-01-01", "unknown", "2019/01/01"])
def test_a_news_date_that_is_no_date_is_refused_in_one_line(tmp_path: Path, date: str):
    """A date that is not YYYY[-MM[-DD]] or n/d: one DataError naming file, row and column."""
    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    path = folder / "company_news.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("ENEOS,n/d,", f"ENEOS,{date},"),
                    encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_dataset(folder)
    message = str(caught.value)
    assert "company_news.csv" in message and "date" in message and "n/d" in message
    assert "\n" not in message


# -- Checks -------------------------------------------------------------------------------------------


def _check_rows(ws) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value}


def test_checks_read_in_plain_words(values: Workbook):
    """No check label uses a table key (type.revenue) or a programmer's "sums to"; each says what
    is compared, e.g. "4.2 Revenue by type: the rows add up to the Total"."""
    labels = list(_check_rows(values[CHECKS]))
    assert len(labels) > 60
    assert not [label for label in labels if re.search(r"\b[a-z]+\.[a-z]+\b", label)]
    assert "4.2 Revenue by type: the rows add up to the Total" in labels
    assert "4.2 Revenue by type, share: the shares add up to 100%" in labels
    assert "4.4 Average price by type: the average equals 2.3.2 Average price" in labels


def test_checks_show_the_difference_and_ok(values: Workbook, formulas: Workbook):
    """Each year holds the difference found (a number, not TRUE), N what the master check reads
    (TRUE) and O the status (OK); the master cell B2 stays TRUE."""
    ws = values[CHECKS]
    row = _check_rows(ws)["4.2 Revenue by type: the rows add up to the Total"]
    differences = [ws.cell(row, c).value for c in range(2, 14)]
    assert all(isinstance(d, float) and abs(d) < 1e-9 * 6000 for d in differences)
    assert ws[f"N{row}"].value is True and ws[f"O{row}"].value == "OK"
    assert ws["B2"].value is True
    assert formulas[CHECKS]["B2"].value.startswith("=IFERROR(AND(N5:N")
    assert formulas[CHECKS].conditional_formatting  # OK green, FAIL red


def test_a_broken_table_shows_its_difference_and_fail():
    """The first share of 4.2 typed over as 0.5: "4.2 ..., share: the shares add up to 100%" shows
    2019's difference 0.5 + Coal-based's share - 1 (by hand: coal revenue / global revenue), FALSE
    in N, FAIL in O, and the master check is FALSE."""
    book = load_workbook(COMMITTED)
    share = template_tables(MODEL)["type.revenue.share"]
    book[share.sheet][f"{year_column(2019)}{share.rows['Petroleum-based']}"] = 0.5
    ws = book[CHECKS]
    row = _check_rows(ws)["4.2 Revenue by type, share: the shares add up to 100%"]
    result = evaluate(book_bytes(book), keep_stamp=True).values
    coal = MODEL.value("Coal-based", 2019) / MODEL.value("Global", 2019)
    assert result[(CHECKS, f"B{row}")] == pytest.approx(0.5 + coal - 1, abs=1e-12)
    assert result[(CHECKS, f"N{row}")] is False
    assert result[(CHECKS, f"O{row}")] == "FAIL"
    assert result[(CHECKS, "B2")] is False


# -- navigation and print ----------------------------------------------------------------------------


def test_every_sheet_links_back_to_contents(formulas: Workbook):
    """Every visible sheet but Contents has a "◀ Contents" link to Contents!A1 in its title rows,
    in column N on the report sheets and Checks (beside the timeline's right edge)."""
    for ws in formulas.worksheets:
        if ws.title == CONTENTS or ws.sheet_state != "visible":
            continue
        links = [c for row in ws.iter_rows(max_row=2) for c in row if c.value == CONTENTS_LINK]
        assert len(links) == 1, ws.title
        assert links[0].hyperlink.location == f"{CONTENTS}!A1", ws.title
        if ws.title[0].isdigit() or ws.title in (layout.RISK_SHEET, CHECKS):
            assert links[0].coordinate == "N2", ws.title


def test_xlwings_conf_is_not_printed_but_still_read(formulas: Workbook):
    """xlwings.conf is hidden (printing the workbook skips it) and still names our UDF module;
    the Cache stays hidden too."""
    assert formulas[CONF].sheet_state == "hidden"
    assert (formulas[CONF]["A1"].value, formulas[CONF]["B1"].value) == ("UDF Modules", UDF_MODULE)
    assert formulas[CACHE].sheet_state == "hidden"
    printed = [ws.title for ws in formulas.worksheets if ws.sheet_state == "visible"]
    assert printed[-1] == CHECKS


def test_an_old_quickstart_conf_in_a_given_book_is_hidden_too():
    """Built on the quickstart workbook, its _xlwings.conf becomes a hidden xlwings.conf."""
    from xl_negcoke.workbook.build import build_book
    from xl_negcoke.workbook.template import quickstart_path

    book = build_book(MODEL, load_workbook(quickstart_path(), keep_vba=True))
    assert book[CONF].sheet_state == "hidden"
