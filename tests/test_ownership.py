"""The ownership record: fingerprints that survive Excel's own save, a record that reads back as
written (also from format 1 and after Excel stores numbers as floats), and clear refusals for a
missing, damaged or newer record."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.errors import WorkbookError
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.ownership import (
    ARRAY_MEMBER,
    FORMAT,
    READABLE_FORMATS,
    RECORD_SHEET,
    SHIFTED_FORMAT,
    Record,
    fingerprint,
    formula_text,
    read_record,
    record_book,
    write_record,
)


@pytest.mark.parametrize(("written", "saved_by_excel"), [
    ("=ABS(B5-C5)<=1E-9", "=ABS(B5-C5)<=0.000000001"),
    ("=ABS(B5-C5)<=1E-9", "=abs(b5-c5)<=1e-09"),
    ("=CONCAT(A1,A2)", "=_xlfn.CONCAT(A1,A2)"),
    ("=IFERROR(NEGCOKE_INFO(\"version\"),Cache!$A$3)", "=IFERROR([1]!NEGCOKE_INFO(\"version\"),Cache!$A$3)"),
    ("=(M11/F11)^(1/7)-1", "=(M11/F11)^(1.0/7.00)-1"),
])
def test_a_formula_matches_its_fingerprint_after_excel_rewrites_it(written: str, saved_by_excel: str) -> None:
    """Excel's canonical forms (number literals, upper case, _xlfn. prefixes, add-in qualifiers)
    leave the fingerprint unchanged."""
    assert formula_text(written) == formula_text(saved_by_excel)
    assert fingerprint(written) == fingerprint(saved_by_excel)


@pytest.mark.parametrize(("first", "second"), [
    ('=IF(B5=0,"n/a",C5/B5-1)', '=IF(B5=0,"N/A",C5/B5-1)'),  # text in quotes keeps its case
    ("='2 Market size'!F10", "='2 market size'!F10"),  # so do quoted sheet names
    ("=A10*2", "=A1*20"),  # digits of references are not numbers
    ("=$B$3", "=$B$30"),
    ("=SUM(A1:A5)", "=SUM(A1:A6)"),
    ("=0.5", "0.5"),  # a formula is not its value
    (1, "1"),  # a number is not text
    (True, 1),  # nor is a boolean
])
def test_different_content_has_different_fingerprints(first: object, second: object) -> None:
    """Normalising never makes two different contents look the same."""
    assert fingerprint(first) != fingerprint(second)


def test_array_formulas_are_fingerprinted_with_their_block() -> None:
    """The same array formula over another block is different content."""
    text = "=IFERROR(NEGCOKE_TABLE(\"type\"),Cache!$A$3:$M$6)"
    assert fingerprint(ArrayFormula("A5:M8", text)) != fingerprint(ArrayFormula("A5:M9", text))
    assert fingerprint(ArrayFormula("A5:M8", text)) == fingerprint(ArrayFormula("A5:M8", text.lower()))


def test_empty_text_and_empty_cells_fingerprint_alike() -> None:
    """Excel stores no empty text, so "" and an empty cell are the same content."""
    assert fingerprint("") == fingerprint(None)


def test_integers_and_floats_of_the_same_value_fingerprint_alike() -> None:
    """A value Excel reads back as 3.0 where openpyxl wrote 3 is unchanged."""
    assert fingerprint(3) == fingerprint(3.0)


def _small_book() -> Workbook:
    book = Workbook()
    ws = book.active
    ws.title = "Model"
    ws["A1"] = "Title"
    ws["B2"] = "=A1"
    ws["A4"] = ArrayFormula("A4:B5", "=A1:B2")
    ws["D1"] = 1.5
    return book


def test_a_record_reads_back_as_written_and_lives_in_a_very_hidden_sheet() -> None:
    """Cells, inputs, array members, names and sheets survive a save and a load."""
    book = _small_book()
    record = record_book(book, "1.0", "data-1", {"Model": {"D1"}})
    write_record(book, record)
    loaded = load_workbook(io.BytesIO(book_bytes(book)))
    assert loaded[RECORD_SHEET].sheet_state == "veryHidden"
    again = read_record(loaded)
    assert (again.cells, again.inputs, again.sheets, again.format) == (
        record.cells, record.inputs, ["Model"], FORMAT)
    assert again.cells["Model"]["B5"] == ARRAY_MEMBER
    assert again.inputs == {"Model": {"D1": fingerprint(1.5)}}
    assert again.owns("Model", "D1") and not again.owns("Model", "C3")


def test_writing_a_record_again_keeps_its_place_among_the_sheets() -> None:
    """A replaced record stays where it was, so the analyst's sheet order does not move."""
    book = _small_book()
    write_record(book, Record())
    book.create_sheet("Mine")
    write_record(book, Record())
    assert book.sheetnames == ["Model", RECORD_SHEET, "Mine"]


