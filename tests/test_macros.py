"""The RunPython macro refreshes the open workbook: it saves it, plans with the same code as the
command, writes only the model cells that change (formulas, array formulas, values) plus the
Cache and the ownership record, keeps a backup and shows the plan; tested on a fake xlwings Book."""

from __future__ import annotations

import io
import shutil
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke import macros
from xl_negcoke.model.dataset import DATA_ENVIRONMENT_VARIABLE, DEFAULT_DATA_DIR
from xl_negcoke.workbook.build import ASSUMPTIONS, CACHE
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.ownership import ARRAY_MEMBER, RECORD_SHEET, read_record, record_book, write_record
from xl_negcoke.workbook.refresh import exact_numbers
from xl_negcoke.workbook.sheets import assumption_rows
from xl_negcoke.workbook.template import input_cells

MARKET = "2 Market size"


@dataclass
class FakeRange:
    sheet: FakeSheet
    address: str

    def _record(self, what: str, content: object) -> None:
        self.sheet.book.writes.append((self.sheet.name, self.address, what, content))
        self.sheet.book.modes.add((self.sheet.book.app.calculation, self.sheet.book.app.screen_updating))

    formula = property(None, lambda self, v: self._record("formula", v))
    formula_array = property(None, lambda self, v: self._record("formula_array", v))
    value = property(None, lambda self, v: self._record("value", v))

    def clear_contents(self) -> None:
        self._record("clear", None)


@dataclass
class FakeSheet:
    book: FakeBook
    name: str

    def range(self, address: str) -> FakeRange:
        return FakeRange(self, address)

    def clear_contents(self) -> None:
        self.book.writes.append((self.name, "*", "clear", None))


class FakeSheets:
    def __init__(self, book: FakeBook, names: list[str]) -> None:
        self.book, self.names = book, list(names)

    def __getitem__(self, name: str) -> FakeSheet:
        assert name in self.names, name
        return FakeSheet(self.book, name)

    def __iter__(self):
        return iter([FakeSheet(self.book, n) for n in self.names])

    def add(self, name: str, after: FakeSheet | None = None) -> FakeSheet:
        self.names.insert(self.names.index(after.name) + 1 if after else 0, name)
        self.book.writes.append((name, "", "added after", after.name if after else None))
        return FakeSheet(self.book, name)


@dataclass
class FakeApp:
    calculation: str = "automatic"
    screen_updating: bool = True
    status_bar: str | bool = False
    alerts: list[tuple[str, str]] = field(default_factory=list)

    def alert(self, prompt: str, title: str | None = None) -> str:
        self.alerts.append((prompt, title or ""))
        return "ok"


class FakeBook:
    """Stands in for xlwings.Book: records saves and every write to a range or sheet."""

    def __init__(self, path: Path) -> None:
        self.fullname = str(path)
        self.app = FakeApp()
        self.writes: list[tuple[str, str, str, object]] = []
        self.modes: set[tuple[str, bool]] = set()  # (calculation, screen updating) at each write
        self.saves = 0
        names = load_workbook(path, read_only=True).sheetnames
        self.sheets = FakeSheets(self, names)

    def save(self) -> None:
        self.saves += 1


@pytest.fixture(scope="module")
def template(built_templates: dict[str, bytes]) -> bytes:
    """The built .xlsm (conftest: built once for the session)."""
    return built_templates[".xlsm"]


@pytest.fixture
def changed_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder with coke per anode 1.6 (was 1.5), selected the way Excel's Python is."""
    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    path = folder / "assumptions.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("coke_per_anode_t,1.5,", "coke_per_anode_t,1.6,"), encoding="utf-8")
    monkeypatch.setenv(DATA_ENVIRONMENT_VARIABLE, str(folder))
    return folder


def _row(data: bytes, key: str) -> int:
    ws = load_workbook(io.BytesIO(data))[ASSUMPTIONS]
    return assumption_rows(ws)[key]


def _cell_writes(book: FakeBook) -> list[tuple[str, str, str, object]]:
    return [w for w in book.writes if w[0] not in (CACHE, RECORD_SHEET)]


