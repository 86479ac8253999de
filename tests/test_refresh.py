"""Refresh: a workbook made by `xl-negcoke build` gets the new dataset's numbers and template while
every piece of the analyst's work survives exactly; bad files, Excel's lock and failures in the
middle of writing leave the file byte-identical."""

from __future__ import annotations

import io
import os
import shutil
import string
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import suite
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.cli import main
from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import load_model
from xl_negcoke.model.dataset import DEFAULT_DATA_DIR
from xl_negcoke.workbook.build import ASSUMPTIONS, CACHE
from xl_negcoke.workbook.check import check_workbook
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.formula import quote_sheet
from xl_negcoke.workbook.ownership import ARRAY_MEMBER, RECORD_SHEET, read_record
from xl_negcoke.workbook.recalc import recalculate
from xl_negcoke.workbook.refresh import (
    backup_path,
    exact_numbers,
    find_losses,
    formula_results,
    lock_file,
    refresh_bytes,
    refresh_file,
)
from xl_negcoke.workbook.sheets import assumption_rows, scenarios_in

OLD_COKE, NEW_COKE = 1.5, 1.6
BAOLAI = "baolai_bio,Baolai Bio,site not stated,China,Petroleum-based,needle coke,"
CAPACITY_ROW = (f"{BAOLAI}260,260,438.9,", f"{BAOLAI}270,260,438.9,")
PNG = bytes.fromhex(  # a 1x1 red PNG, so no imaging library is needed to make one
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478"
    "9c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082")


# ---------------------------------------------------------------------------------------------
# fixtures: the template built once, a changed dataset


@pytest.fixture(scope="session")
def templates(built_templates: dict[str, bytes]) -> dict[str, bytes]:
    """The recalculated .xlsx and .xlsm templates of the embedded dataset, by suffix (conftest)."""
    return built_templates


@pytest.fixture(scope="session")
def changed_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose coke-per-anode default and one plant's capacity changed."""
    folder = tmp_path_factory.mktemp("changed") / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    _replace_text(folder / "assumptions.csv", f"coke_per_anode_t,{OLD_COKE},",
                  f"coke_per_anode_t,{NEW_COKE},")
    _replace_text(folder / "producers.csv", *CAPACITY_ROW)
    return folder


@pytest.fixture(scope="session")
def new_defaults(changed_data: Path) -> dict[str, float]:
    frame = load_model(changed_data).assumptions()
    return dict(zip(frame["key"], frame["value"], strict=True))


@pytest.fixture(scope="session")
def free_cells(templates: dict[str, bytes]) -> list[tuple[str, str]]:
    """Cells of model sheets the model does not own: columns P..T and rows below the last block."""
    book = load_workbook(io.BytesIO(templates[".xlsx"]))
    record = read_record(book)
    cells = []
    for title in record.sheets:
        if title == CACHE:
            continue
        ws = book[title]
        cells += [(title, f"{column}{row}") for column in "PQRST" for row in range(1, 41)]
        below = range(ws.max_row + 3, ws.max_row + 8)
        cells += [(title, f"{column}{row}") for column in "ABCD" for row in below]
    assert not [c for c in cells if record.owns(*c)]
    return cells


def _replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _assumption_rows(ws) -> dict[str, int]:
    return assumption_rows(ws)


VALUE = 3  # the value column of the Assumptions sheet (C; B before the label column came first)


def _content(value: object) -> object:
    return ("array", value.ref, value.text) if isinstance(value, ArrayFormula) else value


def _cells(ws) -> dict[str, object]:
    return {c.coordinate: _content(c.value) for row in ws.iter_rows() for c in row if c.value is not None}


def _comments(ws) -> dict[str, tuple[str, str]]:
    return {c.coordinate: (c.comment.text, c.comment.author)
            for row in ws.iter_rows() for c in row if c.comment is not None}


def _user_names(book: Workbook) -> dict[str, str]:
    return {name: d.attr_text for name, d in book.defined_names.items() if name.startswith("usr_")}


def _visible_order(book: Workbook) -> list[str]:
    return [s for s in book.sheetnames if s != RECORD_SHEET]


def _model_cell(book: Workbook, sheet: str) -> str:
    """The first model-owned single (non-array) formula cell of a sheet."""
    record = read_record(book)
    for coordinate, digest in record.cells[sheet].items():
        value = book[sheet][coordinate].value
        if digest != ARRAY_MEMBER and isinstance(value, str) and value.startswith("=") and \
                coordinate[0] != "A":
            return coordinate
    raise AssertionError(f"no single formula cell on {sheet}")


def _refreshed(data: bytes, folder: Path, reset: bool = False):
    return refresh_bytes(data, load_model(folder), reset_inputs=reset, data_dir=str(folder))


# ---------------------------------------------------------------------------------------------
# the property: random analyst edits survive a refresh against a changed dataset


@dataclass
class Edits:
    sheets: list[tuple[str, int, dict[str, object]]] = field(default_factory=list)
    free: dict[tuple[str, str], object] = field(default_factory=dict)
    inputs: dict[str, float] = field(default_factory=dict)
    scenario: str | None = None
    comments: dict[tuple[str, str], str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    reset: bool = False
    macro: bool = False


INPUT_RANGES = {  # key -> (low, high): values the model accepts
    "coke_per_anode_t": (1.05, 2.0),
    "energy_storage_multiple_2030": (1.5, 5.0),
    "consumer_battery_growth_forecast": (0.0, 0.2),
}
MODEL_REFERENCES = ("'2 Market size'!F10:M10", "Assumptions!C7:C10", "'5 By application'!B6:M8")
CONSTANTS = st.one_of(
    st.integers(-10**6, 10**6),
    st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False),
    st.text(string.ascii_letters + " ", min_size=1, max_size=12).filter(lambda t: t.strip() == t != ""),
)


@st.composite
def user_formula(draw: st.DrawFn, own: bool) -> str:
    """A formula that evaluates cleanly: sums of cells on its own sheet (columns A..H) or of model
    cells, counts, arithmetic."""
    column = draw(st.sampled_from("ABCDEFGH"))
    first = draw(st.integers(1, 20))
    local = f"{column}{first}:{column}{first + draw(st.integers(0, 5))}"
    return draw(st.sampled_from([
        f"=SUM({local})*{draw(st.integers(1, 9))}" if own else f"=SUM({MODEL_REFERENCES[0]})",
        f"=SUM({draw(st.sampled_from(MODEL_REFERENCES))})",
        f"=COUNTA({local})",
        f"={draw(st.integers(0, 99))}+{draw(st.integers(0, 99))}",
    ]))


