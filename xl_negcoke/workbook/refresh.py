"""Refresh an analyst's workbook: new numbers and template, all of their work kept.

Model-owned content (the cells, names and charts listed in the ownership record, the Cache
and the xlwings.conf entries) is rewritten from a fresh build; everything else stays: sheets the
analyst added and their order, every cell typed outside model-owned cells, changed inputs on
Assumptions (unless reset), comments, defined names, data validation, conditional formats,
formats, column widths, hidden state, charts and images they added, and the VBA of an .xlsm.
A model-owned cell the analyst edited is kept and reported, never silently overwritten.

The workbook goes through openpyxl once (load, merge, save), but the cells of the analyst's own
sheets are never parsed: they are left out of the load and put back into the saved file byte for
byte (values, formulas with their last results, styles by index, shared strings, dynamic-array
metadata), so refresh time does not grow with the analyst's content. Only the model's sheets are
evaluated; the analyst's formulas beside the model's cells keep their last results until Excel
recalculates them. Before anything is written, the result is compared with the original for
what openpyxl cannot carry over (shapes, images without Pillow, sparklines, form controls, ...):
refresh refuses rather than lose any of it.
"""

from __future__ import annotations

import copy
import io
import math
import posixpath
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import Model
from xl_negcoke.workbook.build import ASSUMPTIONS, ASSUMPTIONS_HEADER_ROW, CACHE
from xl_negcoke.workbook.cached import ERRORS, CellError, cached_members, sheet_parts
from xl_negcoke.workbook.files import atomic_write, normalise_zip, read_workbook
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
from xl_negcoke.workbook.recalc import evaluate
from xl_negcoke.workbook.template import input_cells, owned_book, quickstart_path

Results = dict[str, tuple[bytes | None, bytes]]  # cell -> (t attribute, <v> text) of a formula


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
        if _is_formula(self.after) and not self.text:
            return "formula", self.coordinate, self.after
        if self.after is None:
            return None if self.old_block else ("clear", self.coordinate, None)
        return "value", self.coordinate, self.after


@dataclass
class RefreshPlan:
    """What a refresh changes and what it keeps (the --dry-run report)."""

    rewritten: int = 0  # model-owned cells written from the new template
    cleared: int = 0  # model-owned cells the new template no longer has
    kept_edits: list[str] = field(default_factory=list)  # model cells the analyst edited
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
            out.append(f"kept your edit of model cell {item} (the model's new content is not written)")
        for item in self.collisions:
            out.append(f"kept your cell {item}; the new template writes there and was not applied")
        if self.user_formulas_outside:
            out.append(f"{self.user_formulas_outside:,} formulas of yours keep their last results "
                       "until Excel recalculates")
        return out


def _is_formula(value: object) -> bool:
    return isinstance(value, ArrayFormula) or (isinstance(value, str) and value.startswith("=")
                                               and len(value) > 1)


def _value(ws: Worksheet, coordinate: str) -> object:
    """A cell's value without creating the cell."""
    cell = ws._cells.get(coordinate_to_tuple(coordinate))
    return None if cell is None else cell.value


def _copy_cell(source: Cell, target: Cell) -> None:
    target.value = source.value
    target.data_type = source.data_type  # a text starting with = stays text
    if source.has_style:
        target._style = copy.copy(source._style)
    if source.hyperlink:  # the analyst's own link on a model cell stays when the model has none
        target.hyperlink = copy.copy(source.hyperlink)


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
    for row in range(ASSUMPTIONS_HEADER_ROW + 1, ws.max_row + 1):
        key, value = _value(ws, f"A{row}"), _value(ws, f"B{row}")
        coordinate = f"B{row}"
        if isinstance(key, str) and coordinate in recorded and \
                record.digest(value) != recorded[coordinate]:
            changed[key] = value
    scenario = _value(ws, "B3")
    edited = scenario if record.digest(scenario) != recorded.get("B3") else None
    return changed, edited


