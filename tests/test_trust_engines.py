"""Three engines agree, and without the functions a changed workbook says STALE: LibreOffice
(recalculating every formula on load) and Gnumeric (`ssconvert --recalc`) open the committed
workbook with 0 error cells and the numbers of its cache; after a changed scenario or input the
model cells are #N/A, the banner says STALE and the master check is FALSE.

Skipped when LibreOffice or Gnumeric is missing, except in CI (scripts/setup.sh installs both).
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter, range_boundaries
from test_libreoffice import ALWAYS_RECALCULATE, TIMEOUT_SECONDS, convert, error_cells, require

from xl_negcoke.model import load_model
from xl_negcoke.workbook.build import ASSUMPTIONS, CHECKS, CONTENTS
from xl_negcoke.workbook.check import template_tables
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.recalc import NO_NUMBER
from xl_negcoke.workbook.sheets import assumption_rows
from xl_negcoke.workbook.trust import BANNER_CELLS

pytestmark = pytest.mark.slow  # LibreOffice and Gnumeric: `pytest -q --full` runs them

BANNER = BANNER_CELLS.split(":")[0]
RELATIVE_TOLERANCE = 1e-9
MODEL_SHEETS = ("2 Market size", "4 By type", "6 By region")


@pytest.fixture(scope="module")
def recalculating_profile(tmp_path_factory) -> Path:
    """A private LibreOffice profile that recalculates every formula of an .xlsx on load."""
    profile = tmp_path_factory.mktemp("lo-profile-trust")
    (profile / "user").mkdir()
    (profile / "user" / "registrymodifications.xcu").write_text(ALWAYS_RECALCULATE)
    return profile


def _changed(committed: Path, folder: Path) -> dict[str, Path]:
    """The committed workbook unchanged, with Scenario set to high, and with the first input
    raised by a tenth (openpyxl, not recalculated)."""
    files = {"unchanged": folder / "unchanged.xlsx", "scenario": folder / "scenario.xlsx",
             "input": folder / "input.xlsx"}
    files["unchanged"].write_bytes(committed.read_bytes())
    book = load_workbook(committed)
    book[ASSUMPTIONS]["B3"] = "high"
    files["scenario"].write_bytes(book_bytes(book))
    book = load_workbook(committed)
    cell = book[ASSUMPTIONS].cell(min(assumption_rows(book[ASSUMPTIONS]).values()), 3)
    cell.value = cell.value * 1.1
    files["input"].write_bytes(book_bytes(book))
    return files


@pytest.fixture(scope="module")
def in_libreoffice(committed_xlsx: Path, recalculating_profile: Path, tmp_path_factory) -> dict:
    """The three files opened by LibreOffice (every formula recalculated, no NEGCOKE_*
    functions) and saved as .xlsx."""
    require("soffice", "libreoffice-calc-nogui")
    folder = tmp_path_factory.mktemp("trust-lo")
    files = _changed(committed_xlsx, folder)
    converted = convert(require("soffice", "libreoffice-calc-nogui"), recalculating_profile,
                        list(files.values()), "xlsx", folder / "out")
    return dict(zip(files, converted, strict=True))


@pytest.fixture(scope="module")
def in_gnumeric(committed_xlsx: Path, tmp_path_factory) -> Path:
    """The committed workbook recalculated by Gnumeric (ssconvert --recalc) and saved as .xlsx."""
    ssconvert = require("ssconvert", "gnumeric")
    out = tmp_path_factory.mktemp("trust-gnumeric") / "gnumeric.xlsx"
    process = subprocess.Popen([ssconvert, "--recalc", str(committed_xlsx), str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS * 3)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("Gnumeric took too long converting the committed workbook")
    assert process.returncode == 0 and out.is_file(), (process.returncode, stderr[-500:])
    return out


def _same(got: object, cached: object) -> bool:
    if isinstance(cached, bool) or isinstance(got, bool):  # LibreOffice saves TRUE as 1
        return isinstance(got, (bool, int, float)) and bool(got) == bool(cached)
    if isinstance(cached, (int, float)):
        # abs_tol: Checks shows each difference of a total and a sum of terms in the thousands,
        # 0 to within the last of 15 digits of those terms: LibreOffice gives 1.8e-12 and
        # Gnumeric 9.1e-13 where the formulas engine gives 0 or -2.1e-13
        return isinstance(got, (int, float)) and math.isclose(
            got, cached, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9)
    # a price without volume: blank from the function, "n/a" from its Cache fallback (recalc.py)
    return got == cached or (cached in (None, "") and got in (None, "", NO_NUMBER))


def differences_from_the_cache(converted: Path, committed: Path) -> list[tuple[str, str, object, object]]:
    """Every formula cell whose value in `converted` differs from the committed cached value."""
    formulas = load_workbook(committed)
    cached = load_workbook(committed, data_only=True)
    engine = load_workbook(converted, data_only=True)
    found = []
    for ws in formulas.worksheets:
        cells = set()
        for ref in ws.array_formulae.values():
            c1, r1, c2, r2 = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
            cells |= {f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        cells |= {c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"}
        for coordinate in sorted(cells):
            want = cached[ws.title][coordinate].value
            got = engine[ws.title][coordinate].value
            if not _same(got, want):
                found.append((ws.title, coordinate, got, want))
    return found


# Gnumeric's .xlsx has no default cell style; openpyxl warns and supplies one (values unaffected)
@pytest.mark.filterwarnings("ignore:Workbook contains no default style:UserWarning")
@pytest.mark.parametrize("engine", ["libreoffice", "gnumeric"])
def test_the_committed_workbook_has_no_error_cell_and_the_caches_numbers(
        engine, in_libreoffice, in_gnumeric, committed_xlsx):
    """LibreOffice and Gnumeric, each recalculating every formula without the NEGCOKE_*
    functions, give 0 error cells and every formula cell equal to the committed cached value
    (numbers within 1e-9 relative; "n/a" where the model has no number): shares, checks and
    banners included."""
    converted = in_libreoffice["unchanged"] if engine == "libreoffice" else in_gnumeric
    assert error_cells(converted) == []
    assert differences_from_the_cache(converted, committed_xlsx)[:5] == []


def test_an_unchanged_file_shows_cached_numbers_and_says_cached(in_libreoffice):
    """Unchanged, recalculated by LibreOffice: the banners say "Cached", Contents says the values
    are of the recalculation with inputs unchanged, and the master check is TRUE."""
    book = load_workbook(in_libreoffice["unchanged"], data_only=True)
    for sheet in MODEL_SHEETS:
        assert book[sheet][BANNER].value.startswith("Cached: values of the recalculation "), sheet
    numbers = next(book[CONTENTS].cell(r, 2).value for r in range(1, 20)
                   if book[CONTENTS].cell(r, 1).value == "Numbers")
    assert numbers.startswith("values of the recalculation ") and numbers.endswith("inputs unchanged")
    assert book[CHECKS]["B2"].value in (True, 1)


@pytest.mark.parametrize("change", ["scenario", "input"])
def test_a_changed_scenario_or_input_shows_na_stale_and_a_false_master_check(change, in_libreoffice):
    """After the scenario or an input changed, LibreOffice without the functions shows #N/A in
    the model cells (2023 revenue, every table number), "STALE" in every banner and on Contents,
    and a FALSE master check: no stale number is shown as right."""
    book = load_workbook(in_libreoffice[change], data_only=True)
    sheet, cell = next(iter(book.defined_names["Revenue2023"].destinations))
    assert book[sheet][cell.replace("$", "")].value == "#N/A"
    placed = template_tables(load_model())["type.revenue"]
    for segment in placed.rows:
        assert book[placed.sheet][placed.cell(segment, 2025)].value == "#N/A", segment
    for name in MODEL_SHEETS:
        assert book[name][BANNER].value.startswith("STALE: "), name
    numbers = next(book[CONTENTS].cell(r, 2).value for r in range(1, 20)
                   if book[CONTENTS].cell(r, 1).value == "Numbers")
    assert numbers.startswith("STALE: ")
    assert book[CHECKS]["B2"].value in (False, 0)
