"""Results: the model's sheets are evaluated, the analyst's formulas keep their last results.

openpyxl keeps formulas but drops their cached results; these are read from the sheet XML and
put back, and numbers are written with every digit they need.
"""

from __future__ import annotations

import io
import re
import zipfile

from openpyxl import Workbook, load_workbook

from xl_negcoke.errors import WorkbookError
from xl_negcoke.workbook.cached import ERRORS, CellError, cached_members, sheet_parts
from xl_negcoke.workbook.files import normalise_zip
from xl_negcoke.workbook.ownership import (
    RECORD_SHEET,
)
from xl_negcoke.workbook.recalc import evaluate
from xl_negcoke.workbook.refresh.plan import RefreshPlan, cell_value, is_formula

Results = dict[str, tuple[bytes | None, bytes]]  # cell -> (t attribute, <v> text) of a formula

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


def _unescape(name: str) -> str:
    return (name.replace("&apos;", "'").replace("&quot;", '"').replace("&lt;", "<")
            .replace("&gt;", ">").replace("&amp;", "&"))


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


def recalculated(data: bytes, saved: bytes, book: Workbook, plan: RefreshPlan,
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
            if is_formula(cell_value(book[sheet], coordinate)):
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
    return normalise_zip(saved, members, stamp=False)  # not a build: it holds the analyst's work


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

