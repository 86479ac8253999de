"""Write cached formula results into a saved workbook's sheet XML.

openpyxl writes a formula with an empty result and leaves out the non-anchor cells of an array
formula. Excel before recalculation, LibreOffice, pandas, calamine and previewers show the
cached `<v>` of a cell, so after evaluating we patch each sheet's `<sheetData>` textually: only
the cells we were given change, missing cells of array blocks are inserted in order, and every
other part of the file stays byte-identical.

Encoding (ECMA-376 18.3.1.4): numbers have no `t`; booleans `t="b"`; text `t="str"`; errors
`t="e"`.
"""

from __future__ import annotations

import math
import posixpath
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from xml.sax.saxutils import escape

from openpyxl.utils.cell import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
    range_boundaries,
)

ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                    "#GETTING_DATA", "#SPILL!", "#CALC!"})
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"

_SHEET_DATA = re.compile(r"<sheetData\s*/>|<sheetData\b[^>]*>(.*?)</sheetData>", re.S)
_ROW = re.compile(r"<row\b([^>]*?)(/>|>(.*?)</row>)", re.S)
_CELL = re.compile(r"<c\b([^>]*?)(/>|>(.*?)</c>)", re.S)
_ATTRIBUTE = re.compile(r'([\w:]+)\s*=\s*("[^"]*"|\'[^\']*\')')
_FORMULA = re.compile(r"<f\b[^>]*/>|<f\b[^>]*>.*?</f>", re.S)
_DIMENSION = re.compile(r'(<dimension\b[^>]*\bref=")([^"]*)(")')
_CALC_PR = re.compile(r"<calcPr\b[^>]*?/>|<calcPr\b[^>]*>.*?</calcPr>", re.S)

Values = dict[tuple[str, str], object]  # (sheet title, "B5") -> value


class CellError(str):
    """An Excel error value (#N/A, #VALUE!, ...) as opposed to text that looks like one."""


def encode(value: object) -> tuple[str | None, str | None]:
    """A value as (t attribute, <v> text); (None, None) writes no cached value."""
    if value is None:
        return None, None
    if isinstance(value, CellError):
        return "e", str(value)
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, int):
        return None, str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "e", "#NUM!"
        return None, repr(value)
    return "str", str(value)


def _attributes(text: str) -> list[tuple[str, str]]:
    return [(k, v[1:-1]) for k, v in _ATTRIBUTE.findall(text)]


def _format(attributes: list[tuple[str, str]]) -> str:
    return "".join(f' {k}="{v}"' for k, v in attributes)


def _cell_xml(attributes: list[tuple[str, str]], formula: str, value: object, constant: bool) -> str:
    kind, text = encode(value)
    attributes = [(k, v) for k, v in attributes if k != "t"]
    if constant:
        formula = ""
        if kind == "str":
            kind = "inlineStr"  # a constant string; t="str" means a formula's text result
    if kind:
        attributes = [*attributes[:1], ("t", kind), *attributes[1:]]
    if kind == "inlineStr":
        body = f"<is><t>{escape(str(text))}</t></is>"
    else:
        body = formula + ("" if text is None else f"<v>{escape(text)}</v>")
    return f"<c{_format(attributes)}>{body}</c>" if body else f"<c{_format(attributes)}/>"


