"""Anchors: find each model block again after the analyst inserted or deleted rows or columns.

A block is a run of rows holding model-owned cells, with an empty row above and below it (a
title, a table, a check list: whatever the build writes), taken from the ownership record, so
nothing here knows today's blocks. Each block of the record is looked for in the analyst's sheet
by voting: every model cell whose content (or, for a formula Excel adjusted when rows moved, its
content moved back) appears elsewhere proposes the offset it moved by; the offset most cells
agree on places the block. A block whose cells agree on two offsets was cut by an inserted or
deleted row or column; a block no cell of which can be found takes the offset of the blocks
around it when they agree. Otherwise the refresh stops, naming the sheet and the block.

The placements then move the fresh template's blocks to where the analyst's blocks now are
(cells, styles, formulas' references on every sheet, array ranges, merged ranges, charts and
their data, defined names, links, row heights) and the old record to where its cells now are, so
the rest of the refresh works on the analyst's layout. The new record keeps each block's shift
from the template (`Record.shifts`), so the next refresh places it again.
"""

from __future__ import annotations

import bisect
import copy
import re
from collections import Counter
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from xl_negcoke.errors import WorkbookError
from xl_negcoke.workbook.build import ASSUMPTIONS, CACHE
from xl_negcoke.workbook.ownership import ARRAY_MEMBER, RECORD_SHEET, Record, chart_anchor, fingerprint
from xl_negcoke.workbook.sheets import CONF

Offset = tuple[int, int]  # (rows, columns) a block moved by
FIXED_SHEETS = (ASSUMPTIONS, CACHE, CONF)  # inputs by key, rewritten whole, settings


@dataclass
class Block:
    """A run of rows of model cells on one sheet, at the positions the record has them."""

    top: int
    bottom: int
    cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) -> digest

    @property
    def first(self) -> tuple[int, int]:
        return min(self.cells)

    @property
    def left(self) -> int:
        return min(c for _r, c in self.cells)

    @property
    def right(self) -> int:
        return max(c for _r, c in self.cells)

    def area(self) -> str:
        return f"{get_column_letter(self.left)}{self.top}:{get_column_letter(self.right)}{self.bottom}"


def blocks_of(cells: dict[str, str]) -> list[Block]:
    """The blocks of one sheet's recorded cells (coordinate -> digest), top to bottom."""
    by_row: dict[int, dict[tuple[int, int], str]] = {}
    for coordinate, digest in cells.items():
        row, column = coordinate_to_tuple(coordinate)
        by_row.setdefault(row, {})[(row, column)] = digest
    blocks: list[Block] = []
    for row in sorted(by_row):
        if blocks and blocks[-1].bottom >= row - 1:
            blocks[-1].bottom = row
        else:
            blocks.append(Block(row, row))
        blocks[-1].cells.update(by_row[row])
    return blocks


class Placement:
    """Where the cells of one sheet went: each block's rows moved by its offset; rows between
    blocks move with the block above them (rows above the first block do not move)."""

    def __init__(self, blocks: list[tuple[int, int, Offset]]) -> None:
        self.spans = sorted(blocks)  # (top, bottom, offset)
        self.tops = [top for top, _bottom, _offset in self.spans]

    def offset(self, row: int) -> Offset:
        index = bisect.bisect_right(self.tops, row) - 1
        return (0, 0) if index < 0 else self.spans[index][2]

    def cell(self, row: int, column: int) -> tuple[int, int]:
        rows, columns = self.offset(row)
        return row + rows, column + columns

    @property
    def moved(self) -> bool:
        return any(offset != (0, 0) for _top, _bottom, offset in self.spans)


Placements = dict[str, Placement]

_CELL = re.compile(r"^(\$?)([A-Z]{1,3})(\$?)(\d+)$")


def _split_sheet(reference: str) -> tuple[str | None, str]:
    if "!" not in reference:
        return None, reference
    sheet, _, address = reference.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, address