@st.composite
def analyst_edits(draw: st.DrawFn, free_cells: list[tuple[str, str]], model_sheets: list[str]) -> Edits:
    edits = Edits(reset=draw(st.booleans()), macro=draw(st.booleans()))
    titles = draw(st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=8), max_size=2, unique=True))
    for title in titles:
        cells: dict[str, object] = {}
        for _ in range(draw(st.integers(1, 12))):
            cells[f"{draw(st.sampled_from('ABCDEFGH'))}{draw(st.integers(1, 25))}"] = draw(CONSTANTS)
        for _ in range(draw(st.integers(0, 5))):
            cells[f"{draw(st.sampled_from('JKL'))}{draw(st.integers(1, 25))}"] = draw(user_formula(own=True))
        edits.sheets.append((f"Mine {title}", draw(st.integers(0, len(model_sheets) + 1)), cells))
    for cell in draw(st.lists(st.sampled_from(free_cells), max_size=10, unique=True)):
        edits.free[cell] = draw(st.one_of(CONSTANTS, user_formula(own=False)))
    for key in draw(st.lists(st.sampled_from(sorted(INPUT_RANGES)), max_size=3, unique=True)):
        low, high = INPUT_RANGES[key]
        edits.inputs[key] = draw(st.floats(low, high).map(lambda v: round(v, 4)).filter(
            lambda v, key=key: v != {"coke_per_anode_t": OLD_COKE, "energy_storage_multiple_2030": 3.0,
                                     "consumer_battery_growth_forecast": 0.05}[key]))
    edits.scenario = draw(st.one_of(st.none(), st.sampled_from(["high", "low"])))
    sheets = [*model_sheets, *(s[0] for s in edits.sheets)]
    for _ in range(draw(st.integers(0, 4))):
        sheet = draw(st.sampled_from([s for s in sheets if s != CACHE]))
        cell = f"{draw(st.sampled_from('ABCDEFGHIJKLMN'))}{draw(st.integers(1, 40))}"
        edits.comments[(sheet, cell)] = draw(st.text(string.ascii_letters + " .", min_size=1, max_size=30))
    for index, sheet in enumerate(draw(st.lists(st.sampled_from(sheets), max_size=2))):
        edits.names[f"usr_name{index}"] = f"{quote_sheet(sheet)}!$A$1:$B$3"
    return edits


def _apply(template: bytes, edits: Edits) -> bytes:
    book = load_workbook(io.BytesIO(template), keep_vba=edits.macro)
    for title, index, cells in edits.sheets:
        ws = book.create_sheet(title, index)
        for coordinate, value in cells.items():
            ws[coordinate] = value
    for (sheet, coordinate), value in edits.free.items():
        book[sheet][coordinate] = value
    assumptions = book[ASSUMPTIONS]
    rows = _assumption_rows(assumptions)
    for key, value in edits.inputs.items():
        assumptions.cell(rows[key], VALUE).value = value
    if edits.scenario:
        assumptions["B3"] = edits.scenario
    for (sheet, coordinate), text in list(edits.comments.items()):
        if isinstance(book[sheet][coordinate], MergedCell):  # Excel notes only a merge's first cell
            del edits.comments[(sheet, coordinate)]
        else:
            book[sheet][coordinate].comment = Comment(text, "Analyst")
    for name, reference in edits.names.items():
        book.defined_names[name] = DefinedName(name, attr_text=reference)
    with exact_numbers():  # as Excel saves: every float with all 17 digits it needs
        return book_bytes(book)


@pytest.fixture(scope="session")
def model_sheets(templates: dict[str, bytes]) -> list[str]:
    return read_record(load_workbook(io.BytesIO(templates[".xlsx"]), read_only=False)).sheets