def patch_sheet(xml: str, cells: dict[str, object], constants: frozenset[str] = frozenset()) -> str:
    """Return sheet XML with cached values for `cells` ({"B5": value}).

    Cells named in `constants` become plain values (any formula dropped); the others are formula
    results: beside the cell's formula, or alone for the cells of an array block after its first.
    """
    by_row: dict[int, dict[int, tuple[str, object]]] = {}
    for coordinate, value in cells.items():
        column, row = coordinate_from_string(coordinate)
        by_row.setdefault(row, {})[column_index_from_string(column)] = (f"{column}{row}", value)
    match = _SHEET_DATA.search(xml)
    if match is None:
        raise ValueError("worksheet has no <sheetData>")
    rows: list[tuple[int, list[tuple[str, str]], str, str | None]] = []
    for row_match in _ROW.finditer(match.group(1) or ""):
        attributes = _attributes(row_match.group(1))
        rows.append((int(dict(attributes)["r"]), attributes, row_match.group(3) or "",
                     row_match.group(0)))
    present = {r[0] for r in rows}
    rows += [(n, [("r", str(n))], "", None) for n in by_row.keys() - present]
    rows.sort(key=lambda r: r[0])
    out: list[str] = []
    for number, attributes, body, raw in rows:
        todo = by_row.get(number)
        if not todo:
            out.append(raw or "")
            continue
        parsed: list[tuple[int, str]] = []
        for cell in _CELL.finditer(body):
            cell_attributes = _attributes(cell.group(1))
            column = column_index_from_string(coordinate_from_string(dict(cell_attributes)["r"])[0])
            if column in todo:
                _coordinate, value = todo.pop(column)
                formula = _FORMULA.search(cell.group(3) or "")
                parsed.append((column, _cell_xml(cell_attributes, formula.group(0) if formula else "",
                                                 value, _coordinate in constants)))
            else:
                parsed.append((column, cell.group(0)))
        for column, (coordinate, value) in todo.items():  # array cells openpyxl did not write
            parsed.append((column, _cell_xml([("r", coordinate)], "", value, coordinate in constants)))
        parsed.sort(key=lambda item: item[0])
        attributes = [(k, v) for k, v in attributes if k != "spans"]
        out.append(f"<row{_format(attributes)}>{''.join(c for _, c in parsed)}</row>")
    xml = xml[: match.start()] + f"<sheetData>{''.join(out)}</sheetData>" + xml[match.end():]
    dimension = _DIMENSION.search(xml)
    if dimension and cells:
        ref = dimension.group(2)
        c1, r1, c2, r2 = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
        for coordinate in cells:
            column, row = coordinate_from_string(coordinate)
            index = column_index_from_string(column)
            c1, c2, r1, r2 = min(c1, index), max(c2, index), min(r1, row), max(r2, row)
        new = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}"
        xml = xml[: dimension.start(2)] + new + xml[dimension.end(2):]
    return xml


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> zip member of its worksheet XML."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in relations.iter(f"{{{_PACKAGE}}}Relationship")}
    parts: dict[str, str] = {}
    for sheet in book.iter(f"{{{_MAIN}}}sheet"):
        target = targets[sheet.get(f"{{{_RELATIONSHIP}}}id")] or ""
        parts[sheet.get("name") or ""] = (target.lstrip("/") if target.startswith("/")
                                          else posixpath.normpath(posixpath.join("xl", target)))
    return parts


def patch_calc_properties(xml: str) -> str:
    """Drop fullCalcOnLoad so Excel shows the cached values on open instead of recalculating
    (without the add-in every NEGCOKE_* cell would turn into #NAME?)."""
    match = _CALC_PR.search(xml)
    if match is None:
        return xml
    attributes = [(k, v) for k, v in _attributes(match.group(0)) if k != "fullCalcOnLoad"]
    return xml[: match.start()] + f"<calcPr{_format(attributes)}/>" + xml[match.end():]


def cached_members(archive: zipfile.ZipFile, values: Values, constants: Values | None = None
                   ) -> dict[str, bytes]:
    """The replaced zip members (sheets and workbook.xml) that carry `values` (formula results)
    and `constants` (plain values, replacing whatever those cells held)."""
    per_sheet: dict[str, dict[str, object]] = {}
    constant_cells: dict[str, set[str]] = {}
    for (sheet, coordinate), value in values.items():
        per_sheet.setdefault(sheet, {})[coordinate] = value
    for (sheet, coordinate), value in (constants or {}).items():
        per_sheet.setdefault(sheet, {})[coordinate] = value
        constant_cells.setdefault(sheet, set()).add(coordinate)
    parts = sheet_parts(archive)
    unknown = sorted(set(per_sheet) - set(parts))
    if unknown:
        raise KeyError(f"unknown sheets: {', '.join(unknown)}")
    members = {parts[s]: patch_sheet(archive.read(parts[s]).decode("utf-8"), cells,
                                     frozenset(constant_cells.get(s, ()))).encode("utf-8")
               for s, cells in per_sheet.items()}
    members["xl/workbook.xml"] = patch_calc_properties(
        archive.read("xl/workbook.xml").decode("utf-8")).encode("utf-8")
    return members
