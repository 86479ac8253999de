"""Refresh in the analyst's layout: values pasted over a model table are edits (kept, reported by
range, replaced only with --overwrite-edits); model blocks moved by inserted or deleted rows and
columns are found again and get the new numbers where they now are; a block that cannot be
placed for certain stops the refresh; a LibreOffice save leaves no phantom edit."""

from __future__ import annotations

import io
import os
import re
import shutil
import string
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.cli import main
from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import load_model
from xl_negcoke.model.dataset import DEFAULT_DATA_DIR
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.ownership import ARRAY_MEMBER, RECORD_SHEET, fingerprint, read_record
from xl_negcoke.workbook.refresh import exact_numbers, refresh_bytes

TYPES = "4 By type"
REVENUE_TABLE = "A11:M14"  # '4 By type': the revenue-by-type array (header row, 2 types, Total)
ROW_SHEETS = ("Contents", "2 Market size", "4 By type", "5 By application", "8 Capacity",
              "11 Conclusion", "Scenarios & Risk", "Checks")  # model sheets without merged cells
RENAMABLE = ("9 Trends", "11 Conclusion", "12 Appendix")


@pytest.fixture(scope="module")
def template(recalculated_template) -> bytes:
    """The recalculated template .xlsx (with its ownership record)."""
    return recalculated_template[0]


@pytest.fixture(scope="module")
def changed_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose coke-per-anode default went from 1.5 to 1.6."""
    folder = tmp_path_factory.mktemp("changed") / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    path = folder / "assumptions.csv"
    text = path.read_text(encoding="utf-8")
    assert "coke_per_anode_t,1.5," in text
    path.write_text(text.replace("coke_per_anode_t,1.5,", "coke_per_anode_t,1.6,"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def reference(template: bytes, changed_data: Path) -> dict[str, dict[tuple[int, int], object]]:
    """The values of every model cell after refreshing the untouched template against the
    changed data, by sheet and (row, column) in the template's layout."""
    result, _plan = _refreshed(template, changed_data)
    book = load_workbook(io.BytesIO(result), data_only=True)
    record = read_record(load_workbook(io.BytesIO(result)))
    return {sheet: {coordinate_to_tuple(c): book[sheet][c].value for c in cells}
            for sheet, cells in record.cells.items()}


def _refreshed(data: bytes, folder: Path, overwrite: bool = False):
    return refresh_bytes(data, load_model(folder), data_dir=str(folder), overwrite_edits=overwrite)


def _save(book) -> bytes:
    with exact_numbers():
        return book_bytes(book)


def _paste_values(data: bytes, sheet: str, area: str, book=None, values=None):
    """The workbook with the cached values of `area` (or the given values, by (row, column))
    pasted over it as constants."""
    if values is None:
        cached = load_workbook(io.BytesIO(data), data_only=True)[sheet]
        values = {(r, c): cached.cell(r, c).value for r in range(1, cached.max_row + 1)
                  for c in range(1, cached.max_column + 1)}
    book = book or load_workbook(io.BytesIO(data))
    c1, r1, c2, r2 = range_boundaries(area)
    pasted = {}
    for row in range(r1, r2 + 1):
        for column in range(c1, c2 + 1):
            pasted[(row, column)] = values.get((row, column))
            book[sheet].cell(row, column).value = pasted[(row, column)]
    return book, pasted


# ---------------------------------------------------------------------------------------------
# pasted values


def _pasted_and_refreshed(template: bytes, changed_data: Path):
    """(pasted values by (row, column), refreshed bytes, plan): values pasted over the revenue
    table of '4 By type', then a refresh against the changed data."""
    book, pasted = _paste_values(template, TYPES, REVENUE_TABLE)
    result, plan = _refreshed(_save(book), changed_data)
    return pasted, result, plan


def test_values_pasted_over_a_table_are_kept_and_reported_as_one_range(
        template: bytes, changed_data: Path) -> None:
    """All 52 values pasted over '4 By type'!A11:M14 (4 rows x 13 columns) survive the refresh
    and are reported once, as the range; the share table below still follows the new model."""
    pasted, result, plan = _pasted_and_refreshed(template, changed_data)
    assert len(pasted) == 52
    assert (plan.kept_edits, plan.collisions) == ([f"'{TYPES}'!{REVENUE_TABLE}"], [])
    assert plan.lines()[-1] == (f"kept your edit of model cells '{TYPES}'!{REVENUE_TABLE} (the model's "
                                "new content is not written; --overwrite-edits replaces it)")
    after = load_workbook(io.BytesIO(result))[TYPES]
    assert {(r, c): after.cell(r, c).value for r, c in pasted} == pasted
    assert isinstance(after["B16"].value, ArrayFormula)  # the share block, not pasted over


