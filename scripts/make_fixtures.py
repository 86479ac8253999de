"""Regenerate tests/fixtures/libreoffice/: workbooks opened, edited and saved by LibreOffice Calc.

Run from the repository root (needs `soffice` and Python-UNO, Debian's `python3-uno`):
    PYTHONPATH=$PWD .venv/bin/python scripts/make_fixtures.py [--uno-python /usr/bin/python3]

What it writes (tests/fixtures/libreoffice/README.md says the same, with the versions):
- `template.xlsx`: the committed template (workbooks/negative-coke-outlook-2024-2030.xlsx at
  HEAD), loaded by LibreOffice, every formula recalculated (`calculateAll`), saved as .xlsx;
- `analyst.xlsx`: the same template edited in LibreOffice as an analyst would, recalculated and
  saved: an input changed on Assumptions (coke_per_anode_t 1.5 -> 1.6) with a comment on it, a
  note typed beside a table, a row inserted above a table, a sheet of their own ("My view") with
  formulas on model cells and a chart of them;
- `analyst-refreshed.xlsx`: analyst.xlsx refreshed by `xl-negcoke refresh` (this tree's code),
  then loaded by LibreOffice and saved again (the refreshed file re-opens in LibreOffice).

The edits are made through LibreOffice's own API (Python-UNO), so every byte of the files is
LibreOffice's: its styles, shared strings, formula spellings, charts and comments. This script
runs under the project's Python and starts a second one that has the `uno` module (the system
python3 with python3-uno) for the LibreOffice part; that part uses the standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "workbooks/negative-coke-outlook-2024-2030.xlsx"
OUT = ROOT / "tests" / "fixtures" / "libreoffice"
XLSX_FILTER = "Calc MS Excel 2007 XML"
TIMEOUT_SECONDS = 300

# the analyst's edits (tests/test_fixtures_libreoffice.py states the same values)
EDITED_INPUT, EDITED_VALUE = "coke_per_anode_t", 1.6
INPUT_COMMENT = "Raised from 1.5 after the supplier call: their yield is 1.6 t of coke per t of anode."
NOTE_SHEET, NOTE_CELL = "4 By type", "P12"
NOTE = "Analyst note: petroleum-based checked against our Q3 supplier survey"
INSERTED_SHEET, INSERTED_ROW = "5 By application", 11  # a row inserted above the 5.2 table
INSERTED_TEXT = "Analyst: EV demand under review, see My view"
OWN_SHEET = "My view"


# --------------------------------------------------------------------------------------------
# the LibreOffice part: runs under a Python with `uno` (standard library otherwise)


def _property(name: str, value: object):
    import uno  # noqa: F401 (makes the com.sun.star modules importable)
    from com.sun.star.beans import PropertyValue

    item = PropertyValue()
    item.Name, item.Value = name, value
    return item


def _connect(pipe: str):
    import uno

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 120
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)


def _row_of(sheet, key: str) -> tuple[int, int]:
    """(0-based row, 0-based column) of the cell that reads `key` in column A or B (the key
    column: B since the input sheet has a label first, A in earlier templates)."""
    used = sheet.createCursor()
    used.gotoEndOfUsedArea(False)
    for row in range(used.RangeAddress.EndRow + 1):
        for column in (0, 1):
            if sheet.getCellByPosition(column, row).String == key:
                return row, column
    raise SystemExit(f"make_fixtures: no row {key!r} on {sheet.Name}")


def _analyst_edits(document) -> None:
    """What an analyst does in Calc: edit an input and comment it, type a note beside a table,
    insert a row above a table and type in it, add a sheet of their own with formulas on model
    cells and a chart of them."""
    from com.sun.star.awt import Rectangle
    from com.sun.star.awt.FontWeight import BOLD
    from com.sun.star.table import CellAddress, CellRangeAddress

    sheets = document.Sheets
    assumptions = sheets.getByName("Assumptions")
    row, key_column = _row_of(assumptions, EDITED_INPUT)
    assumptions.getCellByPosition(key_column + 1, row).Value = EDITED_VALUE  # the value beside the key
    address = CellAddress()
    address.Sheet, address.Column, address.Row = assumptions.RangeAddress.Sheet, key_column + 1, row
    assumptions.Annotations.insertNew(address, INPUT_COMMENT)

    by_type = sheets.getByName(NOTE_SHEET)
    note = by_type.getCellRangeByName(NOTE_CELL)
    note.String = NOTE
    note.CharWeight = BOLD

    by_application = sheets.getByName(INSERTED_SHEET)
    by_application.Rows.insertByIndex(INSERTED_ROW - 1, 1)
    by_application.getCellByPosition(0, INSERTED_ROW - 1).String = INSERTED_TEXT

    position = sheets.Count
    for index in range(sheets.Count):
        if sheets.getByIndex(index).Name == "Assumptions":
            position = index
    sheets.insertNewByName(OWN_SHEET, position)
    own = sheets.getByName(OWN_SHEET)
    own.getCellRangeByName("A1").String = "My view of the outlook (US$ million)"
    own.getCellRangeByName("A1").CharWeight = BOLD
    # the model's 2030 revenue by type ('4 By type' row 12-14, column M is 2030) and our haircut
    own.getCellRangeByName("A3").String = "Segment"
    own.getCellRangeByName("B3").String = "Model 2030"
    own.getCellRangeByName("C3").String = "Our view (-10%)"
    own.getCellRangeByName("D3").String = "Difference"
    for offset, model_row in enumerate((12, 13, 14)):
        target = 4 + offset
        own.getCellRangeByName(f"A{target}").Formula = f"=$'4 By type'.A{model_row}"
        own.getCellRangeByName(f"B{target}").Formula = f"=$'4 By type'.M{model_row}"
        own.getCellRangeByName(f"C{target}").Formula = f"=ROUND(B{target}*0.9;1)"
        own.getCellRangeByName(f"D{target}").Formula = f"=C{target}-B{target}"
    own.getCellRangeByName("A8").String = "Revenue 2030 from the named range"
    own.getCellRangeByName("B8").Formula = "=Revenue2030"
    chart_range = CellRangeAddress()
    chart_range.Sheet = own.RangeAddress.Sheet
    chart_range.StartColumn, chart_range.StartRow, chart_range.EndColumn, chart_range.EndRow = 0, 2, 2, 4
    frame = Rectangle()
    frame.X, frame.Y, frame.Width, frame.Height = 500, 4500, 12000, 7000
    own.Charts.addNewByName("MyView", frame, (chart_range,), True, True)


def uno_worker(pipe: str, jobs: list[dict[str, str]]) -> None:
    """Load each job's source in LibreOffice, edit it if asked, recalculate, save as .xlsx."""
    import uno

    desktop = _connect(pipe)
    for job in jobs:
        document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(job["source"]), "_blank", 0,
                                                (_property("Hidden", True),))
        if document is None:
            raise SystemExit(f"make_fixtures: LibreOffice could not open {job['source']}")
        if job["edits"] == "analyst":
            _analyst_edits(document)
        document.calculateAll()
        document.storeToURL(uno.systemPathToFileUrl(job["target"]), (_property("FilterName", XLSX_FILTER),))
        document.close(True)
    with contextlib.suppress(Exception):  # the bridge closes while LibreOffice quits
        desktop.terminate()


