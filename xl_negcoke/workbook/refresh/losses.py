"""Losses: before anything is written, the result is compared with the original for what
openpyxl cannot carry over (shapes, images without Pillow, sparklines, form controls, ...); the
refresh refuses rather than lose any of it.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections import Counter

from defusedxml import ElementTree
from openpyxl.utils.cell import get_column_letter

from xl_negcoke.workbook.cached import sheet_parts
from xl_negcoke.workbook.ownership import (
    Record,
)


def has_pillow() -> bool:
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

