"""Workbooks another program wrote: LibreOffice Calc opened, edited, recalculated and saved them
(tests/fixtures/libreoffice/, made by scripts/make_fixtures.py; its README says how and when).

In the spirit of XlsxWriter's tests against files Excel made: our reader, `check`, `recalc`,
`snapshot` and `refresh` handle LibreOffice's bytes (its styles, shared strings, 15-digit
numbers, booleans stored as 1/0, lower-cased unknown functions, TRUE() and FALSE(), one-cell
arrays written "B9:B9", its comments and charts), and refresh keeps what the analyst did in it.

The fixtures were built by an earlier version of the template; the tests say what must hold for
such a file (its values, the analyst's edits after refresh), not where today's template puts
things: tables are found by their NEGCOKE_TABLE formula and inputs by their key. No LibreOffice
runs here; the numbers pinned are derived by hand from the Assumptions inputs.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.model import load_model
from xl_negcoke.workbook.build import build_book
from xl_negcoke.workbook.check import check_workbook
from xl_negcoke.workbook.ownership import ARRAY_MEMBER, formula_text, read_record
from xl_negcoke.workbook.recalc import formula_cells, recalculate
from xl_negcoke.workbook.refresh import refresh_bytes, refreshed_book
from xl_negcoke.workbook.snapshot import snapshot_bytes

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "libreoffice"
LIBREOFFICE_DIGITS = 1e-14  # LibreOffice stores 15 significant digits of a number
# the analyst's edits (scripts/make_fixtures.py makes them in LibreOffice)
EDITED_INPUT, EDITED_VALUE = "coke_per_anode_t", 1.6
NOTE = ("4 By type", "P12", "Analyst note: petroleum-based checked against our Q3 supplier survey")
INSERTED = ("5 By application", 11, "Analyst: EV demand under review, see My view")
OWN_SHEET = "My view"
# global volume 2024 (kt) = world anode 2024 x artificial-graphite share 2024 x coke per t of
# anode (market.py), with the dataset's 2024 inputs (data/assumptions.csv): 2,110 kt and 0.834
VOLUME_2024_AS_BUILT = 2110 * 0.834 * 1.5  # = 1,759.74 x 1.5 = 2,639.61 kt
VOLUME_2024_EDITED = 2110 * 0.834 * 1.6  # = 1,759.74 x 1.6 = 2,815.584 kt
_TABLE = re.compile(r'NEGCOKE_TABLE\("(?P<dimension>[^"]+)","(?P<metric>[^"]+)",(?P<start>\d{4}),'
                    r"(?P<end>\d{4})", re.IGNORECASE)
_ERROR = re.compile(r"^(#(NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A)|Err:\d+)")


def _bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _book(data: bytes, values: bool = False) -> Workbook:
    return load_workbook(io.BytesIO(data), data_only=values)


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def template() -> bytes:
    return _bytes("template.xlsx")


@pytest.fixture(scope="module")
def analyst() -> bytes:
    return _bytes("analyst.xlsx")


@pytest.fixture(scope="module")
def reopened() -> bytes:
    return _bytes("analyst-refreshed.xlsx")


@pytest.fixture(scope="module")
def refreshed(analyst: bytes, model) -> tuple[bytes, object]:
    """analyst.xlsx refreshed by this tree's code: (bytes, plan)."""
    return refresh_bytes(analyst, model)


def tables(formulas: Workbook) -> list[tuple[str, str, str, str, int, int]]:
    """Each NEGCOKE_TABLE block: (sheet, range, dimension, metric, start, end), found by formula
    (LibreOffice writes the unknown function in lower case)."""
    found = []
    for ws in formulas.worksheets:
        for ref in ws.array_formulae.values():
            anchor = ws[ref.split(":")[0]].value
            match = _TABLE.search(anchor.text if isinstance(anchor, ArrayFormula) else "")
            if match:
                found.append((ws.title, ref, match["dimension"].lower(), match["metric"].lower(),
                              int(match["start"]), int(match["end"])))
    return found


def table_row(formulas: Workbook, values: Workbook, dimension: str, metric: str,
              label: str) -> dict[int, object]:
    """year -> value of the row `label` of the first NEGCOKE_TABLE(dimension, metric) block."""
    for sheet, ref, found_dimension, found_metric, _start, _end in tables(formulas):
        if (found_dimension, found_metric) != (dimension, metric):
            continue
        c1, r1, c2, r2 = range_boundaries(ref)
        ws = values[sheet]
        years = [ws.cell(r1, c).value for c in range(c1 + 1, c2 + 1)]
        for row in range(r1 + 1, r2 + 1):
            if ws.cell(row, c1).value == label:
                return {int(y): ws.cell(row, c1 + 1 + i).value for i, y in enumerate(years)}
    raise AssertionError(f"no {dimension} {metric} table with a row {label!r}")