def move_reference(reference: str, own_sheet: str, placements: Placements) -> str:
    """A reference ("B12", "$A$1:$N$9", "'4 By type'!F12") with each cell moved by its sheet's
    placement; names, whole rows or columns and other books are left as they are."""
    sheet, address = _split_sheet(reference)
    placement = placements.get(sheet if sheet is not None else own_sheet)
    if placement is None or "[" in reference:
        return reference
    parts = address.split(":")
    moved = []
    for part in parts:
        match = _CELL.match(part)
        if match is None:
            return reference
        dollar_column, column, dollar_row, row = match.groups()
        new_row, new_column = placement.cell(int(row), coordinate_to_tuple(f"{column}1")[1])
        if new_row < 1 or new_column < 1:
            return reference
        moved.append(f"{dollar_column}{get_column_letter(new_column)}{dollar_row}{new_row}")
    prefix = reference[: len(reference) - len(address)]
    return prefix + ":".join(moved)


def move_formula(text: str, own_sheet: str, placements: Placements) -> str:
    """A formula ("=...") with every cell reference moved by the placements."""
    if not any(p.moved for p in placements.values()):
        return text
    try:
        tokens = Tokenizer(text)
    except Exception:  # a formula the tokenizer cannot read stays as it is
        return text
    changed = False
    for token in tokens.items:
        if token.type == Token.OPERAND and token.subtype == Token.RANGE:
            moved = move_reference(token.value, own_sheet, placements)
            changed |= moved != token.value
            token.value = moved
    return "=" + "".join(t.value for t in tokens.items) if changed else text


def _moved_value(value: object, sheet: str, placements: Placements) -> object:
    if isinstance(value, ArrayFormula):
        ref = move_reference(str(value.ref), sheet, placements)
        return ArrayFormula(ref, move_formula(value.text or "", sheet, placements))
    if isinstance(value, str) and value.startswith("=") and len(value) > 1:
        return move_formula(value, sheet, placements)
    return value


# ---------------------------------------------------------------------------------------------
# finding the record's blocks in the analyst's sheets


def _index(ws: Worksheet) -> dict[str, list[tuple[int, int]]]:
    """Every non-empty cell of a sheet by the digest of its content."""
    out: dict[str, list[tuple[int, int]]] = {}
    for (row, column), cell in ws._cells.items():
        if cell.value is not None:
            out.setdefault(fingerprint(cell.value), []).append((row, column))
    return out


def _matches(ws: Worksheet, sheet: str, cell: tuple[int, int], digest: str, offset: Offset,
             record: Record, exact: bool = False) -> bool:
    """Whether the record's cell shows at `cell + offset`, as recorded or (unless `exact`) with
    its references moved by the same offset (as Excel and LibreOffice adjust them)."""
    found = ws._cells.get((cell[0] + offset[0], cell[1] + offset[1]))
    if found is None or found.value is None:
        return False
    if record.digest(found.value) == digest:
        return True
    if exact or offset == (0, 0) or not (isinstance(found.value, ArrayFormula) or (
            isinstance(found.value, str) and found.value.startswith("="))):
        return False
    back = Placement([(1, 1 << 20, (-offset[0], -offset[1]))])
    return record.digest(_moved_value(found.value, sheet, {sheet: back})) == digest


def _plain_formula(ws: Worksheet, cell: tuple[int, int], offset: Offset) -> bool:
    found = ws._cells.get((cell[0] + offset[0], cell[1] + offset[1]))
    value = None if found is None else found.value
    return isinstance(value, str) and value.startswith("=")


def _title(ws: Worksheet, block: Block, offset: Offset = (0, 0)) -> str:
    row, column = block.first
    cell = ws._cells.get((row + offset[0], column + offset[1]))
    return f'"{cell.value}"' if cell is not None and isinstance(cell.value, str) and \
        not cell.value.startswith("=") else f"at {block.area()}"


