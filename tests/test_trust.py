"""Trust: the workbook never shows a stale or overridden number as right. The cache is stamped
with the scenario and a fingerprint of the inputs; stored values say "cached", never "live";
`check` names overridden model cells, a stale cache and another dataset; year headers carry
the model's A/E/F status and forecast columns are shaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.cli import main
from xl_negcoke.model import FIRST_YEAR, LAST_YEAR, load_model
from xl_negcoke.workbook import FILE_NAMES
from xl_negcoke.workbook.build import ASSUMPTIONS, CACHE, CONTENTS
from xl_negcoke.workbook.check import template_tables
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.formula import year_column
from xl_negcoke.workbook.sheets import assumption_rows
from xl_negcoke.workbook.trust import (
    BANNER_CELLS,
    FORECAST_FILL,
    STAMP_CELLS,
    build_when,
    inputs_fingerprint,
)

ROOT = Path(__file__).resolve().parents[1]
MODEL = load_model()
TABLES = template_tables(MODEL)
TABLE_SHEETS = sorted({placed.sheet for placed in TABLES.values()})
BANNER = BANNER_CELLS.split(":")[0]
LETTERS = {"actual": "A", "estimate": "E", "forecast": "F"}


# -- the fingerprint ---------------------------------------------------------------------------


def test_fingerprint_adds_key_lengths_and_rounded_values_times_their_row():
    """Header "key"(3) and "value"(5) on row 5, key "a"(1) and 1.5 on row 6: 3*5 + 5*5 + 1*6 +
    1,500,000*6 = 9,000,046; the unit column (third) does not count."""
    cells = [(5, 0, "key"), (5, 1, "value"), (5, 2, "unit"), (6, 0, "a"), (6, 1, 1.5),
             (6, 2, "t/t")]
    assert inputs_fingerprint(cells) == 9_000_046


def test_fingerprint_rounds_half_away_from_zero_like_a_spreadsheet():
    """0.0000025 x 1,000,000 is 2.4999999999999996 in binary, 2.5 to 15 digits: ROUND gives 3,
    and -0.0000025 gives -3; a blank value adds nothing."""
    assert inputs_fingerprint([(1, 1, 0.0000025)]) == 3
    assert inputs_fingerprint([(1, 1, -0.0000025)]) == -3
    assert inputs_fingerprint([(7, 1, None)]) == 0


def test_build_names_its_recalculation_without_the_clock(monkeypatch):
    """Without SOURCE_DATE_EPOCH the build stamps "at build"; with it (1733097600 = 2024-12-02
    00:00 UTC) it stamps that date, so two builds give the same bytes."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert build_when() == "at build"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1733097600")
    assert build_when() == "of 2024-12-02"


# -- what the committed workbook says about itself ----------------------------------------------


@pytest.fixture(scope="module")
def committed_values(committed_xlsx: Path) -> Workbook:
    return load_workbook(committed_xlsx, data_only=True)


@pytest.fixture(scope="module")
def committed_formulas(committed_xlsx: Path) -> Workbook:
    return load_workbook(committed_xlsx)


def _labelled(ws, label: str) -> object:
    return next(ws.cell(row, 2).value for row in range(1, 30) if ws.cell(row, 1).value == label)


def test_stored_values_say_cached_never_live(committed_values: Workbook):
    """A reader that does not recalculate (a viewer, Protected View) reads on Contents that the
    numbers are the values of the recalculation at build, scenario base, of the installed
    dataset, with unchanged inputs, and "Cached" on every model sheet's title row."""
    contents = committed_values[CONTENTS]
    dataset = MODEL.dataset.dataset_id
    assert _labelled(contents, "Numbers") == (f"values of the recalculation at build, scenario base, "
                                              f"dataset {dataset}; inputs unchanged")
    assert _labelled(contents, "Cache current") is True
    for title in TABLE_SHEETS:
        banner = committed_values[title][BANNER].value
        assert banner == "Cached: values of the recalculation at build, inputs unchanged", title


def test_the_cache_is_stamped_with_scenario_fingerprint_and_dataset(committed_values: Workbook):
    """Cache row 2 holds scenario base, the fingerprint the native formula on Contents computes
    (equal), "at build" and the installed dataset id."""
    cache = committed_values[CACHE]
    stamp = {name: cache[cell].value for name, cell in STAMP_CELLS.items()}
    assert stamp["CacheScenario"] == "base"
    assert stamp["CacheWhen"] == "at build"
    assert stamp["CacheDataset"] == MODEL.dataset.dataset_id
    assert _labelled(committed_values[CONTENTS], "Inputs fingerprint") == stamp["CacheFingerprint"]


