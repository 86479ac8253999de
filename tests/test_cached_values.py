"""Cached values in sheet XML: each value type is encoded the way ECMA-376 says, only the given
cells change, array cells openpyxl left out are inserted in column order, and Excel is not told
to recalculate on open."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.workbook.cached import (
    CellError,
    cached_members,
    encode,
    patch_calc_properties,
    patch_sheet,
    sheet_parts,
)
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.recalc import with_cached_values

SHEET = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         '<dimension ref="A1:B2"/><sheetData>'
         '<row r="1" spans="1:2"><c r="A1" s="3"><f>1+1</f><v></v></c><c r="B1" t="s"><v>0</v></c></row>'
         '<row r="2"><c r="A2"><f t="array" ref="A2:C3">X()</f></c></row>'
         '</sheetData></worksheet>')


@pytest.mark.parametrize(("value", "expected"), [
    (None, (None, None)),
    (2, (None, "2")),
    (0.1 + 0.2, (None, "0.30000000000000004")),
    (True, ("b", "1")),
    (False, ("b", "0")),
    ("n/a", ("str", "n/a")),
    (CellError("#N/A"), ("e", "#N/A")),
    (float("nan"), ("e", "#NUM!")),
    (float("inf"), ("e", "#NUM!")),
])
def test_each_value_type_is_encoded_as_ecma_376_says(value, expected):
    """Numbers carry no type and round-trip exactly; booleans t="b"; text t="str"; errors t="e";
    a non-finite float becomes #NUM!; None writes no value."""
    assert encode(value) == expected


def test_patch_sheet_changes_only_the_given_cells():
    """A formula cell gets its <v> beside its <f> and keeps its style; other cells are untouched."""
    xml = patch_sheet(SHEET, {"A1": 2})
    assert '<c r="A1" s="3"><f>1+1</f><v>2</v></c>' in xml
    assert '<c r="B1" t="s"><v>0</v></c>' in xml
    assert '<c r="A2"><f t="array" ref="A2:C3">X()</f></c>' in xml


def test_patch_sheet_inserts_array_cells_in_column_and_row_order():
    """Cells of an array block openpyxl did not write are inserted, rows and columns in order,
    and the dimension grows to cover them."""
    xml = patch_sheet(SHEET, {"A2": 1, "B2": 2.5, "C2": "x", "A3": True, "C3": CellError("#N/A")})
    assert ('<row r="2"><c r="A2"><f t="array" ref="A2:C3">X()</f><v>1</v></c>'
            '<c r="B2"><v>2.5</v></c><c r="C2" t="str"><v>x</v></c></row>') in xml
    assert '<row r="3"><c r="A3" t="b"><v>1</v></c><c r="C3" t="e"><v>#N/A</v></c></row>' in xml
    assert '<dimension ref="A1:C3"/>' in xml
    assert xml.index('<row r="2">') < xml.index('<row r="3">')


def test_text_results_are_escaped_and_constants_are_inline_strings():
    """Markup characters in text are escaped; a formula's text result (array cells after the
    first too) is t="str", while text given as a constant is an inline string and drops any
    formula the cell had."""
    xml = patch_sheet(SHEET, {"A1": "a<b & c>", "B2": "member", "D5": "plain", "B1": "was shared"},
                      constants=frozenset({"D5", "B1"}))
    assert '<c r="A1" t="str" s="3"><f>1+1</f><v>a&lt;b &amp; c&gt;</v></c>' in xml
    assert '<c r="B2" t="str"><v>member</v></c>' in xml
    assert '<c r="D5" t="inlineStr"><is><t>plain</t></is></c>' in xml
    assert '<c r="B1" t="inlineStr"><is><t>was shared</t></is></c>' in xml
    constant = patch_sheet(SHEET, {"A1": 7}, constants=frozenset({"A1"}))
    assert '<c r="A1" s="3"><v>7</v></c>' in constant


def test_full_calculation_on_load_is_dropped():
    """calcPr keeps its other attributes but loses fullCalcOnLoad, so Excel shows cached values."""
    xml = '<workbook><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    assert patch_calc_properties(xml) == '<workbook><calcPr calcId="124519"/></workbook>'
    assert patch_calc_properties("<workbook/>") == "<workbook/>"


def test_cached_values_round_trip_through_openpyxl():
    """A workbook saved by openpyxl, given cached values for a formula and a 2x2 array block,
    reads back those values with data_only, and still has its formulas without it."""
    book = Workbook()
    ws = book.active
    ws.title = "Odd 'name'"
    ws["A1"] = "=1+1"
    ws["B1"] = ArrayFormula("B1:C2", "=A1:B2*1")
    data = book_bytes(book)
    values = {("Odd 'name'", "A1"): 2, ("Odd 'name'", "B1"): 2, ("Odd 'name'", "C1"): 0,
              ("Odd 'name'", "B2"): 0, ("Odd 'name'", "C2"): 0}
    cached = with_cached_values(data, values)
    read = load_workbook(io.BytesIO(cached), data_only=True)["Odd 'name'"]
    assert [[c.value for c in row] for row in read["A1:C2"]] == [[2, 2, 0], [None, 0, 0]]
    formulas = load_workbook(io.BytesIO(cached))["Odd 'name'"]
    assert formulas["A1"].value == "=1+1"
    assert formulas["B1"].value.ref == "B1:C2"


def test_unknown_sheet_is_refused():
    """Values for a sheet the workbook does not have raise KeyError naming it."""
    data = book_bytes(Workbook())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert list(sheet_parts(archive)) == ["Sheet"]
        with pytest.raises(KeyError, match="Nope"):
            cached_members(archive, {("Nope", "A1"): 1})
