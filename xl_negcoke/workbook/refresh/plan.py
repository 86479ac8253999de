"""Plan: the refresh applied to an in-memory copy of the workbook, and what it changed.

The model-owned cells (the ownership record) are rewritten from a fresh build; a model cell the
analyst edited (typed over, pasted values over) is kept and reported; the inputs the analyst set
on Assumptions are carried over by key.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import Model
from xl_negcoke.workbook.build import ASSUMPTIONS, ASSUMPTIONS_HEADER_ROW, CACHE
from xl_negcoke.workbook.formula import ASSUMPTIONS_NAME
from xl_negcoke.workbook.ownership import (
    ARRAY_MEMBER,
    RECORD_SHEET,
    Record,
    chart_anchor,
    fingerprint,
    read_record,
    record_book,
    write_record,
)
from xl_negcoke.workbook.refresh.anchors import find_layout, fresh_placements, move_book, moved_record
from xl_negcoke.workbook.refresh.splice import (
    count_formulas,
    load_book,
    read_record_only,
    user_sheet_titles,
    without_cells,
)
from xl_negcoke.workbook.sheets import (
    assumption_columns,
    assumption_rows,
    scenario_validation,
    scenarios_in,
)
from xl_negcoke.workbook.template import input_cells, owned_book, quickstart_path


@dataclass(frozen=True)
class CellChange:
    """One model-owned cell whose content the refresh changes (what the Excel macro writes).

    `after` is an ArrayFormula, a formula text ("=..."), a value, or None (cleared); `text`
    says `after` is a text cell, which is written as text even when it starts with "=".
    """

    sheet: str
    coordinate: str
    before: object
    after: object
    text: bool = False

    @property
    def old_block(self) -> str | None:
        """The array block the cell anchored before, which must be cleared before writing."""
        return self.before.ref if isinstance(self.before, ArrayFormula) else None

    def write(self) -> tuple[str, str, object] | None:
        """How to write the new content in Excel: ("array", block, formula), ("formula", cell,
        formula), ("value", cell, value) or ("clear", cell, None); None when clearing the old
        block already did it."""
        if isinstance(self.after, ArrayFormula):
            return "array", str(self.after.ref), self.after.text
        if is_formula(self.after) and not self.text:
            return "formula", self.coordinate, self.after
        if self.after is None:
            return None if self.old_block else ("clear", self.coordinate, None)
        return "value", self.coordinate, self.after


@dataclass
class RefreshPlan:
    """What a refresh changes and what it keeps (the --dry-run report)."""

    rewritten: int = 0  # model-owned cells written from the new template
    cleared: int = 0  # model-owned cells the new template no longer has
    kept_edits: list[str] = field(default_factory=list)  # model ranges the analyst edited
    overwritten_edits: list[str] = field(default_factory=list)  # replaced (--overwrite-edits)
    collisions: list[str] = field(default_factory=list)  # analyst cells where the model writes now
    kept_inputs: list[str] = field(default_factory=list)  # assumption values the analyst set
    dropped_inputs: list[str] = field(default_factory=list)  # inputs whose key no longer exists
    reset_inputs: list[str] = field(default_factory=list)
    user_sheets: list[str] = field(default_factory=list)
    added_sheets: list[str] = field(default_factory=list)
    user_formulas_outside: int = 0  # analyst formulas outside model cells (keep last results)
    old_dataset: str = ""
    new_dataset: str = ""
    changes: list[CellChange] = field(default_factory=list, repr=False)
    record: Record | None = field(default=None, repr=False)  # the new ownership record
    previous: Record | None = field(default=None, repr=False)  # the record the workbook had
    kept_cells: set[tuple[str, str]] = field(default_factory=set, repr=False)  # kept edits
    free_formulas: dict[str, set[str]] = field(default_factory=dict, repr=False)  # on model sheets
    backup: Path | None = None  # where the previous version was kept (refresh_file)

    def lines(self) -> list[str]:
        """The plan as readable lines."""
        out = [f"dataset {self.old_dataset} -> {self.new_dataset}",
               f"model cells changed: {len(self.changes):,} (rewritten: {self.rewritten:,}; "
               f"cleared: {self.cleared:,})"]
        if self.added_sheets:
            out.append(f"model sheets added: {', '.join(self.added_sheets)}")
        out.append(f"your sheets kept: {', '.join(self.user_sheets) or 'none'}")
        for item in self.kept_inputs:
            out.append(f"kept your input {item}")
        for item in self.reset_inputs:
            out.append(f"reset input {item} to the dataset's value")
        for item in self.dropped_inputs:
            out.append(f"dropped input {item}: the dataset no longer has this key")
        for item in self.kept_edits:
            out.append(f"kept your edit of model {'cells' if ':' in item else 'cell'} {item} "
                       "(the model's new content is not written; --overwrite-edits replaces it)")
        for item in self.overwritten_edits:
            out.append(f"replaced your edit of model {'cells' if ':' in item else 'cell'} {item} "
                       "with the model's content (--overwrite-edits)")
        for item in self.collisions:
            out.append(f"kept your cell {item}; the new template writes there and was not applied")
        if self.user_formulas_outside:
            out.append(f"{self.user_formulas_outside:,} formulas of yours keep their last results "
                       "until Excel recalculates")
        return out


def is_formula(value: object) -> bool:
    return isinstance(value, ArrayFormula) or (isinstance(value, str) and value.startswith("=")
                                               and len(value) > 1)


def cell_value(ws: Worksheet, coordinate: str) -> object:
    """A cell's value without creating the cell."""
    cell = ws._cells.get(coordinate_to_tuple(coordinate))
    return None if cell is None else cell.value