def find_blocks(ws: Worksheet, record: Record) -> list[tuple[Block, Offset]]:
    """Each recorded block of a model sheet and the offset it moved by since the record.

    Raises:
        WorkbookError: a block cut by inserted or deleted rows or columns, or one that cannot be
            placed for certain; names the sheet and the block.
    """
    sheet = ws.title
    blocks = blocks_of({**record.cells.get(sheet, {}), **record.inputs.get(sheet, {})})
    index: dict[str, list[tuple[int, int]]] | None = None
    found: list[Offset | None] = []
    previous: Offset = (0, 0)
    for block in blocks:
        scored = {c: d for c, d in block.cells.items() if d != ARRAY_MEMBER}
        here = [c for c, d in scored.items() if _matches(ws, sheet, c, d, previous, record)]
        if here and len(here) == len(scored):  # the common case: the block is where it was
            found.append(previous)
            continue
        if index is None:
            index = _index(ws)
        votes: Counter[Offset] = Counter({previous: 0, (0, 0): 0})
        for (row, column), digest in scored.items():
            places = index.get(digest, ())
            if len(places) > 50:  # a content found everywhere says nothing about where the block is
                continue
            for at_row, at_column in places:
                votes[(at_row - row, at_column - column)] += 1
        candidates = [offset for offset, _count in votes.most_common(12)]
        # content as recorded counts first: a formula moved back matches in any block of the
        # same shape (every table's growth row), a title or label only where it is
        offsets = list(dict.fromkeys([previous, (0, 0), *candidates]))
        exact = {o: {c for c, d in scored.items() if _matches(ws, sheet, c, d, o, record, True)}
                 for o in offsets}
        matched = {o: exact[o] | {c for c, d in scored.items() if c not in exact[o]
                                  and _matches(ws, sheet, c, d, o, record)} for o in offsets}
        # labels and array formulas first: a run of formulas on a table that moved (=A13, =A14,
        # ... above a row inserted between them and it) matches one row off by itself
        labels = {o: {c for c in exact[o] if not _plain_formula(ws, c, o)} for o in offsets}
        score = {o: (len(labels[o]), len(exact[o]), len(matched[o])) for o in offsets}
        best_score = max(score.values())
        if best_score[2] == 0:
            found.append(None)
            continue
        best = [o for o in offsets if score[o] == best_score]
        choice = previous if previous in best else (0, 0) if (0, 0) in best else best[0]
        if len(best) > 1 and choice not in (previous, (0, 0)):
            raise _unplaced(ws, block, "its cells are found in more than one place")
        missing = set(scored) - matched[choice]
        for offset in offsets:  # part of the block as recorded elsewhere: rows cut through it
            if offset != choice and len(labels[offset] & missing) >= 2:
                raise _unplaced(ws, block, "rows or columns were inserted or deleted inside it")
        found.append(choice)
        previous = choice
    return [(block, _settle(ws, blocks, found, i)) for i, block in enumerate(blocks)]


def _settle(ws: Worksheet, blocks: list[Block], found: list[Offset | None], index: int) -> Offset:
    """A block's offset; one none of whose cells was found takes its neighbours' when they agree."""
    offset = found[index]
    if offset is not None:
        return offset
    above = next((o for o in reversed(found[:index]) if o is not None), None)
    below = next((o for o in found[index + 1:] if o is not None), None)
    if above is not None and (below is None or below == above):
        return above
    if above is None and below is not None:
        return below
    if above is None and below is None:
        return (0, 0)  # nothing on the sheet was found: nothing says it moved
    raise _unplaced(ws, blocks[index], "none of its cells is left and the blocks around it moved "
                    "differently")


def _unplaced(ws: Worksheet, block: Block, why: str) -> WorkbookError:
    return WorkbookError(
        f"cannot place the model block {_title(ws, block)} of '{ws.title}' (recorded at "
        f"{block.area()}) for certain: {why}; nothing was changed (undo that change, or move your "
        "rows and columns outside the model's blocks, then refresh again)")


# ---------------------------------------------------------------------------------------------
# moving the record and the fresh template to the analyst's layout


@dataclass
class Layout:
    """How the analyst's model sheets differ from the record: per sheet, each recorded block with
    its offset (record -> workbook now) and the shift it already had from the template."""

    blocks: dict[str, list[tuple[Block, Offset]]] = field(default_factory=dict)
    shifts: dict[str, dict[str, Offset]] = field(default_factory=dict)  # record's, by top-left cell

    @property
    def moved(self) -> bool:
        return any(offset != (0, 0) for blocks in self.blocks.values() for _b, offset in blocks) or \
            any(self.shifts.values())

    def placements(self) -> Placements:
        """record -> workbook now."""
        return {sheet: Placement([(b.top, b.bottom, o) for b, o in blocks])
                for sheet, blocks in self.blocks.items()}