def test_the_macro_writes_only_the_changed_input_then_the_cache_and_the_record(
        template: bytes, changed_data: Path, tmp_path: Path) -> None:
    """Against a dataset whose coke-per-anode default changed, the open workbook gets exactly that
    input, the Cache and the record (each cleared and written as one block), with calculation
    manual while writing; the file was saved first and kept as a backup."""
    path = tmp_path / "analyst.xlsm"
    path.write_bytes(template)
    book = FakeBook(path)
    plan = macros.refresh_workbook(book)
    assert plan is not None and book.saves == 1
    assert _cell_writes(book) == [(ASSUMPTIONS, f"C{_row(template, 'coke_per_anode_t')}", "value", 1.6)]
    whole = [(w[0], w[1], w[2]) for w in book.writes if w[0] in (CACHE, RECORD_SHEET)]
    assert whole == [(CACHE, "*", "clear"), (CACHE, "A1", "value"),
                     (RECORD_SHEET, "*", "clear"), (RECORD_SHEET, "A1", "value")]
    record_rows = next(w[3] for w in book.writes if w[:3] == (RECORD_SHEET, "A1", "value"))
    assert record_rows[4][:2] == ["dataset", plan.new_dataset]
    assert book.modes == {("manual", False)}
    assert (book.app.calculation, book.app.screen_updating) == ("automatic", True)
    assert (tmp_path / "analyst.before-refresh.xlsm").read_bytes() == template
    prompt, title = book.app.alerts[0]
    assert title == "xl_negcoke refresh"
    assert prompt.splitlines()[1] == f"model cells changed: 1 (rewritten: {plan.rewritten:,}; cleared: 0)"
    assert prompt.splitlines()[-1] == "previous version kept as analyst.before-refresh.xlsm"


def _older_template(template: bytes) -> tuple[bytes, dict[str, str]]:
    """The template as an older version would have built it: one table's array block one row
    shorter, one single formula and one label different, all recorded as the model's own."""
    book = load_workbook(io.BytesIO(template), keep_vba=True)
    ws = book[MARKET]
    anchor = next(c.coordinate for row in ws.iter_rows() for c in row  # a table, not the banner
                  if isinstance(c.value, ArrayFormula) and ":" in c.value.ref)
    block = ws[anchor].value
    first, last = block.ref.split(":")
    column = last.rstrip("0123456789")
    shorter = f"{first}:{column}{int(last[len(column):]) - 1}"
    ws[anchor] = ArrayFormula(shorter, block.text.replace("NEGCOKE_TABLE(", "NEGCOKE_TABLE( "))
    record = read_record(book)
    single = next(c for c, d in record.cells[MARKET].items() if d != ARRAY_MEMBER and c[0] != "A"
                  and isinstance(ws[c].value, str) and ws[c].value.startswith("=IFERROR("))
    ws[single] = ws[single].value.replace("IFERROR(", "IFERROR( ")
    ws["A1"] = "Market size (old title)"
    assert ws["A3"].value is None
    ws["A3"] = "a note the new template no longer has"
    write_record(book, record_book(book, "0.0.1", record.dataset_id, input_cells(book)))
    with exact_numbers():
        return book_bytes(book), {"anchor": anchor, "block": block.ref, "shorter": shorter, "single": single}