def input_value(formulas: Workbook, key: str) -> tuple[object, object]:
    """(value, comment text) of the Assumptions row whose key is `key`, wherever the row is."""
    ws = formulas["Assumptions"]
    for row in ws.iter_rows(max_col=3):
        for at in (0, 1):  # the key column: B on the input sheet (a label first), A before it
            if row[at].value == key:
                comment = row[at + 1].comment
                return row[at + 1].value, comment.text if comment is not None else None
    raise AssertionError(f"no Assumptions row {key!r}")


def error_cells(values: Workbook) -> list[tuple[str, str, object]]:
    return [(ws.title, cell.coordinate, cell.value) for ws in values.worksheets for row in ws.iter_rows()
            for cell in row if isinstance(cell.value, str) and _ERROR.match(cell.value)]


def close(got: object, expected: float, relative: float = LIBREOFFICE_DIGITS) -> bool:
    return isinstance(got, (int, float)) and not isinstance(got, bool) and math.isclose(
        got, expected, rel_tol=relative, abs_tol=1e-12)


def same_value(ours: object, theirs: object) -> bool:
    """A value our engine computed and the one LibreOffice stored: LibreOffice keeps 15
    significant digits and stores TRUE and FALSE as 1 and 0; a price the model does not have is
    blank in ours and "n/a" (the Cache's text) in LibreOffice's."""
    if isinstance(ours, bool):
        return theirs in (ours, int(ours))
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        # abs_tol: the Checks' differences are a total minus a sum of terms of thousands, 0 to
        # within the last of 15 digits of those terms (LibreOffice gave 1.8e-12 where we give 0)
        return math.isclose(ours, theirs, rel_tol=LIBREOFFICE_DIGITS, abs_tol=1e-9)
    if ours in (None, "") and theirs in (None, "", "n/a"):
        return True
    return str(ours) == str(theirs)


# ---------------------------------------------------------------------------------------------
# what LibreOffice wrote


@pytest.mark.parametrize("name", ["template.xlsx", "analyst.xlsx", "analyst-refreshed.xlsx"])
def test_the_fixtures_were_written_by_libreoffice(name: str) -> None:
    """Each fixture's application is LibreOffice (not openpyxl, not our build); the ownership
    record survived LibreOffice's save, as a hidden sheet (Calc has no "very hidden")."""
    with zipfile.ZipFile(FIXTURES / name) as archive:
        application = re.search(rb"<Application>([^<]*)</Application>", archive.read("docProps/app.xml"))
    assert application is not None and application.group(1).startswith(b"LibreOffice/")
    book = _book(_bytes(name))
    assert book["_xl_negcoke"].sheet_state == "hidden"


def test_every_model_cell_reads_as_recorded_after_libreoffices_rewriting(template: bytes) -> None:
    """LibreOffice rewrites formulas (NEGCOKE_TABLE saved as negcoke_table, FALSE as FALSE(), the
    one-cell array B9 as B9:B9); every model cell of the ownership record still has the
    fingerprint build recorded (ownership.formula_text), so nothing reads as an analyst's edit."""
    book = _book(template)
    record = read_record(book)
    compared, differ = 0, []
    for table in (record.cells, record.inputs):
        for sheet, cells in table.items():
            for coordinate, digest in cells.items():
                if digest != ARRAY_MEMBER:
                    compared += 1
                    if record.digest(book[sheet][coordinate].value) != digest:
                        differ.append(f"{sheet}!{coordinate}")
    assert differ == [] and compared > 3000
    texts = [cell.value.text if isinstance(cell.value, ArrayFormula) else cell.value
             for ws in book.worksheets for row in ws.iter_rows() for cell in row
             if isinstance(cell.value, ArrayFormula) or str(cell.value).startswith("=")]
    # the rewritings formula_text undoes are really in the file
    assert any("negcoke_table(" in text for text in texts)
    assert any("FALSE()" in text for text in texts)
    assert formula_text("=IFERROR(negcoke_info(\"version\"),FALSE())") == \
        formula_text("=IFERROR(NEGCOKE_INFO(\"version\"),FALSE)")
    assert str(book["Contents"]["B9"].value.ref) == "B9:B9"


