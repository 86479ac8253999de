"""`xl-negcoke snapshot`: a values-only copy of the workbook for colleagues without Python, with
the same numbers, number formats and charts, no formula anywhere, no xlwings.conf, and a line on
Contents saying what it is a snapshot of."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.cli import main
from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import load_model
from xl_negcoke.workbook.build import CACHE, CONF, CONTENTS
from xl_negcoke.workbook.ownership import RECORD_SHEET
from xl_negcoke.workbook.snapshot import NOTE_CELL, NUMBERS_NOTE, snapshot_bytes
from xl_negcoke.workbook.trust import BANNER_CELLS

AS_OF = "2024-06-30"
REMOVED = (CONF, CACHE, RECORD_SHEET)
STALE = "snapshot recalculates: a difference means workbooks/ is stale; run `xl-negcoke build`"


@pytest.fixture(scope="module")
def snapshot(committed_xlsx: Path, tmp_path_factory) -> Path:
    """`xl-negcoke snapshot <committed .xlsx> --out ... --as-of 2024-06-30`, run once."""
    out = tmp_path_factory.mktemp("snapshot") / "snapshot.xlsx"
    assert main(["snapshot", str(committed_xlsx), "--out", str(out), "--as-of", AS_OF]) == 0
    return out


def numbers_cell(ws) -> str:
    """The coordinate of the value right of 'Numbers' on Contents."""
    return next(f"B{cell.row}" for cell in ws["A"] if cell.value == "Numbers")


def test_snapshot_holds_no_formula(snapshot: Path):
    """No cell of the snapshot is a formula or part of an array formula, in openpyxl's view and
    in the sheet XML (no <f> element)."""
    book = load_workbook(snapshot)
    for ws in book.worksheets:
        assert ws.array_formulae == {}, ws.title
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
                assert not isinstance(cell.value, ArrayFormula), (ws.title, cell.coordinate)
    with zipfile.ZipFile(snapshot) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            assert not re.search(rb"<f[ >/]", archive.read(name)), name


def test_numbers_equal_the_committed_workbooks_cached_values(snapshot: Path, committed_xlsx: Path):
    """Every cell of every kept sheet holds exactly the committed workbook's cached value (the
    Contents note and 'Numbers' line aside, and the title-row banners, which name the snapshot's
    recalculation of 2024-06-30)."""
    source = load_workbook(committed_xlsx, data_only=True)
    copy = load_workbook(snapshot)
    assert copy.sheetnames == [name for name in source.sheetnames if name not in REMOVED]
    compared = 0
    banner = BANNER_CELLS.split(":")[0]
    for ws in copy.worksheets:
        original = source[ws.title]
        skip = {NOTE_CELL, numbers_cell(ws)} if ws.title == CONTENTS else set()
        if str(original[banner].value).startswith("Cached: "):
            assert ws[banner].value == f"Cached: values of the recalculation of {AS_OF}, inputs unchanged"
            skip.add(banner)
        for row in original.iter_rows():
            for cell in row:
                if cell.coordinate not in skip:
                    assert ws[cell.coordinate].value == cell.value, (ws.title, cell.coordinate, STALE)
                    compared += 1
        assert ws.max_row == original.max_row, ws.title
    assert compared > 10_000


def test_number_formats_are_kept(snapshot: Path, committed_xlsx: Path):
    """Every cell keeps its number format (units, percentages, thousands separators)."""
    source = load_workbook(committed_xlsx)
    copy = load_workbook(snapshot)
    formatted = 0
    for ws in copy.worksheets:
        for row in source[ws.title].iter_rows():
            for cell in row:
                assert ws[cell.coordinate].number_format == cell.number_format, (
                    ws.title, cell.coordinate)
                formatted += cell.number_format != "General"
    assert formatted > 1000


def _charts(path: Path) -> list[list[str]]:
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        return sorted(re.findall(r"<(?:c:)?f>([^<]*)</(?:c:)?f>", archive.read(n).decode()) for n in names)


def test_charts_are_kept_with_their_data(snapshot: Path, committed_xlsx: Path):
    """The snapshot has every chart of the workbook, each over the same cell ranges."""
    original = _charts(committed_xlsx)
    assert len(original) >= 5
    assert _charts(snapshot) == original


def test_xlwings_conf_and_formula_only_sheets_are_removed(snapshot: Path):
    """xlwings.conf, the hidden Cache sheet and the ownership record are gone; no sheet is hidden."""
    book = load_workbook(snapshot)
    assert not set(REMOVED) & set(book.sheetnames)
    assert [ws.title for ws in book.worksheets if ws.sheet_state != "visible"] == []


def test_contents_says_what_it_is_a_snapshot_of(snapshot: Path, committed_xlsx: Path):
    """Contents names the source file, the dataset id, the scenario and the --as-of date, and
    says the numbers are values only."""
    ws = load_workbook(snapshot)[CONTENTS]
    dataset = load_model().info()["dataset_id"]
    assert ws[NOTE_CELL].value == (f"Snapshot (values only, no formulas) of {committed_xlsx.name}, "
                                   f"dataset {dataset}, scenario base, as of {AS_OF}")
    assert ws[numbers_cell(ws)].value == NUMBERS_NOTE


@pytest.mark.slow  # another whole recalculation (5 s)
def test_snapshot_of_a_workbook_without_cached_values_is_refused(template_xlsx: bytes):
    """snapshot_bytes on a workbook never recalculated raises one line pointing at recalc."""
    with pytest.raises(WorkbookError, match=r"formula cells have no cached value .* run xl-negcoke "
                                            r"recalc on it first$"):
        snapshot_bytes(template_xlsx, "template.xlsx", dt.date(2024, 6, 30))


def test_snapshot_is_deterministic(committed_xlsx: Path, snapshot: Path):
    """Two snapshots of the same workbook on the same date are byte-identical."""
    data = snapshot_bytes(committed_xlsx.read_bytes(), committed_xlsx.name, dt.date(2024, 6, 30))
    assert data == snapshot_bytes(committed_xlsx.read_bytes(), committed_xlsx.name,
                                  dt.date(2024, 6, 30))
    assert load_workbook(io.BytesIO(data))[CONTENTS][NOTE_CELL].value.endswith(f"as of {AS_OF}")