def find_layout(user: Workbook, record: Record) -> Layout:
    """Where every recorded block of the analyst's model sheets is now.

    Raises:
        WorkbookError: a block that cannot be placed for certain, or a fixed sheet (Assumptions,
            Cache, xlwings.conf) whose rows or columns moved.
    """
    layout = Layout(shifts={s: dict(v) for s, v in record.shifts.items()})
    for sheet in record.sheets:
        if sheet not in user.sheetnames or sheet == CACHE:
            continue
        placed = find_blocks(user[sheet], record)
        if sheet in FIXED_SHEETS and any(offset != (0, 0) for _b, offset in placed):
            block = next(b for b, o in placed if o != (0, 0))
            raise _unplaced(user[sheet], block, f"rows or columns of {sheet} moved, and refresh "
                            "finds the inputs by their place")
        layout.blocks[sheet] = placed
    return layout


def _coordinate(cell: tuple[int, int]) -> str:
    return f"{get_column_letter(cell[1])}{cell[0]}"


def moved_record(record: Record, layout: Layout, user: Workbook) -> Record:
    """The old record with its cells, inputs and charts where they are in the workbook now; a
    formula Excel adjusted when rows moved reads as the model's, not as an edit."""
    if not layout.moved:
        return record
    placements = layout.placements()
    inverse = {sheet: Placement([(b.top + o[0], b.bottom + o[0], (-o[0], -o[1])) for b, o in blocks])
               for sheet, blocks in layout.blocks.items()}
    out = copy.copy(record)
    out.cells, out.inputs, out.charts = {}, {}, {}
    for source, target in ((record.cells, out.cells), (record.inputs, out.inputs)):
        for sheet, cells in source.items():
            placement = placements.get(sheet)
            ws = user[sheet] if sheet in user.sheetnames else None
            moved: dict[str, str] = {}
            for coordinate, digest in cells.items():
                row, column = coordinate_to_tuple(coordinate)
                now = placement.cell(row, column) if placement else (row, column)
                moved[_coordinate(now)] = digest
                cell = ws._cells.get(now) if ws is not None else None
                if cell is not None and digest != ARRAY_MEMBER and record.digest(cell.value) != digest:
                    back = _moved_value(cell.value, sheet, inverse)
                    if record.digest(back) == digest:  # adjusted by Excel: still the model's
                        moved[_coordinate(now)] = record.digest(cell.value)
            target[sheet] = moved
    for sheet, anchors in record.charts.items():
        placement = placements.get(sheet)
        ws = user[sheet] if sheet in user.sheetnames else None
        present = {chart_anchor(c) for c in ws._charts} if ws is not None else set()
        options = {o for _b, o in layout.blocks.get(sheet, [])} | {(0, 0)}
        moved_anchors = []
        for anchor in anchors:
            row, column = coordinate_to_tuple(anchor)
            first = _coordinate(placement.cell(row, column)) if placement else anchor
            near = [first] + [_coordinate((row + o[0], column + o[1])) for o in sorted(options)]
            moved_anchors.append(next((a for a in near if a in present), first))
        out.charts[sheet] = moved_anchors
    return out


def fresh_placements(fresh: Workbook, fresh_record: Record, layout: Layout) -> tuple[
        Placements, dict[str, dict[str, Offset]]]:
    """Where each block of the fresh template goes in the analyst's layout (template -> workbook),
    and the shifts the new record keeps (by each block's top-left cell there).

    A fresh block is the record's block with the same first cell (title) and rank; it moves by
    the shift that block had plus the offset found now. A block the record lacks (a new table)
    moves with the block above it."""
    placements: Placements = {}
    shifts: dict[str, dict[str, Offset]] = {}
    for sheet, placed in layout.blocks.items():
        if sheet not in fresh.sheetnames or sheet in FIXED_SHEETS:
            continue
        recorded_shifts = layout.shifts.get(sheet, {})
        by_key: dict[tuple[str, int], Offset] = {}
        ranks: Counter[str] = Counter()
        for block, offset in placed:
            digest = block.cells[block.first]
            shift = recorded_shifts.get(_coordinate(block.first), (0, 0))
            by_key[(digest, ranks[digest])] = (shift[0] + offset[0], shift[1] + offset[1])
            ranks[digest] += 1
        spans: list[tuple[int, int, Offset]] = []
        ranks = Counter()
        total: Offset = (0, 0)
        for block in blocks_of({**fresh_record.cells.get(sheet, {}), **fresh_record.inputs.get(sheet, {})}):
            digest = block.cells[block.first]
            total = by_key.get((digest, ranks[digest]), total)
            ranks[digest] += 1
            spans.append((block.top, block.bottom, total))
            if total != (0, 0):
                first = (block.first[0] + total[0], block.first[1] + total[1])
                shifts.setdefault(sheet, {})[_coordinate(first)] = total
        placements[sheet] = Placement(spans)
    return placements, shifts