def _refresh_sheet(ours: Worksheet, fresh: Worksheet, record: Record, plan: RefreshPlan,
                   added: bool = False) -> None:
    """Rewrite the model-owned cells of one sheet from the fresh template (`added`: a sheet the
    workbook lacked, e.g. one the analyst deleted, written whole)."""
    owned = {} if ours.title == CACHE or added else record.cells.get(ours.title, {})
    protected: set[str] = set()
    for coordinate, digest in owned.items():  # analyst edits of model cells are kept
        value = _value(ours, coordinate)
        if digest != ARRAY_MEMBER and record.digest(value) != digest:
            protected.add(coordinate)
            plan.kept_cells.add((ours.title, coordinate))
            if fingerprint(value) != fingerprint(_value(fresh, coordinate)):
                plan.kept_edits.append(f"'{ours.title}'!{coordinate}")
    fresh_blocks = {c for row in fresh.iter_rows() for cell in row if isinstance(cell.value, ArrayFormula)
                    for c in _block_cells(cell.value.ref)}
    for coordinate, digest in owned.items():
        cell = ours._cells.get(coordinate_to_tuple(coordinate))
        if coordinate not in protected and cell is not None and not isinstance(cell, MergedCell):
            if digest != ARRAY_MEMBER and cell.value is not None and coordinate not in fresh_blocks \
                    and _value(fresh, coordinate) is None:
                plan.cleared += 1  # a cell the new template no longer has
            cell.value = None
    if ours.title == CACHE:  # the fallback values: the new recalculation fills them again
        for row in ours.iter_rows():
            for cell in row:
                cell.value = None
    free = ours.title != CACHE

    def analysts(coordinate: str) -> bool:
        return free and not record.owns(ours.title, coordinate) and _value(ours, coordinate) is not None

    _unmerge_models(ours, fresh, record)
    blocked: set[str] = set()
    for row in fresh.iter_rows():
        for cell in row:
            if isinstance(cell.value, ArrayFormula):
                block = _block_cells(cell.value.ref)
                clash = [c for c in block if c in protected or analysts(c)]
                if clash:
                    blocked.update(block)
                    plan.collisions.append(f"'{ours.title}'!{clash[0]} (array {cell.value.ref})")
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


