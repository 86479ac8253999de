"""Every file we write opens in Excel without a repair prompt, as far as the Office Open XML schema
can tell (issue 17): each XML part of the built .xlsx and .xlsm, a recalculated workbook, a
snapshot, a refreshed analyst workbook and a refreshed workbook LibreOffice saved is validated
against the ECMA-376 transitional schemas (tests/ooxml_schema.py; docs/schema-validation.md says
why xmllint and what the one allowlist holds). No sheet view selects a pane twice.

xmllint (libxml2-utils) and LibreOffice are skipped when missing, except in CI (the CI variable
set), where a missing one is a failure: scripts/setup.sh installs both.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from ooxml_schema import (
    KNOWN_FALSE_POSITIVES,
    Finding,
    sheet_view_problems,
    unexplained,
    validate_packages,
)
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from xl_negcoke.cli import main
from xl_negcoke.model import load_model
from xl_negcoke.workbook.build import ASSUMPTIONS, CHECKS, build_book
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.snapshot import snapshot_bytes

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "workbooks" / "negative-coke-outlook-2024-2030"
PNG = bytes.fromhex(  # a 1x1 red PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478"
    "9c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082")
KINDS = ("build.xlsx", "build.xlsm", "recalc.xlsx", "snapshot.xlsx",
         # a refresh each (one of a file LibreOffice saved): in the full suite
         pytest.param("refresh-analyst.xlsx", marks=pytest.mark.slow),
         pytest.param("refresh-libreoffice.xlsx", marks=pytest.mark.slow))


def _require(command: str, package: str) -> str:
    path = shutil.which(command)
    if path:
        return path
    message = f"{command} not found (install {package}: scripts/setup.sh does)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def validator() -> str:
    return _require("xmllint", "libxml2-utils")


def _analyst_edits(data: bytes) -> bytes:
    """The built workbook as an analyst leaves it: a sheet of their own with a comment, a list
    validation, a conditional format, a chart, a picture and text with edge spaces; a formula
    beside a model table; a changed input."""
    book = load_workbook(io.BytesIO(data))
    notes = book.create_sheet("Notes", 2)
    for row in range(1, 7):
        notes.cell(row, 1, f"item {row}").font = Font(bold=row % 2 == 0, color="FF0000")
        notes.cell(row, 2, row * 10)
    notes["A8"] = "  indented note  "  # written with xml:space="preserve"
    notes["C1"] = "=SUM(B1:B6)"
    notes["A1"].comment = Comment("checked with the desk", "Analyst")
    validation = DataValidation(type="whole", operator="between", formula1="0", formula2="100")
    notes.add_data_validation(validation)
    validation.add("B1:B6")
    notes.conditional_formatting.add("B1:B6", CellIsRule(operator="greaterThan", formula=["25"]))
    chart = BarChart()
    chart.add_data(Reference(notes, min_col=2, min_row=1, max_row=6))
    notes.add_chart(chart, "E2")
    notes.add_image(Image(io.BytesIO(PNG)), "E20")
    book["2 Market size"]["P11"] = "=F11/1000"
    book[ASSUMPTIONS]["B3"] = "high"
    return book_bytes(book)


def _refresh(path: Path) -> bytes:
    """`xl-negcoke refresh PATH` (the public command), the refreshed bytes."""
    assert main(["refresh", str(path)]) == 0
    return path.read_bytes()


class _Written(dict):
    """One file of each kind the project writes, by kind. The committed .xlsx and .xlsm are the
    build's (test_template_files holds them equal to a fresh build); the two refreshed files are
    made when a test first asks for them (a refresh each, one of a file LibreOffice saved), so the
    fast suite, which leaves those tests out, does not pay for them."""

    def __init__(self, folder: Path, recalculated: bytes) -> None:
        super().__init__({
            "build.xlsx": COMMITTED.with_suffix(".xlsx").read_bytes(),
            "build.xlsm": (ROOT / "workbooks" / "negcoke_outlook.xlsm").read_bytes(),
            "recalc.xlsx": recalculated,
            "snapshot.xlsx": snapshot_bytes(recalculated, "negative-coke-outlook-2024-2030.xlsx",
                                            dt.date(2024, 6, 30)),
        })
        self.folder = folder

    def __missing__(self, kind: str) -> bytes:
        analyst = _analyst_edits(self["build.xlsx"])
        if kind == "refresh-analyst.xlsx":
            (self.folder / "analyst.xlsx").write_bytes(analyst)
            self[kind] = _refresh(self.folder / "analyst.xlsx")
        elif kind == "refresh-libreoffice.xlsx":
            soffice = _require("soffice", "libreoffice-calc-nogui")
            (self.folder / "lo").mkdir()
            (self.folder / "lo" / "analyst.xlsx").write_bytes(analyst)
            subprocess.run([soffice, f"-env:UserInstallation={(self.folder / 'profile').as_uri()}",
                            "--headless", "--norestore", "--convert-to", "xlsx", "--outdir",
                            str(self.folder / "saved"), str(self.folder / "lo" / "analyst.xlsx")],
                           check=True, capture_output=True, timeout=180)
            self[kind] = _refresh(self.folder / "saved" / "analyst.xlsx")
        else:
            raise KeyError(kind)
        return self[kind]


@pytest.fixture(scope="session")
def written_files(recalculated_template, tmp_path_factory) -> _Written:
    """The files we write, by kind (the refreshed ones made on first use)."""
    recalculated, _report = recalculated_template
    return _Written(tmp_path_factory.mktemp("written"), recalculated)


class _Findings(dict):
    """The schema findings of each written file, validated when first asked for; the four files
    made without a refresh are validated together (one xmllint run per schema)."""

    def __init__(self, written: _Written) -> None:
        super().__init__()
        self.written = written

    def __missing__(self, kind: str) -> list[Finding]:
        kinds = [k for k in dict.keys(self.written) if k not in self] if kind in self.written else []
        self.update(validate_packages({k: self.written[k] for k in (kinds or [kind])}))
        return self[kind]


@pytest.fixture(scope="session")
def findings(written_files: _Written) -> _Findings:
    """The schema findings of every written file (each file validated once)."""
    return _Findings(written_files)


# ---------------------------------------------------------------------------------------------
# the sheet views


def test_the_checks_sheet_freezes_its_panes_once() -> None:
    """Checks is frozen below its header row 4 and right of column A, with one selection for
    each of the three panes that freezing makes (topRight, bottomLeft, bottomRight)."""
    ws = build_book(load_model())[CHECKS]
    assert ws.freeze_panes == "B5"
    assert [s.pane for s in ws.sheet_view.selection] == ["topRight", "bottomLeft", "bottomRight"]


@pytest.mark.parametrize("kind", KINDS)
def test_no_sheet_view_selects_a_pane_twice(written_files: dict[str, bytes], kind: str) -> None:
    """Every sheet view of every file we write has at most 4 selections, no pane twice
    (CT_SheetView: one selection per pane)."""
    assert sheet_view_problems(kind, written_files[kind]) == []


# ---------------------------------------------------------------------------------------------
# the schema


@pytest.mark.parametrize("kind", KINDS)
def test_every_part_of_every_file_we_write_is_schema_valid(validator: str, written_files: dict[str, bytes],
                                                           findings: dict[str, list[Finding]],
                                                           kind: str) -> None:
    """Each XML part of the file validates against the ECMA-376 transitional schemas, apart from
    the allowlisted false positives."""
    written_files[kind]
    assert [str(f) for f in unexplained(findings[kind])] == []


@pytest.mark.parametrize("kind", KINDS)
def test_files_we_write_keep_openpyxls_calc_id_without_full_calc_on_load(
        written_files: dict[str, bytes], kind: str) -> None:
    """<calcPr calcId="124519"/> and no fullCalcOnLoad: Excel recalculates on open because the
    calcId is older than its engine (see workbook/files.py), LibreOffice and viewers show the
    cached values."""
    with zipfile.ZipFile(io.BytesIO(written_files[kind])) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    calc, = re.findall(r"<calcPr\b[^>]*>", workbook)
    assert 'calcId="124519"' in calc
    assert "fullCalcOnLoad" not in calc


def test_a_picture_read_back_by_openpyxl_keeps_its_drawingml_avlst(validator: str) -> None:
    """A picture as Excel and LibreOffice write it (<a:prstGeom><a:avLst/></a:prstGeom>), loaded
    and saved by openpyxl as refresh does, keeps a:avLst (workbook/openpyxl_fixes.py) and its
    drawing validates."""
    book = Workbook()
    book.active.add_image(Image(io.BytesIO(PNG)), "B2")
    saved = book_bytes(book)
    drawing = "xl/drawings/drawing1.xml"
    as_excel_writes = _replace_part(saved, drawing, lambda xml: xml.replace(
        b'<a:prstGeom prst="rect" />', b'<a:prstGeom prst="rect"><a:avLst /></a:prstGeom>'))
    again = book_bytes(load_workbook(io.BytesIO(as_excel_writes)))
    with zipfile.ZipFile(io.BytesIO(again)) as archive:
        assert b'<a:prstGeom prst="rect"><a:avLst /></a:prstGeom>' in archive.read(drawing)
    assert validate_packages({"picture.xlsx": again})["picture.xlsx"] == []


# ---------------------------------------------------------------------------------------------
# negative controls: what must fail does


def _replace_part(data: bytes, part: str, edit) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item, edit(content) if item.filename == part else content)
    return out.getvalue()


def _sheet_part(data: bytes, title: str) -> str:
    from xl_negcoke.workbook.cached import sheet_parts

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sheet_parts(archive)[title]


def test_a_sheet_frozen_twice_fails_both_checks(validator: str) -> None:
    """The original defect put back (Checks frozen a second time): 5 selections, bottomLeft and
    bottomRight twice, reported by the sheet-view check and by the schema, not allowlisted."""
    book = build_book(load_model())
    book[CHECKS].freeze_panes = "B5"
    data = book_bytes(book)
    part = _sheet_part(data, CHECKS)
    problem, = sheet_view_problems("broken.xlsx", data)
    assert problem.startswith(f"broken.xlsx: {part} sheetView 0: 5 selections (panes topRight, "
                              "bottomLeft, bottomRight, bottomLeft, bottomRight;")
    finding, = unexplained(validate_packages({"broken.xlsx": data})["broken.xlsx"])
    assert finding.part == part
    assert finding.message.startswith("Element '{http://schemas.openxmlformats.org/spreadsheetml/"
                                      "2006/main}selection': This element is not expected.")


def _padded_workbook(cells: int) -> bytes:
    """A plain openpyxl workbook: `cells` texts with edge spaces on Sheet (each <t> carries
    xml:space, the allowlisted false positive) and a second sheet Later."""
    book = Workbook()
    for row in range(1, cells + 1):
        book.active.cell(row, 1, f" padded {row} ")
    book.create_sheet("Later")["A1"] = 1
    return book_bytes(book)


def test_plain_openpyxl_output_has_no_finding_but_the_allowlisted_one(validator: str) -> None:
    """openpyxl's own parts (styles with fonts in its order, theme, docProps, content types)
    validate; its 15 padded strings give 15 xml:space findings, all allowlisted."""
    found = validate_packages({"plain.xlsx": _padded_workbook(15)})["plain.xlsx"]
    assert len(found) == 15
    assert unexplained(found) == []


def test_allowlisted_findings_cannot_hide_a_real_error(validator: str) -> None:
    """15 allowlisted findings in one part and an unknown element in a later part: every one is
    reported (no cap at 10) and the unknown element alone is left unexplained."""
    data = _padded_workbook(15)
    later = _sheet_part(data, "Later")
    broken = _replace_part(data, later, lambda xml: xml.replace(b"<sheetData>", b"<bogus/><sheetData>"))
    found = validate_packages({"broken.xlsx": broken})["broken.xlsx"]
    assert len(found) == 16
    real, = unexplained(found)
    assert real.part == later
    assert "bogus" in real.message


def test_a_part_no_schema_covers_is_a_finding(validator: str) -> None:
    """A part of a content type the validator has no schema for is reported, not skipped."""
    override = (b'<Override PartName="/xl/extra.xml" ContentType="application/vnd.example.extra+xml"/>'
                b"</Types>")
    data = _replace_part(_padded_workbook(0), "[Content_Types].xml",
                         lambda xml: xml.replace(b"</Types>", override))
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("xl/extra.xml", "<extra/>")
    finding, = validate_packages({"extra.xlsx": out.getvalue()})["extra.xlsx"]
    assert (finding.part, finding.message) == (
        "xl/extra.xml", "no schema for content type 'application/vnd.example.extra+xml'")


def test_every_allowlist_entry_carries_its_evidence() -> None:
    """Each known false positive says why the file is correct although the schema objects."""
    assert KNOWN_FALSE_POSITIVES
    for known in KNOWN_FALSE_POSITIVES:
        assert len(known.evidence) > 80 and "schema" in known.evidence