@pytest.mark.slow  # two whole refreshes (10-25 s): the next refresh after the fast suite's one
def test_pasted_values_are_kept_and_reported_again_on_the_next_refresh(
        template: bytes, changed_data: Path) -> None:
    """The refreshed workbook refreshed once more: the same range is reported and every pasted
    value is still there."""
    pasted, result, plan = _pasted_and_refreshed(template, changed_data)
    again, plan2 = _refreshed(result, changed_data)
    assert plan2.kept_edits == plan.kept_edits == [f"'{TYPES}'!{REVENUE_TABLE}"]
    after_again = load_workbook(io.BytesIO(again))[TYPES]
    assert {(r, c): after_again.cell(r, c).value for r, c in pasted} == pasted


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite moves rows and pastes values
def test_overwrite_edits_puts_the_model_back_over_pasted_values(
        template: bytes, changed_data: Path, reference) -> None:
    """With --overwrite-edits the pasted range is reported as replaced and the table is the
    model's array formula again, showing the new numbers."""
    book, _pasted = _paste_values(template, TYPES, REVENUE_TABLE)
    result, plan = _refreshed(_save(book), changed_data, overwrite=True)
    assert (plan.kept_edits, plan.overwritten_edits) == ([], [f"'{TYPES}'!{REVENUE_TABLE}"])
    after = load_workbook(io.BytesIO(result))[TYPES]
    assert isinstance(after["A11"].value, ArrayFormula) and after["A11"].value.ref == REVENUE_TABLE
    values = load_workbook(io.BytesIO(result), data_only=True)[TYPES]
    assert values["M12"].value == reference[TYPES][(12, 13)]


def test_a_one_cell_array_saved_as_a_range_is_the_same_model_cell() -> None:
    """LibreOffice writes the one-cell array Contents!B9 as "B9:B9": the same fingerprint as "B9",
    so it is not reported as an edit."""
    text = '=IF(ISERROR(NEGCOKE_INFO("version")),"a","b")'
    assert fingerprint(ArrayFormula("B9:B9", text)) == fingerprint(ArrayFormula("B9", text))
    assert fingerprint(ArrayFormula("$B$9:$B$9", text)) == fingerprint(ArrayFormula("B9", text))
    assert fingerprint(ArrayFormula("B9:B10", text)) != fingerprint(ArrayFormula("B9", text))


# ---------------------------------------------------------------------------------------------
# moved blocks


def _excel_adjusted(book, sheet: str, row: int, count: int) -> None:
    """What Excel does to formulas when `count` rows are inserted at `row` of `sheet`: every
    reference to a cell of that sheet at or below `row` moves down (array ranges too)."""
    def moved(reference: str, own: str) -> str:
        target, _, address = reference.rpartition("!")
        name = target.strip("'").replace("''", "'") if target else own
        parts = [re.fullmatch(r"(\$?[A-Z]{1,3}\$?)(\d+)", part) for part in address.split(":")]
        if name != sheet or not all(parts):
            return reference
        out = []
        for part in parts:
            letters, number = part.group(1), int(part.group(2))
            out.append(f"{letters}{number + count if number >= row else number}")
        return (reference[: len(reference) - len(address)]) + ":".join(out)

    def formula(text: str, own: str) -> str:
        tokens = Tokenizer(text)
        for token in tokens.items:
            if token.type == Token.OPERAND and token.subtype == Token.RANGE:
                token.value = moved(token.value, own)
        return "=" + "".join(t.value for t in tokens.items)

    for ws in book.worksheets:
        for cells in ws.iter_rows():
            for cell in cells:
                if isinstance(cell.value, ArrayFormula):
                    text = formula(cell.value.text, ws.title)
                    cell.value = ArrayFormula(moved(cell.value.ref, ws.title), text)
                elif isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.value = formula(cell.value, ws.title)