def _load(data: bytes, keep_vba: bool, read_only: bool = False) -> Workbook:
    """openpyxl's reading of the workbook; a file it cannot read is one line of error."""
    try:
        with warnings.catch_warnings():  # what openpyxl drops is reported by find_losses
            warnings.simplefilter("ignore")
            if read_only:
                return load_workbook(io.BytesIO(data), read_only=True)
            return load_workbook(io.BytesIO(data), keep_vba=keep_vba, rich_text=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged part; name the kind
        detail = str(exc).splitlines()[0][:120] if str(exc) else ""
        raise WorkbookError(f"the workbook cannot be read ({exc.__class__.__name__}"
                            f"{': ' + detail if detail else ''})") from None


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
            before[(ws.title, coordinate)] = None if ours is None else _value(ours, coordinate)
    return before


def _changes(user: Workbook, before: dict[tuple[str, str], object], old: Record, new: Record
             ) -> list[CellChange]:
    """The model-owned cells whose content changed (array members are written by their anchor)."""
    changes: list[CellChange] = []
    for (sheet, coordinate), was in sorted(before.items(), key=lambda item: (
            item[0][0], coordinate_to_tuple(item[0][1]))):
        now = _value(user[sheet], coordinate)
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


def plan_refresh(data: bytes, model: Model, reset_inputs: bool = False, user_cells: bool = True
                 ) -> tuple[Workbook, RefreshPlan]:
    """Apply the refresh to an in-memory copy of the workbook and say what changed.

    With `user_cells=False` the analyst's own sheets are loaded without their cells (everything
    else of theirs is loaded): the book is then only good for `refresh_bytes`, which puts the
    original cells back verbatim (`_with_user_cells`).

    Raises:
        WorkbookError: a workbook openpyxl cannot read, or one without the ownership record.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        macro = "xl/vbaProject.bin" in archive.namelist()
    if user_cells:
        user = _load(data, keep_vba=macro)
        record = read_record(user)
    else:
        record = _read_record_only(data)
        user = _load(_without_cells(data, _user_sheet_titles(data, record)), keep_vba=macro)
    changed, scenario = _user_inputs(user, record)
    fresh = owned_book(model, load_workbook(quickstart_path(), keep_vba=True) if macro else None)
    plan = RefreshPlan(old_dataset=record.dataset_id, new_dataset=model.dataset.dataset_id,
                       previous=record)
    plan.user_sheets = [s for s in user.sheetnames if s not in record.sheets and s != RECORD_SHEET]
    before = _snapshot(user, record, fresh)
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
        _refresh_sheet(ours, fresh_ws, record, plan, added)
        previous = fresh_ws.title
    _restore_inputs(user, changed, scenario, reset_inputs, plan)
    _refresh_names(user, fresh, record)
    _refresh_validations(user, fresh)
    plan.record = _merged_record(fresh, plan)
    write_record(user, plan.record)
    plan.changes = _changes(user, before, record, plan.record)
    for ws in user.worksheets:  # the analyst's formulas beside the model's cells
        if ws.title in plan.user_sheets or ws.title in (RECORD_SHEET, CACHE):
            continue
        owned = plan.record.cells.get(ws.title, {})
        cells = {c.coordinate for row in ws.iter_rows() for c in row
                 if _is_formula(c.value) and c.coordinate not in owned}
        if cells:
            plan.free_formulas[ws.title] = cells
    plan.user_formulas_outside = sum(map(len, plan.free_formulas.values())) + _count_formulas(
        data, plan.user_sheets)
    return user, plan


def _restore_inputs(user: Workbook, changed: dict[str, object], scenario: object,
                    reset: bool, plan: RefreshPlan) -> None:
    ws = user[ASSUMPTIONS]
    rows = {ws.cell(r, 1).value: r for r in range(ASSUMPTIONS_HEADER_ROW + 1, ws.max_row + 1)}
    for key, value in changed.items():
        if key not in rows:
            plan.dropped_inputs.append(f"{key} = {value!r}")
        elif reset:
            plan.reset_inputs.append(f"{key} (was {value!r})")
        else:
            ws.cell(rows[key], 2).value = value
            plan.kept_inputs.append(f"{key} = {value!r}")
    if scenario is not None:
        if reset:
            plan.reset_inputs.append(f"Scenario (was {scenario!r})")
        else:
            ws["B3"] = scenario
            plan.kept_inputs.append(f"Scenario = {scenario!r}")


def _refresh_names(user: Workbook, fresh: Workbook, record: Record) -> None:
    for name in record.names:
        if name in user.defined_names and name not in fresh.defined_names:
            del user.defined_names[name]
    extended = _extended_assumptions(user, fresh, record)
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
    rows = [int(c[1:]) for c in record.inputs.get(ASSUMPTIONS, {}) if c.startswith("B") and c != "B3"]
    if not theirs or not ours or not rows or int(theirs.group(2)) <= max(rows):
        return None
    last = max(int(theirs.group(2)), int(ours.group(2)))
    return f"{ours.group(1)}{last}" if last > int(ours.group(2)) else None


def _refresh_validations(user: Workbook, fresh: Workbook) -> None:
    """The scenario list on Assumptions!B3 follows the new scenarios; other validations stay."""
    ours, theirs = user[ASSUMPTIONS], fresh[ASSUMPTIONS]
    ours.data_validations.dataValidation = [
        v for v in ours.data_validations.dataValidation if "B3" not in str(v.sqref).split()]
    for validation in theirs.data_validations.dataValidation:
        if "B3" in str(validation.sqref).split():
            ours.add_data_validation(copy.copy(validation))


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


# ---------------------------------------------------------------------------------------------
# formula results: the model's sheets are evaluated, the analyst's formulas keep their last ones

_SHEET_TAG = re.compile(r'<sheet\b[^>]*\bname="([^"]*)"[^>]*/>')
_DEFINED_NAME = re.compile(r'<definedName\b([^>]*)>.*?</definedName>|<definedName\b[^>]*/>', re.S)
_NAME_ATTRIBUTE = re.compile(r'\bname="([^"]*)"')
_FORMULA_CELL = re.compile(rb'<c\b([^>]*)>(<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)(?:<v>([^<]*)</v>|<v\s*/>)?</c>')
_OPENPYXL_FORMULA = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"([^>]*)>(<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)'
                               rb'<v\s*/></c>')
_ANY_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"([^>]*?)(?:/>|>.*?</c>)', re.S)
_REFERENCE = re.compile(rb'\br="([^"]+)"')
_TYPE = re.compile(rb'\s\bt="[^"]*"')
_STYLE = re.compile(rb'\bs="[^"]*"')
_FORMULA_TAG = re.compile(rb"<f[\s>/]")


def _unescape(name: str) -> str:
    return (name.replace("&apos;", "'").replace("&quot;", '"').replace("&lt;", "<")
            .replace("&gt;", ">").replace("&amp;", "&"))


def _count_formulas(data: bytes, sheets: list[str]) -> int:
    """How many formula cells the named sheets of a workbook file hold."""
    if not sheets:
        return 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = sheet_parts(archive)
        return sum(len(_FORMULA_TAG.findall(archive.read(parts[s]))) for s in sheets if s in parts)


def formula_results(data: bytes, sheets: set[str] | None = None) -> dict[str, Results]:
    """The last result of every formula cell of a workbook file: sheet -> cell -> (t, <v> text).

    Read from the sheet XML without openpyxl (which keeps formulas but drops their results)."""
    out: dict[str, Results] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for sheet, part in sheet_parts(archive).items():
            if sheets is not None and sheet not in sheets:
                continue
            cells: Results = {}
            for match in _FORMULA_CELL.finditer(archive.read(part)):
                if match.group(3) is None:
                    continue
                reference = _REFERENCE.search(match.group(1))
                kind = re.search(rb'\bt="([^"]*)"', match.group(1))
                if reference:
                    cells[reference.group(1).decode()] = (kind.group(1) if kind else None,
                                                          match.group(3))
            out[sheet] = cells
    return out


def _decode(result: tuple[bytes | None, bytes]) -> object:
    """A cached result as the Python value cached.py writes back."""
    kind, text = result
    value = _unescape(text.decode("utf-8"))
    if kind == b"b":
        return value == "1"
    if kind == b"e":
        return CellError(value)
    if kind in (b"str", b"s", b"inlineStr"):
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value and "E" not in value.upper() \
        else number


def _restore_results(xml: bytes, results: Results) -> bytes:
    """Sheet XML written by openpyxl with the original results beside the analyst's formulas."""
    def put(match: re.Match[bytes]) -> bytes:
        result = results.get(match.group(1).decode())
        if result is None:
            return match.group(0)
        kind, text = result
        attributes = _TYPE.sub(b"", match.group(2)) + (b' t="' + kind + b'"' if kind else b"")
        return b'<c r="' + match.group(1) + b'"' + attributes + b">" + match.group(3) + \
            b"<v>" + text + b"</v></c>"

    return _OPENPYXL_FORMULA.sub(put, xml)


def _as_constants(xml: bytes, cells: dict[str, tuple[bytes | None, bytes] | None]) -> bytes:
    """Sheet XML with the given cells turned into constants (their last results, or empty)."""
    def put(match: re.Match[bytes]) -> bytes:
        coordinate = match.group(1).decode()
        if coordinate not in cells:
            return match.group(0)
        style = _STYLE.search(match.group(2))
        head = b'<c r="' + match.group(1) + b'"' + (b" " + style.group(0) if style else b"")
        result = cells[coordinate]
        if result is None:
            return head + b"/>"
        kind, text = result
        if kind in (b"str", b"s", b"inlineStr"):
            return head + b' t="inlineStr"><is><t>' + text + b"</t></is></c>"
        return head + (b' t="' + kind + b'"' if kind else b"") + b"><v>" + text + b"</v></c>"

    return _ANY_CELL.sub(put, xml)


def _evaluation_copy(saved: bytes, model_sheets: list[str], names: list[str],
                     constants: dict[str, dict[str, tuple[bytes | None, bytes] | None]]) -> bytes:
    """The model's sheets only, with the analyst's formulas on them as constants and only the
    model's defined names: a fast evaluation no analyst formula can break."""
    keep, keep_names = set(model_sheets), set(names)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(saved)) as archive, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        parts = sheet_parts(archive)
        skip = {part for sheet, part in parts.items() if sheet not in keep}
        for item in archive.infolist():
            if item.filename in skip:
                continue
            content = archive.read(item.filename)
            if item.filename == "xl/workbook.xml":
                xml = content.decode("utf-8")
                xml = _SHEET_TAG.sub(lambda m: m.group(0) if _unescape(m.group(1)) in keep else "", xml)

                def name(match: re.Match[str]) -> str:
                    found = _NAME_ATTRIBUTE.search(match.group(0).split(">", 1)[0])
                    local = "localSheetId" in match.group(0).split(">", 1)[0]
                    return match.group(0) if found and not local and _unescape(found.group(1)) in \
                        keep_names else ""

                content = _DEFINED_NAME.sub(name, xml).encode("utf-8")
            for sheet, cells in constants.items():
                if item.filename == parts.get(sheet) and cells:
                    content = _as_constants(content, cells)
            target.writestr(item, content)
    return out.getvalue()


