"""`xl-negcoke check`: exit 0 on the committed workbook and after an analyst edits an input,
exit 1 listing every cell typed over a template formula or a check, exit 2 with one line for
a file that is not a readable workbook."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from xl_negcoke.cli import main
from xl_negcoke.model import LAST_YEAR, load_model
from xl_negcoke.workbook.build import ASSUMPTIONS, CHECKS
from xl_negcoke.workbook.check import check_workbook, template_tables
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.formula import year_column
from xl_negcoke.workbook.recalc import recalculate
from xl_negcoke.workbook.sheets import assumption_rows
from xl_negcoke.workbook.summary import SUMMARY, placements
from xl_negcoke.workbook.trust import BANNER_CELLS

MODEL = load_model()
INPUT_KEY = "coke_per_anode_t"


def run_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], list[str]]:
    """Exit code, stdout lines and stderr lines of `xl-negcoke check PATH`."""
    code = main(["check", str(path)])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def test_committed_workbook_is_clean(committed_xlsx: Path):
    """The committed .xlsx: every formula evaluates, every check holds, every table, share and
    CAGR cell equals the model (test_trust runs `xl-negcoke check` on it: exit 0, one line)."""
    report = check_workbook(committed_xlsx.read_bytes())
    assert report.problems == []
    assert report.checks > 40
    assert report.compared > 2000


def test_check_follows_the_workbooks_own_inputs(committed_xlsx: Path, tmp_path: Path, capsys):
    """coke_per_anode_t raised by a tenth (openpyxl), then `xl-negcoke recalc --as-of`: the 2030
    global volume is the edited model's (it really moved), the banner names the recalculation,
    and check is clean, comparing with the model built from the workbook's own inputs.
    (test_trust: the same edit before the recalc is a stale cache.)"""
    book = load_workbook(committed_xlsx)
    ws = book[ASSUMPTIONS]
    row = assumption_rows(ws)[INPUT_KEY]
    ws.cell(row, 3).value = ws.cell(row, 3).value * 1.1  # the value column, C
    path = tmp_path / "edited.xlsx"
    path.write_bytes(book_bytes(book))
    assert main(["recalc", str(path), "--as-of", "2026-12-02"]) == 0
    capsys.readouterr()
    market = template_tables(MODEL)["global.volume"]
    values = load_workbook(path, data_only=True)
    volume_2030 = values[market.sheet][f"{year_column(LAST_YEAR)}{market.rows['Global']}"].value
    default = MODEL.value("Global", LAST_YEAR, "volume")
    frame = MODEL.assumptions().set_index("key")
    edited = load_model(None, {INPUT_KEY: float(frame.loc[INPUT_KEY, "value"]) * 1.1})
    assert abs(volume_2030 / default - 1) > 0.01  # the edit moved the numbers
    assert volume_2030 == pytest.approx(edited.value("Global", LAST_YEAR, "volume"), rel=1e-9)
    banner = values["2 Market size"][BANNER_CELLS.split(":")[0]].value
    assert banner == "Cached: values of the recalculation of 2026-12-02, inputs unchanged"
    code, out, err = run_check(path, capsys)
    assert (code, err) == (0, [])
    assert "clean" in out[-1]


@pytest.fixture(scope="module")
def tampered(committed_xlsx: Path, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The committed workbook with five template formulas typed over (openpyxl): the first share
    cell of type.revenue.share (0.5), its table's first CAGR (0.5), two Checks rows (TRUE,
    FALSE) and the Summary's 2030 revenue (0.5). Returns the file and the cells by what they are."""
    tables = template_tables(MODEL)
    share = tables["type.revenue.share"]
    table = tables["type.revenue"]
    first_share = f"{year_column(share.start)}{min(share.rows.values())}"
    first_cagr = f"N{min(table.rows.values())}"
    book = load_workbook(committed_xlsx)
    checks = book[CHECKS]
    check_rows = [r for r in range(5, checks.max_row + 1) if checks.cell(r, 1).value][:2]
    book[share.sheet][first_share] = 0.5
    book[table.sheet][first_cagr] = 0.5
    checks[f"N{check_rows[0]}"] = True
    checks[f"N{check_rows[1]}"] = False
    summary = next(p.cell for p in placements(MODEL, tables["company.capacity"])
                   if p.what == f"Revenue (US$ million), {LAST_YEAR}")
    book[SUMMARY][summary] = 0.5
    path = tmp_path_factory.mktemp("tampered") / "tampered.xlsx"
    path.write_bytes(book_bytes(book))
    return path, {"share": f"{share.sheet}!{first_share}", "cagr": f"{table.sheet}!{first_cagr}",
                  "check true": f"{CHECKS}!N{check_rows[0]}",
                  "check false": f"{CHECKS}!N{check_rows[1]}", "summary": f"{SUMMARY}!{summary}"}


