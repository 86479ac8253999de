"""A real spreadsheet: headless LibreOffice Calc opens the committed workbook and a snapshot (the
snapshot with a profile that recalculates every formula on load), converts them to .xlsx and PDF,
and every table read back equals the model with no cell an error. The PDF pages are rendered to
PNG under build/libreoffice/ (git-ignored) for a person to look at.

These tests skip when LibreOffice is not installed, except in CI (the CI variable set), where a
missing LibreOffice or poppler is a failure: scripts/setup.sh installs both.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke.model import load_model
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.recalc import with_cached_values
from xl_negcoke.workbook.snapshot import snapshot_bytes

pytestmark = pytest.mark.slow  # LibreOffice: `pytest -q --full` runs them

ROOT = Path(__file__).resolve().parents[1]
RENDER_DIR = ROOT / "build" / "libreoffice"
TIMEOUT_SECONDS = 60
RELATIVE_TOLERANCE = 1e-9
ERROR_VALUE = re.compile(r"^(#(NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A|GETTING_DATA|SPILL!|CALC!)"
                         r"|Err:\d+)")
_TABLE = re.compile(r'NEGCOKE_TABLE\("(?P<dimension>[^"]+)","(?P<metric>[^"]+)",(?P<start>\d{4}),'
                    r"(?P<end>\d{4})")
ALWAYS_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
MODEL = load_model()


def require(command: str, package: str) -> str:
    """The tool's path; a skip when it is missing, a failure when it is missing in CI."""
    path = shutil.which(command)
    if path:
        return path
    message = f"{command} not found (install {package}: scripts/setup.sh does)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def soffice() -> str:
    return require("soffice", "libreoffice-calc-nogui")


@pytest.fixture(scope="module")
def pdftoppm() -> str:
    return require("pdftoppm", "poppler-utils")


@pytest.fixture(scope="module")
def profiles(tmp_path_factory) -> dict[str, Path]:
    """Private LibreOffice profiles for this session: 'default' as installed, and 'recalculate'
    set to recalculate every formula of an .xlsx on load (OOXMLRecalcMode 0)."""
    default = tmp_path_factory.mktemp("lo-profile-default")
    recalculate = tmp_path_factory.mktemp("lo-profile-recalculate")
    (recalculate / "user").mkdir()
    (recalculate / "user" / "registrymodifications.xcu").write_text(ALWAYS_RECALCULATE)
    return {"default": default, "recalculate": recalculate}


def convert(soffice: str, profile: Path, sources: list[Path], to: str, out: Path) -> list[Path]:
    """Convert `sources` with headless LibreOffice to format `to` in folder `out` (one process,
    killed with its children after TIMEOUT_SECONDS)."""
    command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", to, "--outdir", str(out), *map(str, sources)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"LibreOffice took more than {TIMEOUT_SECONDS} s converting {sources} to {to}")
    results = [out / f"{source.stem}.{to.split(':')[0]}" for source in sources]
    missing = [r.name for r in results if not r.is_file()]
    assert not missing, f"LibreOffice wrote no {missing}: {stdout.decode()} {stderr.decode()}"
    return results


def negcoke_tables(path: Path) -> list[tuple[str, str, str, str, int, int]]:
    """Each NEGCOKE_TABLE block of a workbook: (sheet, block, dimension, metric, start, end)."""
    tables = []
    for ws in load_workbook(path).worksheets:
        for ref in ws.array_formulae.values():
            anchor = ws[ref.split(":")[0]].value
            match = _TABLE.search(anchor.text if isinstance(anchor, ArrayFormula) else "")
            if match:
                tables.append((ws.title, ref, match["dimension"], match["metric"],
                               int(match["start"]), int(match["end"])))
    return tables