def _is_error(value: object) -> bool:
    return isinstance(value, CellError) or (isinstance(value, str) and value in ERRORS)


def _recalculated(data: bytes, saved: bytes, book: Workbook, plan: RefreshPlan,
                  data_dir: str | None) -> bytes:
    """The saved workbook with the model's sheets evaluated and every result cached."""
    assert plan.record is not None
    model_sheets = [ws.title for ws in book.worksheets
                    if ws.title not in plan.user_sheets and ws.title != RECORD_SHEET]
    last = formula_results(data)
    constants = {sheet: {c: last.get(sheet, {}).get(c) for c in cells}
                 for sheet, cells in plan.free_formulas.items()}
    try:
        report = evaluate(_evaluation_copy(saved, model_sheets, plan.record.names, constants), data_dir)
    except WorkbookError:
        if not plan.kept_cells:
            raise
        # an edit of a model cell the engine cannot read: evaluate with its last result instead
        for sheet, coordinate in plan.kept_cells:
            if _is_formula(_value(book[sheet], coordinate)):
                constants.setdefault(sheet, {})[coordinate] = last.get(sheet, {}).get(coordinate)
        report = evaluate(_evaluation_copy(saved, model_sheets, plan.record.names, constants), data_dir)
    owned = plan.record.cells
    wrong = [p for p in report.problems
             if p[1] in owned.get(p[0], {}) and (p[0], p[1]) not in plan.kept_cells]
    if wrong:
        sheet, cell, reason = wrong[0]
        raise WorkbookError(f"after refresh {len(wrong)} model cells do not evaluate (first "
                            f"{sheet}!{cell}: {reason}); the workbook was not changed")
    values = dict(report.values)
    for sheet, cells in constants.items():  # the analyst's formulas keep their last results
        for coordinate, result in cells.items():
            values.pop((sheet, coordinate), None)
            if result is not None:
                values[(sheet, coordinate)] = _decode(result)
    for sheet, coordinate in plan.kept_cells:  # an edit the engine cannot evaluate keeps its result
        result = last.get(sheet, {}).get(coordinate)
        if _is_error(values.get((sheet, coordinate))) and result is not None:
            values[(sheet, coordinate)] = _decode(result)
    with zipfile.ZipFile(io.BytesIO(saved)) as archive:
        members = cached_members(archive, values, report.cache)
        parts = sheet_parts(archive)
        for sheet in plan.user_sheets:
            if last.get(sheet) and sheet in parts:
                members[parts[sheet]] = _restore_results(archive.read(parts[sheet]), last[sheet])
    return normalise_zip(saved, members)