def test_a_record_whose_row_numbers_excel_stored_as_floats_still_reads() -> None:
    """Row numbers read back as 12.0 give the same cells as 12."""
    book = _small_book()
    write_record(book, record_book(book, "1.0", "data-1", {}))
    ws = book[RECORD_SHEET]
    for row in ws.iter_rows(min_row=9, min_col=3, max_col=3):
        if isinstance(row[0].value, int):
            row[0].value = float(row[0].value)
    ws["B3"] = float(FORMAT)
    assert read_record(book).cells == record_book(_small_book(), "1.0", "data-1", {}).cells


def test_a_format_1_record_compares_the_text_as_written() -> None:
    """A record of format 1 used raw digests; the record computes digests the same way."""
    record = Record(format=1)
    assert record.digest("=A1<=1E-9") == fingerprint("=A1<=1E-9", normalise=False)
    assert record.digest("=A1<=1E-9") != record.digest("=A1<=0.000000001")
    assert Record().digest("=A1<=1E-9") == Record().digest("=A1<=0.000000001")


def test_missing_newer_and_damaged_records_are_refused_in_one_line() -> None:
    """No record, a newer format and unreadable rows each raise WorkbookError."""
    book = _small_book()
    with pytest.raises(WorkbookError, match="has no xl_negcoke ownership record"):
        read_record(book)
    write_record(book, record_book(book, "1.0", "data-1", {}))
    newer = max(READABLE_FORMATS) + 1
    book[RECORD_SHEET]["B3"] = newer
    with pytest.raises(WorkbookError, match=rf"^ownership record format {newer} is not one this "):
        read_record(book)
    book[RECORD_SHEET]["B3"] = FORMAT
    book[RECORD_SHEET]["C9"] = "twelve"
    with pytest.raises(WorkbookError, match=r"is damaged; refresh cannot tell the model's cells from yours$"):
        read_record(book)


def test_block_shifts_are_stored_and_read_back_in_format_3_only_when_there_are_some() -> None:
    """A record with shifts (blocks the analyst moved) is written as format 3 and reads back the
    same shifts; one without stays format 2."""
    book = _small_book()
    record = record_book(book, "1.0", "data-1", {})
    write_record(book, record)
    assert (book[RECORD_SHEET]["B3"].value, read_record(book).shifts) == (FORMAT, {})
    record.shifts = {"Model": {"A6": (2, 0), "C12": (-1, 1)}}
    write_record(book, record)
    assert book[RECORD_SHEET]["B3"].value == SHIFTED_FORMAT == 3
    assert read_record(book).shifts == {"Model": {"A6": (2, 0), "C12": (-1, 1)}}


def test_cells_of_an_array_block_are_members_even_with_cached_values() -> None:
    """A recalculated book holds values in an array block's cells; they are still the block's."""
    book = _small_book()
    ws = book["Model"]
    ws["B4"], ws["A5"], ws["B5"] = 1, 2.5, "x"
    cells = record_book(book, "1.0", "data-1", {}).cells["Model"]
    assert [cells[c] for c in ("B4", "A5", "B5")] == [ARRAY_MEMBER] * 3
    assert cells["A4"] == fingerprint(ws["A4"].value)
