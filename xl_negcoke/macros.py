"""Excel entry points run through xlwings's RunPython: refresh the open workbook in place.

A button or macro in the workbook calls::

    Sub RefreshModel()
        RunPython "import xl_negcoke.macros; xl_negcoke.macros.refresh_workbook()"
    End Sub

The workbook is saved, the refresh is planned on the saved file with the same code as
`xl-negcoke refresh` (so the same cells are kept and reported), and only the model-owned cells
whose content changes are written to the open workbook, with the Cache and the ownership record;
the analyst's cells, sheets, inputs and edits are never touched. The saved file is kept as
`<name>.before-refresh<suffix>` beside the workbook first. xlwings is imported only when Excel
calls, so this module imports anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xl_negcoke.errors import NegcokeError, WorkbookError
from xl_negcoke.workbook.build import CACHE
from xl_negcoke.workbook.ownership import RECORD_SHEET
from xl_negcoke.workbook.refresh import RefreshPlan, backup_path, refresh_bytes, sheet_rows

TITLE = "xl_negcoke refresh"
ALERT_CHARACTERS = 1000  # Excel's MsgBox shows at most 1,024 characters


def refresh_workbook(book: Any = None, reset_inputs: bool = False) -> RefreshPlan | None:
    """Refresh the workbook that called (RunPython) with the current dataset and template.

    Args:
        book: an xlwings Book; None takes `xlwings.Book.caller()`.
        reset_inputs: set every Assumptions input back to the dataset's value.

    Returns:
        The plan that was applied, or None when the refresh was refused (the reason is shown).
    """
    if book is None:
        import xlwings as xw

        book = xw.Book.caller()
    try:
        plan, refreshed = _plan(book, reset_inputs)
    except NegcokeError as error:
        _show(book, [f"Nothing was changed: {error}"])
        return None
    apply_plan(book, plan, refreshed)
    _show(book, [*plan.lines(), f"previous version kept as {plan.backup.name if plan.backup else '(none)'}"])
    return plan


def _plan(book: Any, reset_inputs: bool) -> tuple[RefreshPlan, bytes]:
    from xl_negcoke.model import load_model
    from xl_negcoke.workbook.files import atomic_write, read_workbook

    book.save()
    path = Path(book.fullname)
    if not path.is_file():
        raise WorkbookError(f"{book.fullname} is not saved as a file yet; save it as .xlsm first")
    data = read_workbook(path)
    refreshed, plan = refresh_bytes(data, load_model(), reset_inputs)  # XL_NEGCOKE_DATA or embedded
    plan.backup = backup_path(path)
    atomic_write(plan.backup, data)
    return plan, refreshed


def apply_plan(book: Any, plan: RefreshPlan, refreshed: bytes) -> None:
    """Write a plan's changed model cells, the Cache and the ownership record into an open book.

    Old array blocks that change are cleared first (Excel refuses to change part of an array);
    calculation is manual while writing and restored after.
    """
    app = book.app
    calculation, screen_updating = app.calculation, app.screen_updating
    app.calculation, app.screen_updating = "manual", False
    try:
        sheetnames = [sheet.name for sheet in book.sheets]
        order = plan.record.sheets if plan.record else []
        for name in plan.added_sheets:
            before = [s for s in order[: order.index(name)] if s in sheetnames] if name in order else []
            book.sheets.add(name, after=book.sheets[before[-1]] if before else None)
            sheetnames.append(name)
        for change in plan.changes:
            if change.old_block:
                book.sheets[change.sheet].range(change.old_block).clear_contents()
        for change in plan.changes:
            write = change.write()
            if write is None:
                continue
            kind, address, content = write
            target = book.sheets[change.sheet].range(address)
            if kind == "array":
                target.formula_array = content
            elif kind == "formula":
                target.formula = content
            elif kind == "clear":
                target.clear_contents()
            else:
                target.value = as_excel_text(content)
        for name, rows in sheet_rows(refreshed, (CACHE, RECORD_SHEET)).items():
            sheet = book.sheets[name]  # the model's own data sheets: replaced in one block each
            sheet.clear_contents()
            if rows:
                sheet.range("A1").value = [[as_excel_text(value) for value in row] for row in rows]
    finally:
        app.screen_updating = screen_updating
        app.calculation = calculation


def as_excel_text(value: object) -> object:
    """A value to write through Range.value: Excel reads a text starting with =, +, - or @ as a
    formula, so such a text gets the apostrophe prefix that keeps it text (not shown in the cell)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _show(book: Any, lines: list[str]) -> None:
    """The summary in a message box (xlwings App.alert), else in the status bar."""
    text = ""
    for index, line in enumerate(lines):
        more = f"\n... and {len(lines) - index} more lines"
        if len(text) + len(line) + 1 + len(more) > ALERT_CHARACTERS:
            text += more
            break
        text += ("\n" if text else "") + line
    try:
        book.app.alert(text, title=TITLE)
    except Exception:  # an xlwings without alert, or a host that cannot show one
        book.app.status_bar = f"{TITLE}: " + " | ".join(lines[:2])