def test_libreoffices_values_of_the_template_are_the_models_numbers(template: bytes, model) -> None:
    """With every formula recalculated by LibreOffice (each NEGCOKE_* call falling back to its
    Cache), each table's values equal Model.table to LibreOffice's 15 digits; global volume 2024
    is 2,110 kt x 0.834 x 1.5 = 2,639.61 kt."""
    formulas, values = _book(template), _book(template, values=True)
    assert read_record(formulas).dataset_id == model.dataset.dataset_id, (
        "the fixtures were made with another dataset: run scripts/make_fixtures.py")
    compared = 0
    for sheet, ref, dimension, metric, start, end in tables(formulas):
        frame = model.table(dimension, metric, start, end, "base")
        c1, r1, _c2, _r2 = range_boundaries(ref)
        ws = values[sheet]
        for i, (segment, numbers) in enumerate(zip(frame.index, frame.to_numpy().tolist(), strict=True)):
            assert ws.cell(r1 + 1 + i, c1).value == segment, (sheet, ref, segment)
            for j, expected in enumerate(numbers):
                got = ws.cell(r1 + 1 + i, c1 + 1 + j).value
                if math.isnan(expected):
                    assert got in (None, "", "n/a"), (sheet, ref, segment, start + j, got)
                else:
                    assert close(got, expected), (sheet, ref, segment, start + j, got, expected)
                compared += 1
    assert compared > 1500
    volume = table_row(formulas, values, "type", "volume", "Total")
    assert close(volume[2024], VOLUME_2024_AS_BUILT, 1e-12)
    assert values["Checks"]["B2"].value in (True, 1)  # LibreOffice stores TRUE as 1
    assert error_cells(values) == []


# ---------------------------------------------------------------------------------------------
# check, recalc, snapshot on LibreOffice's file


def test_check_of_the_libreoffice_saved_template_is_clean(template: bytes) -> None:
    """`xl-negcoke check` on the template LibreOffice saved finds nothing: every formula
    evaluates, every check holds, every table cell equals the model, no formula reads as
    replaced, the cache is current."""
    report = check_workbook(template)
    assert report.problems == []
    assert report.compared > 2000 and report.checks > 50


@pytest.mark.slow  # another whole command on a LibreOffice file (3-8 s)
def test_snapshot_of_the_libreoffice_saved_template_keeps_libreoffices_values(template: bytes) -> None:
    """A snapshot of LibreOffice's file has no formula left, and each table shows the values
    LibreOffice stored."""
    snapshot = _book(snapshot_bytes(template, "template.xlsx", dt.date(2024, 6, 30)))
    assert not [cell.coordinate for ws in snapshot.worksheets for row in ws.iter_rows() for cell in row
                if cell.data_type == "f" or isinstance(cell.value, ArrayFormula)]
    formulas, values = _book(template), _book(template, values=True)
    for sheet, ref, *_rest in tables(formulas):
        for row in values[sheet][ref]:
            for cell in row:
                assert snapshot[sheet][cell.coordinate].value == cell.value, (sheet, cell.coordinate)


def test_refresh_of_the_libreoffice_saved_template_finds_no_edit(template: bytes, model) -> None:
    """Refreshing the template LibreOffice saved keeps nothing as the analyst's: no model cell
    reads as edited, no input as changed, no sheet as theirs."""
    _book_refreshed, plan = refreshed_book(template, model)
    assert (plan.kept_edits, plan.collisions, plan.kept_inputs, plan.user_sheets) == ([], [], [], [])


# ---------------------------------------------------------------------------------------------
# the analyst's workbook


def test_in_libreoffice_the_edited_input_makes_every_model_cell_stale(analyst: bytes) -> None:
    """Without the functions, LibreOffice's own evaluation of the inputs fingerprint sees the
    edit: every cell of every table shows #N/A, the banners say STALE and the master check is
    FALSE (stored as 0)."""
    formulas, values = _book(analyst), _book(analyst, values=True)
    assert input_value(formulas, EDITED_INPUT)[0] == EDITED_VALUE
    blocks = tables(formulas)
    assert len(blocks) > 20
    shown = {cell.value for sheet, ref, *_rest in blocks for row in values[sheet][ref] for cell in row}
    assert shown == {"#N/A"}
    assert values["Contents"]["B9"].value.startswith("STALE")
    assert values["4 By type"]["G1"].value.startswith("STALE")
    assert values["Checks"]["B2"].value in (False, 0)