@contextmanager
def exact_numbers() -> Iterator[None]:
    """While open, openpyxl saves every float exactly.

    openpyxl writes numbers with 16 significant digits ("%.16g"), but a double needs up to 17
    and Excel writes all of them: an analyst's 0.30000000000000004 would come back as 0.3. Inside
    this context floats are written in their shortest exact form (Python's repr).
    """
    from openpyxl.cell import _writer

    original = _writer.safe_string

    def exact(value: object) -> str:
        if isinstance(value, float) and math.isfinite(value):
            return float.__repr__(value)
        return original(value)

    _writer.safe_string = exact
    try:
        yield
    finally:
        _writer.safe_string = original


def sheet_rows(data: bytes, names: tuple[str, ...]) -> dict[str, list[list[object]]]:
    """The values of whole sheets of a workbook file, as rectangular rows (for the Excel macro)."""
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    out: dict[str, list[list[object]]] = {}
    try:
        for name in names:
            if name in book.sheetnames:
                rows = [list(row) for row in book[name].iter_rows(values_only=True)]
                width = max((len(r) for r in rows), default=0)
                out[name] = [r + [None] * (width - len(r)) for r in rows if width]
    finally:
        book.close()
    return out


# ---------------------------------------------------------------------------------------------
# the analyst's own sheets: their cells are never parsed, they go back into the file verbatim

_SHEET_DATA_OPEN = re.compile(rb"<sheetData\b[^>]*?(/?)>")
_DIMENSION_TAG = re.compile(rb"<dimension\b[^>]*/>")
_ROOT_TAG = re.compile(rb"<worksheet\b[^>]*>")
_NAMESPACE = re.compile(rb'\sxmlns:(\w+)="[^"]*"')
_IGNORABLE = re.compile(rb'\smc:Ignorable="[^"]*"')
_SHARED_STRINGS = "xl/sharedStrings.xml"
_METADATA = "xl/metadata.xml"
_EXTRA_PARTS = {  # workbook-level parts the analyst's cells refer to: relationship, content type
    _SHARED_STRINGS: ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"),
    _METADATA: ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"),
}


class _NotSpliceable(Exception):
    """The saved file is not shaped as expected: refresh loads the analyst's cells instead."""


def _read_record_only(data: bytes) -> Record:
    book = _load(data, keep_vba=False, read_only=True)
    try:
        return read_record(book)
    finally:
        book.close()


def _user_sheet_titles(data: bytes, record: Record) -> list[str]:
    """The analyst's worksheets (chart sheets have no cells)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [s for s, part in sheet_parts(archive).items()
                if s not in record.sheets and s != RECORD_SHEET and part.startswith("xl/worksheets/")]


def _sheet_data(xml: bytes) -> tuple[int, int]:
    """Where <sheetData> starts and ends in sheet XML."""
    match = _SHEET_DATA_OPEN.search(xml)
    if match is None:
        raise _NotSpliceable("no <sheetData>")
    if match.group(1):
        return match.start(), match.end()
    end = xml.find(b"</sheetData>", match.end())
    if end < 0:
        raise _NotSpliceable("unclosed <sheetData>")
    return match.start(), end + len(b"</sheetData>")


def _without_cells(data: bytes, sheets: list[str]) -> bytes:
    """The workbook with the named sheets' cells left out (everything else of them kept)."""
    if not sheets:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as archive, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        parts = sheet_parts(archive)
        empty = {parts[s] for s in sheets if s in parts}
        for item in archive.infolist():
            content = archive.read(item.filename)
            if item.filename in empty:
                try:
                    start, end = _sheet_data(content)
                except _NotSpliceable:
                    return data
                content = content[:start] + b"<sheetData/>" + content[end:]
            target.writestr(item, content)
    return out.getvalue()