def _model_values_follow(result: bytes, reference, placement, skip=frozenset(), relative: float = 0.0
                         ) -> int:
    """Assert every model cell of the refreshed workbook shows the reference value at the place
    `placement(sheet, row, column)` gives (numbers within `relative`); the number of cells
    compared."""
    values = load_workbook(io.BytesIO(result), data_only=True)
    compared = 0
    for sheet, cells in reference.items():
        if sheet not in values.sheetnames or sheet in skip:
            continue
        ws = values[sheet]
        for (row, column), expected in cells.items():
            at = placement(sheet, row, column)
            if at is None:
                continue
            if relative and isinstance(expected, float):
                expected = pytest.approx(expected, rel=relative)
            assert ws.cell(*at).value == expected, (sheet, row, column, at)
            compared += 1
    return compared


# the blocks of '4 By type' below row 9 (keyed by where the template has them), two rows down
ROWS_INSERTED_SHIFTS = {TYPES: {"A12": (2, 0), "A41": (2, 0), "A53": (2, 0)}}


def _rows_inserted_and_refreshed(template: bytes, changed_data: Path):
    """(refreshed bytes, plan): two rows inserted at row 9 of '4 By type' (between two blocks)
    with references adjusted as Excel does and a note in P12, then a refresh."""
    book = load_workbook(io.BytesIO(template))
    book[TYPES].insert_rows(9, 2)
    _excel_adjusted(book, TYPES, 9, 2)
    book[TYPES]["P12"] = "my note"
    return _refreshed(_save(book), changed_data)


def test_rows_inserted_above_blocks_move_their_numbers_and_formulas_with_them(
        template: bytes, changed_data: Path, reference) -> None:
    """Two rows inserted at row 9 of '4 By type' (between two blocks), references adjusted as
    Excel does: refresh reports no edit, writes every block below two rows lower with the new
    numbers and records the shifts."""
    result, plan = _rows_inserted_and_refreshed(template, changed_data)
    assert (plan.kept_edits, plan.collisions) == ([], [])
    after = load_workbook(io.BytesIO(result))
    assert after[TYPES]["A13"].value.ref == "A13:M16" and after[TYPES]["P12"].value == "my note"
    assert after[TYPES]["A6"].value == "=A14"  # the size block above points into the moved table
    assert read_record(after).shifts == ROWS_INSERTED_SHIFTS

    def placement(sheet: str, row: int, column: int) -> tuple[int, int]:
        return (row + 2 if sheet == TYPES and row >= 9 else row), column

    assert _model_values_follow(result, reference, placement) > 5_000


@pytest.mark.slow  # two whole refreshes (10-25 s): the next refresh after the fast suite's one
def test_a_refresh_after_rows_were_inserted_changes_nothing_the_next_time(
        template: bytes, changed_data: Path) -> None:
    """The workbook refreshed after the rows were inserted, refreshed again against the same
    data: no change, no edit, and the recorded shifts stay."""
    result, _plan = _rows_inserted_and_refreshed(template, changed_data)
    again, plan2 = _refreshed(result, changed_data)
    assert (plan2.kept_edits, plan2.collisions, len(plan2.changes)) == ([], [], 0)
    assert read_record(load_workbook(io.BytesIO(again))).shifts == ROWS_INSERTED_SHIFTS


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite moves rows and pastes values
def test_a_column_inserted_before_the_model_moves_every_block_right(
        template: bytes, changed_data: Path, reference) -> None:
    """A column inserted at A of '2 Market size' (openpyxl: formulas not adjusted): every block
    of the sheet is found one column right, and every model cell (on every sheet) shows the new
    model where it now is."""
    book = load_workbook(io.BytesIO(template))
    sheet = book["2 Market size"]
    sheet.insert_cols(1)
    for merged in sheet.merged_cells.ranges:  # Excel moves merged ranges with their cells
        merged.shift(col_shift=1)
    result, plan = _refreshed(_save(book), changed_data)
    assert (plan.kept_edits, plan.collisions) == ([], [])
    after = load_workbook(io.BytesIO(result))
    assert after["2 Market size"]["B1"].value == "2 Overall market size"

    def placement(sheet: str, row: int, column: int) -> tuple[int, int]:
        return row, column + (sheet == "2 Market size")

    assert _model_values_follow(result, reference, placement) > 5_000


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite moves rows and pastes values
def test_an_empty_row_deleted_between_blocks_moves_the_blocks_below_up(
        template: bytes, changed_data: Path, reference) -> None:
    """Row 3 of '5 By application' (empty, under the title) deleted: every block moves up a row
    and shows the new numbers there."""
    book = load_workbook(io.BytesIO(template))
    book["5 By application"].delete_rows(3)
    result, plan = _refreshed(_save(book), changed_data)
    assert (plan.kept_edits, plan.collisions) == ([], [])

    def placement(sheet: str, row: int, column: int) -> tuple[int, int]:
        return (row - 1 if sheet == "5 By application" and row > 3 else row), column

    assert _model_values_follow(result, reference, placement) > 5_000