def assert_tables_equal_the_model(converted: Path, tables: list) -> int:
    """Every table block read back from `converted` equals Model.table within 1e-9 relative; a
    number the model does not have (NaN) may come back blank or as text. Returns cells compared."""
    book = load_workbook(converted, data_only=True)
    compared = 0
    for sheet, ref, dimension, metric, start, end in tables:
        frame = MODEL.table(dimension, metric, start, end, "base")
        c1, r1, _c2, _r2 = range_boundaries(ref)
        ws = book[sheet]
        years = [ws.cell(r1, c1 + 1 + i).value for i in range(end - start + 1)]
        assert years == list(range(start, end + 1)), (sheet, ref)
        for i, (segment, values) in enumerate(zip(frame.index, frame.to_numpy().tolist(), strict=True)):
            row = r1 + 1 + i
            assert ws.cell(row, c1).value == segment, (sheet, row)
            for j, expected in enumerate(values):
                got = ws.cell(row, c1 + 1 + j).value
                where = (sheet, f"{get_column_letter(c1 + 1 + j)}{row}", segment, start + j)
                if math.isnan(expected):
                    assert got is None or got in ("", "n/a"), where
                else:
                    assert isinstance(got, (int, float)) and not isinstance(got, bool), where
                    assert math.isclose(got, expected, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12), (
                        where, got, expected)
                compared += 1
    return compared


def error_cells(converted: Path) -> list[tuple[str, str, object]]:
    """Every cell of every sheet whose value is a spreadsheet error (#NAME?, Err:502, ...)."""
    book = load_workbook(converted, data_only=True)
    return [(ws.title, cell.coordinate, cell.value) for ws in book.worksheets
            for row in ws.iter_rows() for cell in row
            if isinstance(cell.value, str) and ERROR_VALUE.match(cell.value)]


def render(pdftoppm: str, pdf: Path, name: str) -> list[Path]:
    """PNG pages of `pdf` under build/libreoffice/<name>-<page>.png (old pages removed first)."""
    RENDER_DIR.mkdir(parents=True, exist_ok=True)
    for old in RENDER_DIR.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run([pdftoppm, "-r", "60", "-png", str(pdf), str(RENDER_DIR / name)], check=True,
                   timeout=TIMEOUT_SECONDS, capture_output=True)
    return sorted(RENDER_DIR.glob(f"{name}-*.png"))


@pytest.fixture(scope="module")
def tables(committed_xlsx: Path) -> list:
    found = negcoke_tables(committed_xlsx)
    assert len(found) > 20
    return found


@pytest.fixture(scope="module")
def committed_in_libreoffice(soffice, profiles, committed_xlsx: Path, tmp_path_factory) -> dict[str, Path]:
    """The committed .xlsx converted by LibreOffice (default profile) to .xlsx and PDF."""
    out = tmp_path_factory.mktemp("lo-committed")
    xlsx, = convert(soffice, profiles["default"], [committed_xlsx], "xlsx", out / "xlsx")
    pdf, = convert(soffice, profiles["default"], [committed_xlsx], "pdf", out / "pdf")
    return {"xlsx": xlsx, "pdf": pdf}


@pytest.fixture(scope="module")
def recalculated_in_libreoffice(soffice, profiles, committed_xlsx: Path, tmp_path_factory) -> dict:
    """A snapshot of the committed workbook, the committed workbook itself and a canary (=1+1
    cached as 5) converted to .xlsx with the always-recalculate profile; the snapshot to PDF."""
    folder = tmp_path_factory.mktemp("lo-recalculated")
    snapshot = folder / "snapshot.xlsx"
    snapshot.write_bytes(snapshot_bytes(committed_xlsx.read_bytes(), committed_xlsx.name,
                                        dt.date(2024, 6, 30)))
    canary_book = load_workbook(committed_xlsx)  # any workbook: we only need a sheet
    canary_book.active["Z1"] = "=1+1"
    canary = folder / "canary.xlsx"
    canary.write_bytes(with_cached_values(book_bytes(canary_book),
                                          {(canary_book.active.title, "Z1"): 5}))
    sources = [snapshot, committed_xlsx, canary]
    converted = convert(soffice, profiles["recalculate"], sources, "xlsx", folder / "xlsx")
    pdf, = convert(soffice, profiles["recalculate"], [snapshot], "pdf", folder / "pdf")
    return {"snapshot": converted[0], "committed": converted[1], "canary": converted[2], "pdf": pdf}