def _chosen_edits(free_cells: list[tuple[str, str]], model_sheets: list[str]) -> list[Edits]:
    """Two workbooks that hold every kind of edit the strategy draws, so the few generated
    examples of the fast suite add variety rather than coverage: an .xlsm kept (sheets first
    and last, formulas on and to model cells, every input, scenario low, notes, names) and an
    .xlsx reset to the new defaults."""
    beside = [c for c in free_cells if c[1][0] in "PQRST"]  # beside the tables
    below = [c for c in free_cells if c[1][0] in "ABCD"]  # below the last block
    market, by_type = "2 Market size", "4 By type"
    side = next(c for c in beside if c[0] == market)
    under = next(c for c in below if c[0] == by_type)
    kept = Edits(
        sheets=[("Mine first", 0, {"A1": 12, "B2": -3.25, "C3": "Plant notes", "H25": 7.5e8,
                                   "J1": "=SUM(A1:A6)*3", "K2": "=COUNTA(C1:C4)", "L3": "=4+5"}),
                ("Mine last", len(model_sheets) + 1, {"A1": 1, "J2": f"=SUM({MODEL_REFERENCES[1]})"})],
        free={side: 0.125, (market, "Q7"): "my label", under: f"=SUM({MODEL_REFERENCES[2]})",
              (by_type, "T40"): f"=SUM({MODEL_REFERENCES[0]})"},
        inputs={"coke_per_anode_t": 1.75, "energy_storage_multiple_2030": 4.5,
                "consumer_battery_growth_forecast": 0.1},
        scenario="low",
        comments={(market, "B6"): "checked against the filing", ("Mine first", "A1"): "mine"},
        names={"usr_name0": f"{quote_sheet(market)}!$A$1:$B$3",
               "usr_name1": f"{quote_sheet('Mine last')}!$A$1:$B$3"},
        reset=False, macro=True)
    reset = Edits(
        sheets=[("Mine middle", len(model_sheets) // 2, {"D4": "x", "J5": "=SUM(D1:D6)*2"})],
        free={next(c for c in beside if c[0] == by_type): 42, under: "note"},
        inputs={"coke_per_anode_t": 1.2}, scenario="high",
        comments={(by_type, "C12"): "why"}, names={}, reset=True, macro=False)
    return [kept, reset]


def test_random_analyst_edits_survive_a_refresh_against_a_changed_dataset(
        templates: dict[str, bytes], changed_data: Path, new_defaults: dict[str, float],
        free_cells: list[tuple[str, str]], model_sheets: list[str]) -> None:
    """Every random edit survives exactly, untouched inputs take the new defaults, the tables show
    the new model for the workbook's inputs, and an .xlsm's VBA stays byte-identical.

    Each example is a full refresh and check (about 7 s): two chosen workbooks and 1 drawn one
    (13 with --full)."""
    chosen = _chosen_edits(free_cells, model_sheets)

    @settings(max_examples=13 if suite.FULL else 1, deadline=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],  # no shrinking, the failing edits are printed
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @example(edits=chosen[0])
    @example(edits=chosen[1])
    @given(edits=analyst_edits(free_cells, model_sheets))
    def check(edits: Edits) -> None:
        template = templates[".xlsm" if edits.macro else ".xlsx"]
        edited = _apply(template, edits)
        result, plan = _refreshed(edited, changed_data, edits.reset)
        before = load_workbook(io.BytesIO(edited))
        after = load_workbook(io.BytesIO(result))
        assert plan.kept_edits == [] and plan.collisions == []
        assert _visible_order(after) == _visible_order(before)
        for title, _index, _cells_written in edits.sheets:
            assert _cells(after[title]) == _cells(before[title])
        for (sheet, coordinate), value in edits.free.items():
            assert after[sheet][coordinate].value == value
        for sheet in after.sheetnames:
            if sheet != RECORD_SHEET:
                assert _comments(after[sheet]) == _comments(before[sheet])
        assert _user_names(after) == edits.names
        assumptions = after[ASSUMPTIONS]
        for key, row in _assumption_rows(assumptions).items():
            expected = edits.inputs.get(key, new_defaults[key]) if not edits.reset else new_defaults[key]
            assert assumptions.cell(row, VALUE).value == expected, key
        assert assumptions["B3"].value == (edits.scenario or "base" if not edits.reset else "base")
        assert check_workbook(result, changed_data).problems == []
        if edits.macro:
            original = zipfile.ZipFile(io.BytesIO(template)).read("xl/vbaProject.bin")
            assert zipfile.ZipFile(io.BytesIO(result)).read("xl/vbaProject.bin") == original

    check()


# ---------------------------------------------------------------------------------------------
# edits of model cells


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_an_edit_of_a_model_cell_is_kept_and_reported_on_two_successive_refreshes(
        templates: dict[str, bytes], changed_data: Path) -> None:
    """A model-owned cell the analyst overwrote keeps their content and is listed in kept_edits,
    on the first refresh and again on the next."""
    book = load_workbook(io.BytesIO(templates[".xlsx"]))
    sheet = "2 Market size"
    coordinate = _model_cell(book, sheet)
    book[sheet][coordinate] = "=0.5"
    book[sheet]["A1"] = "My own title"
    first, plan = _refreshed(book_bytes(book), changed_data)
    assert plan.kept_edits == [f"'{sheet}'!A1", f"'{sheet}'!{coordinate}"]
    second, again = _refreshed(first, changed_data)
    assert again.kept_edits == plan.kept_edits
    refreshed = load_workbook(io.BytesIO(second))
    assert (refreshed[sheet][coordinate].value, refreshed[sheet]["A1"].value) == ("=0.5", "My own title")
    assert any(line == f"kept your edit of model cell '{sheet}'!{coordinate} (the model's new content "
               "is not written; --overwrite-edits replaces it)" for line in again.lines())


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_an_unchanged_workbook_refreshed_against_the_same_dataset_changes_no_model_cell(
        templates: dict[str, bytes]) -> None:
    """Refreshing a fresh template against its own dataset reports zero changed model cells."""
    result, plan = refresh_bytes(templates[".xlsx"], load_model())
    assert (len(plan.changes), plan.kept_edits, plan.collisions, plan.user_sheets) == (0, [], [], [])
    assert refresh_bytes(result, load_model())[1].changes == []


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_the_changes_are_exactly_the_inputs_whose_default_changed(
        templates: dict[str, bytes], changed_data: Path) -> None:
    """Against the changed dataset the only model cells whose content changes are the two
    Assumptions values (the numbers in the tables change, their formulas do not)."""
    _result, plan = _refreshed(templates[".xlsx"], changed_data)
    dataset = load_model().dataset
    baolai = next(p for p in dataset.plants if p.plant == "baolai_bio")
    rows = _assumption_rows(load_workbook(io.BytesIO(templates[".xlsx"]))[ASSUMPTIONS])
    assert [(c.sheet, c.coordinate, c.before, c.after) for c in plan.changes] == [
        (ASSUMPTIONS, f"C{rows['coke_per_anode_t']}", OLD_COKE, NEW_COKE),
        (ASSUMPTIONS, f"C{rows[dataset.plant_capacity_key(baolai)]}", 260, 270)]


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_a_model_sheet_the_analyst_deleted_comes_back_whole_in_its_place(
        templates: dict[str, bytes]) -> None:
    """A deleted model sheet is rebuilt after the previous model sheet, with every cell and merged
    range of the template, and none of its cells reads as an edit of the analyst's."""
    template = load_workbook(io.BytesIO(templates[".xlsx"]))
    book = load_workbook(io.BytesIO(templates[".xlsx"]))
    del book["9 Trends"]
    merged = str(sorted(book["1 Introduction"].merged_cells.ranges, key=str)[0])
    book["1 Introduction"].unmerge_cells(merged)
    result, plan = refresh_bytes(book_bytes(book), load_model())
    assert (plan.added_sheets, plan.kept_edits, plan.collisions) == (["9 Trends"], [], [])
    after = load_workbook(io.BytesIO(result))
    assert after.sheetnames == template.sheetnames
    assert _cells(after["9 Trends"]) == _cells(template["9 Trends"])
    assert sorted(map(str, after["9 Trends"].merged_cells.ranges)) == sorted(
        map(str, template["9 Trends"].merged_cells.ranges))
    assert merged in {str(r) for r in after["1 Introduction"].merged_cells.ranges}


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_a_scenario_row_of_the_analysts_stays_in_the_assumptions_table(
        templates: dict[str, bytes], changed_data: Path) -> None:
    """A scenario the analyst defined in a row below the inputs, with AssumptionsTable extended
    over it and selected, still feeds every table after the refresh."""
    book = load_workbook(io.BytesIO(templates[".xlsx"]))
    ws = book[ASSUMPTIONS]
    row = ws.max_row + 1
    ws.cell(row, 2, "mycase.coke_per_anode_t")
    ws.cell(row, VALUE, 1.7)
    ws["B3"] = "mycase"
    name = book.defined_names["AssumptionsTable"]
    name.attr_text = name.attr_text.rsplit("$", 1)[0] + f"${row}"
    result, plan = _refreshed(book_bytes(book), changed_data)
    after = load_workbook(io.BytesIO(result))
    assert after.defined_names["AssumptionsTable"].attr_text == name.attr_text
    assert (after[ASSUMPTIONS].cell(row, 2).value, after[ASSUMPTIONS].cell(row, VALUE).value) == (
        "mycase.coke_per_anode_t", 1.7)
    assert plan.kept_inputs == ["Scenario = 'mycase'"]
    (validation,) = after[ASSUMPTIONS].data_validations.dataValidation  # the list offers it now
    assert validation.formula1 == '"base,high,low,mycase"' and str(validation.sqref) == "B3"
    assert check_workbook(result, changed_data).problems == []


PREVIOUS_TEMPLATE = Path(__file__).parent / "fixtures" / "template-before-inputs.xlsx"


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_a_workbook_of_the_previous_layout_keeps_its_inputs_and_own_scenario_rows(
        changed_data: Path) -> None:
    """A workbook built before the label column came first (key in A, value in B) refreshes into
    the new layout: an input the analyst changed keeps its value under its key, the analyst's own
    scenario row (key, value, unit and source) moves below the new table with AssumptionsTable
    reaching it, the old value cells
    leave no number behind, and the workbook checks clean."""
    book = load_workbook(PREVIOUS_TEMPLATE)
    ws = book[ASSUMPTIONS]
    assert (ws["A5"].value, ws["B5"].value) == ("key", "value")  # the previous layout indeed
    old_rows = {ws.cell(r, 1).value: r for r in range(6, ws.max_row + 1)}
    ws.cell(old_rows["energy_storage_multiple_2030"], 2).value = 3.2
    row = ws.max_row + 1
    ws.cell(row, 1, "mycase.coke_per_anode_t")
    ws.cell(row, 2, 1.7)
    ws.cell(row, 3, "t/t")
    ws.cell(row, 4, "my downside case")
    ws["B3"] = "mycase"
    name = book.defined_names["AssumptionsTable"]
    name.attr_text = name.attr_text.rsplit("$", 1)[0] + f"${row}"
    result, plan = _refreshed(book_bytes(book), changed_data)
    after = load_workbook(io.BytesIO(result))
    ws = after[ASSUMPTIONS]
    rows = assumption_rows(ws)
    assert ws.cell(rows["energy_storage_multiple_2030"], VALUE).value == 3.2
    assert ws.cell(rows["coke_per_anode_t"], VALUE).value == NEW_COKE  # untouched: new default
    moved = rows["mycase.coke_per_anode_t"]
    assert ws.cell(moved, VALUE).value == 1.7
    assert (ws.cell(moved, 4).value, ws.cell(moved, 5).value) == ("t/t", "my downside case")
    keys = set(load_model(changed_data).assumptions()["key"])
    fresh_last = max(r for key, r in rows.items() if key in keys)
    assert moved == fresh_last + 1
    assert after.defined_names["AssumptionsTable"].attr_text == f"Assumptions!$B$5:$E${moved}"
    assert ws["B3"].value == "mycase" and scenarios_in(ws) == ["high", "low", "mycase"]
    for heading in range(6, moved):  # heading rows: nothing in the table's columns
        if heading not in rows.values():
            assert [ws.cell(heading, c).value for c in range(2, 6)] == [None] * 4, heading
    assert "energy_storage_multiple_2030 = 3.2" in plan.kept_inputs
    assert plan.collisions == []
    assert check_workbook(result, changed_data).problems == []


# ---------------------------------------------------------------------------------------------
# what a demanding analyst expects to survive


@pytest.fixture(scope="module")
def analyst_workbook(templates: dict[str, bytes]) -> bytes:
    """A recalculated workbook with widths, hidden sheets, rules, validations, a chart, comments and
    formulas of the analyst's (on their sheet and beside a model table)."""
    book = load_workbook(io.BytesIO(templates[".xlsx"]))
    mine = book.create_sheet("Notes", 2)
    for row in range(1, 7):
        mine.cell(row, 1, f"item {row}")
        mine.cell(row, 2, row * 10)
    mine["C1"] = "=SUM(B1:B6)"
    mine["C2"] = "='2 Market size'!F11*2"
    mine.column_dimensions["A"].width = 33
    mine.conditional_formatting.add("B1:B6", CellIsRule(operator="greaterThan", formula=["25"],
                                                        font=None, fill=None))
    validation = DataValidation(type="whole", operator="between", formula1="0", formula2="100")
    mine.add_data_validation(validation)
    validation.add("B1:B6")
    chart = BarChart()
    chart.add_data(Reference(mine, min_col=2, min_row=1, max_row=6))
    mine.add_chart(chart, "E2")
    mine["A1"].comment = Comment("checked with the desk", "Analyst")
    secret = book.create_sheet("Scratch")
    secret["A1"] = 42
    secret.sheet_state = "hidden"
    market = book["2 Market size"]
    market.column_dimensions["P"].width = 27
    market["P11"] = "=F11/1000"
    market["P12"] = "billions"
    market["F11"].comment = Comment("source: the 2024 report", "Analyst")
    market.conditional_formatting.add("P11:P20", CellIsRule(operator="lessThan", formula=["0"]))
    book["9 Trends"].sheet_state = "hidden"
    data, _report = recalculate(book_bytes(book))
    return data


@pytest.fixture(scope="module")
def analyst_refreshed(analyst_workbook: bytes, changed_data: Path) -> bytes:
    return _refreshed(analyst_workbook, changed_data)[0]


def test_widths_hidden_sheets_rules_validations_and_comments_survive(
        analyst_workbook: bytes, analyst_refreshed: bytes) -> None:
    """Column widths, hidden state, conditional formats, data validation and comments the analyst
    set (on their sheet and on a model sheet) are the same after the refresh."""
    before, after = (load_workbook(io.BytesIO(d)) for d in (analyst_workbook, analyst_refreshed))
    assert after["Notes"].column_dimensions["A"].width == 33
    assert after["2 Market size"].column_dimensions["P"].width == 27
    assert (after["Scratch"].sheet_state, after["9 Trends"].sheet_state) == ("hidden", "hidden")
    for sheet in ("Notes", "2 Market size"):
        rules = [(str(r.sqref), [(x.type, x.operator, x.formula) for x in r.rules])
                 for r in after[sheet].conditional_formatting]
        assert rules == [(str(r.sqref), [(x.type, x.operator, x.formula) for x in r.rules])
                         for r in before[sheet].conditional_formatting]
    validations = after["Notes"].data_validations.dataValidation
    assert [(str(v.sqref), v.type, v.formula1, v.formula2) for v in validations] == [
        ("B1:B6", "whole", "0", "100")]
    assert _comments(after["Notes"]) == {"A1": ("checked with the desk", "Analyst")}
    assert _comments(after["2 Market size"]) == {"F11": ("source: the 2024 report", "Analyst")}
    assert _cells(after["Notes"]) == _cells(before["Notes"])
    assert _visible_order(after) == _visible_order(before)


def test_a_chart_the_analyst_added_survives(analyst_refreshed: bytes) -> None:
    """The bar chart on the analyst's sheet is still there, at its anchor, on the same data."""
    chart, = load_workbook(io.BytesIO(analyst_refreshed))["Notes"]._charts
    assert (chart.anchor._from.col, chart.anchor._from.row) == (4, 1)
    assert [s.val.numRef.f for s in chart.series] == ["'Notes'!$B$1:$B$6"]


def test_the_analysts_formulas_keep_their_last_results(analyst_workbook: bytes,
                                                     analyst_refreshed: bytes) -> None:
    """Cached results of the analyst's formulas (their sheet and beside a model table) are carried
    over, so a viewer shows the numbers they had; the model's cells show the new numbers."""
    before = load_workbook(io.BytesIO(analyst_workbook), data_only=True)
    after = load_workbook(io.BytesIO(analyst_refreshed), data_only=True)
    assert after["Notes"]["C1"].value == 210
    assert after["Notes"]["C2"].value == before["Notes"]["C2"].value != None  # noqa: E711
    assert after["2 Market size"]["P11"].value == before["2 Market size"]["P11"].value != None  # noqa: E711
    assert formula_results(analyst_refreshed, {"Notes"})["Notes"] == formula_results(
        analyst_workbook, {"Notes"})["Notes"]


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_the_refreshed_workbook_shows_the_new_model(analyst_refreshed: bytes, changed_data: Path) -> None:
    """Every table cell of the refreshed analyst workbook equals the changed dataset's model."""
    assert check_workbook(analyst_refreshed, changed_data).problems == []


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
@pytest.mark.skipif(not __import__("importlib").util.find_spec("PIL"),
                    reason="Pillow is not installed: openpyxl can neither add nor keep images without it")
def test_an_image_the_analyst_added_survives(templates: dict[str, bytes], changed_data: Path) -> None:
    """A picture on the analyst's sheet is still there after a refresh (needs Pillow)."""
    from openpyxl.drawing.image import Image

    book = load_workbook(io.BytesIO(templates[".xlsx"]))
    book.create_sheet("Logo").add_image(Image(io.BytesIO(PNG)), "B2")
    result, _plan = _refreshed(book_bytes(book), changed_data)
    image, = load_workbook(io.BytesIO(result))["Logo"]._images
    assert (image.anchor._from.col, image.anchor._from.row) == (1, 1)


# ---------------------------------------------------------------------------------------------
# the analyst's sheets go back byte for byte


METADATA = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><metadata xmlns="http://schemas.'
            b'openxmlformats.org/spreadsheetml/2006/main" xmlns:xda="http://schemas.microsoft.com/office/'
            b'spreadsheetml/2017/dynamicarray"><metadataTypes count="1"><metadataType name="XLDAPR" '
            b'minSupportedVersion="120000" copy="1" pasteAll="1" pasteValues="1" merge="1" splitFirst="1" '
            b'rowColShift="1" clearFormats="1" clearComments="1" assign="1" coerce="1" cellMeta="1"/>'
            b'</metadataTypes><futureMetadata name="XLDAPR" count="1"><bk><extLst><ext uri="{bdbb8cdc-fa1e'
            b'-496e-a857-3c3f30c029c3}"><xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/></ext>'
            b'</extLst></bk></futureMetadata><cellMetadata count="1"><bk><rc t="1" v="0"/></bk>'
            b'</cellMetadata></metadata>')


def _as_excel_saves(data: bytes, sheet: str) -> bytes:
    """The workbook as Excel would save the analyst's sheet: text in shared strings, rows with
    Excel 2010 attributes (namespace declared, marked ignorable), and a dynamic-array formula
    (cm="1", with xl/metadata.xml)."""
    import re

    from xl_negcoke.workbook.cached import sheet_parts

    source = zipfile.ZipFile(io.BytesIO(data))
    part = sheet_parts(source)[sheet]
    strings: list[bytes] = []

    def shared(match: re.Match[bytes]) -> bytes:
        strings.append(match.group(2))
        return match.group(1) + b' t="s"><v>' + str(len(strings) - 1).encode() + b"</v></c>"

    xml = source.read(part)
    xml = re.sub(rb'(<c r="[A-Z]+\d+"(?: s="\d+")?) t="inlineStr"><is><t>([^<]*)</t></is></c>', shared, xml)
    xml = re.sub(rb"<row ", b'<row x14ac:dyDescent="0.25" ', xml)
    xml = xml.replace(b'<c r="C1"', b'<c r="C1" cm="1"', 1)
    xml = re.sub(rb"<worksheet ", b'<worksheet xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/'
                 b'2006" xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
                 b'mc:Ignorable="x14ac" ', xml, count=1)
    assert strings and b'cm="1"' in xml
    sst = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats'
           b'.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">' % (len(strings), len(strings))
           + b"".join(b"<si><t>" + t + b"</t></si>" for t in strings) + b"</sst>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = xml if item.filename == part else source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                content = content.replace(b"</Types>", (
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                    b'officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/metadata.xml" '
                    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+'
                    b'xml"/></Types>'))
            if item.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"</Relationships>", (
                    b'<Relationship Id="rId901" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId902" '
                    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata"'
                    b' Target="metadata.xml"/></Relationships>'))
            target.writestr(item, content)
        target.writestr("xl/sharedStrings.xml", sst)
        target.writestr("xl/metadata.xml", METADATA)
    return out.getvalue()