def test_a_row_inserted_inside_a_table_stops_the_refresh_and_names_the_block(
        template: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A row inserted at row 13 of '4 By type' cuts the revenue block (rows 10-19): refresh exits
    2 with one line naming the sheet and the block, and the file is byte-identical."""
    book = load_workbook(io.BytesIO(template))
    book[TYPES].insert_rows(13)
    path = tmp_path / "cut.xlsx"
    path.write_bytes(_save(book))
    original = path.read_bytes()
    assert main(["refresh", str(path)]) == 2
    assert capsys.readouterr().err == (
        "xl-negcoke refresh: error: cannot place the model block \"4.2 Revenue by type (US$ million)\" "
        "of '4 By type' (recorded at A10:N19) for certain: rows or columns were inserted or deleted "
        "inside it; nothing was changed (undo that change, or move your rows and columns outside "
        "the model's blocks, then refresh again)\n")
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.xlsx"]


@pytest.mark.slow  # LibreOffice
@pytest.mark.skipif(shutil.which("soffice") is None and not os.environ.get("CI"),
                    reason="LibreOffice is not installed (scripts/setup.sh installs it; CI has it)")
def test_moved_blocks_and_pasted_values_survive_a_libreoffice_round_trip(
        template: bytes, changed_data: Path, reference, tmp_path: Path) -> None:
    """Rows inserted on '4 By type', values pasted over '2 Market size'!A13:M16 (the 2.2 revenue
    table: title, array A14:M15, growth row), then the file
    saved by LibreOffice: refresh reports only the pasted range (no phantom edit such as
    Contents!B9), keeps it, and writes the moved blocks' new numbers where they now are."""
    book = load_workbook(io.BytesIO(template))
    book[TYPES].insert_rows(9)
    _excel_adjusted(book, TYPES, 9, 1)
    # the numbers the new model shows (as if frozen after a refresh), so the cells that read
    # them (growth, checks) show the reference too
    book, pasted = _paste_values(template, "2 Market size", "A13:M16", book,
                                 reference["2 Market size"])
    (tmp_path / "analyst.xlsx").write_bytes(_save(book))
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
    subprocess.run([shutil.which("soffice") or "soffice", profile, "--headless", "--norestore",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "saved"),
                    str(tmp_path / "analyst.xlsx")], check=True, capture_output=True, timeout=300)
    saved = (tmp_path / "saved" / "analyst.xlsx").read_bytes()
    result, plan = _refreshed(saved, changed_data)
    # the title and the growth label pasted over themselves are no edit; the array and the growth
    # formulas are
    assert (plan.kept_edits, plan.collisions) == (
        ["'2 Market size'!A14:M15", "'2 Market size'!C16:M16"], [])
    market = load_workbook(io.BytesIO(result), data_only=True)["2 Market size"]
    as_saved = load_workbook(io.BytesIO(saved), data_only=True)["2 Market size"]  # 15 digits
    assert {(r, c): market.cell(r, c).value for r, c in pasted} == {
        (r, c): as_saved.cell(r, c).value for r, c in pasted}

    def placement(sheet: str, row: int, column: int) -> tuple[int, int] | None:
        if sheet == "2 Market size" and 13 <= row <= 16 and column <= 13:
            return None  # pasted over: the analyst's
        if sheet == "Checks" or (sheet, row, column) == ("Contents", 5, 2):
            return None  # pasted values are overrides: the checks and the master check say so
        return (row + 1 if sheet == TYPES and row >= 9 else row), column

    # LibreOffice keeps 15 significant digits of the pasted numbers; cells reading them follow
    assert _model_values_follow(result, reference, placement, relative=1e-12) > 5_000


def _comparable(value: object) -> object:
    """A cell's content in a form that compares by value (openpyxl's ArrayFormula compares by
    identity)."""
    return ("array", str(value.ref), value.text) if isinstance(value, ArrayFormula) else value