def move_book(book: Workbook, placements: Placements) -> None:
    """Move the fresh template's cells, merged ranges, charts, row heights, links and defined
    names to the analyst's layout, and every reference in its formulas with them.

    Raises:
        WorkbookError: two blocks would land on the same cell (the analyst's layout leaves no room).
    """
    if not any(p.moved for p in placements.values()):
        return
    for ws in book.worksheets:
        if ws.title == RECORD_SHEET:
            continue
        placement = placements.get(ws.title)
        moved_cells = {}
        for (row, column), cell in list(ws._cells.items()):
            if cell.value is not None:  # (a merged range's other cells hold nothing)
                cell.value = _moved_value(cell.value, ws.title, placements)
            if getattr(cell, "hyperlink", None) is not None and cell.hyperlink.location:
                cell.hyperlink.location = move_reference(cell.hyperlink.location, ws.title, placements)
            if placement is None or not placement.moved:
                continue
            new_row, new_column = placement.cell(row, column)
            if new_row < 1 or new_column < 1:
                continue  # an empty formatted cell above the first block, where rows were deleted
            there = moved_cells.get((new_row, new_column))
            if there is not None:  # blocks closer together: an empty formatted cell gives way
                if getattr(there, "value", None) is not None and getattr(cell, "value", None) is not None:
                    raise WorkbookError(f"the model's blocks of '{ws.title}' would overlap in your "
                                        "layout (rows between them were deleted); nothing was changed")
                if getattr(cell, "value", None) is None:
                    continue
            cell.row, cell.column = new_row, new_column
            if getattr(cell, "hyperlink", None) is not None:
                cell.hyperlink.ref = _coordinate((new_row, new_column))
            moved_cells[(new_row, new_column)] = cell
        for chart in ws._charts:
            _move_chart(chart, ws.title, placements)
        if placement is None or not placement.moved:
            continue
        ws._cells = moved_cells
        for merged in list(ws.merged_cells.ranges):
            rows, columns = placement.offset(merged.min_row)
            ws.merged_cells.remove(merged)
            merged.shift(col_shift=columns, row_shift=rows)
            ws.merged_cells.add(merged)
        heights = {row: d.height for row, d in ws.row_dimensions.items() if d.height}
        for row in heights:
            ws.row_dimensions[row].height = None
        for row, height in heights.items():
            ws.row_dimensions[placement.cell(row, 1)[0]].height = height
        if ws.print_area:
            ws.print_area = [move_reference(a.split("!")[-1], ws.title, placements)
                             for a in ws.print_area.split(",")]
        for brk in ws.row_breaks.brk:
            brk.id = placement.cell(brk.id, 1)[0]
        for validation in ws.data_validations.dataValidation:
            validation.sqref = " ".join(move_reference(r, ws.title, placements)
                                        for r in str(validation.sqref).split())
    for name in book.defined_names.values():
        if name.attr_text:
            name.attr_text = move_formula("=" + name.attr_text, "", placements)[1:]


def _move_chart(chart: object, sheet: str, placements: Placements) -> None:
    anchor = getattr(chart, "anchor", None)
    placement = placements.get(sheet)
    if placement is not None and placement.moved and isinstance(anchor, str):  # not saved yet: "A20"
        chart.anchor = move_reference(anchor, sheet, placements)
    elif placement is not None and placement.moved and anchor is not None:
        for marker in (getattr(anchor, "_from", None), getattr(anchor, "to", None)):
            if marker is not None:
                row, column = placement.cell(marker.row + 1, marker.col + 1)
                marker.row, marker.col = row - 1, column - 1
    for series in getattr(chart, "series", []):
        for part in (series.val, series.cat, series.tx, getattr(series, "xVal", None),
                     getattr(series, "yVal", None)):
            for holder in (getattr(part, "numRef", None), getattr(part, "strRef", None)):
                if holder is not None and holder.f:
                    holder.f = move_reference(holder.f, sheet, placements)