def _copy_cell(source: Cell, target: Cell) -> None:
    target.value = source.value
    target.data_type = source.data_type  # a text starting with = stays text
    if source.has_style and source.parent.parent is target.parent.parent:
        target._style = copy.copy(source._style)
    elif source.has_style:  # another workbook: its style indexes mean nothing here
        _copy_style(source, target)
    if source.hyperlink:  # the analyst's own link on a model cell stays when the model has none
        target.hyperlink = copy.copy(source.hyperlink)


def _copy_style(source: Cell, target: Cell) -> None:
    """The style of a cell of another workbook (the fresh template), by value: the workbook
    finds or adds each font, fill, border and alignment, so a template whose styles grew since
    the workbook was built (a new layout) never points past the workbook's style tables. Each
    distinct style is resolved once (remembered on the target workbook, which outlives no
    refresh)."""
    book = target.parent.parent
    resolved = book.__dict__.setdefault("_negcoke_styles", {})
    key = (source.parent.parent, tuple(source._style))
    if key not in resolved:
        for name in ("font", "fill", "border", "alignment", "protection", "number_format"):
            setattr(target, name, copy.copy(getattr(source, name)))
        resolved[key] = copy.copy(target._style)
    target._style = copy.copy(resolved[key])


def _block_cells(ref: str) -> list[str]:
    c1, r1, c2, r2 = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
    return [f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def _user_inputs(user: Workbook, record: Record) -> tuple[dict[str, object], object]:
    """{key: value} of the assumption values the analyst changed, and their scenario (or None)."""
    if ASSUMPTIONS not in user.sheetnames:
        return {}, None
    ws = user[ASSUMPTIONS]
    recorded = record.inputs.get(ASSUMPTIONS, {})
    changed: dict[str, object] = {}
    key_column, value_column = assumption_columns(ws)  # the workbook's own layout, old or new
    for row in range(ASSUMPTIONS_HEADER_ROW + 1, ws.max_row + 1):
        key = ws.cell(row, key_column).value
        coordinate = f"{get_column_letter(value_column)}{row}"
        value = cell_value(ws, coordinate)
        if isinstance(key, str) and coordinate in recorded and \
                record.digest(value) != recorded[coordinate]:
            changed[key] = value
    scenario = cell_value(ws, "B3")
    edited = scenario if record.digest(scenario) != recorded.get("B3") else None
    return changed, edited


@dataclass
class _OwnRows:
    """The analyst's own rows of AssumptionsTable in a workbook whose Assumptions sheet has an
    older column layout: lifted out before the new layout is written, put back below it."""

    shift: int  # columns to move right (new key column - old key column)
    rows: list[list[tuple[int, Cell]]] = field(default_factory=list)  # (column, detached copy)
    in_table: list[bool] = field(default_factory=list)  # each row: inside AssumptionsTable


def _lift_own_rows(user: Workbook, fresh: Workbook, record: Record) -> _OwnRows | None:
    """When the new template puts the key in another column than the workbook has it, take the
    analyst's rows (a text in the key column the template does not own: their scenario rows,
    inside AssumptionsTable or below it) out of the sheet, and clear the old inputs the new
    layout does not overwrite."""
    if ASSUMPTIONS not in user.sheetnames or ASSUMPTIONS not in fresh.sheetnames:
        return None
    ours, theirs = user[ASSUMPTIONS], fresh[ASSUMPTIONS]
    old_key, _old_value = assumption_columns(ours)
    new_key, _new_value = assumption_columns(theirs)
    if old_key == new_key:
        return None
    lifted = _OwnRows(new_key - old_key)
    table = _RANGE_END.match(user.defined_names[ASSUMPTIONS_NAME].attr_text or "") \
        if ASSUMPTIONS_NAME in user.defined_names else None
    last = int(table.group(2)) if table else ASSUMPTIONS_HEADER_ROW
    for row in range(ASSUMPTIONS_HEADER_ROW + 1, ours.max_row + 1):
        key = ours.cell(row, old_key)
        if record.owns(ASSUMPTIONS, key.coordinate) or not isinstance(key.value, str) \
                or not key.value.strip():
            continue
        cells = []
        for cell in ours[row]:
            if cell.value is not None and not record.owns(ASSUMPTIONS, cell.coordinate):
                copied = Cell(ours)
                _copy_cell(cell, copied)
                cells.append((cell.column, copied))
                cell.value = None
        lifted.rows.append(cells)
        lifted.in_table.append(row <= last)
    for coordinate in record.inputs.get(ASSUMPTIONS, {}):
        if coordinate != "B3" and cell_value(theirs, coordinate) is None:
            ours[coordinate].value = None  # an old value cell where the new layout has none
    return lifted


def _place_own_rows(user: Workbook, fresh: Workbook, lifted: _OwnRows | None,
                    plan: RefreshPlan) -> int | None:
    """Put the lifted rows below the new table (their columns moved with the key, in their
    order); return the last row AssumptionsTable must now reach (None: no row of the table was
    lifted)."""
    if lifted is None or not lifted.rows:
        return None
    ws = user[ASSUMPTIONS]
    key_column = assumption_columns(ws)[0]
    ours = _RANGE_END.match(fresh.defined_names[ASSUMPTIONS_NAME].attr_text or "")
    row = int(ours.group(2)) if ours else ws.max_row
    table_end = None
    for cells, in_table in zip(lifted.rows, lifted.in_table, strict=True):
        row += 1
        for column, copied in cells:
            _copy_cell(copied, ws.cell(row, column + lifted.shift))
        key = ws.cell(row, key_column).value
        plan.kept_inputs.append(f"row {key} (moved to {ASSUMPTIONS} row {row}, the new layout)")
        table_end = row if in_table else table_end
    return table_end


def _array_results(ws: Worksheet) -> set[str]:
    """The cells of a sheet that hold the results of an array formula standing on it (the array's
    size from its anchor cell: openpyxl moves the anchor of an inserted row, not its range)."""
    out: set[str] = set()
    for (row, column), cell in ws._cells.items():
        if isinstance(cell.value, ArrayFormula):
            first, _, last = str(cell.value.ref).replace("$", "").partition(":")
            c1, r1, c2, r2 = range_boundaries(f"{first}:{last or first}")
            out.update(f"{get_column_letter(c)}{r}" for r in range(row, row + r2 - r1 + 1)
                       for c in range(column, column + c2 - c1 + 1))
    return out


def cell_ranges(coordinates: list[str]) -> list[str]:
    """Cells as the fewest rectangles, top to bottom, left to right: runs along each row, then runs
    of the same columns on consecutive rows ("B2", "A11:M14")."""
    rows: dict[int, list[int]] = {}
    for coordinate in coordinates:
        row, column = coordinate_to_tuple(coordinate)
        rows.setdefault(row, []).append(column)
    runs: list[tuple[int, int, int]] = []  # (row, first column, last column)
    for row in sorted(rows):
        columns = sorted(set(rows[row]))
        start = previous = columns[0]
        for column in columns[1:]:
            if column != previous + 1:
                runs.append((row, start, previous))
                start = column
            previous = column
        runs.append((row, start, previous))
    open_blocks: dict[tuple[int, int], list[int]] = {}  # (first, last column) -> [top, bottom]
    blocks: list[tuple[int, int, int, int]] = []
    for row, first, last in runs:
        block = open_blocks.get((first, last))
        if block is not None and block[1] == row - 1:
            block[1] = row
            continue
        if block is not None:
            blocks.append((block[0], first, block[1], last))
        open_blocks[(first, last)] = [row, row]
    blocks += [(top, first, bottom, last) for (first, last), (top, bottom) in open_blocks.items()]
    out = []
    for top, first, bottom, last in sorted(blocks):
        start = f"{get_column_letter(first)}{top}"
        end = f"{get_column_letter(last)}{bottom}"
        out.append(start if start == end else f"{start}:{end}")
    return out


def _refresh_sheet(ours: Worksheet, fresh: Worksheet, record: Record, plan: RefreshPlan,
                   added: bool = False, overwrite_edits: bool = False) -> None:
    """Rewrite the model-owned cells of one sheet from the fresh template (`added`: a sheet the
    workbook lacked, e.g. one the analyst deleted, written whole).

    A model cell the analyst changed is kept (with `overwrite_edits`, replaced) and reported by
    range: a cell typed over, and every value pasted over an array block (the block's cells hold
    its results only while its formula stands)."""
    owned = {} if ours.title == CACHE or added else record.cells.get(ours.title, {})
    protected: set[str] = set()
    edited: list[str] = []
    results = _array_results(ours)
    for coordinate, digest in owned.items():  # analyst edits of model cells are kept
        value = cell_value(ours, coordinate)
        if digest == ARRAY_MEMBER:  # a result while its array stands; else a value pasted over it
            if value is None or coordinate in results:
                continue
        elif record.digest(value) == digest:
            continue
        if fingerprint(value) != fingerprint(cell_value(fresh, coordinate)):
            edited.append(coordinate)
        if overwrite_edits:
            continue
        protected.add(coordinate)
        plan.kept_cells.add((ours.title, coordinate))
    target = plan.overwritten_edits if overwrite_edits else plan.kept_edits
    target.extend(f"'{ours.title}'!{block}" for block in cell_ranges(edited))
    fresh_blocks = {c for row in fresh.iter_rows() for cell in row if isinstance(cell.value, ArrayFormula)
                    for c in _block_cells(cell.value.ref)}
    for coordinate, digest in owned.items():
        cell = ours._cells.get(coordinate_to_tuple(coordinate))
        if coordinate not in protected and cell is not None and not isinstance(cell, MergedCell):
            if digest != ARRAY_MEMBER and cell.value is not None and coordinate not in fresh_blocks \
                    and cell_value(fresh, coordinate) is None:
                plan.cleared += 1  # a cell the new template no longer has
            cell.value = None
    if ours.title == CACHE:  # the fallback values: the new recalculation fills them again
        for row in ours.iter_rows():
            for cell in row:
                cell.value = None
    free = ours.title != CACHE

    def analysts(coordinate: str) -> bool:
        return free and not record.owns(ours.title, coordinate) and cell_value(ours, coordinate) is not None

    _unmerge_models(ours, fresh, record)
    blocked: set[str] = set()
    for row in fresh.iter_rows():
        for cell in row:
            if isinstance(cell.value, ArrayFormula):
                block = _block_cells(cell.value.ref)
                clash = [c for c in block if c in protected or analysts(c)]
                if clash:  # not written; a clash with kept edits only is reported as those edits
                    blocked.update(block)
                    theirs = [c for c in clash if c not in protected]
                    if theirs:
                        plan.collisions.append(f"'{ours.title}'!{theirs[0]} (array {cell.value.ref})")
    for row in fresh.iter_rows():
        for cell in row:
            if cell.value is None and not cell.has_style:
                continue
            coordinate = cell.coordinate
            if coordinate in blocked or coordinate in protected:
                continue
            target = ours[coordinate]
            if cell.value is not None and (analysts(coordinate) or isinstance(target, MergedCell)):
                plan.collisions.append(f"'{ours.title}'!{coordinate}")
                continue
            if isinstance(target, MergedCell):  # inside the analyst's merged range: theirs
                continue
            if cell.value is not None:
                plan.rewritten += 1
            _copy_cell(cell, target)
    _merge_as_fresh(ours, fresh, protected, analysts, plan)
    for index, dimension in fresh.row_dimensions.items():  # rows grow to fit new text, never shrink
        if dimension.height and (ours.row_dimensions[index].height or 0) < dimension.height:
            ours.row_dimensions[index].height = dimension.height
    # model charts (by their recorded anchors) are replaced by the fresh template's charts
    model_anchors = set(record.charts.get(ours.title, []))
    ours._charts = [c for c in ours._charts if chart_anchor(c) not in model_anchors]
    for chart in fresh._charts:
        ours.add_chart(copy.deepcopy(chart))


def _unmerge_models(ours: Worksheet, fresh: Worksheet, record: Record) -> None:
    """Unmerge the old template's merged ranges (top-left cell model-owned) the new one lacks."""
    owned = record.cells.get(ours.title, {})
    wanted = {str(r) for r in fresh.merged_cells.ranges}
    for merged in list(ours.merged_cells.ranges):
        if str(merged) not in wanted and f"{get_column_letter(merged.min_col)}{merged.min_row}" in owned:
            ours.unmerge_cells(str(merged))


def _merge_as_fresh(ours: Worksheet, fresh: Worksheet, protected: set[str],
                    analysts: Callable[[str], bool], plan: RefreshPlan) -> None:
    """Merge the new template's ranges, unless the analyst has a cell or a merge there."""
    present = {str(r) for r in ours.merged_cells.ranges}
    for merged in fresh.merged_cells.ranges:
        if str(merged) in present:
            continue
        cells = _block_cells(str(merged))
        clash = [c for c in cells[1:] if c in protected or analysts(c)]
        if clash or any(not merged.isdisjoint(r) for r in ours.merged_cells.ranges):
            plan.collisions.append(f"'{ours.title}'!{(clash or cells)[0]} (merged {merged})")
            continue
        ours.merge_cells(str(merged))


def _new_sheet(user: Workbook, fresh: Worksheet, after: str | None) -> Worksheet:
    """A model sheet the analyst's workbook lacks, placed after the previous model sheet."""
    index = user.sheetnames.index(after) + 1 if after in user.sheetnames else len(user.sheetnames)
    ws = user.create_sheet(fresh.title, index)
    for key, dimension in fresh.column_dimensions.items():
        ws.column_dimensions[key].width = dimension.width
    ws.freeze_panes = fresh.freeze_panes
    ws.page_setup = copy.copy(fresh.page_setup)
    ws.sheet_properties = copy.copy(fresh.sheet_properties)
    ws.sheet_state = fresh.sheet_state
    ws.print_options = copy.copy(fresh.print_options)
    ws.print_title_rows = fresh.print_title_rows
    if fresh.print_area:
        ws.print_area = [a.split("!")[-1] for a in fresh.print_area.split(",")]
    ws.row_breaks = copy.deepcopy(fresh.row_breaks)
    for validation in fresh.data_validations.dataValidation:
        ws.add_data_validation(copy.copy(validation))
    return ws


def _snapshot(user: Workbook, record: Record, fresh: Workbook) -> dict[tuple[str, str], object]:
    """The content of every cell the refresh may write, before it writes."""
    before: dict[tuple[str, str], object] = {}
    for ws in fresh.worksheets:
        if ws.title in (RECORD_SHEET, CACHE):
            continue
        ours = user[ws.title] if ws.title in user.sheetnames else None
        coordinates = set(record.cells.get(ws.title, {})) | set(record.inputs.get(ws.title, {}))
        coordinates.update(c.coordinate for row in ws.iter_rows() for c in row if c.value is not None)
        for coordinate in coordinates:
            before[(ws.title, coordinate)] = None if ours is None else cell_value(ours, coordinate)
    return before


def _changes(user: Workbook, before: dict[tuple[str, str], object], old: Record, new: Record
             ) -> list[CellChange]:
    """The model-owned cells whose content changed (array members are written by their anchor)."""
    changes: list[CellChange] = []
    for (sheet, coordinate), was in sorted(before.items(), key=lambda item: (
            item[0][0], coordinate_to_tuple(item[0][1]))):
        now = cell_value(user[sheet], coordinate)
        if fingerprint(was) == fingerprint(now):
            continue
        if new.cells.get(sheet, {}).get(coordinate) == ARRAY_MEMBER and not isinstance(now, ArrayFormula):
            continue
        was_member = old.cells.get(sheet, {}).get(coordinate) == ARRAY_MEMBER
        if was_member and not isinstance(was, ArrayFormula) and now is None:
            continue  # cleared together with its old block
        cell = user[sheet]._cells.get(coordinate_to_tuple(coordinate))
        changes.append(CellChange(sheet, coordinate, was, now, cell is not None and cell.data_type == "s"))
    return changes


def refreshed_book(data: bytes, model: Model, reset_inputs: bool = False, user_cells: bool = True,
                   overwrite_edits: bool = False) -> tuple[Workbook, RefreshPlan]:
    """Apply the refresh to an in-memory copy of the workbook and say what changed.

    With `user_cells=False` the analyst's own sheets are loaded without their cells (everything
    else of theirs is loaded): the book is then only good for `refresh_bytes`, which puts the
    original cells back verbatim (`with_user_cells`).

    Model blocks the analyst moved (inserted or deleted rows or columns) are found again and
    written where they now are (`anchors`).

    Raises:
        WorkbookError: a workbook openpyxl cannot read, one without the ownership record, a
            model block that cannot be placed for certain, or a sheet of the analyst's named as
            a sheet the new template adds.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        macro = "xl/vbaProject.bin" in archive.namelist()
    if user_cells:
        user = load_book(data, keep_vba=macro)
        record = read_record(user)
    else:
        record = read_record_only(data)
        user = load_book(without_cells(data, user_sheet_titles(data, record)), keep_vba=macro)
    layout = find_layout(user, record)  # where the analyst's inserted rows moved the blocks
    record = moved_record(record, layout, user)
    changed, scenario = _user_inputs(user, record)
    fresh = owned_book(model, load_workbook(quickstart_path(), keep_vba=True) if macro else None)
    shifts: dict[str, dict[str, tuple[int, int]]] = {}
    if layout.moved:
        placements, shifts = fresh_placements(fresh, read_record(fresh), layout)
        move_book(fresh, placements)
    plan = RefreshPlan(old_dataset=record.dataset_id, new_dataset=model.dataset.dataset_id,
                       previous=record)
    plan.user_sheets = [s for s in user.sheetnames if s not in record.sheets and s != RECORD_SHEET]
    _refuse_taken_names(plan.user_sheets, fresh)
    before = _snapshot(user, record, fresh)
    lifted = _lift_own_rows(user, fresh, record)
    previous: str | None = None
    for fresh_ws in fresh.worksheets:
        if fresh_ws.title == RECORD_SHEET:
            continue
        added = fresh_ws.title not in user.sheetnames
        if added:
            ours = _new_sheet(user, fresh_ws, previous)
            plan.added_sheets.append(fresh_ws.title)
        else:
            ours = user[fresh_ws.title]
        _refresh_sheet(ours, fresh_ws, record, plan, added, overwrite_edits)
        previous = fresh_ws.title
    own_rows_end = _place_own_rows(user, fresh, lifted, plan)
    _restore_inputs(user, changed, scenario, reset_inputs, plan)
    _refresh_names(user, fresh, record, own_rows_end)
    _refresh_validations(user)
    plan.record = _merged_record(fresh, plan)
    plan.record.shifts = shifts
    write_record(user, plan.record)
    plan.changes = _changes(user, before, record, plan.record)
    for ws in user.worksheets:  # the analyst's formulas beside the model's cells
        if ws.title in plan.user_sheets or ws.title in (RECORD_SHEET, CACHE):
            continue
        owned = plan.record.cells.get(ws.title, {})
        cells = {c.coordinate for row in ws.iter_rows() for c in row
                 if is_formula(c.value) and c.coordinate not in owned}
        if cells:
            plan.free_formulas[ws.title] = cells
    plan.user_formulas_outside = sum(map(len, plan.free_formulas.values())) + count_formulas(
        data, plan.user_sheets)
    return user, plan


def _refuse_taken_names(user_sheets: list[str], fresh: Workbook) -> None:
    """A sheet of the analyst's named as a sheet the new template adds (Excel compares names
    without case) would be taken for the model's: refuse, naming it."""
    ours = {title.casefold(): title for title in fresh.sheetnames}
    taken = [title for title in user_sheets if title.casefold() in ours]
    if taken:
        names = ", ".join(f"'{t}'" for t in taken)
        raise WorkbookError(f"your sheet {names} has the name of a sheet the new template adds "
                            f"('{ours[taken[0].casefold()]}'); rename yours and refresh again; "
                            "nothing was changed")


