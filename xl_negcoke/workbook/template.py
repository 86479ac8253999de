"""The two template files: the `.xlsx` and the `.xlsm` built on xlwings's quickstart workbook."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import Model
from xl_negcoke.workbook.build import ASSUMPTIONS, build_book
from xl_negcoke.workbook.files import atomic_write_all, backup_path, book_bytes, real_path, replaceable
from xl_negcoke.workbook.ownership import record_book, write_record
from xl_negcoke.workbook.recalc import evaluate, require_evaluated, with_cached_values
from xl_negcoke.workbook.sheets import assumption_columns, assumption_rows
from xl_negcoke.workbook.trust import build_when

TEMPLATE_NAME = "negative-coke-outlook-2024-2030"
#: The .xlsm follows xlwings's quickstart convention: the workbook and its Python module share an
#: importable name, so the quickstart's SampleCall macro (RunPython "import <workbook name>;
#: <workbook name>.main()") runs QUICKSTART_MODULE's main(), which refreshes the open workbook.
MACRO_NAME = "negcoke_outlook"
FILE_NAMES = {".xlsx": f"{TEMPLATE_NAME}.xlsx", ".xlsm": f"{MACRO_NAME}.xlsm"}
QUICKSTART_MODULE = f"{MACRO_NAME}.py"
QUICKSTART_SOURCE = f'''"""The Python side of {MACRO_NAME}.xlsm (the xlwings quickstart convention).

The workbook's SampleCall macro runs RunPython "import {MACRO_NAME}; {MACRO_NAME}.main()": keep this
file beside the workbook, under the same name. main() refreshes the open workbook with the current
dataset and template (xl_negcoke.macros.refresh_workbook), keeping every cell of yours.
"""

import xl_negcoke.macros


def main():
    """Refresh the workbook that called (the SampleCall macro or a button assigned to it)."""
    xl_negcoke.macros.refresh_workbook()
'''


def quickstart_path() -> Path:
    """The standalone quickstart workbook shipped inside the xlwings package."""
    import importlib.util

    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise WorkbookError("xlwings is not installed; pip install xlwings (it ships the .xlsm base)")
    path = Path(spec.origin).parent / "quickstart_standalone.xlsm"
    if not path.is_file():
        raise WorkbookError(f"xlwings has no quickstart_standalone.xlsm at {path}; "
                            "pip install a current xlwings")
    return path


@dataclass(frozen=True)
class Built:
    """One written file."""

    path: Path
    size: int


def template_bytes(model: Model, macro_enabled: bool) -> bytes:
    """The template as deterministic bytes (before recalculation)."""
    book = load_workbook(quickstart_path(), keep_vba=True) if macro_enabled else None
    return book_bytes(owned_book(model, book))


def owned_book(model: Model, book: Workbook | None = None) -> Workbook:
    """The built template with its ownership record (what refresh may rewrite)."""
    from xl_negcoke import __version__

    built = build_book(model, book)
    write_record(built, record_book(built, __version__, model.dataset.dataset_id,
                                    input_cells(built)))
    return built


def input_cells(book: Workbook) -> dict[str, set[str]]:
    """The cells an analyst is meant to edit: the scenario and every assumption value."""
    ws = book[ASSUMPTIONS]
    _key_column, value_column = assumption_columns(ws)
    cells = {"B3"}
    for row in assumption_rows(ws).values():
        cells.add(f"{get_column_letter(value_column)}{row}")
    return {ASSUMPTIONS: cells}


def build_workbook(model: Model, out_dir: str | Path,
                   progress: Callable[[str], None] = lambda _: None,
                   data_dir: str | Path | None = None, recalculate: bool = True,
                   force: bool = False) -> list[Built]:
    """Write `<out_dir>/negative-coke-outlook-2024-2030.xlsx` and `negcoke_outlook.xlsm` with
    cached values, and `negcoke_outlook.py` beside the .xlsm (its SampleCall macro runs main()).

    Both files hold the same cells, so the formulas are evaluated once (on the .xlsx) and the
    results cached in both. Nothing is written unless every formula evaluates.

    Args:
        model: the model the template is laid out for.
        out_dir: the folder; created if missing.
        progress: called with one line per step.
        data_dir: the data folder the NEGCOKE_* functions read while evaluating.
        recalculate: False writes formulas without cached values.
        force: replace a file in the way that is not an earlier build (edited in Excel,
            refreshed, ...), keeping it as `<name>.before-build.xlsx` (never overwriting a backup).

    Raises:
        WorkbookError: a formula that does not evaluate, or a file in the way holding other work
            (without `force`); nothing is written.
    """
    out = Path(out_dir)
    backups = {}  # a file in the way that holds someone's work: refused, or kept with `force`
    for name in FILE_NAMES.values():
        path = out / name
        backup = replaceable(path, force, "before-build")
        if backup is not None:
            backups[backup] = path
    module = out / QUICKSTART_MODULE
    module_source = QUICKSTART_SOURCE.encode("utf-8")
    if real_path(module).is_file() and real_path(module).read_bytes() != module_source:
        if not force:
            raise WorkbookError(f"{module} exists and is not the module this command writes; it "
                                "was not replaced: write elsewhere, or pass --force to replace it "
                                f"and keep it as {backup_path(real_path(module), 'before-build').name}")
        backups[backup_path(real_path(module), "before-build")] = module
    progress(f"laying out {FILE_NAMES['.xlsx']} and {FILE_NAMES['.xlsm']}")
    files = {".xlsx": template_bytes(model, False), ".xlsm": template_bytes(model, True)}
    if recalculate:
        start = time.perf_counter()
        report = evaluate(files[".xlsx"], data_dir, when=build_when())
        progress(f"evaluated {report.formula_cells:,} formula cells ({report.udf_calls} NEGCOKE_* "
                 f"calls) in {time.perf_counter() - start:.1f} s")
        require_evaluated(report, "template")
        files = {suffix: with_cached_values(data, report.values, report.cache)
                 for suffix, data in files.items()}
    targets = {out / FILE_NAMES[suffix]: data for suffix, data in files.items()}
    targets[module] = module_source
    for backup, path in backups.items():
        progress(f"kept the previous {path.name} as {backup.name}")
    kept = {backup: real_path(path).read_bytes() for backup, path in backups.items()}
    atomic_write_all({**kept, **targets})  # nothing is replaced unless all was written in full
    return [Built(path, len(data)) for path, data in targets.items()]