def _with_user_cells(original: bytes, saved: bytes, sheets: list[str]) -> bytes:
    """The saved workbook with the analyst's sheets' cells put back from the original, byte for
    byte (values, formulas, their last results, styles by index: openpyxl keeps the order of the
    cell formats it read), with the shared strings and cell metadata those cells refer to and the
    namespaces their XML uses.

    Raises:
        _NotSpliceable: the saved file is not shaped as expected.
    """
    if not sheets:
        return saved
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(io.BytesIO(saved)) as ours, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        theirs, mine = sheet_parts(source), sheet_parts(ours)
        sheets = [s for s in sheets if theirs.get(s, "").startswith("xl/worksheets/")]
        names = set(ours.namelist())
        extra = [p for p in _EXTRA_PARTS if p in source.namelist()]
        if any(p in names for p in extra):
            raise _NotSpliceable("openpyxl wrote a part the analyst's cells refer to")
        replaced: dict[str, bytes] = {}
        for sheet in sheets:
            if sheet not in theirs or sheet not in mine:
                raise _NotSpliceable(f"sheet {sheet!r} is missing")
            replaced[mine[sheet]] = _splice_sheet(source.read(theirs[sheet]), ours.read(mine[sheet]))
        for item in ours.infolist():
            content = replaced.get(item.filename)
            if content is None:
                content = ours.read(item.filename)
            if item.filename == "[Content_Types].xml" and extra:
                content = content.replace(b"</Types>", b"".join(
                    b'<Override PartName="/' + p.encode() + b'" ContentType="' + _EXTRA_PARTS[p][1].encode()
                    + b'"/>' for p in extra) + b"</Types>")
            elif item.filename == "xl/_rels/workbook.xml.rels" and extra:
                content = content.replace(b"</Relationships>", b"".join(
                    b'<Relationship Id="rIdXlNegcoke' + str(i).encode() + b'" Type="'
                    + _EXTRA_PARTS[p][0].encode() + b'" Target="' + p.split("/", 1)[1].encode() + b'"/>'
                    for i, p in enumerate(extra)) + b"</Relationships>")
            target.writestr(item, content)
        for part in extra:
            target.writestr(part, source.read(part))
    return out.getvalue()


def _splice_sheet(original: bytes, saved: bytes) -> bytes:
    start, end = _sheet_data(original)
    cells = original[start:end]
    at, to = _sheet_data(saved)
    xml = saved[:at] + cells + saved[to:]
    dimension = _DIMENSION_TAG.search(original)
    if dimension:
        xml = _DIMENSION_TAG.sub(lambda _m: dimension.group(0), xml, count=1)
    root_theirs, root_mine = _ROOT_TAG.search(original), _ROOT_TAG.search(xml)
    if root_theirs is None or root_mine is None:
        raise _NotSpliceable("no <worksheet> element")
    declared = set(_NAMESPACE.findall(root_mine.group(0)))
    missing = b"".join(m.group(0) for m in _NAMESPACE.finditer(root_theirs.group(0))
                       if m.group(1) not in declared)
    ignorable = _IGNORABLE.search(root_theirs.group(0))
    if ignorable and not _IGNORABLE.search(root_mine.group(0)):
        missing += ignorable.group(0)
    if missing:
        tag = root_mine.group(0)
        closing = 2 if tag.endswith(b"/>") else 1
        xml = xml[:root_mine.start()] + tag[:-closing] + missing + tag[-closing:] + xml[root_mine.end():]
    return _with_extensions(original, xml)


_SHEET_END = re.compile(rb"</extLst>\s*</worksheet>\s*$")
_EXTENSION = re.compile(rb'<ext\b[^>]*\buri="(\{[^}"]+\})"[^>]*>.*?</ext>', re.S)
_CARRIED_EXTENSIONS = {  # self-contained Excel 2010 parts of a sheet that openpyxl drops
    b"{CCE6A557-97BC-4B89-ADB6-D9C93CAAB3DF}",  # data validations (lists on other sheets)
    b"{05C60535-1F16-4FD2-B633-F4F36F0B64E0}",  # sparklines
    b"{78C0D931-6437-407D-A8EE-F0AAD7539E65}",  # conditional formats (Excel 2010 kinds)
}