def test_fallbacks_show_the_cache_only_while_it_is_current(committed_formulas: Workbook):
    """Every NEGCOKE_* call that takes the inputs falls back to its Cache block only while
    CacheCurrent holds, else #N/A; the anchor of 2.2's table is written that way."""
    placed = TABLES["global.revenue"]
    anchor = committed_formulas[placed.sheet][f"A{placed.header_row}"].value
    assert isinstance(anchor, ArrayFormula)
    assert anchor.text.startswith('=IFERROR(NEGCOKE_TABLE("global","revenue",')
    assert ",IF(CacheCurrent,Cache!$A$" in anchor.text and anchor.text.endswith(",NA()))")


# -- A/E/F --------------------------------------------------------------------------------------


def test_year_headers_carry_the_models_status(committed_formulas: Workbook, committed_values: Workbook):
    """Every table's header cell of a year shows the letter of Model.status(year) through its
    number format, while its value stays the year (formulas and charts read it)."""
    for key, placed in TABLES.items():
        ws, values = committed_formulas[placed.sheet], committed_values[placed.sheet]
        for year in range(placed.start, placed.end + 1):
            cell = f"{year_column(year)}{placed.header_row}"
            assert ws[cell].number_format == f'0"{LETTERS[MODEL.status(year)]}"', (key, cell)
            assert values[cell].value == year, (key, cell)


def test_forecast_columns_are_shaded_and_the_others_are_not(committed_formulas: Workbook):
    """In every table body, the cells of years whose status is forecast carry the pale fill and
    no other year's cell does."""
    fill = FORECAST_FILL.fgColor.rgb
    for key, placed in TABLES.items():
        ws = committed_formulas[placed.sheet]
        for row in placed.rows.values():
            for year in range(placed.start, placed.end + 1):
                colour = ws[f"{year_column(year)}{row}"].fill.fgColor.rgb
                assert (colour == fill) == (MODEL.status(year) == "forecast"), (key, row, year)


def test_the_timeline_charts_mark_where_the_forecast_starts(committed_formulas: Workbook):
    """The 2.2 revenue line and the 4.2 stacked columns style every forecast year's point (one
    data point per forecast year and series) and say so in their title."""
    first = MODEL.first_forecast_year()
    forecast_points = LAST_YEAR - first + 1
    for sheet, kind in (("2 Market size", "lineChart"), ("4 By type", "barChart")):
        chart = next(c for c in committed_formulas[sheet]._charts if c.tagname == kind)
        assert all(len(series.dPt) == forecast_points for series in chart.series), sheet
        title = "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))
        assert f"forecast from {first}" in title, sheet
    assert FIRST_YEAR < first <= LAST_YEAR


# -- check ---------------------------------------------------------------------------------------


def run_check(path: Path, capsys, *extra: str) -> tuple[int, list[str]]:
    code = main(["check", str(path), *extra])
    captured = capsys.readouterr()
    assert captured.err == ""
    return code, captured.out.splitlines()


