"""Splice: the analyst's own sheets are loaded without their cells, and their cells go back into
the saved file byte for byte (values, formulas with their last results, styles by index, shared
strings, dynamic-array metadata), so refresh time does not grow with the analyst's content.
"""

from __future__ import annotations

import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from openpyxl import Workbook, load_workbook

from xl_negcoke.errors import WorkbookError
from xl_negcoke.workbook.cached import sheet_parts
from xl_negcoke.workbook.ownership import (
    RECORD_SHEET,
    Record,
    read_record,
)


def load_book(data: bytes, keep_vba: bool, read_only: bool = False) -> Workbook:
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


_FORMULA_TAG = re.compile(rb"<f[\s>/]")


def count_formulas(data: bytes, sheets: list[str]) -> int:
    """How many formula cells the named sheets of a workbook file hold."""
    if not sheets:
        return 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = sheet_parts(archive)
        return sum(len(_FORMULA_TAG.findall(archive.read(parts[s]))) for s in sheets if s in parts)


class NotSpliceable(Exception):
    """The saved file is not shaped as expected: refresh loads the analyst's cells instead."""


def read_record_only(data: bytes) -> Record:
    book = load_book(data, keep_vba=False, read_only=True)
    try:
        return read_record(book)
    finally:
        book.close()


def user_sheet_titles(data: bytes, record: Record) -> list[str]:
    """The analyst's worksheets (chart sheets have no cells)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [s for s, part in sheet_parts(archive).items()
                if s not in record.sheets and s != RECORD_SHEET and part.startswith("xl/worksheets/")]


def _sheet_data(xml: bytes) -> tuple[int, int]:
    """Where <sheetData> starts and ends in sheet XML."""
    match = _SHEET_DATA_OPEN.search(xml)
    if match is None:
        raise NotSpliceable("no <sheetData>")
    if match.group(1):
        return match.start(), match.end()
    end = xml.find(b"</sheetData>", match.end())
    if end < 0:
        raise NotSpliceable("unclosed <sheetData>")
    return match.start(), end + len(b"</sheetData>")


def without_cells(data: bytes, sheets: list[str]) -> bytes:
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
                except NotSpliceable:
                    return data
                content = content[:start] + b"<sheetData/>" + content[end:]
            target.writestr(item, content)
    return out.getvalue()


def with_user_cells(original: bytes, saved: bytes, sheets: list[str]) -> bytes:
    """The saved workbook with the analyst's sheets' cells put back from the original, byte for
    byte (values, formulas, their last results, styles by index: openpyxl keeps the order of the
    cell formats it read), with the shared strings and cell metadata those cells refer to and the
    namespaces their XML uses.

    Raises:
        NotSpliceable: the saved file is not shaped as expected.
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
            raise NotSpliceable("openpyxl wrote a part the analyst's cells refer to")
        replaced: dict[str, bytes] = {}
        for sheet in sheets:
            if sheet not in theirs or sheet not in mine:
                raise NotSpliceable(f"sheet {sheet!r} is missing")
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
        raise NotSpliceable("no <worksheet> element")
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


def save_book(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    with exact_numbers():
        book.save(buffer)
    return buffer.getvalue()