def test_a_number_typed_over_a_template_formula_is_listed(tampered, capsys):
    """check exits 1 and lists each typed-over cell with the value found and the model's, the
    constant TRUE typed over a check included, and the master check that failed."""
    path, cells = tampered
    code, out, err = run_check(path, capsys)
    assert (code, err) == (1, [])
    assert out[-1].startswith(f"{path}: ") and " problems (" in out[-1]
    problems = out[:-1]
    for what, cell in cells.items():
        assert any(line.startswith(f"{cell} ") or line.startswith(f"{cell}:") for line in problems), what
    share_line = next(line for line in problems if line.startswith(cells["share"]))
    assert "is 0.5 (typed over the template's formula); the model says 0." in share_line
    revenue = MODEL.value("Global", LAST_YEAR, "revenue")
    assert f"{cells['summary']} (Revenue (US$ million), {LAST_YEAR}) is 0.5 (typed over the " \
           f"template's formula); the model says {revenue!r}" in problems
    assert any(line.startswith(f"{cells['check true']}: holds True, not a check formula (")
               for line in problems)
    assert f"{CHECKS}!B2: master check is False" in problems


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


UNREADABLE = {
    "truncated zip": ("truncated", "corrupt or truncated workbook"),
    "random bytes": ("random", "not an Excel workbook"),
    "zip without xl/workbook.xml": ("no-workbook", "no xl/workbook.xml"),
    "OLE (encrypted) header": ("ole", "encrypted (password-protected) or legacy .xls"),
    "zip bomb": ("bomb", "refused as a zip bomb"),
    "damaged xl/workbook.xml": ("damaged", "not a readable workbook"),
}


def unreadable_bytes(kind: str, committed: bytes) -> bytes:
    if kind == "truncated":
        return committed[: len(committed) // 2]
    if kind == "random":
        return bytes((i * 7919 + 13) % 256 for i in range(4096))
    if kind == "no-workbook":
        return _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"})
    if kind == "ole":
        return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088)
    if kind == "bomb":
        return _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                     "xl/worksheets/sheet1.xml": bytes(11 * 1024 * 1024)})
    with zipfile.ZipFile(io.BytesIO(committed)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["xl/workbook.xml"] = b"<workbook"
    return _zip(members)


@pytest.mark.parametrize("case", list(UNREADABLE))
def test_an_unreadable_file_exits_2_with_one_line(case, committed_xlsx: Path, tmp_path: Path, capsys):
    """A truncated zip, random bytes, a zip that is no workbook, an OLE (encrypted) file, a zip
    bomb (11 MB of zeros in one member) and a damaged workbook.xml each exit 2 with one line on
    stderr naming the file and what is wrong, and no traceback."""
    kind, reason = UNREADABLE[case]
    path = tmp_path / f"{kind}.xlsx"
    path.write_bytes(unreadable_bytes(kind, committed_xlsx.read_bytes()))
    code, out, err = run_check(path, capsys)
    assert (code, out) == (2, [])
    assert len(err) == 1
    assert err[0].startswith("xl-negcoke check: error: ")
    assert reason in err[0]
    assert "Traceback" not in err[0]


def test_the_installed_command_reports_a_zip_bomb_in_one_line(committed_xlsx: Path, tmp_path: Path):
    """Run as a process, `xl-negcoke check` on a zip bomb exits 2 with exactly one stderr line."""
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(unreadable_bytes("bomb", b""))
    done = subprocess.run([sys.executable, "-m", "xl_negcoke", "check", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "refused as a zip bomb" in done.stderr


@pytest.mark.slow  # another whole check (9 s)
def test_a_scenario_of_the_analysts_own_rows_drives_the_tables_and_checks_clean(
        committed_xlsx: Path, tmp_path: Path, capsys) -> None:
    """An analyst adds the row myscen.coke_per_anode_t = 1.65 below the table, extends
    AssumptionsTable over it and types myscen in the selector (the list only warns on a name it
    does not offer). Volume is anode x artificial share x coke per tonne, so every year's global
    volume is the base's x 1.65 / 1.5 = 1.1; check compares with the model of that scenario."""
    book = load_workbook(committed_xlsx)
    ws = book[ASSUMPTIONS]
    (validation,) = ws.data_validations.dataValidation
    assert validation.errorStyle == "warning"  # Excel accepts a name the list lacks
    row = max(assumption_rows(ws).values()) + 1
    ws.cell(row, 2, "myscen.coke_per_anode_t")
    ws.cell(row, 3, 1.65)
    name = book.defined_names["AssumptionsTable"]
    name.attr_text = name.attr_text.rsplit("$", 1)[0] + f"${row}"
    ws["B3"] = "myscen"
    data, report = recalculate(book_bytes(book))
    assert report.problems == []
    market = template_tables(MODEL)["global.volume"]
    values = load_workbook(io.BytesIO(data), data_only=True)[market.sheet]
    for year in (2019, 2023, 2027, LAST_YEAR):
        cell = f"{year_column(year)}{market.rows['Global']}"
        assert values[cell].value == pytest.approx(MODEL.value("Global", year, "volume") * 1.1,
                                                   rel=1e-12), year
    path = tmp_path / "myscen.xlsx"
    path.write_bytes(data)
    code, _out, err = run_check(path, capsys)
    assert (code, err) == (0, [])