def _sheet_xml(data: bytes, sheet: str) -> bytes:
    from xl_negcoke.workbook.cached import sheet_parts

    archive = zipfile.ZipFile(io.BytesIO(data))
    return archive.read(sheet_parts(archive)[sheet])


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_the_analysts_sheet_goes_back_byte_for_byte_with_its_strings_and_metadata(
        templates: dict[str, bytes], changed_data: Path) -> None:
    """The cells of an analyst's sheet saved by Excel (shared strings, Excel 2010 row attributes,
    a dynamic-array formula) are in the refreshed file byte for byte, with the parts they refer
    to and the namespaces they use, and read back as the same values and formats."""
    import xml.dom.minidom

    from openpyxl.styles import Font

    book = load_workbook(io.BytesIO(templates[".xlsx"]))
    notes = book.create_sheet("Notes", 1)
    for row in range(1, 8):
        notes.cell(row, 1, f"item {row}").font = Font(bold=row % 2 == 0)
        notes.cell(row, 2, row * 1.25).number_format = "0.00%"
        notes.cell(row, 3, f"=B{row}*2")
    original = _as_excel_saves(book_bytes(book), "Notes")
    result, plan = _refreshed(original, changed_data)
    theirs, ours = _sheet_xml(original, "Notes"), _sheet_xml(result, "Notes")
    sheet_data = theirs[theirs.index(b"<sheetData"):theirs.index(b"</sheetData>")]
    assert sheet_data in ours
    assert b'mc:Ignorable="x14ac"' in ours[:ours.index(b">", ours.index(b"<worksheet"))]
    archive, before = zipfile.ZipFile(io.BytesIO(result)), zipfile.ZipFile(io.BytesIO(original))
    for part in ("xl/sharedStrings.xml", "xl/metadata.xml"):
        assert archive.read(part) == before.read(part)
    for name in archive.namelist():
        if name.endswith((".xml", ".rels")):
            xml.dom.minidom.parseString(archive.read(name))
    after, was = load_workbook(io.BytesIO(result))["Notes"], load_workbook(io.BytesIO(original))["Notes"]
    assert [(c.value, c.number_format, c.font.b) for row in after.iter_rows() for c in row] == [
        (c.value, c.number_format, c.font.b) for row in was.iter_rows() for c in row]
    assert plan.user_sheets == ["Notes"] and check_workbook(result, changed_data).problems == []