def _with_extensions(original: bytes, xml: bytes) -> bytes:
    """The sheet XML with the original's self-contained Excel 2010 extensions (validations
    referring to other sheets, sparklines, newer conditional formats) put back: openpyxl drops
    the whole <extLst>. Data bars are left out (their extension is tied to a rule openpyxl
    rewrites); anything that points to another part is left out (the loss guard names it)."""
    if _SHEET_END.search(original) is None or _SHEET_END.search(xml) is not None:
        return xml
    start = original.rfind(b"<extLst>", 0, _SHEET_END.search(original).start())
    if start < 0:
        return xml
    kept = [m.group(0) for m in _EXTENSION.finditer(original, start)
            if m.group(1).upper() in _CARRIED_EXTENSIONS and b'type="dataBar"' not in m.group(0)
            and b"r:id=" not in m.group(0)]
    if not kept:
        return xml
    end = xml.rfind(b"</worksheet>")
    return xml[:end] + b"<extLst>" + b"".join(kept) + b"</extLst>" + xml[end:]


def _save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    with exact_numbers():
        book.save(buffer)
    return buffer.getvalue()


def refresh_bytes(data: bytes, model: Model, reset_inputs: bool = False,
                  data_dir: str | None = None) -> tuple[bytes, RefreshPlan]:
    """The refreshed workbook's bytes (recalculated) and the plan that made them.

    Raises:
        WorkbookError: an unreadable workbook, no ownership record, a model cell that does not
            evaluate, or content of the analyst's that the refresh could not carry over.
    """
    book, plan = plan_refresh(data, model, reset_inputs, user_cells=False)
    try:
        saved = _with_user_cells(data, _save(book), plan.user_sheets)
    except _NotSpliceable:  # an unusual file: take the analyst's cells through openpyxl
        book, plan = plan_refresh(data, model, reset_inputs)
        saved = _save(book)
    result = _recalculated(data, saved, book, plan, data_dir)
    losses = find_losses(data, result, plan.previous)
    if losses:
        hint = " (pip install pillow, then refresh again)" if any("picture" in loss for loss in losses) \
            and not _has_pillow() else ""
        shown = "; ".join(losses[:4]) + (f"; and {len(losses) - 4} more" if len(losses) > 4 else "")
        raise WorkbookError(f"refresh would lose {shown}{hint}; nothing was changed")
    return result, plan


# ---------------------------------------------------------------------------------------------
# the loss guard: what the analyst had must still be there


def _has_pillow() -> bool:
    from openpyxl.drawing.image import PILImage

    return bool(PILImage)


_SHEET_ITEMS = (
    ("conditional format rule", re.compile(rb"<cfRule\b")),
    ("data validation", re.compile(rb"<(?:x14:)?dataValidation\b")),
    ("sparkline group", re.compile(rb"<x14:sparklineGroup\b")),
    ("slicer", re.compile(rb"<x14:slicer\b")),
    ("table", re.compile(rb"<tablePart\b")),
    ("form control", re.compile(rb"<control\b")),
    ("embedded object", re.compile(rb"<oleObject\b")),
    ("hyperlink", re.compile(rb"<hyperlink\b")),
    ("dynamic-array formula", re.compile(rb'<c\b[^>]*?\scm="')),
)
_X14_RULE = re.compile(rb"<x14:cfRule\b[^>]*>")
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*>")
_ATTRIBUTE = re.compile(rb'(\w+)="([^"]*)"')
_PACKAGE_ITEMS = (
    ("pivot table", "xl/pivotTables/"), ("pivot cache", "xl/pivotCache/"),
    ("slicer cache", "xl/slicerCaches/"), ("timeline", "xl/timelines/"),
    ("external link", "xl/externalLinks/"), ("chart sheet", "xl/chartsheets/"),
    ("embedded file", "xl/embeddings/"), ("ActiveX control", "xl/activeX/"),
    ("form control", "xl/ctrlProps/"), ("threaded comment part", "xl/threadedComments/"),
    ("query table", "xl/queryTables/"), ("data model", "xl/model/"),
    ("data connection list", "xl/connections.xml"), ("picture in a cell", "xl/richData/"),
)
_DRAWING_KINDS = {"pic": "picture", "sp": "shape", "grpSp": "group of shapes",
                  "cxnSp": "connector", "contentPart": "ink drawing",
                  "AlternateContent": "drawing object"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str]]:
    """(type, target part) of a part's internal relationships."""
    folder, name = posixpath.split(part)
    rels = f"{folder}/_rels/{name}.rels"
    if rels not in archive.namelist():
        return []
    out = []
    for tag in _RELATIONSHIP.findall(archive.read(rels)):
        attributes = {k.decode(): v.decode() for k, v in _ATTRIBUTE.findall(tag)}
        if attributes.get("TargetMode") == "External":
            continue
        target = attributes.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else \
            posixpath.normpath(posixpath.join(folder, target))
        out.append((attributes.get("Type", "").rsplit("/", 1)[-1], target))
    return out


