"""Refresh an analyst's workbook: new numbers and template, all of their work kept.

Model-owned content (the cells, names and charts listed in the ownership record, the Cache
and the xlwings.conf entries) is rewritten from a fresh build; everything else stays: sheets the
analyst added and their order, every cell typed outside model-owned cells, changed inputs on
Assumptions (unless reset), comments, defined names, data validation, conditional formats,
formats, column widths, hidden state, charts and images they added, and the VBA of an .xlsm.
A model-owned cell the analyst edited is kept and reported, never silently overwritten.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import Model
from xl_negcoke.workbook.build import ASSUMPTIONS, ASSUMPTIONS_HEADER_ROW, CACHE
from xl_negcoke.workbook.files import atomic_write, book_bytes, read_workbook
from xl_negcoke.workbook.ownership import (
    ARRAY_MEMBER,
    RECORD_SHEET,
    Record,
    cell_fingerprint,
    chart_anchor,
    read_record,
    record_book,
    write_record,
)
from xl_negcoke.workbook.recalc import evaluate, with_cached_values
from xl_negcoke.workbook.template import input_cells, owned_book, quickstart_path


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
    user_formulas_outside: int = 0  # analyst formulas on their own sheets (keep last results)
    old_dataset: str = ""
    new_dataset: str = ""

    def lines(self) -> list[str]:
        """The plan as readable lines."""
        out = [f"dataset {self.old_dataset} -> {self.new_dataset}",
               f"model cells rewritten: {self.rewritten:,}; cleared: {self.cleared:,}"]
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
            out.append(f"{self.user_formulas_outside:,} formulas on your sheets keep their last results "
                       "until Excel recalculates")
        return out


def _is_formula(cell: Cell) -> bool:
    return isinstance(cell.value, ArrayFormula) or cell.data_type == "f"


def _copy_cell(source: Cell, target: Cell) -> None:
    target.value = source.value
    if source.has_style:
        target._style = copy.copy(source._style)
    target.hyperlink = copy.copy(source.hyperlink) if source.hyperlink else None


def _block_cells(ref: str) -> list[str]:
    c1, r1, c2, r2 = range_boundaries(ref)
    return [f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


def _user_inputs(user: Workbook, record: Record) -> tuple[dict[str, object], object]:
    """{key: value} of the assumption values the analyst changed, and their scenario (or None)."""
    if ASSUMPTIONS not in user.sheetnames:
        return {}, None
    ws = user[ASSUMPTIONS]
    recorded = record.inputs.get(ASSUMPTIONS, {})
    changed: dict[str, object] = {}
    for row in range(ASSUMPTIONS_HEADER_ROW + 1, ws.max_row + 1):
        key = ws.cell(row, 1).value
        cell = ws.cell(row, 2)
        if isinstance(key, str) and cell.coordinate in recorded and \
                cell_fingerprint(cell) != recorded[cell.coordinate]:
            changed[key] = cell.value
    scenario = ws["B3"]
    edited_scenario = scenario.value if cell_fingerprint(scenario) != recorded.get("B3") else None
    return changed, edited_scenario


def _refresh_sheet(ours: Worksheet, fresh: Worksheet, record: Record, plan: RefreshPlan) -> None:
    """Rewrite the model-owned cells of one sheet from the fresh template."""
    owned = {} if ours.title == CACHE else record.cells.get(ours.title, {})
    protected: set[str] = set()
    for coordinate, digest in owned.items():  # analyst edits of model cells are kept
        cell = ours[coordinate]
        if digest != ARRAY_MEMBER and cell_fingerprint(cell) != digest:
            protected.add(coordinate)
            if cell_fingerprint(cell) != cell_fingerprint(fresh[coordinate]):
                plan.kept_edits.append(f"'{ours.title}'!{coordinate}")
    for coordinate, digest in owned.items():
        if coordinate not in protected:
            cell = ours[coordinate]
            if digest != ARRAY_MEMBER and cell.value is not None and fresh[coordinate].value is None:
                plan.cleared += 1
            cell.value = None
    if ours.title == CACHE:  # the fallback values: the new recalculation fills them again
        for row in ours.iter_rows():
            for cell in row:
                cell.value = None
    blocked: set[str] = set()
    for row in fresh.iter_rows():
        for cell in row:
            if isinstance(cell.value, ArrayFormula):
                block = _block_cells(cell.value.ref)
                clash = [c for c in block if c in protected or (
                    not record.owns(ours.title, c) and ours.title != CACHE and ours[c].value is not None)]
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
            if (not record.owns(ours.title, coordinate) and ours.title != CACHE
                    and target.value is not None and cell.value is not None):
                plan.collisions.append(f"'{ours.title}'!{coordinate}")
                continue
            if cell.value is not None:
                plan.rewritten += 1
            _copy_cell(cell, target)
    # model charts (by their recorded anchors) are replaced by the fresh template's charts
    model_anchors = set(record.charts.get(ours.title, []))
    ours._charts = [c for c in ours._charts if chart_anchor(c) not in model_anchors]
    for chart in fresh._charts:
        ours.add_chart(copy.deepcopy(chart))


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
    for validation in fresh.data_validations.dataValidation:
        ws.add_data_validation(copy.copy(validation))
    return ws


def plan_refresh(data: bytes, model: Model, reset_inputs: bool = False
                 ) -> tuple[Workbook, RefreshPlan]:
    """Apply the refresh to an in-memory copy of the workbook and say what changed."""
    macro = "xl/vbaProject.bin" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    user = load_workbook(io.BytesIO(data), keep_vba=macro)
    record = read_record(user)
    changed, scenario = _user_inputs(user, record)
    fresh = owned_book(model, load_workbook(quickstart_path(), keep_vba=True) if macro else None)
    plan = RefreshPlan(old_dataset=record.dataset_id, new_dataset=model.dataset.dataset_id)
    plan.user_sheets = [s for s in user.sheetnames if s not in record.sheets and s != RECORD_SHEET]
    for name in plan.user_sheets:
        plan.user_formulas_outside += sum(1 for row in user[name].iter_rows() for c in row
                                          if _is_formula(c))
    previous: str | None = None
    for fresh_ws in fresh.worksheets:
        if fresh_ws.title == RECORD_SHEET:
            continue
        if fresh_ws.title in user.sheetnames:
            ours = user[fresh_ws.title]
        else:
            ours = _new_sheet(user, fresh_ws, previous)
            plan.added_sheets.append(fresh_ws.title)
        _refresh_sheet(ours, fresh_ws, record, plan)
        previous = fresh_ws.title
    _restore_inputs(user, changed, scenario, model, reset_inputs, plan)
    _refresh_names(user, fresh, record)
    _refresh_validations(user, fresh)
    write_record(user, _merged_record(fresh, plan))
    return user, plan


def _restore_inputs(user: Workbook, changed: dict[str, object], scenario: object, model: Model,
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
    for name, definition in fresh.defined_names.items():
        if name in user.defined_names and name not in record.names:
            continue  # the analyst's own name of the same spelling wins
        user.defined_names[name] = copy.copy(definition)


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
        record.cells.get(sheet.strip("'"), {}).pop(coordinate.split(" ")[0], None)
    return record


_SHEET_TAG = re.compile(r'<sheet\b[^>]*\bname="([^"]*)"[^>]*/>')
_DEFINED_NAMES = re.compile(r"<definedNames>.*?</definedNames>", re.S)


def model_only(data: bytes, model_sheets: list[str]) -> bytes:
    """A copy that lists only the model's sheets, for a fast evaluation of the model's formulas
    (the analyst's sheets are never referenced by them)."""
    keep = set(model_sheets)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/workbook.xml").decode("utf-8")

        def drop(match: re.Match[str]) -> str:
            name = match.group(1).replace("&amp;", "&").replace("&apos;", "'")
            return match.group(0) if name in keep else ""

        xml = _SHEET_TAG.sub(drop, xml)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for item in archive.infolist():
                content = archive.read(item.filename)
                if item.filename == "xl/workbook.xml":
                    content = xml.encode("utf-8")
                target.writestr(item, content)
    return out.getvalue()


def refresh_bytes(data: bytes, model: Model, reset_inputs: bool = False,
                  data_dir: str | None = None) -> tuple[bytes, RefreshPlan]:
    """The refreshed workbook's bytes (recalculated) and the plan that made them."""
    book, plan = plan_refresh(data, model, reset_inputs)
    model_sheets = [ws.title for ws in book.worksheets
                    if ws.title not in plan.user_sheets and ws.title != RECORD_SHEET]
    saved = book_bytes(book)
    report = evaluate(model_only(saved, model_sheets), data_dir)
    wrong = [p for p in report.problems if f"'{p[0]}'!{p[1]}" not in plan.kept_edits]
    if wrong:
        sheet, cell, reason = wrong[0]
        raise WorkbookError(f"after refresh {len(wrong)} model cells do not evaluate (first "
                            f"{sheet}!{cell}: {reason}); the workbook was not changed")
    return with_cached_values(saved, report.values, report.cache), plan


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
        WorkbookError: unreadable file, no ownership record, open in Excel (without `force`).
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
