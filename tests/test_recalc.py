"""Headless recalculation: every formula of the template gets the model's value, cached in the
file where openpyxl, pandas and calamine read it; what the engine cannot evaluate is reported on
its cell with the reason, and `xl-negcoke recalc` then writes nothing."""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke import udfs
from xl_negcoke.cli import main
from xl_negcoke.model import FIRST_YEAR, LAST_YEAR, load_model
from xl_negcoke.workbook.build import CACHE
from xl_negcoke.workbook.cached import CellError
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.formula import NOT_LIVE
from xl_negcoke.workbook.recalc import evaluate, formula_cells, recalculate

MODEL = load_model()
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)
_CALL = re.compile(r"^=IFERROR\(NEGCOKE_(?P<name>\w+)\((?P<args>.*)\),(?:IF\(CacheCurrent,)?"
                   r"Cache!\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?(?:,NA\(\)\))?\)$")


def split_arguments(text: str) -> list[str]:
    """Top-level arguments of a formula call, quotes respected ('"a,b",1' -> ['"a,b"', '1'])."""
    parts, current, quoted, depth = [], "", False, 0
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == "," and not quoted and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def python_argument(text: str) -> object:
    """An argument as the Python call gets it with the template's inputs (base scenario, the
    embedded assumptions)."""
    if text == "":
        return None
    if text.startswith('"'):
        return text[1:-1].replace('""', '"')
    if text == "Scenario":
        return "base"
    if text == "AssumptionsTable":
        return None
    return float(text) if "." in text else int(text)


def negcoke_calls(data: bytes) -> list[tuple[str, str, str, list[object]]]:
    """Every NEGCOKE_* call of a workbook: (sheet, block, function name, Python arguments)."""
    book = load_workbook(io.BytesIO(data))
    calls = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                text, block = (value.text, value.ref) if isinstance(value, ArrayFormula) else (
                    value, cell.coordinate)
                match = _CALL.match(text) if isinstance(text, str) else None
                if match:
                    arguments = [python_argument(a) for a in split_arguments(match["args"])]
                    calls.append((ws.title, block, match["name"], arguments))
    return calls


