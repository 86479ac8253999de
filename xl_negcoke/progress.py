"""Progress lines for the commands that take seconds (recalc, snapshot, check, refresh).

A stage is one short line on stderr, written when the stage starts (`reading book.xlsx...`), so
stdout keeps only the command's result, which scripts and tests parse. The lines appear only
when stderr is a terminal: piped, redirected or captured (CI logs, tests, `2>file`), stderr keeps
its contract of being empty on success and one line on failure.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from collections.abc import Callable

_FORMULA = re.compile(rb"<f([\s>/][^>]*)>")  # a cell's <f> element; not <formula> (validation)
_ARRAY = re.compile(rb'\bt="array"')
_REF = re.compile(rb'\bref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')
_WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml")


def stage(command: str, text: str | Callable[[], str]) -> None:
    """Write `xl-negcoke COMMAND: TEXT...` on stderr when stderr is a terminal.

    `text` may be a function, called only then (e.g. one that counts the formulas).
    """
    stream = sys.stderr
    if stream.isatty():
        stream.write(f"xl-negcoke {command}: {text if isinstance(text, str) else text()}...\n")
        stream.flush()


def count_formula_cells(data: bytes) -> int:
    """The formula cells of a workbook's sheets (an array formula counts each cell it covers),
    read from the zip's XML without loading the workbook.

    A count for the progress line only: 0 for bytes that are not a readable workbook, whose
    error the command reports next.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(_cells(archive.read(name)) for name in archive.namelist()
                       if _WORKSHEET.fullmatch(name))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return 0


def _cells(sheet: bytes) -> int:
    count = 0
    for attributes in _FORMULA.findall(sheet):
        ref = _REF.search(attributes) if _ARRAY.search(attributes) else None
        if ref is None or ref[3] is None:
            count += 1
        else:
            columns = _column(ref[3]) - _column(ref[1]) + 1
            count += columns * (int(ref[4]) - int(ref[2]) + 1)
    return count


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number
