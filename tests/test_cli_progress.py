"""`xl-negcoke --version`, and the progress lines the slow commands write on a terminal's stderr
(stdout, which scripts and tests parse, is the same with or without them)."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.cli import main
from xl_negcoke.progress import count_formula_cells
from xl_negcoke.workbook.files import book_bytes


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def on_terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """Make sys.stderr a terminal for the rest of the test (called in the test body: pytest's
    own capture replaces sys.stderr after fixtures are set up)."""
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


@pytest.fixture
def small_book(tmp_path: Path) -> Path:
    """A one-sheet workbook with two formulas, one of them NEGCOKE_FORECAST (fast to recalculate)."""
    book = Workbook()
    ws = book.active
    ws.title = "Data"
    ws["A1"] = '=NEGCOKE_FORECAST("Global",2027)'
    ws["A2"] = "=A1*2"
    path = tmp_path / "book.xlsx"
    path.write_bytes(book_bytes(book))
    return path


def test_version_prints_the_package_version(capsys):
    """--version prints `xl-negcoke 0.1.0` (pyproject's version) on stdout and exits 0."""
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr() == ("xl-negcoke 0.1.0\n", "")


def test_recalc_shows_its_stages_on_a_terminal(small_book: Path, monkeypatch, capsys):
    """recalc writes reading, recalculating N formula cells and writing on a terminal's stderr."""
    terminal = on_terminal(monkeypatch)
    out = small_book.with_name("out.xlsx")
    assert main(["recalc", str(small_book), "--out", str(out)]) == 0
    assert terminal.getvalue() == (f"xl-negcoke recalc: reading {small_book}...\n"
                                   "xl-negcoke recalc: recalculating 2 formula cells...\n"
                                   f"xl-negcoke recalc: writing {out}...\n")
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {out}"


def test_without_a_terminal_stderr_stays_empty_and_stdout_is_the_same(small_book: Path, capsys,
                                                                      monkeypatch):
    """Captured or piped, recalc writes no progress: stderr is empty; stdout is what a terminal
    run prints."""
    out = small_book.with_name("out.xlsx")
    assert main(["recalc", str(small_book), "--out", str(out)]) == 0
    piped = capsys.readouterr()
    assert piped.err == ""
    on_terminal(monkeypatch)
    assert main(["recalc", str(small_book), "--out", str(out)]) == 0
    terminal_out = capsys.readouterr().out
    expected = f"  recalculated book.xlsx: 2 formula cells, 1 NEGCOKE_* calls, N s\nwrote {out}\n"
    for printed in (piped.out, terminal_out):
        assert re.sub(r"\d+\.\d s$", "N s", printed, flags=re.MULTILINE) == expected  # time varies


def test_snapshot_shows_its_stages_on_a_terminal(small_book: Path, monkeypatch, capsys):
    """snapshot writes reading, recalculating, replacing formulas and writing on stderr."""
    terminal = on_terminal(monkeypatch)
    out = small_book.with_name("book-snapshot.xlsx")
    assert main(["snapshot", str(small_book), "--out", str(out), "--as-of", "2024-01-31"]) == 0
    assert terminal.getvalue() == (
        f"xl-negcoke snapshot: reading {small_book}...\n"
        "xl-negcoke snapshot: recalculating 2 formula cells...\n"
        "xl-negcoke snapshot: replacing formulas with their values...\n"
        f"xl-negcoke snapshot: writing {out}...\n")
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {out} (values only, as of 2024-01-31)"


def test_check_shows_its_stages_then_the_one_error_line(small_book: Path, monkeypatch):
    """check on a workbook not built by xl-negcoke: its two stages, then the error on its own line."""
    terminal = on_terminal(monkeypatch)
    assert main(["check", str(small_book)]) == 2
    assert terminal.getvalue() == (
        f"xl-negcoke check: reading {small_book}...\n"
        "xl-negcoke check: recalculating 2 formula cells and comparing them with the model...\n"
        "xl-negcoke check: error: no Assumptions sheet: not a workbook built by xl-negcoke build\n")


def test_refresh_shows_its_stages_before_it_reads_the_workbook(small_book: Path, monkeypatch):
    """refresh says it loads the dataset, then that it refreshes the file; a refused file's error
    follows on its own line."""
    terminal = on_terminal(monkeypatch)
    assert main(["refresh", str(small_book), "--dry-run"]) == 2
    lines = terminal.getvalue().splitlines()
    assert lines[:2] == ["xl-negcoke refresh: loading the dataset...",
                         f"xl-negcoke refresh: refreshing {small_book}: rebuilding the model's cells "
                         "and recalculating..."]
    assert len(lines) == 3 and lines[2].startswith("xl-negcoke refresh: error: ")


def test_formula_cells_are_counted_from_the_sheets_xml():
    """Two formulas and a 2x3 array formula are 8 formula cells; a validation's formula is not a
    cell; bytes that are not a workbook count 0."""
    book = Workbook()
    ws = book.active
    ws["A1"], ws["A2"] = "=1+1", "=A1*2"
    ws["B1"] = ArrayFormula("B1:C3", "=A1:A3*2")
    validation = DataValidation(type="list", formula1='"base,high,low"')
    validation.add("D1")
    ws.add_data_validation(validation)
    second = book.create_sheet("Second")
    second["A1"] = "=Sheet!A1"
    assert count_formula_cells(book_bytes(book)) == 2 + 2 * 3 + 1
    assert count_formula_cells(b"not a zip") == 0