def cells_of(block: str) -> list[list[str]]:
    c1, r1, c2, r2 = range_boundaries(block if ":" in block else f"{block}:{block}")
    return [[f"{get_column_letter(c)}{r}" for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]


@pytest.fixture(scope="module")
def cached_book(recalculated_template):
    """The recalculated template read by openpyxl as values (data_only)."""
    data, _report = recalculated_template
    return load_workbook(io.BytesIO(data), data_only=True)


def test_every_formula_cell_of_the_template_gets_a_value(recalculated_template, template_xlsx):
    """Every formula cell (each cell of every array block) gets a value and no problem is
    reported; the only blanks are prices of a company in years it sells nothing."""
    _data, report = recalculated_template
    wanted, _sheets, _cache = formula_cells(template_xlsx)
    assert report.problems == []
    assert set(report.values) == wanted
    assert report.formula_cells == len(wanted) > 3000
    assert not any(isinstance(v, CellError) for v in report.values.values())
    companies = set(MODEL.segments("company"))
    prices = MODEL.table("company", "price")
    built = None
    for (sheet, cell), value in report.values.items():
        if value is None:
            column, row = re.match(r"([A-Z]+)(\d+)", cell).groups()
            year = FIRST_YEAR + range_boundaries(f"{column}1")[0] - 2
            label = report.values.get((sheet, f"A{row}"))
            if label is None:  # a constant label: read it from the built sheet (loaded once)
                built = built or load_workbook(io.BytesIO(template_xlsx))
                label = built[sheet][f"A{row}"].value
            assert label in companies | {"Price (US$/t)"}, (sheet, cell, label)
            if label in companies:
                assert math.isnan(prices.loc[label, year]), (sheet, cell)


def test_every_negcoke_call_equals_the_same_call_in_python(recalculated_template):
    """Each of the template's NEGCOKE_* calls (single cells and array blocks) evaluates exactly to
    what the function returns in Python for the base scenario and embedded assumptions."""
    data, report = recalculated_template
    calls = negcoke_calls(data)
    book = load_workbook(io.BytesIO(data))
    texts = [c.value.text if isinstance(c.value, ArrayFormula) else c.value
             for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    # the "functions loaded?" probe is evaluated as not loaded, never called (trust.py)
    unquoted = [re.sub(r'"(?:[^"]|"")*"', '""', text.replace(NOT_LIVE, "TRUE")) for text in texts]
    assert report.udf_calls == sum(len(re.findall(r"NEGCOKE_\w+\(", t)) for t in unquoted)  # once each
    assert len(calls) > 100
    for sheet, block, name, arguments in calls:
        expected = getattr(udfs, f"NEGCOKE_{name}")(*arguments)
        rows = cells_of(block)
        if not isinstance(expected, list):
            assert len(rows) == 1 and len(rows[0]) == 1, (sheet, block)
            expected = [[expected]]
        assert len(expected) == len(rows), (sheet, block)
        for cell_row, expected_row in zip(rows, expected, strict=True):
            got = [report.values[(sheet, c)] for c in cell_row]
            assert got == list(expected_row), (sheet, block, name, arguments)


def test_market_size_revenue_row_equals_the_model(cached_book, recalculated_template):
    """'2 Market size': the Global revenue row of the NEGCOKE_TABLE("global","revenue") block
    holds Model.value("Global", year, "revenue") for 2019-2030, exactly, as cached values."""
    data, _report = recalculated_template
    blocks = [block for sheet, block, name, arguments in negcoke_calls(data)
              if name == "TABLE" and arguments[:2] == ["global", "revenue"]]
    assert len(blocks) == 1
    header, row = cells_of(blocks[0])
    ws = cached_book["2 Market size"]
    assert [ws[c].value for c in header[1:]] == list(YEARS)
    assert ws[row[0]].value == "Global"
    assert [ws[c].value for c in row[1:]] == [MODEL.value("Global", y, "revenue") for y in YEARS]


def test_array_blocks_are_fully_filled_in_the_file(recalculated_template):
    """Every cell of every array block carries a cached value in the saved file (openpyxl
    writes only the block's first cell), blank only where the model has no number."""
    data, report = recalculated_template
    formulas = load_workbook(io.BytesIO(data))
    values = load_workbook(io.BytesIO(data), data_only=True)
    blocks = 0
    for ws in formulas.worksheets:
        for ref in ws.array_formulae.values():
            blocks += 1
            for row in cells_of(ref):
                for cell in row:
                    expected = report.values[(ws.title, cell)]
                    assert values[ws.title][cell].value == expected, (ws.title, cell)
                    assert expected is not None or ws.title in ("3 Companies", "7 Profiles"), (
                        ws.title, cell)
    assert blocks > 100


def test_cache_sheet_holds_the_values_of_the_cells_it_backs(recalculated_template, template_xlsx,
                                                            cached_book):
    """Each NEGCOKE_* cell's fallback on the hidden Cache sheet holds the same value as the cell
    ("n/a" where the cell is blank, so that the fallback never shows a price of 0)."""
    _wanted, _sheets, cache = formula_cells(template_xlsx)
    assert len(cache) > 1000
    assert cached_book[CACHE].sheet_state == "hidden"
    for (sheet, cell), (cache_sheet, cache_cell) in cache.items():
        assert cache_sheet == CACHE
        value = cached_book[sheet][cell].value
        assert cached_book[CACHE][cache_cell].value == ("n/a" if value is None else value), (sheet, cell)


def test_cached_values_read_the_same_in_openpyxl_pandas_and_calamine(recalculated_template,
                                                                     cached_book, tmp_path):
    """openpyxl (data_only), pandas.read_excel and python-calamine read the same cached value for
    every formula cell of the report sheets."""
    from python_calamine import CalamineWorkbook

    data, report = recalculated_template
    path = tmp_path / "recalculated.xlsx"
    path.write_bytes(data)
    calamine = CalamineWorkbook.from_path(str(path))
    sheets = {sheet for sheet, _cell in report.values}
    frames = pd.read_excel(path, sheet_name=sorted(sheets), header=None, engine="openpyxl",
                           keep_default_na=False, na_values=[])
    compared = 0
    for sheet in sorted(sheets):
        grid = calamine.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        frame = frames[sheet]
        for (formula_sheet, cell), value in report.values.items():
            if formula_sheet != sheet:
                continue
            c1, r1, _c2, _r2 = range_boundaries(f"{cell}:{cell}")
            assert cached_book[sheet][cell].value == value, (sheet, cell)
            from_calamine = grid[r1 - 1][c1 - 1]
            from_pandas = frame.iat[r1 - 1, c1 - 1]
            if value is None:
                assert from_calamine == "" and from_pandas == "", (sheet, cell)
            else:
                assert from_calamine == value and from_pandas == value, (sheet, cell, value)
            compared += 1
    assert compared == len(report.values)


def test_recalculation_is_deterministic_and_idempotent(recalculated_template, template_xlsx):
    """Recalculating gives the same bytes every time, and recalculating a recalculated workbook
    changes nothing."""
    data, _report = recalculated_template
    again, _ = recalculate(data)
    assert again == data
    with zipfile.ZipFile(io.BytesIO(data)) as after, zipfile.ZipFile(io.BytesIO(template_xlsx)) as before:
        assert after.namelist() == before.namelist()
        unchanged = [n for n in before.namelist() if not n.startswith("xl/worksheets/")
                     and n != "xl/workbook.xml"]
        assert all(after.read(n) == before.read(n) for n in unchanged)


def _with_formulas(data: bytes, formulas: dict[tuple[str, str], str]) -> bytes:
    book = load_workbook(io.BytesIO(data))
    for (sheet, cell), formula in formulas.items():
        book[sheet][cell] = formula
    return book_bytes(book)


@pytest.fixture(scope="module")
def unknown_function_workbook(recalculated_template) -> bytes:
    """The recalculated template with =NOSUCHFUNC(1) in Contents!D4 and =D4+1 in Contents!D5."""
    data, _report = recalculated_template
    return _with_formulas(data, {("Contents", "D4"): "=NOSUCHFUNC(1)",
                                 ("Contents", "D5"): "=D4+1"})


def test_a_formula_the_engine_cannot_evaluate_is_reported_with_its_reason(unknown_function_workbook):
    """=NOSUCHFUNC(1) is reported as #NAME? naming the unknown function, and the cell depending
    on it as #NAME?; neither is left empty and nothing else is reported."""
    report = evaluate(unknown_function_workbook)
    assert report.problems == [
        ("Contents", "D4", "evaluates to #NAME?; unknown function NOSUCHFUNC"),
        ("Contents", "D5", "evaluates to #NAME?"),
    ]
    assert report.values[("Contents", "D4")] == CellError("#NAME?")
    assert isinstance(report.values[("Contents", "D4")], CellError)


@pytest.mark.parametrize("out", [
    False, pytest.param(True, marks=pytest.mark.slow)])  # --out: another whole evaluation (2-5 s)
def test_recalc_command_refuses_and_leaves_the_file_byte_identical(unknown_function_workbook, out,
                                                                   tmp_path, capsys):
    """`xl-negcoke recalc` (in place, or with --out) on a workbook with an unevaluable formula
    exits 2 with one line naming the cell and its reason, and nothing is written."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(unknown_function_workbook)
    target = ["--out", str(tmp_path / "out.xlsx")] if out else []
    assert main(["recalc", str(path), *target]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "xl-negcoke recalc: error: book.xlsx: 2 formula cells did not evaluate (first Contents!D4: "
        "evaluates to #NAME?; unknown function NOSUCHFUNC); nothing was written"]
    assert path.read_bytes() == unknown_function_workbook
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_a_failing_negcoke_call_is_reported_not_hidden_by_its_cache_fallback(recalculated_template):
    """A NEGCOKE_* call that fails (an error argument, or error text from the function) is
    reported on its cell; the IFERROR fallback to the Cache sheet, meant for spreadsheets without
    the functions, never hides it in a recalculation."""
    data, _report = recalculated_template
    singles = [(sheet, block, name, arguments) for sheet, block, name, arguments in negcoke_calls(data)
               if name == "FORECAST"]
    sheet, cell, _name, _arguments = singles[0]
    text = load_workbook(io.BytesIO(data))[sheet][cell].value
    first_argument = split_arguments(_CALL.match(text)["args"])[0]
    broken = _with_formulas(data, {
        (sheet, cell): text.replace(f"NEGCOKE_FORECAST({first_argument},", "NEGCOKE_FORECAST(1/0,"),
        ("Contents", "D4"): '=IFERROR(NEGCOKE_FORECAST("Foo",2023,"revenue",Scenario,AssumptionsTable)'
                            ',Cache!$A$3)',
    })
    report = evaluate(broken)
    assert ("Contents", "D4", report.values[("Contents", "D4")]) in report.problems
    assert report.values[("Contents", "D4")].startswith('#N/A unknown segment "Foo"')
    assert (sheet, cell, "evaluates to #DIV/0!") in report.problems
    assert report.values[(sheet, cell)] == CellError("#DIV/0!")


def test_unreadable_workbook_bytes_raise_one_line(tmp_path: Path):
    """Bytes that are a zip with a damaged xl/workbook.xml raise a WorkbookError of one line."""
    from xl_negcoke.errors import WorkbookError

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook")
    with pytest.raises(WorkbookError) as raised:
        evaluate(buffer.getvalue())
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith("not a readable workbook")