def _restore_inputs(user: Workbook, changed: dict[str, object], scenario: object,
                    reset: bool, plan: RefreshPlan) -> None:
    ws = user[ASSUMPTIONS]
    rows = assumption_rows(ws)
    _key_column, value_column = assumption_columns(ws)
    for key, value in changed.items():
        if key not in rows:
            plan.dropped_inputs.append(f"{key} = {value!r}")
        elif reset:
            plan.reset_inputs.append(f"{key} (was {value!r})")
        else:
            ws.cell(rows[key], value_column).value = value
            plan.kept_inputs.append(f"{key} = {value!r}")
    if scenario is not None:
        if reset:
            plan.reset_inputs.append(f"Scenario (was {scenario!r})")
        else:
            ws["B3"] = scenario
            plan.kept_inputs.append(f"Scenario = {scenario!r}")


def _refresh_names(user: Workbook, fresh: Workbook, record: Record,
                   own_rows_end: int | None = None) -> None:
    for name in record.names:
        if name in user.defined_names and name not in fresh.defined_names:
            del user.defined_names[name]
    extended = _extended_assumptions(user, fresh, record)
    if own_rows_end is not None:  # the analyst's rows moved below the new layout's table
        ours = _RANGE_END.match(fresh.defined_names[ASSUMPTIONS_NAME].attr_text or "")
        extended = f"{ours.group(1)}{own_rows_end}" if ours else None
    for name, definition in fresh.defined_names.items():
        if name in user.defined_names and name not in record.names:
            continue  # the analyst's own name of the same spelling wins
        user.defined_names[name] = copy.copy(definition)
        if name == ASSUMPTIONS_NAME and extended:
            user.defined_names[name].attr_text = extended


