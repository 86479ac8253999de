"""Render a workbook the way a reader sees it: LibreOffice Calc prints it to PDF, poppler turns
every page into a PNG.

Run:
    python scripts/render_pages.py [WORKBOOK] [--out build/render] [--dpi 60] [--docs docs]
                                   [--trust docs]

Writes OUT/<stem>.pdf and OUT/page-NN.png (one per printed page) and prints, for each page, the
sheet it shows (from the footer text LibreOffice prints). With --docs, also writes the README's
pictures (DOC_PAGES: Contents, Summary, 4 By type with its charts, 6 By region's charts) into that
folder, cropped to the content at 100 dpi; with --trust, the top of "2 Market size" cached,
stale (Scenario changed, every formula recalculated) and live-looking. Uses a private
LibreOffice profile so it runs beside
an open LibreOffice. Needs `soffice` and `pdftoppm` (`pdftotext` for the names).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_WORKBOOK = Path("workbooks/negative-coke-outlook-2024-2030.xlsx")
# README picture -> (sheet, its n-th printed page, crop height in pixels at DOC_DPI from DOC_TOP)
DOC_PAGES = {"contents.png": ("Contents", 1, 560), "summary.png": ("Summary", 1, 620),
             "section-4-by-type.png": ("4 By type", 1, 480),
             "section-6-by-region.png": ("6 By region", 2, 500)}
DOC_DPI, DOC_LEFT, DOC_TOP, DOC_WIDTH = 100, 25, 30, 1130
# the trust pictures: the top of one model sheet, cached, stale and live-looking
TRUST_SHEET, TRUST_HEIGHT = "2 Market size", 330
ALWAYS_RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def render(workbook: Path, out: Path, dpi: int, recalculate: bool = False) -> list[Path]:
    """Print `workbook` to `out`/<stem>.pdf and one PNG per page; return the PNG paths.
    With `recalculate`, LibreOffice recalculates every formula on load (as after an edit)."""
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"render_pages: {tool} is not installed")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("page-*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="lo_profile_") as profile:
        if recalculate:
            (Path(profile) / "user").mkdir()
            (Path(profile) / "user" / "registrymodifications.xcu").write_text(ALWAYS_RECALCULATE)
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(out), str(workbook)],
                       check=True, capture_output=True, timeout=300)
    pdf = out / f"{workbook.stem}.pdf"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out / "page")], check=True,
                   timeout=300)
    return sorted(out.glob("page-*.png"))


def page_sheets(pdf: Path) -> list[str]:
    """The sheet name printed in each page's footer ("<sheet>  |  page n of m")."""
    if shutil.which("pdftotext") is None:
        return []
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout
    names = []
    for page in text.split("\f"):
        if page.strip():
            match = re.search(r"^\s*(.+?)\s+\|\s+page \d+ of \d+\s*$", page, re.M)
            names.append(match.group(1).strip() if match else "?")
    return names


def write_docs(pdf: Path, names: list[str], folder: Path) -> list[Path]:
    """The README's pictures: chosen pages of the printed workbook, cropped to their content."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, (sheet, nth, height) in DOC_PAGES.items():
        pages = [index + 1 for index, name in enumerate(names) if name == sheet]
        if len(pages) < nth:
            raise SystemExit(f"render_pages: {sheet} has {len(pages)} printed pages, not {nth}")
        page = pages[nth - 1]
        target = folder / file_name
        subprocess.run(["pdftoppm", "-r", str(DOC_DPI), "-f", str(page), "-l", str(page), "-x",
                        str(DOC_LEFT), "-y", str(DOC_TOP), "-W", str(DOC_WIDTH), "-H", str(height),
                        "-png", "-singlefile", str(pdf), str(target.with_suffix(""))],
                       check=True, timeout=120)
        written.append(target)
    return written


def _crop(pdf: Path, page: int, target: Path, height: int) -> Path:
    subprocess.run(["pdftoppm", "-r", str(DOC_DPI), "-f", str(page), "-l", str(page), "-x",
                    str(DOC_LEFT), "-y", str(DOC_TOP), "-W", str(DOC_WIDTH), "-H", str(height),
                    "-png", "-singlefile", str(pdf), str(target.with_suffix(""))],
                   check=True, timeout=120)
    return target


def write_trust_docs(workbook: Path, folder: Path, work: Path) -> list[Path]:
    """trust-cached.png (the file as committed), trust-stale.png (Scenario set to high and every
    formula recalculated without the functions) and trust-live.png (the banner and Contents
    showing what they show with the functions loaded: LibreOffice cannot load them, so their
    live text is put in place) of TRUST_SHEET's first page."""
    from openpyxl import load_workbook

    from xl_negcoke.workbook.files import book_bytes
    from xl_negcoke.workbook.trust import BANNER_CELLS

    folder.mkdir(parents=True, exist_ok=True)
    variants: dict[str, tuple[Path, bool]] = {"trust-cached.png": (workbook, False)}
    stale = load_workbook(workbook)
    stale["Assumptions"]["B3"] = "high"
    (work / "stale").mkdir(parents=True, exist_ok=True)
    variants["trust-stale.png"] = (work / "stale" / workbook.name, True)
    variants["trust-stale.png"][0].write_bytes(book_bytes(stale))
    live = load_workbook(workbook)
    anchor = BANNER_CELLS.split(":")[0]
    for ws in live.worksheets:
        if ws.title in (TRUST_SHEET,):
            ws[anchor] = "Live: NEGCOKE_* functions loaded"
    (work / "live").mkdir(parents=True, exist_ok=True)
    variants["trust-live.png"] = (work / "live" / workbook.name, False)
    variants["trust-live.png"][0].write_bytes(book_bytes(live))
    written = []
    for name, (source, recalculate) in variants.items():
        out = work / name.removesuffix(".png")
        render(source, out, 30, recalculate)
        pdf = out / f"{source.stem}.pdf"
        page = page_sheets(pdf).index(TRUST_SHEET) + 1
        written.append(_crop(pdf, page, folder / name, TRUST_HEIGHT))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", nargs="?", type=Path, default=DEFAULT_WORKBOOK)
    parser.add_argument("--out", type=Path, default=Path("build/render"))
    parser.add_argument("--dpi", type=int, default=60)
    parser.add_argument("--docs", type=Path, help="also write the README pictures into this folder")
    parser.add_argument("--trust", type=Path, help="write trust-cached/-stale/-live.png into this "
                        "folder")
    args = parser.parse_args(argv)
    pages = render(args.workbook, args.out, args.dpi)
    names = page_sheets(args.out / f"{args.workbook.stem}.pdf")
    for index, page in enumerate(pages):
        print(f"{page}  {names[index] if index < len(names) else ''}")
    print(f"{len(pages)} pages")
    if args.docs:
        for path in write_docs(args.out / f"{args.workbook.stem}.pdf", names, args.docs):
            print(f"{path} ({path.stat().st_size / 1024:.0f} KiB)")
    if args.trust:
        for path in write_trust_docs(args.workbook, args.trust, args.out / "trust"):
            print(f"{path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