@pytest.mark.slow  # another whole command on a LibreOffice file (3-8 s)
def test_recalc_of_the_stale_workbook_computes_what_libreoffice_shows_after_refresh(
        analyst: bytes, reopened: bytes) -> None:
    """`recalc` of the stale file LibreOffice saved (every table cell a cached #N/A) evaluates the
    NEGCOKE_* calls with its Assumptions: global volume 2024 = 2,110 kt x 0.834 x 1.6 =
    2,815.584 kt, every check holds, every formula cell equals what LibreOffice computed and
    stored after the refresh (analyst-refreshed.xlsx: same layout, stamped the same day; to 15
    digits, TRUE stored as 1, a price the model lacks blank in ours and "n/a" there), the banners
    say "Cached", not "Live", and the Cache holds the new numbers."""
    shown = _book(reopened, values=True)
    (sheet, cell), = shown.defined_names["CacheWhen"].destinations
    data, report = recalculate(analyst, when=shown[sheet][cell.replace("$", "")].value)
    assert report.problems == [] and len(report.values) > 5000
    formulas, stored = _book(data), _book(data, values=True)
    assert close(table_row(formulas, stored, "type", "volume", "Total")[2024], VOLUME_2024_EDITED, 1e-12)
    assert stored["Checks"]["B2"].value is True
    assert [(sheet, cell, stored[sheet][cell].value, shown[sheet][cell].value)
            for sheet, cell in report.values
            if not same_value(stored[sheet][cell].value, shown[sheet][cell].value)] == []
    # the Cache a reader without the functions falls back to holds the new numbers too
    _cells, _sheets, fallbacks = formula_cells(data)
    assert len(fallbacks) > 2000
    assert [(sheet, cell) for (sheet, cell), (cache, at) in fallbacks.items()
            if not same_value(stored[sheet][cell].value, stored[cache][at].value)] == []


def test_refresh_keeps_every_edit_the_analyst_made_in_libreoffice(analyst: bytes, refreshed,
                                                                 model) -> None:
    """Refreshed by this version, the workbook LibreOffice saved keeps the changed input and its
    comment, the note and its bold font, the inserted row and its text, and the analyst's sheet
    (in its place, with its formulas and its chart); no model cell reads as edited, every model
    chart is there once, and the ownership record LibreOffice left merely hidden is very hidden
    again."""
    data, plan = refreshed
    assert plan.kept_inputs == [f"{EDITED_INPUT} = {EDITED_VALUE}"]
    assert (plan.kept_edits, plan.collisions, plan.user_sheets) == ([], [], [OWN_SHEET])
    before, after = _book(analyst), _book(data)
    assert input_value(after, EDITED_INPUT) == input_value(before, EDITED_INPUT)
    assert input_value(after, EDITED_INPUT)[1].startswith("Raised from 1.5")
    sheet, cell, text = NOTE
    assert (after[sheet][cell].value, after[sheet][cell].font.b) == (text, True)
    sheet, row, text = INSERTED
    assert [c.value for c in after[sheet][row]] == [text] + [None] * (after[sheet].max_column - 1)
    assert after.sheetnames.index(OWN_SHEET) == after.sheetnames.index("Assumptions") - 1
    assert after["_xl_negcoke"].sheet_state == "veryHidden"  # hidden by Calc, very hidden again

    def contents(book: Workbook) -> dict[str, object]:
        return {c.coordinate: formula_text(c.value) if str(c.value).startswith("=") else c.value
                for row in book[OWN_SHEET].iter_rows() for c in row if c.value is not None}

    assert contents(after) == contents(before) and len(contents(after)) == 19
    assert len(after[OWN_SHEET]._charts) == 1
    # the model's charts LibreOffice rewrote are replaced by the new build's: none lost or doubled
    charts = {ws.title: len(ws._charts) for ws in build_book(model).worksheets if ws._charts}
    assert sum(charts.values()) > 10
    assert {title: len(after[title]._charts) for title in charts} == charts