_RANGE_END = re.compile(r"^(.*![$]?[A-Z]+[$]?\d+:[$]?[A-Z]+[$]?)(\d+)$")


def _extended_assumptions(user: Workbook, fresh: Workbook, record: Record) -> str | None:
    """The new AssumptionsTable reaching down to the analyst's own rows, when they had extended
    it below the template's rows (the sheet invites scenario rows of their own)."""
    if ASSUMPTIONS_NAME not in user.defined_names or ASSUMPTIONS_NAME not in fresh.defined_names:
        return None
    theirs = _RANGE_END.match(user.defined_names[ASSUMPTIONS_NAME].attr_text or "")
    ours = _RANGE_END.match(fresh.defined_names[ASSUMPTIONS_NAME].attr_text or "")
    rows = [coordinate_to_tuple(c)[0] for c in record.inputs.get(ASSUMPTIONS, {}) if c != "B3"]
    if not theirs or not ours or not rows or int(theirs.group(2)) <= max(rows):
        return None
    last = max(int(theirs.group(2)), int(ours.group(2)))
    return f"{ours.group(1)}{last}" if last > int(ours.group(2)) else None


def _refresh_validations(user: Workbook) -> None:
    """The scenario list on Assumptions!B3 follows the scenarios the workbook's table defines
    (the dataset's and the analyst's own rows); other validations stay."""
    ours = user[ASSUMPTIONS]
    ours.data_validations.dataValidation = [
        v for v in ours.data_validations.dataValidation if "B3" not in str(v.sqref).split()]
    validation = scenario_validation(scenarios_in(ours))
    ours.add_data_validation(validation)
    validation.add("B3")


def _merged_record(fresh: Workbook, plan: RefreshPlan) -> Record:
    """The new record: the fresh template's cells (its inputs carry the new defaults, so an
    input the analyst set still reads as theirs next time), minus the analyst's own cells the
    template now collides with."""
    from xl_negcoke import __version__

    record = record_book(fresh, __version__, plan.new_dataset, input_cells(fresh))
    for item in plan.collisions:  # kept edits stay owned: they keep reading as the analyst's
        sheet, _, coordinate = item.partition("!")
        record.cells.get(sheet.strip("'").replace("''", "'"), {}).pop(coordinate.split(" ")[0], None)
    return record


