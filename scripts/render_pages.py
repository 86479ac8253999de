"""Render a workbook the way a reader sees it: LibreOffice Calc prints it to PDF, poppler turns
every page into a PNG.

Run:
    python scripts/render_pages.py [WORKBOOK] [--out build/render] [--dpi 60] [--docs docs]

Writes OUT/<stem>.pdf and OUT/page-NN.png (one per printed page) and prints, for each page, the
sheet it shows (from the footer text LibreOffice prints). With --docs, also writes the README's
pictures (DOC_PAGES: Contents, 4 By type with its charts, 6 By region's charts) into that
folder, cropped to the content at 100 dpi. Uses a private LibreOffice profile so it runs beside
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
DOC_PAGES = {"contents.png": ("Contents", 1, 560), "section-4-by-type.png": ("4 By type", 1, 480),
             "section-6-by-region.png": ("6 By region", 2, 500)}
DOC_DPI, DOC_LEFT, DOC_TOP, DOC_WIDTH = 100, 25, 30, 1130


def render(workbook: Path, out: Path, dpi: int) -> list[Path]:
    """Print `workbook` to `out`/<stem>.pdf and one PNG per page; return the PNG paths."""
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"render_pages: {tool} is not installed")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("page-*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="lo_profile_") as profile:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", nargs="?", type=Path, default=DEFAULT_WORKBOOK)
    parser.add_argument("--out", type=Path, default=Path("build/render"))
    parser.add_argument("--dpi", type=int, default=60)
    parser.add_argument("--docs", type=Path, help="also write the README pictures into this folder")
    args = parser.parse_args(argv)
    pages = render(args.workbook, args.out, args.dpi)
    names = page_sheets(args.out / f"{args.workbook.stem}.pdf")
    for index, page in enumerate(pages):
        print(f"{page}  {names[index] if index < len(names) else ''}")
    print(f"{len(pages)} pages")
    if args.docs:
        for path in write_docs(args.out / f"{args.workbook.stem}.pdf", names, args.docs):
            print(f"{path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