@pytest.fixture(scope="module")
def tampered(committed_xlsx: Path, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The committed workbook with 2023 revenue ('2 Market size' Revenue2023, a NEGCOKE_FORECAST
    cell) typed over as 1700, the anchor of 4.2's NEGCOKE_TABLE typed over with "Type", and one
    share formula of 6.2 replaced by =0.5+0."""
    book = load_workbook(committed_xlsx)
    sheet, revenue = next(iter(book.defined_names["Revenue2023"].destinations))
    revenue = revenue.replace("$", "")
    table = TABLES["type.revenue"]
    share = TABLES["region.revenue.share"]
    share_cell = f"{year_column(MODEL.first_forecast_year())}{min(share.rows.values())}"
    book[sheet][revenue] = 1700
    book[table.sheet][f"A{table.header_row}"] = "Type"
    book[share.sheet][share_cell] = "=0.5+0"
    path = tmp_path_factory.mktemp("tampered") / "tampered.xlsx"
    path.write_bytes(book_bytes(book))
    return path, {"single NEGCOKE_* cell": f"{sheet}!{revenue}",
                  "table anchor": f"{table.sheet}!A{table.header_row}",
                  "native share formula": f"{share.sheet}!{share_cell}"}


@pytest.mark.slow  # another whole check (4-8 s)
def test_check_names_every_replaced_model_formula(tampered, capsys):
    """check exits 1 and names each replaced cell: the typed 1700, the typed-over table anchor
    and the share formula replaced by another; the native master check is FALSE too."""
    path, cells = tampered
    code, out = run_check(path, capsys)
    assert code == 1
    assert f"{cells['single NEGCOKE_* cell']}: the model's formula was replaced by the constant 1700 " \
           "(xl-negcoke refresh puts the model's formula back)" in out
    assert f"{cells['table anchor']}: the model's formula was replaced by the constant Type " \
           "(xl-negcoke refresh puts the model's formula back)" in out
    assert f"{cells['native share formula']}: the model's formula was replaced by another " \
           "formula, =0.5+0 (xl-negcoke refresh puts the model's formula back)" in out
    assert "Checks!B2: master check is False" in out
    assert any("2 Market size: no NEGCOKE_* cell typed over" in line for line in out)


def _with_input(committed_xlsx: Path, folder: Path, scenario: str | None = None,
                factor: float | None = None) -> Path:
    """The committed workbook with the scenario set or the first input scaled (not
    recalculated)."""
    book = load_workbook(committed_xlsx)
    ws = book[ASSUMPTIONS]
    if scenario is not None:
        ws["B3"] = scenario
    if factor is not None:
        cell = ws.cell(min(assumption_rows(ws).values()), 3)  # the first input's value
        cell.value = cell.value * factor
    path = folder / f"changed-{scenario or factor}.xlsx"
    path.write_bytes(book_bytes(book))
    return path


@pytest.mark.slow  # another whole check (4-8 s)
def test_check_reports_a_cache_stale_after_a_scenario_change(committed_xlsx, tmp_path, capsys):
    """Scenario set to high without recalculating: check exits 1 naming Cache!B2 (the stamped
    scenario) as a stale cache."""
    code, out = run_check(_with_input(committed_xlsx, tmp_path, scenario="high"), capsys)
    assert code == 1
    assert any(line.startswith(f"{CACHE}!{STAMP_CELLS['CacheScenario']}: stale cache: scenario is "
                               "high, the cache holds scenario base") for line in out)


def test_check_reports_a_cache_stale_after_an_input_change(committed_xlsx, tmp_path, capsys):
    """The first input raised by a tenth without recalculating: check exits 1 naming Cache!C2
    (the stamped fingerprint). (test_check: after xl-negcoke recalc the same kind of edit is
    clean.)"""
    path = _with_input(committed_xlsx, tmp_path, factor=1.1)
    code, out = run_check(path, capsys)
    assert code == 1
    assert any(line.startswith(f"{CACHE}!{STAMP_CELLS['CacheFingerprint']}: stale cache: the "
                               "inputs changed since the recalculation at build") for line in out)


@pytest.mark.slow  # another whole check (4-8 s)
def test_check_reports_cached_values_of_another_dataset(committed_xlsx, tmp_path, capsys):
    """Against a data folder whose first assumption differs (so its dataset id differs), check
    names Cache!E2 with both dataset ids."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    lines = (data / "assumptions.csv").read_text().splitlines()
    key, value, rest = lines[1].split(",", 2)
    lines[1] = f"{key},{float(value) * 1.01!r},{rest}"
    (data / "assumptions.csv").write_text("\n".join(lines) + "\n")
    other = load_model(data).dataset.dataset_id
    assert other != MODEL.dataset.dataset_id
    code, out = run_check(committed_xlsx, capsys, "--data", str(data))
    assert code == 1
    assert (f"{CACHE}!{STAMP_CELLS['CacheDataset']}: the cached values are of dataset "
            f"{MODEL.dataset.dataset_id}, the installed dataset is {other}; run xl-negcoke "
            "refresh on this file") in out


# another whole check each (4-9 s): the fast suite checks the committed .xlsx in test_check
@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_check_is_clean_on_both_committed_files(suffix, capsys):
    """Both committed template files: exit 0, no problem line."""
    path = ROOT / "workbooks" / FILE_NAMES[suffix]
    code, out = run_check(path, capsys)
    assert (code, len(out)) == (0, 1), out
    assert out[0].startswith(f"{path}: clean (")