def test_committed_workbook_shows_the_models_numbers_in_libreoffice(committed_in_libreoffice, tables):
    """Opened in LibreOffice Calc and saved as .xlsx, the committed workbook's tables equal
    Model.table (base scenario) within 1e-9 relative."""
    assert assert_tables_equal_the_model(committed_in_libreoffice["xlsx"], tables) > 1500


def test_committed_workbook_has_no_error_cell_in_libreoffice(committed_in_libreoffice):
    """No cell of any sheet comes back from LibreOffice as an error (#NAME?, #VALUE!, #N/A,
    #REF!, Err:...), though LibreOffice recalculates every array formula on load."""
    assert error_cells(committed_in_libreoffice["xlsx"]) == []


def test_committed_workbook_prints_to_pdf_without_error_text(committed_in_libreoffice, pdftoppm):
    """The PDF export has a page per report sheet at least and no error text on any page; its
    pages are rendered to build/libreoffice/committed-*.png."""
    pdf = committed_in_libreoffice["pdf"]
    text = subprocess.run([require("pdftotext", "poppler-utils"), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True, timeout=TIMEOUT_SECONDS).stdout
    assert "Negative Coke Market" in text
    assert not re.search(r"#(NAME\?|VALUE!|REF!|N/A|DIV/0!|NUM!)|Err:\d{3}", text)
    pages = render(pdftoppm, pdf, "committed")
    assert len(pages) >= 12
    assert all(page.stat().st_size > 1000 for page in pages)


def test_the_recalculate_profile_really_recalculates(recalculated_in_libreoffice):
    """The canary =1+1, cached as 5, comes back as 2: the profile makes LibreOffice recalculate
    every formula on load, so the next two tests are not reading cached values."""
    book = load_workbook(recalculated_in_libreoffice["canary"], data_only=True)
    assert book.active["Z1"].value == 2


def test_snapshot_recalculated_on_load_shows_the_models_numbers(recalculated_in_libreoffice, tables,
                                                                pdftoppm):
    """The values-only snapshot, recalculated on load, still equals the model with no error
    cell; its PDF pages are rendered to build/libreoffice/snapshot-*.png."""
    converted = recalculated_in_libreoffice["snapshot"]
    assert assert_tables_equal_the_model(converted, tables) > 1500
    assert error_cells(converted) == []
    assert len(render(pdftoppm, recalculated_in_libreoffice["pdf"], "snapshot")) >= 12


def test_committed_workbook_recalculated_on_load_falls_back_to_its_cache(recalculated_in_libreoffice,
                                                                         tables):
    """With every formula recalculated and no NEGCOKE_* functions, the committed workbook still
    shows the model's numbers (each call falls back to its Cache block) and no error cell."""
    converted = recalculated_in_libreoffice["committed"]
    assert assert_tables_equal_the_model(converted, tables) > 1500
    assert error_cells(converted) == []


def test_libreoffice_agrees_on_the_exit_and_the_checks(recalculated_in_libreoffice):
    """Recalculated on load by LibreOffice, the native formulas agree with the build's engine:
    Mitsubishi Chemical's capacity CAGR (2030 capacity 0: its plant closes after 2027) reads
    "exit", every check's status reads OK and the master check is TRUE (1 in LibreOffice)."""
    from xl_negcoke.workbook.build import CHECKS, template_tables

    book = load_workbook(recalculated_in_libreoffice["committed"], data_only=True)
    placed = template_tables(MODEL)["company.capacity"]
    assert book[placed.sheet][f"N{placed.rows['Mitsubishi Chemical']}"].value == "exit"
    checks = book[CHECKS]
    statuses = [checks[f"O{r}"].value for r in range(5, checks.max_row + 1) if checks[f"A{r}"].value]
    assert len(statuses) > 60 and set(statuses) == {"OK"}
    assert checks["B2"].value in (True, 1)