EXCEL_2010_EXTENSIONS = (
    b'<extLst><ext uri="{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}" xmlns:x14="http://schemas.microsoft.com/'
    b'office/spreadsheetml/2009/9/main"><x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft'
    b'.com/office/excel/2006/main"><x14:dataValidation type="list" allowBlank="1" showErrorMessage="1">'
    b"<x14:formula1><xm:f>Assumptions!$A$6:$A$10</xm:f></x14:formula1><xm:sqref>D1:D5</xm:sqref>"
    b'</x14:dataValidation></x14:dataValidations></ext><ext uri="{05C60535-1F16-4fd2-B633-F4F36F0B64E0}" '
    b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:sparklineGroups '
    b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x14:sparklineGroup displayEmptyCellsAs'
    b'="gap"><x14:colorSeries rgb="FF376092"/><x14:colorNegative rgb="FFD00000"/><x14:sparklines>'
    b"<x14:sparkline><xm:f>Notes!B1:B7</xm:f><xm:sqref>E1</xm:sqref></x14:sparkline></x14:sparklines>"
    b"</x14:sparklineGroup></x14:sparklineGroups></ext></extLst>")


def _with_extensions(data: bytes, sheet: str) -> bytes:
    """The workbook with Excel 2010 extensions on a sheet: a list validation drawing on another
    sheet and a sparkline, as Excel writes them."""
    from xl_negcoke.workbook.cached import sheet_parts

    source = zipfile.ZipFile(io.BytesIO(data))
    part = sheet_parts(source)[sheet]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == part:
                content = content.replace(b"</worksheet>", EXCEL_2010_EXTENSIONS + b"</worksheet>")
            target.writestr(item, content)
    return out.getvalue()


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_excel_2010_validations_and_sparklines_on_the_analysts_sheet_survive(
        with_notes: bytes) -> None:
    """A list validation drawing on another sheet and a sparkline (Excel 2010 extensions, which
    openpyxl drops) are put back on the analyst's sheet as they were."""
    result, _plan = refresh_bytes(_with_extensions(with_notes, "Notes"), load_model())
    assert _sheet_xml(result, "Notes").endswith(EXCEL_2010_EXTENSIONS + b"</worksheet>")


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_excel_2010_extensions_on_a_model_sheet_stop_the_refresh(with_notes: bytes) -> None:
    """The same extensions on a model sheet would be lost: refresh refuses and names them."""
    with pytest.raises(WorkbookError) as caught:
        refresh_bytes(_with_extensions(with_notes, "Checks"), load_model())
    assert str(caught.value) == ("refresh would lose 1 data validation on 'Checks'; 1 sparkline group "
                                 "on 'Checks'; nothing was changed")


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_a_file_whose_cells_cannot_be_put_back_verbatim_is_refreshed_through_openpyxl(
        templates: dict[str, bytes], changed_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the saved file is not shaped for putting the analyst's cells back, refresh loads them
    with openpyxl instead: same cells, same last results of their formulas."""
    import xl_negcoke.workbook.refresh as refresh

    def unusual(*args: object) -> bytes:
        raise refresh.NotSpliceable("test")

    book = load_workbook(io.BytesIO(templates[".xlsx"]))
    notes = book.create_sheet("Notes", 1)
    notes["A1"], notes["B1"], notes["C1"] = "item", 2.5, "=B1*2"
    original, _report = recalculate(book_bytes(book))
    monkeypatch.setattr(refresh, "with_user_cells", unusual)
    result, plan = _refreshed(original, changed_data)
    assert plan.user_sheets == ["Notes"]
    assert _cells(load_workbook(io.BytesIO(result))["Notes"]) == {"A1": "item", "B1": 2.5, "C1": "=B1*2"}
    assert load_workbook(io.BytesIO(result), data_only=True)["Notes"]["C1"].value == 5


@pytest.mark.slow  # LibreOffice
@pytest.mark.skipif(shutil.which("soffice") is None and not os.environ.get("CI"),
                    reason="LibreOffice is not installed (scripts/setup.sh installs it; CI has it)")
def test_a_workbook_saved_by_libreoffice_refreshes_and_opens_again_in_libreoffice(
        templates: dict[str, bytes], tmp_path: Path) -> None:
    """Another program's styles and shared strings: a workbook LibreOffice saved refreshes, the
    analyst's cells keep their values and formats, and LibreOffice opens the result."""
    import subprocess

    from openpyxl.styles import Font, PatternFill

    book = load_workbook(io.BytesIO(templates[".xlsx"]))
    notes = book.create_sheet("Notes", 1)
    for row in range(1, 20):
        red = "FF0000" if row % 3 == 0 else None
        notes.cell(row, 1, f"item {row}").font = Font(bold=row % 2 == 0, color=red)
        notes.cell(row, 2, row * 1.25).number_format = "0.000%" if row % 4 == 0 else "#,##0.00"
        notes.cell(row, 3, f"=B{row}*2").fill = PatternFill("solid", fgColor="FFFF00")
    (tmp_path / "analyst.xlsx").write_bytes(book_bytes(book))

    def libreoffice(source: Path, out: Path) -> Path:
        profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
        subprocess.run([shutil.which("soffice") or "soffice", profile, "--headless", "--norestore",
                        "--convert-to", "xlsx", "--outdir", str(out), str(source)],
                       check=True, capture_output=True, timeout=120)
        return out / source.name

    saved = libreoffice(tmp_path / "analyst.xlsx", tmp_path / "saved")
    result, _plan = refresh_bytes(saved.read_bytes(), load_model())
    (tmp_path / "refreshed.xlsx").write_bytes(result)
    reopened = libreoffice(tmp_path / "refreshed.xlsx", tmp_path / "reopened")

    def look(path: Path) -> list[tuple[object, ...]]:
        ws = load_workbook(path, data_only=True)["Notes"]
        return [(c.value, c.number_format, c.font.b, c.font.color.rgb if c.font.color else None,
                 c.fill.fgColor.rgb) for row in ws.iter_rows() for c in row]

    assert look(tmp_path / "refreshed.xlsx") == look(saved)
    assert [v[0] for v in look(reopened)] == [v[0] for v in look(saved)]


# ---------------------------------------------------------------------------------------------
# the loss guard: what openpyxl cannot carry over stops the refresh


def _inject_drawing(data: bytes, sheet: str, anchor: str, media: bytes | None = None) -> bytes:
    """Add a drawing with one anchor (a picture or a shape) to a sheet that has none, as Excel
    would save it: the drawing part, its relationships, the media, the content types."""
    source = zipfile.ZipFile(io.BytesIO(data))
    from xl_negcoke.workbook.cached import sheet_parts

    part = sheet_parts(source)[sheet]
    folder, name = part.rsplit("/", 1)
    rels = f"{folder}/_rels/{name}.rels"
    assert rels not in source.namelist()
    drawing = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
               'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
               'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
               f'{anchor}</xdr:wsDr>')
    members = {
        "xl/drawings/drawing99.xml": drawing.encode(),
        rels: (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
               b'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
               b'.org/officeDocument/2006/relationships/drawing" Target="../drawings/drawing99.xml"/>'
               b'</Relationships>'),
    }
    if media is not None:
        members["xl/media/image99.png"] = media
        members["xl/drawings/_rels/drawing99.xml.rels"] = (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
            b'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
            b'.org/officeDocument/2006/relationships/image" Target="../media/image99.png"/>'
            b'</Relationships>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == part:
                content = content.replace(b"</worksheet>", b'<drawing xmlns:r="http://schemas.openxmlformats.'
                                          b'org/officeDocument/2006/relationships" r:id="rId1"/></worksheet>')
            if item.filename == "[Content_Types].xml":
                content = content.replace(b"</Types>", b'<Default Extension="png" ContentType="image/png"/>'
                                          b'<Override PartName="/xl/drawings/drawing99.xml" ContentType="'
                                          b'application/vnd.openxmlformats-officedocument.drawing+xml"/></Types>')
            target.writestr(item.filename, content)
        for member, content in members.items():
            target.writestr(member, content)
    return out.getvalue()


_FROM = ('<xdr:from><xdr:col>2</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>2</xdr:row>'
         '<xdr:rowOff>0</xdr:rowOff></xdr:from>')
_TO = ('<xdr:to><xdr:col>5</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>8</xdr:row>'
       '<xdr:rowOff>0</xdr:rowOff></xdr:to>')
TEXT_BOX = (f'<xdr:twoCellAnchor>{_FROM}{_TO}<xdr:sp><xdr:nvSpPr><xdr:cNvPr id="2" name="TextBox 1"/>'
            '<xdr:cNvSpPr txBox="1"/></xdr:nvSpPr><xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
            '</xdr:spPr><xdr:txBody><a:bodyPr/><a:p><a:r><a:t>Call the desk before using 2030</a:t></a:r>'
            '</a:p></xdr:txBody></xdr:sp><xdr:clientData/></xdr:twoCellAnchor>')
PICTURE = (f'<xdr:twoCellAnchor>{_FROM}{_TO}<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="3" name="Picture 1"/>'
           '<xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill><a:blip r:embed="rId1"/><a:stretch><a:fillRect/>'
           '</a:stretch></xdr:blipFill><xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr>'
           '</xdr:pic><xdr:clientData/></xdr:twoCellAnchor>')


@pytest.fixture(scope="module")
def with_notes(templates: dict[str, bytes]) -> bytes:
    book = load_workbook(io.BytesIO(templates[".xlsx"]))
    book.create_sheet("Notes")["A1"] = "my notes"
    return book_bytes(book)


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_a_text_box_openpyxl_cannot_keep_stops_the_refresh_and_leaves_the_file_unchanged(
        with_notes: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A shape (text box) on the analyst's sheet would be lost: refresh exits 2 with one line
    naming it, and the file is byte-identical with no backup."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(_inject_drawing(with_notes, "Notes", TEXT_BOX))
    original = path.read_bytes()
    assert main(["refresh", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == ("xl-negcoke refresh: error: refresh would lose 1 shape on 'Notes' at C3; "
                   "nothing was changed\n")
    assert path.read_bytes() == original and not backup_path(path).exists()


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_a_picture_without_pillow_stops_the_refresh_with_the_install_hint(
        with_notes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Pillow openpyxl drops pictures: refresh refuses and says to install Pillow."""
    import openpyxl.drawing.image
    import openpyxl.reader.drawings

    monkeypatch.setattr(openpyxl.reader.drawings, "PILImage", False)
    monkeypatch.setattr(openpyxl.drawing.image, "PILImage", False)
    data = _inject_drawing(with_notes, "Notes", PICTURE, PNG)
    with pytest.raises(WorkbookError) as caught:
        refresh_bytes(data, load_model())
    assert str(caught.value) == ("refresh would lose 1 picture on 'Notes' at C3 (pip install pillow, "
                                 "then refresh again); nothing was changed")


def test_find_losses_ignores_the_models_own_charts_and_names_what_is_missing(
        templates: dict[str, bytes], with_notes: bytes) -> None:
    """The model's charts are rewritten, not lost; a missing text box is named with its sheet and cell."""
    record = read_record(load_workbook(io.BytesIO(templates[".xlsx"])))
    assert find_losses(templates[".xlsx"], templates[".xlsx"], record) == []
    boxed = _inject_drawing(with_notes, "Notes", TEXT_BOX)
    assert find_losses(boxed, with_notes, record) == ["1 shape on 'Notes' at C3"]


# ---------------------------------------------------------------------------------------------
# files that cannot be refreshed: exit 2, one line, file unchanged


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _corrupt(data: bytes) -> bytes:
    archive = zipfile.ZipFile(io.BytesIO(data))
    info = max(archive.infolist(), key=lambda i: i.compress_size)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    return data[:start] + bytes(b ^ 0xFF for b in data[start:start + 64]) + data[start + 64:]


BAD_FILES = {
    "corrupt": lambda t: _corrupt(t),
    "truncated": lambda t: t[: len(t) // 2],
    "encrypted": lambda t: bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 4000,
    "not-excel": lambda t: b"key,value\ncoke_per_anode_t,1.5\n",
    "a-zip-but-not-a-workbook": lambda t: _zip({"word/document.xml": b"<w:document/>"}),
    "zip-bomb": lambda t: _zip({"xl/workbook.xml": b"<workbook/>",
                                "xl/worksheets/sheet1.xml": b"0" * 30_000_000}),
    "damaged-workbook-xml": lambda t: _zip({"[Content_Types].xml": b"<Types/>",
                                            "xl/workbook.xml": b"<not xml"}),
    "no-ownership-record": lambda t: book_bytes(Workbook()),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_a_file_refresh_cannot_use_exits_2_with_one_line_and_stays_byte_identical(
        kind: str, templates: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Corrupt, truncated, encrypted, non-Excel, zip-bomb and record-less files: exit code 2, one
    line on stderr, the file byte-identical and no backup."""
    path = tmp_path / f"{kind}.xlsx"
    path.write_bytes(BAD_FILES[kind](templates[".xlsx"]))
    original = path.read_bytes()
    assert main(["refresh", str(path)]) == 2
    out, err = capsys.readouterr()
    assert (out, err.count("\n"), err.startswith("xl-negcoke refresh: error: ")) == ("", 1, True)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_workbook_without_the_record_is_refused_with_a_clear_message() -> None:
    """A workbook not made by xl-negcoke build raises WorkbookError saying so."""
    with pytest.raises(WorkbookError, match=r"^this workbook has no xl_negcoke ownership record, so "
                                            r"refresh cannot tell the model's cells from yours; "):
        refresh_bytes(book_bytes(Workbook()), load_model())


# ---------------------------------------------------------------------------------------------
# the command: lock file, dry run, backup


@pytest.fixture
def workbook_file(templates: dict[str, bytes], tmp_path: Path) -> Path:
    path = tmp_path / "analyst.xlsx"
    path.write_bytes(templates[".xlsx"])
    return path


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_excels_lock_file_blocks_the_refresh_unless_forced(
        workbook_file: Path, changed_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """While ~$name exists refresh exits 2 naming it and changes nothing; --force refreshes."""
    lock_file(workbook_file).write_bytes(b"analyst")
    original = workbook_file.read_bytes()
    assert main(["refresh", str(workbook_file), "--data", str(changed_data)]) == 2
    assert capsys.readouterr().err == (
        "xl-negcoke refresh: error: analyst.xlsx is open in Excel (~$analyst.xlsx exists); close it "
        "first, or pass --force\n")
    assert workbook_file.read_bytes() == original and not backup_path(workbook_file).exists()
    assert main(["refresh", str(workbook_file), "--data", str(changed_data), "--force"]) == 0
    assert workbook_file.read_bytes() != original


def test_dry_run_writes_nothing_and_lists_the_plan(workbook_file: Path, changed_data: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """--dry-run prints the plan and leaves the file byte-identical, with no backup."""
    original = workbook_file.read_bytes()
    assert main(["refresh", str(workbook_file), "--data", str(changed_data), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"dry run: {workbook_file} was not changed"
    assert out[2] == "  your sheets kept: none"
    assert workbook_file.read_bytes() == original
    assert sorted(p.name for p in workbook_file.parent.iterdir()) == ["analyst.xlsx"]


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_refresh_keeps_the_previous_version_as_a_backup_beside_the_file(
        workbook_file: Path, changed_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The file is refreshed in place and the previous bytes are kept as name.before-refresh.xlsx."""
    original = workbook_file.read_bytes()
    assert main(["refresh", str(workbook_file), "--data", str(changed_data), "--reset-inputs"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"refreshed {workbook_file} (previous version kept as analyst.before-refresh.xlsx)")
    assert (workbook_file.parent / "analyst.before-refresh.xlsx").read_bytes() == original
    assert check_workbook(workbook_file.read_bytes(), changed_data).problems == []


# ---------------------------------------------------------------------------------------------
# fault injection: a failure in the middle of writing leaves the original untouched


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_a_failing_rename_leaves_the_original_byte_identical_and_no_temporary_file(
        workbook_file: Path, changed_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.replace failing on the workbook (after the backup was written) changes nothing."""
    import xl_negcoke.workbook.files as files

    original = workbook_file.read_bytes()
    real_replace = os.replace

    def replace(source: str, target: str | Path) -> None:
        if Path(target) == workbook_file:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(files.os, "replace", replace)
    with pytest.raises(OSError, match="No space left"):
        refresh_file(workbook_file, load_model(changed_data), data_dir=str(changed_data))
    assert workbook_file.read_bytes() == original
    assert _leftovers(workbook_file.parent) == []


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_a_failing_zip_writer_leaves_the_original_byte_identical(
        workbook_file: Path, changed_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception half-way through writing the refreshed zip changes nothing and writes no file."""
    original = workbook_file.read_bytes()
    real_writestr = zipfile.ZipFile.writestr

    def writestr(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
        if kwargs.get("compresslevel") == 6 and len(self.filelist) == 20:  # the final file's 21st member
            raise RuntimeError("injected failure while writing the zip")
        real_writestr(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    with pytest.raises(RuntimeError, match="injected"):
        refresh_file(workbook_file, load_model(changed_data), data_dir=str(changed_data))
    assert workbook_file.read_bytes() == original
    assert sorted(p.name for p in workbook_file.parent.iterdir()) == ["analyst.xlsx"]


@pytest.mark.slow  # another whole refresh (5-15 s): the fast suite refreshes in the property test
def test_a_failing_save_or_fsync_leaves_the_original_byte_identical_and_no_temporary_file(
        workbook_file: Path, changed_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """openpyxl's save failing, then fsync failing while the file is written: nothing changes."""
    import xl_negcoke.workbook.files as files

    original = workbook_file.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(Workbook, "save", lambda *args: (_ for _ in ()).throw(RuntimeError("save failed")))
        with pytest.raises(RuntimeError, match="save failed"):
            refresh_file(workbook_file, load_model(changed_data), data_dir=str(changed_data))
    assert sorted(p.name for p in workbook_file.parent.iterdir()) == ["analyst.xlsx"]
    monkeypatch.setattr(files.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(5, "I/O error")))
    with pytest.raises(OSError, match="I/O error"):
        refresh_file(workbook_file, load_model(changed_data), data_dir=str(changed_data))
    assert workbook_file.read_bytes() == original
    assert _leftovers(workbook_file.parent) == []
