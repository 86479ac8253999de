"""Refresh an analyst's workbook: new numbers and template, all of their work kept.

Model-owned content (the cells, names and charts listed in the ownership record, the Cache
and the xlwings.conf entries) is rewritten from a fresh build; everything else stays: sheets the
analyst added and their order, every cell typed outside model-owned cells, changed inputs on
Assumptions (unless reset), comments, defined names, data validation, conditional formats,
formats, column widths, hidden state, charts and images they added, and the VBA of an .xlsm.
A model-owned cell the analyst edited (typed over, or pasted values over) is kept and reported,
never silently overwritten or cleared; model blocks moved by inserted or deleted rows and
columns are found again and written where they now are.

The jobs, one module each:
- `plan`: the refresh applied to an in-memory copy, owned vs edited (`refreshed_book`);
- `anchors`: the model's blocks found again in the analyst's layout;
- `results`: the model's sheets evaluated, the analyst's formulas keep their last results;
- `splice`: the analyst's own sheets go back into the saved file byte for byte;
- `losses`: the guard that refuses rather than lose what openpyxl cannot carry over;
- `files`: the file refreshed in place: lock, backup, atomic write.
"""

from __future__ import annotations

from pathlib import Path

from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import Model
from xl_negcoke.workbook.files import exclusive_lock, read_workbook, require_writable
from xl_negcoke.workbook.refresh.files import backup_path, check_not_open, lock_file, replace_keeping_backup
from xl_negcoke.workbook.refresh.losses import find_losses, has_pillow
from xl_negcoke.workbook.refresh.plan import CellChange, RefreshPlan, refreshed_book
from xl_negcoke.workbook.refresh.results import formula_results, recalculated, sheet_rows
from xl_negcoke.workbook.refresh.splice import NotSpliceable, exact_numbers, save_book, with_user_cells

__all__ = ["CellChange", "RefreshPlan", "backup_path", "exact_numbers", "find_losses", "formula_results",
           "lock_file", "refresh_bytes", "refresh_file", "refreshed_book", "sheet_rows"]


def refresh_bytes(data: bytes, model: Model, reset_inputs: bool = False,
                  data_dir: str | None = None, overwrite_edits: bool = False) -> tuple[bytes, RefreshPlan]:
    """The refreshed workbook's bytes (recalculated) and the plan that made them.

    Raises:
        WorkbookError: an unreadable workbook, no ownership record, a model cell that does not
            evaluate, or content of the analyst's that the refresh could not carry over.
    """
    book, plan = refreshed_book(data, model, reset_inputs, user_cells=False,
                                overwrite_edits=overwrite_edits)
    try:
        saved = with_user_cells(data, save_book(book), plan.user_sheets)
    except NotSpliceable:  # an unusual file: take the analyst's cells through openpyxl
        book, plan = refreshed_book(data, model, reset_inputs, overwrite_edits=overwrite_edits)
        saved = save_book(book)
    result = recalculated(data, saved, book, plan, data_dir)
    losses = find_losses(data, result, plan.previous)
    if losses:
        hint = " (pip install pillow, then refresh again)" if any("picture" in loss for loss in losses) \
            and not has_pillow() else ""
        shown = "; ".join(losses[:4]) + (f"; and {len(losses) - 4} more" if len(losses) > 4 else "")
        raise WorkbookError(f"refresh would lose {shown}{hint}; nothing was changed")
    return result, plan


def refresh_file(path: str | Path, model: Model, reset_inputs: bool = False, dry_run: bool = False,
                 force: bool = False, data_dir: str | None = None, overwrite_edits: bool = False
                 ) -> RefreshPlan:
    """Refresh a workbook file in place, keeping a backup beside it (`RefreshPlan.backup`).

    Nothing is written with `dry_run`. The file is locked while it is read and replaced; it is
    replaced only when the refreshed workbook is complete (temporary file, then rename); on any
    failure it is left byte-identical. A symbolic link is refreshed at its target.

    Raises:
        WorkbookError: unreadable file, no ownership record, open in Excel or read-only (without
            `force`), locked by another command, or content the refresh could not carry over.
    """
    named = Path(path)
    if dry_run:
        check_not_open(named, force)
        return refresh_bytes(read_workbook(named), model, reset_inputs, data_dir, overwrite_edits)[1]
    with exclusive_lock(named) as target:
        data = read_workbook(target)
        check_not_open(named, force)
        require_writable(target, force)
        result, plan = refresh_bytes(data, model, reset_inputs, data_dir, overwrite_edits)
        plan.backup = replace_keeping_backup(target, data, result)
    return plan