def test_refresh_writes_the_numbers_of_the_edited_input(refreshed) -> None:
    """After refresh every model cell follows the analyst's 1.6: global volume 2024 = world anode
    2024 x artificial share 2024 x 1.6 (the first two read from the refreshed Assumptions; with
    the dataset's 2,110 kt and 0.834, 2,815.584 kt); no cell is an error and every check holds."""
    data, _plan = refreshed
    formulas, values = _book(data), _book(data, values=True)
    anode, _ = input_value(formulas, "anode_world_kt_2024")
    artificial, _ = input_value(formulas, "artificial_graphite_share_2024")
    volume = table_row(formulas, values, "type", "volume", "Total")
    assert close(volume[2024], anode * artificial * 1.6, 1e-12)
    assert values["Checks"]["B2"].value is True
    assert [e for e in error_cells(values) if e[0] != OWN_SHEET] == []


@pytest.mark.slow  # another whole command on a LibreOffice file (3-8 s)
def test_check_of_the_stale_workbook_reports_the_stale_cache_and_nothing_else(analyst: bytes) -> None:
    """`xl-negcoke check` on the file as LibreOffice saved it reports what the edited input did
    and nothing more: the master check and "numbers current" are FALSE and the cache is stale,
    its fingerprint up by (1.6 - 1.5) x 1,000,000 x row 7 (the input's row, below the
    first theme heading) = 700,000. The
    tables below the inserted row are found where they moved, so no cell reads as replaced."""
    stamped = 3197409866210  # Contents' Inputs fingerprint of the template built from this tree
    assert check_workbook(analyst).problems == [
        "Checks!B2: master check is False",
        "Checks!N59: check is False (Numbers current: functions loaded, or scenario and inputs equal "
        "the Cache stamp)",
        f"Cache!C2: stale cache: the inputs changed since the recalculation at build (fingerprint "
        f"{float(stamped + 700_000)}, stamped {stamped}); without the functions the model cells show "
        "#N/A and the sheets say STALE; run xl-negcoke recalc on this file"]


@pytest.mark.slow  # another whole command on a LibreOffice file (3-8 s)
def test_check_of_the_refreshed_analysts_workbook_is_clean(refreshed) -> None:
    """`xl-negcoke check` on the refreshed workbook finds nothing: the tables the inserted row
    moved equal the model for the workbook's own Assumptions (coke_per_anode_t 1.6)."""
    data, _plan = refreshed
    report = check_workbook(data)
    assert report.problems == [] and report.compared > 2000


# ---------------------------------------------------------------------------------------------
# the refreshed workbook, opened and saved by LibreOffice again


@pytest.mark.slow  # another whole command on a LibreOffice file (3-8 s)
def test_the_refreshed_workbook_reopened_in_libreoffice_shows_the_new_numbers(reopened: bytes) -> None:
    """LibreOffice opened refresh's output, recalculated every formula and saved it: no cell is
    an error, the master check holds, global volume 2024 is 2,110 x 0.834 x 1.6 = 2,815.584 kt
    and the analyst's own formulas show the new 2030 revenue and their 10% haircut of it."""
    formulas, values = _book(reopened), _book(reopened, values=True)
    assert error_cells(values) == []
    assert values["Checks"]["B2"].value in (True, 1)
    assert values["Contents"]["B9"].value.startswith("values of the recalculation of ")
    assert close(table_row(formulas, values, "type", "volume", "Total")[2024], VOLUME_2024_EDITED, 1e-12)
    revenue_2030 = table_row(formulas, values, "type", "revenue", "Total")[2030]
    mine = values[OWN_SHEET]
    assert (mine["A6"].value, mine["B8"].value) == ("Total", revenue_2030)
    for row in (4, 5, 6):
        model_2030 = mine[f"B{row}"].value
        assert mine[f"C{row}"].value == round(model_2030 * 0.9, 1)
        assert close(mine[f"D{row}"].value, mine[f"C{row}"].value - model_2030, 1e-12)


@pytest.mark.slow  # another whole command on a LibreOffice file (3-8 s)
def test_a_second_refresh_after_libreoffice_keeps_everything(reopened: bytes, model) -> None:
    """Refreshing the file again after LibreOffice saved it (the record now holds the shift of
    the blocks below the inserted row): the input and the sheet are kept, nothing reads as an
    edit, and the moved blocks are found again."""
    book, plan = refreshed_book(reopened, model)
    assert read_record(_book(reopened)).shifts.get(INSERTED[0])
    assert plan.kept_inputs == [f"{EDITED_INPUT} = {EDITED_VALUE}"]
    assert (plan.kept_edits, plan.collisions, plan.user_sheets) == ([], [], [OWN_SHEET])
    sheet, row, text = INSERTED
    assert book[sheet].cell(row, 1).value == text