def _move_merged_ranges(sheet, operation: str, index: int, count: int) -> None:
    """Move merged ranges as Excel does when rows or columns are inserted or deleted (openpyxl
    moves the cells but leaves the ranges where they were)."""
    by_rows = operation.endswith("rows")
    step = count if operation.startswith("insert") else -count
    for merged in list(sheet.merged_cells.ranges):
        first = merged.min_row if by_rows else merged.min_col
        if first < index:
            continue
        if step < 0 and first < index + count:  # the range's first row or column was deleted
            sheet.merged_cells.remove(merged)
            continue
        merged.shift(**({"row_shift": step} if by_rows else {"col_shift": step}))


# ---------------------------------------------------------------------------------------------
# the property: layouts the analyst changes, with the analyst's cells where they put them


@dataclass
class Layout:
    shift: tuple[str, str, int, int] | None = None  # (operation, sheet, index, count)
    paste: tuple[str, str] | None = None  # (sheet, array range in the template's layout)
    rename: str | None = None
    free: dict[tuple[str, int, int], object] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)  # cells on a sheet of the analyst's

    def place(self, sheet: str, row: int, column: int) -> tuple[int, int]:
        """Where a cell of the template's layout is after the shift (openpyxl semantics)."""
        if self.shift is None or self.shift[1] != sheet:
            return row, column
        operation, _sheet, index, count = self.shift
        if operation == "insert_rows":
            return (row + count if row >= index else row), column
        if operation == "delete_rows":
            return (row - count if row >= index + count else row), column
        if operation == "insert_cols":
            return row, (column + count if column >= index else column)
        return row, (column - count if column >= index + count else column)


@pytest.fixture(scope="module")
def layout_facts(template: bytes) -> tuple[dict[str, list[int]], list[tuple[str, str]]]:
    """Per sheet of ROW_SHEETS, the empty rows between (and above) the model's blocks; and the
    model's array ranges on the table sheets."""
    book = load_workbook(io.BytesIO(template))
    record = read_record(book)
    gaps = {}
    for sheet in ROW_SHEETS:
        rows = {coordinate_to_tuple(c)[0] for c in {**record.cells[sheet], **record.inputs.get(sheet, {})}}
        gaps[sheet] = [r for r in range(3, max(rows)) if r not in rows]
    arrays = [(sheet, cell.value.ref) for sheet in ("2 Market size", TYPES, "5 By application")
              for row in book[sheet].iter_rows() for cell in row
              if isinstance(cell.value, ArrayFormula) and ":" in cell.value.ref
              and record.cells[sheet].get(cell.coordinate) != ARRAY_MEMBER]
    return gaps, arrays


@st.composite
def layouts(draw: st.DrawFn, gaps: dict[str, list[int]], arrays: list[tuple[str, str]]) -> Layout:
    layout = Layout()
    kind = draw(st.sampled_from(["insert_rows", "delete_rows", "insert_cols", "delete_cols", None]))
    if kind is not None:
        # a row is deleted only where an empty one lies between blocks (not every sheet has one)
        sheet = draw(st.sampled_from([s for s in ROW_SHEETS if kind != "delete_rows" or gaps[s]]))
        if kind == "insert_rows":
            layout.shift = (kind, sheet, draw(st.sampled_from([1, *gaps[sheet]])), draw(st.integers(1, 3)))
        elif kind == "delete_rows":
            layout.shift = (kind, sheet, draw(st.sampled_from(gaps[sheet])), 1)
        elif kind == "insert_cols":
            layout.shift = (kind, sheet, 1, draw(st.integers(1, 2)))
        else:
            layout.shift = (kind, sheet, 15, 1)  # column O: empty, between the model and yours
    layout.paste = draw(st.one_of(st.none(), st.sampled_from(arrays)))
    layout.rename = draw(st.one_of(st.none(), st.sampled_from(RENAMABLE)))
    for _ in range(draw(st.integers(0, 6))):
        sheet = draw(st.sampled_from(ROW_SHEETS))
        layout.free[(sheet, draw(st.integers(1, 60)), draw(st.integers(16, 20)))] = draw(
            st.one_of(st.integers(-999, 999), st.text(string.ascii_letters, min_size=1, max_size=8)))
    for _ in range(draw(st.integers(0, 4))):
        layout.notes[f"{draw(st.sampled_from('ABC'))}{draw(st.integers(1, 9))}"] = draw(st.integers(0, 99))
    return layout