# --------------------------------------------------------------------------------------------
# the driver: runs under the project's Python


def run_libreoffice(soffice: str, uno_python: str, jobs: list[dict[str, str]], work: Path) -> None:
    """Start a headless LibreOffice with a private profile and run `jobs` in `uno_python`."""
    if subprocess.run([uno_python, "-c", "import uno"], capture_output=True).returncode != 0:
        raise SystemExit(f"make_fixtures: {uno_python} cannot import uno (Debian: apt-get install "
                         "python3-uno; or give --uno-python)")
    pipe = f"xl_negcoke_fixtures_{os.getpid()}"
    profile = (work / "profile").as_uri()
    office = subprocess.Popen([soffice, f"-env:UserInstallation={profile}", "--headless", "--invisible",
                               "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                               f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        subprocess.run([uno_python, __file__, "--uno-worker", pipe, json.dumps(jobs)], check=True,
                       timeout=TIMEOUT_SECONDS)
        office.wait(timeout=60)
    finally:
        if office.poll() is None:  # soffice and the soffice.bin it started
            os.killpg(office.pid, signal.SIGKILL)
            office.wait()


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()


def libreoffice_version(soffice: str) -> str:
    return subprocess.run([soffice, "--version"], check=True, capture_output=True, text=True,
                          timeout=120).stdout.strip()


README = """# Workbooks saved by LibreOffice

Files another program wrote, read by `tests/test_fixtures_libreoffice.py` (in the spirit of
XlsxWriter's tests against files made by Excel): the reader, `check`, `recalc`, `snapshot` and
`refresh` must handle a workbook LibreOffice Calc opened, recalculated and saved, and refresh
must keep everything an analyst did to it in LibreOffice. Made by `scripts/make_fixtures.py`;
do not edit them by hand.

- `template.xlsx`: the committed template, loaded by LibreOffice, every formula recalculated
  (`calculateAll`), saved as .xlsx;
- `analyst.xlsx`: the same template edited in LibreOffice as an analyst would (below),
  recalculated, saved;
- `analyst-refreshed.xlsx`: `analyst.xlsx` refreshed by `xl-negcoke refresh` (the code of the
  commit below), then loaded by LibreOffice, recalculated and saved again.

The analyst's edits, made through LibreOffice's own API (Python-UNO), so the files are
LibreOffice's throughout (styles, shared strings, formula spellings, comments, charts):

- Assumptions: `{edited_input}` changed from 1.5 to {edited_value}, with a comment on the cell;
- '{note_sheet}'!{note_cell}: a bold note beside the 4.2 table: "{note}";
- '{inserted_sheet}': a row inserted at row {inserted_row} (above the 5.2 table, so every block
  below it moved down a row), with "{inserted_text}" typed in column A;
- a sheet of their own, "{own_sheet}", before Assumptions: formulas on model cells ('4 By type'
  row 12-14 column M, the 2030 revenue by type, and the name Revenue2030), a rounded haircut of
  them and a bar chart of them.

Without the NEGCOKE_* functions LibreOffice computes each call's fallback: the Cache while the
inputs equal its stamp. So `template.xlsx` holds the model's numbers, and `analyst.xlsx`, whose
input changed, holds #N/A in every model cell and STALE in the title rows, as an analyst using
LibreOffice sees it; refresh then writes the new numbers.

These files stand for "a workbook built by an earlier version" once the template changes: the
tests state what must hold for such a file (values, the analyst's edits after refresh), not the
current template's layout.

## How they were made

- LibreOffice: {libreoffice}
- date: {date}
- template: `{template}` as of commit {commit} (last changed in {template_commit})
- refresh code (`analyst-refreshed.xlsx`): commit {commit}{dirty}
- command: `PYTHONPATH=$PWD .venv/bin/python scripts/make_fixtures.py` (needs `soffice` and
  Debian's `python3-uno`): it starts `soffice --headless --accept=pipe,...` with a private
  profile, loads each file hidden with `loadComponentFromURL`, makes the edits, calls
  `calculateAll()`, stores with `storeToURL` and the filter "{filter}" (the filter of
  `soffice --convert-to xlsx` and of File > Save As .xlsx).

| file | bytes |
|---|---|
{sizes}

Licence: made from this project's own template; the project's licence (MIT).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soffice", default=shutil.which("soffice") or "soffice")
    parser.add_argument("--uno-python", default="/usr/bin/python3",
                        help="a Python that can import uno (Debian: python3-uno)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    from xl_negcoke.model import load_model
    from xl_negcoke.workbook.refresh import refresh_bytes

    commit = git("rev-parse", "HEAD")
    dirty = " plus uncommitted changes" if git("status", "--porcelain", "--", "xl_negcoke") else ""
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xl_negcoke_fixtures_") as folder:
        work = Path(folder)
        source = work / "negative-coke-outlook-2024-2030.xlsx"
        source.write_bytes(subprocess.run(["git", "show", f"{commit}:{TEMPLATE}"], cwd=ROOT, check=True,
                                          capture_output=True).stdout)
        template, analyst = args.out / "template.xlsx", args.out / "analyst.xlsx"
        run_libreoffice(args.soffice, args.uno_python, [
            {"source": str(source), "target": str(template), "edits": "none"},
            {"source": str(source), "target": str(analyst), "edits": "analyst"}], work)
        refreshed, plan = refresh_bytes(analyst.read_bytes(), load_model())
        (work / "refreshed.xlsx").write_bytes(refreshed)
        run_libreoffice(args.soffice, args.uno_python, [
            {"source": str(work / "refreshed.xlsx"), "target": str(args.out / "analyst-refreshed.xlsx"),
             "edits": "none"}], work)
    print("refresh of analyst.xlsx:\n  " + "\n  ".join(plan.lines()))
    files = sorted(args.out.glob("*.xlsx"))
    sizes = "\n".join(f"| `{path.name}` | {path.stat().st_size:,} |" for path in files)
    (args.out / "README.md").write_text(README.format(
        edited_input=EDITED_INPUT, edited_value=EDITED_VALUE, note_sheet=NOTE_SHEET, note_cell=NOTE_CELL,
        note=NOTE, inserted_sheet=INSERTED_SHEET, inserted_row=INSERTED_ROW, inserted_text=INSERTED_TEXT,
        own_sheet=OWN_SHEET, libreoffice=libreoffice_version(args.soffice), date=dt.date.today().isoformat(),
        template=TEMPLATE, commit=commit, dirty=dirty,
        template_commit=git("log", "-1", "--format=%H", commit, "--", TEMPLATE), filter=XLSX_FILTER,
        sizes=sizes))
    print(f"wrote {', '.join(path.name for path in files)} and README.md to {args.out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--uno-worker":
        uno_worker(sys.argv[2], json.loads(sys.argv[3]))
    else:
        raise SystemExit(main())