@pytest.mark.slow  # another whole refresh through the macro (6-9 s)
def test_a_template_change_rewrites_array_blocks_formulas_and_labels_in_the_open_book(
        template: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An older template's array block is cleared, then the label, the cell the new template no
    longer has, the formula and the array formula over the new block are written in sheet order;
    nothing else is."""
    monkeypatch.delenv(DATA_ENVIRONMENT_VARIABLE, raising=False)
    older, cells = _older_template(template)
    path = tmp_path / "old.xlsm"
    path.write_bytes(older)
    book = FakeBook(path)
    new = load_workbook(io.BytesIO(template))[MARKET]
    plan = macros.refresh_workbook(book)
    assert plan is not None and plan.cleared == 1
    anchor, single = cells["anchor"], cells["single"]
    writes = sorted([("A1", (MARKET, "A1", "value", new["A1"].value)), ("A3", (MARKET, "A3", "clear", None)),
                     (single, (MARKET, single, "formula", new[single].value)),
                     (anchor, (MARKET, cells["block"], "formula_array", new[anchor].value.text))],
                    key=lambda item: coordinate_to_tuple(item[0]))
    assert _cell_writes(book) == [(MARKET, cells["shorter"], "clear", None), *(w for _, w in writes)]


@pytest.mark.slow  # another whole refresh through the macro (6-9 s)
def test_the_macro_keeps_the_analysts_edits_and_writes_nothing_of_theirs(
        template: bytes, changed_data: Path, tmp_path: Path) -> None:
    """An edited model cell, a changed input and a cell beside the model are not written; the
    summary reports the kept edit and the kept input."""
    book_data = load_workbook(io.BytesIO(template), keep_vba=True)
    row = _row(template, "coke_per_anode_t")
    book_data[ASSUMPTIONS][f"C{row}"] = 1.8
    book_data[MARKET]["A1"] = "My market"
    book_data[MARKET]["P5"] = "my note"
    path = tmp_path / "edited.xlsm"
    path.write_bytes(book_bytes(book_data))
    book = FakeBook(path)
    plan = macros.refresh_workbook(book)
    assert plan is not None and _cell_writes(book) == []
    prompt = book.app.alerts[0][0].splitlines()
    assert "kept your input coke_per_anode_t = 1.8" in prompt
    assert (f"kept your edit of model cell '{MARKET}'!A1 (the model's new content is not written; "
            "--overwrite-edits replaces it)") in prompt


def test_a_refused_refresh_changes_nothing_and_says_why(tmp_path: Path) -> None:
    """A workbook without the ownership record: no write, one alert naming the reason."""
    from openpyxl import Workbook

    path = tmp_path / "plain.xlsx"
    path.write_bytes(book_bytes(Workbook()))
    book = FakeBook(path)
    assert macros.refresh_workbook(book) is None
    assert book.writes == [] and not (tmp_path / "plain.before-refresh.xlsx").exists()
    prompt, _title = book.app.alerts[0]
    assert prompt.startswith("Nothing was changed: this workbook has no xl_negcoke ownership record")


def test_without_alert_the_summary_goes_to_the_status_bar(tmp_path: Path) -> None:
    """A host whose App has no alert shows the first lines in the status bar."""
    from openpyxl import Workbook

    path = tmp_path / "plain.xlsx"
    path.write_bytes(book_bytes(Workbook()))
    book = FakeBook(path)
    book.app = types.SimpleNamespace(calculation="automatic", screen_updating=True, status_bar=False)
    macros.refresh_workbook(book)
    assert book.app.status_bar.startswith("xl_negcoke refresh: Nothing was changed: this workbook has no ")


def test_called_from_excel_the_macro_uses_the_calling_book(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a book argument the macro takes xlwings.Book.caller(), imported only then."""
    from openpyxl import Workbook

    path = tmp_path / "plain.xlsx"
    path.write_bytes(book_bytes(Workbook()))
    book = FakeBook(path)
    fake_xlwings = types.SimpleNamespace(Book=types.SimpleNamespace(caller=lambda: book))
    monkeypatch.setitem(sys.modules, "xlwings", fake_xlwings)
    assert macros.refresh_workbook() is None
    assert book.saves == 1 and len(book.app.alerts) == 1


def test_a_long_summary_is_cut_to_what_a_message_box_shows(tmp_path: Path) -> None:
    """More than 1,000 characters of plan lines end with how many lines were left out."""
    book = types.SimpleNamespace(app=FakeApp())
    macros._show(book, [f"kept your edit of model cell '3 Companies'!B{n}" for n in range(100)])
    prompt = book.app.alerts[0][0]
    assert len(prompt) <= macros.ALERT_CHARACTERS
    assert prompt.splitlines()[-1].startswith("... and ") and prompt.splitlines()[-1].endswith(" more lines")


def test_samplecall_imports_the_module_beside_the_xlsm_and_its_main_refreshes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the quickstart's SampleCall runs for the committed .xlsm: `import negcoke_outlook;
    negcoke_outlook.main()` with the workbook's folder on the path; main() refreshes the calling
    book (xlwings.Book.caller()) through xl_negcoke.macros."""
    import importlib

    from xl_negcoke.workbook import FILE_NAMES

    workbooks = Path(__file__).resolve().parents[1] / "workbooks"
    stem = FILE_NAMES[".xlsm"].removesuffix(".xlsm")  # what SampleCall's Left(Name, ...) gives
    assert stem == "negcoke_outlook"
    monkeypatch.syspath_prepend(str(workbooks))
    monkeypatch.delitem(sys.modules, stem, raising=False)
    module = importlib.import_module(stem)
    assert Path(module.__file__).parent == workbooks
    calls: list[tuple[object, bool]] = []
    monkeypatch.setattr(macros, "refresh_workbook",
                        lambda book=None, reset_inputs=False: calls.append((book, reset_inputs)))
    module.main()
    assert calls == [(None, False)]  # None: refresh_workbook takes xlwings.Book.caller()
    monkeypatch.delitem(sys.modules, stem, raising=False)