@pytest.mark.slow  # a refresh and check per example (10 s); the fast suite runs the named cases
def test_random_layout_changes_keep_the_analysts_cells_and_show_the_new_model(
        template: bytes, changed_data: Path, reference, layout_facts) -> None:
    """Inserted or deleted rows and columns, values pasted over a table, a renamed model sheet and
    cells of the analyst's: after refresh every analyst cell is exactly where the analyst's sheet
    has it, the pasted range is kept and reported, and every other model cell shows the new model
    where its block now is."""
    gaps, arrays = layout_facts

    @settings(max_examples=8, deadline=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(layout=layouts(gaps, arrays))
    def check(layout: Layout) -> None:
        book = load_workbook(io.BytesIO(template))
        for (sheet, row, column), value in layout.free.items():
            book[sheet].cell(row, column).value = value
        if layout.shift:
            operation, sheet, index, count = layout.shift
            getattr(book[sheet], operation)(index, count)
            _move_merged_ranges(book[sheet], operation, index, count)
        pasted_at: set[tuple[str, int, int]] = set()
        expected_edits: list[str] | None = []
        if layout.paste:
            sheet, area = layout.paste
            c1, r1, c2, r2 = range_boundaries(area)
            top, left = layout.place(sheet, r1, c1)
            bottom, right = layout.place(sheet, r2, c2)
            values = reference[sheet]  # the new model's numbers, so cells reading them match it
            for row in range(r1, r2 + 1):
                for column in range(c1, c2 + 1):
                    book[sheet].cell(*layout.place(sheet, row, column)).value = values.get((row, column))
                    pasted_at.add((sheet, row, column))
            if all(values.get((r, c)) is not None for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)):
                area = f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}"
                expected_edits = [f"'{sheet}'!{area}"]
            else:  # an array with empty results: the edits are its non-empty cells
                expected_edits = None
        notes = book.create_sheet("My notes", 3)
        for coordinate, value in layout.notes.items():
            notes[coordinate] = value
        if layout.rename:
            book[layout.rename].title = "Renamed by me"
        edited = _save(book)
        result, plan = _refreshed(edited, changed_data)
        before, after = load_workbook(io.BytesIO(edited)), load_workbook(io.BytesIO(result))
        assert plan.collisions == []
        assert plan.kept_edits == expected_edits if expected_edits is not None else plan.kept_edits
        for (sheet, row, column), value in layout.free.items():
            if sheet == layout.rename:  # the analyst's cell went with the sheet they renamed
                assert after["Renamed by me"].cell(row, column).value == value
                continue
            assert after[sheet].cell(*layout.place(sheet, row, column)).value == value
        for sheet in ("My notes", "Renamed by me"):
            if sheet in before.sheetnames:
                assert [(c.coordinate, _comparable(c.value)) for r in after[sheet].iter_rows()
                        for c in r] == [(c.coordinate, _comparable(c.value))
                                        for r in before[sheet].iter_rows() for c in r]
        if layout.rename:
            assert layout.rename in after.sheetnames  # the model's sheet, back whole
        for sheet, row, column in pasted_at:
            at = layout.place(sheet, row, column)
            assert after[sheet].cell(*at).value == before[sheet].cell(*at).value

        def placement(sheet: str, row: int, column: int) -> tuple[int, int] | None:
            if pasted_at and (sheet == "Checks" or (sheet, row, column) == ("Contents", 5, 2)):
                return None  # pasted values are overrides: the checks and the master check say so
            return None if (sheet, row, column) in pasted_at else layout.place(sheet, row, column)

        assert _model_values_follow(result, reference, placement, skip={RECORD_SHEET}) > 5_000

    check()


def test_an_overwritten_block_between_blocks_that_moved_differently_stops_the_refresh(
        template: bytes) -> None:
    """A block overwritten whole (title and all) between two blocks that moved by different
    amounts cannot be placed: the refresh refuses, naming it."""
    book = load_workbook(io.BytesIO(template))
    ws = book[TYPES]
    for row in range(4, 9):  # the size block: every cell replaced by the analyst's text
        for column in range(1, 15):
            if ws.cell(row, column).value is not None:
                ws.cell(row, column).value = f"mine {row}.{column}"
    ws.insert_rows(9)  # the blocks below move one row, the title block above does not
    ws.insert_rows(3)
    with pytest.raises(WorkbookError, match=r"^cannot place the model block at A4:D8 of '4 By type'"):
        refresh_bytes(_save(book), load_model())