def _drawing_items(xml: bytes) -> Counter[str]:
    items: Counter[str] = Counter()
    try:
        root = ElementTree.fromstring(xml)
    except Exception:  # an unreadable drawing counts as one item that must survive
        items["drawing"] += 1
        return items
    for anchor in root:
        position = "absolute"
        children = list(anchor)
        for child in children:
            if _local(child.tag) == "from":
                cells = {_local(c.tag): int(c.text or 0) for c in child}
                position = f"{get_column_letter(cells.get('col', 0) + 1)}{cells.get('row', 0) + 1}"
        for child in children:
            kind = _local(child.tag)
            if kind == "graphicFrame":
                is_chart = any(_local(e.tag) == "chart" for e in child.iter())
                items[f"{'chart' if is_chart else 'embedded object'} at {position}"] += 1
            elif kind in _DRAWING_KINDS:
                items[f"{_DRAWING_KINDS[kind]} at {position}"] += 1
    return items


def _inventory(data: bytes) -> tuple[dict[str, Counter[str]], Counter[str], bytes | None]:
    """Per sheet, what the analyst can lose (rules, validations, drawings, comments, ...); the
    package-level parts of the same kind; and the VBA project."""
    sheets: dict[str, Counter[str]] = {}
    package: Counter[str] = Counter()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        for sheet, part in sheet_parts(archive).items():
            if part not in names:
                continue
            xml = archive.read(part)
            items: Counter[str] = Counter()
            for label, pattern in _SHEET_ITEMS:
                items[label] += len(pattern.findall(xml))
            items["conditional format rule"] += sum(1 for tag in _X14_RULE.findall(xml)
                                                    if b'type="dataBar"' not in tag)
            for kind, target in _relationships(archive, part):
                if target not in names:
                    continue
                if kind == "drawing":
                    items.update(_drawing_items(archive.read(target)))
                elif kind == "comments":
                    items["comment"] += len(re.findall(rb"<comment\b", archive.read(target)))
                elif kind == "threadedComment":
                    items["threaded comment"] += len(re.findall(rb"<threadedComment\b",
                                                                archive.read(target)))
            sheets[sheet] = +items
        for label, prefix in _PACKAGE_ITEMS:
            package[label] = sum(1 for n in names if n.startswith(prefix) and not n.endswith(".rels"))
        vba = archive.read("xl/vbaProject.bin") if "xl/vbaProject.bin" in names else None
    return sheets, +package, vba


def find_losses(original: bytes, result: bytes, record: Record | None = None) -> list[str]:
    """What the original workbook had and the result lacks (the model's own charts, rewritten
    by the refresh, excepted): one readable item per loss, empty when nothing is lost."""
    before, package_before, vba_before = _inventory(original)
    after, package_after, vba_after = _inventory(result)
    model_sheets = set(record.sheets) if record else set()
    losses: list[str] = []
    for sheet, items in before.items():
        items = Counter(items)
        if sheet in model_sheets:
            items.pop("hyperlink", None)  # Contents links are the model's
        if record:
            for anchor in record.charts.get(sheet, []):
                items[f"chart at {anchor}"] -= 1
        for item, count in sorted((+(items - after.get(sheet, Counter()))).items()):
            label, _, where = item.partition(" at ")
            losses.append(f"{count} {label}{'s' if count > 1 else ''} on '{sheet}'"
                          + (f" at {where}" if where else ""))
    for item, count in sorted((package_before - package_after).items()):
        losses.append(f"{count} {item}{'s' if count > 1 else ''}")
    if vba_before is not None and vba_before != vba_after:
        losses.append("the VBA project (it would not stay byte-identical)")
    return losses


def lock_file(path: Path) -> Path:
    """Excel's lock file for an open workbook: ~$name.xlsx beside it."""
    return path.with_name("~$" + path.name)


def backup_path(path: Path) -> Path:
    """Where refresh keeps the previous version: name.before-refresh.xlsx beside it."""
    return path.with_name(f"{path.stem}.before-refresh{path.suffix}")


def refresh_file(path: str | Path, model: Model, reset_inputs: bool = False, dry_run: bool = False,
                 force: bool = False, data_dir: str | None = None) -> RefreshPlan:
    """Refresh a workbook file in place, keeping a backup beside it.

    Nothing is written with `dry_run`. The file is replaced only when the refreshed workbook is
    complete (temporary file, then rename); on any failure it is left byte-identical.

    Raises:
        WorkbookError: unreadable file, no ownership record, open in Excel (without `force`),
            or content the refresh could not carry over.
    """
    target = Path(path)
    data = read_workbook(target)
    if lock_file(target).exists() and not force:
        raise WorkbookError(f"{target.name} is open in Excel ({lock_file(target).name} exists); "
                            "close it first, or pass --force")
    result, plan = refresh_bytes(data, model, reset_inputs, data_dir)
    if not dry_run:
        atomic_write(backup_path(target), data)
        atomic_write(target, result)
    return plan
