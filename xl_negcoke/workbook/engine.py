"""The `formulas` engine with its compiled cells kept between evaluations.

Compiling a cell (parsing its formula and building the engine's small graph for it) is about
half of an evaluation, and the cells are the same from one evaluation to the next: a refresh, a
`check` after it, the template of another scenario or dataset. A compiled cell depends only on
what it is compiled from, so it is kept under that: the sheet, the cell (or array block), the
formula text or constant, and the targets of the defined names the formula uses. Any other cell
is compiled afresh; a changed input is a changed constant, so nothing computed from the inputs is
ever reused.

This holds because nothing data-dependent is computed while compiling: the engine evaluates a
formula's constant parts at compile time, so the NEGCOKE_* functions are registered as impure,
like RAND (recalc.py), and a call with constant arguments such as `NEGCOKE_INFO("version")` runs
at each calculation.
"""

from __future__ import annotations

import re

import formulas
from formulas.ranges import Ranges

_KEPT_CELLS = 120_000  # about five workbooks' worth (~19,000 compiled cells in the template)
_NAME = re.compile(r"[A-Z_\\][A-Z0-9_.\\]*")

_compiled: dict[tuple[object, ...], object] = {}


def clear() -> None:
    """Forget every compiled cell."""
    _compiled.clear()


def kept_cells() -> int:
    """How many compiled cells are kept."""
    return len(_compiled)


class Engine(formulas.ExcelModel):
    """`formulas.ExcelModel` that takes a compiled cell from the last evaluations when it can."""

    def __init__(self) -> None:
        super().__init__()
        self._names: tuple[dict[str, object], dict[str, str]] | None = None

    def _name_targets(self, references: dict[str, object]) -> dict[str, str]:
        """Each defined name (as a formula spells it, upper case) -> its target, as text."""
        if self._names is None or self._names[0] is not references:
            targets = {}
            for key, value in references.items():
                name = str(key).rsplit("!", 1)[-1].upper()
                targets[name] = (f"{key}={tuple(r['name'] for r in value.ranges)}"
                                 if isinstance(value, Ranges) else f"{key}={value!r}")
            self._names = (references, targets)
        return self._names[1]

    def compile_cell(self, cell, context, references, formula_references):  # type: ignore[no-untyped-def]
        value, kind = cell.value, cell.data_type
        if kind == "f":
            text = value if isinstance(value, str) else value.text
            targets = self._name_targets(references)
            names = tuple(sorted(targets[name] for name in set(_NAME.findall(str(text).upper()))
                                 if name in targets))
            content: tuple[object, ...] = ("f", text, names)
        else:
            # floats by their exact text: 0.0 == -0.0, 1 == 1.0 == True share a hash
            content = (kind, type(value), repr(value) if isinstance(value, float) else value)
        crd = formula_references.get(cell.coordinate, cell.coordinate)
        key = (context.get("excel"), context.get("sheet"), repr(context.get("external_links")),
               crd, content)
        try:
            compiled = _compiled.get(key)
        except TypeError:  # an unhashable constant: compile it every time
            return super().compile_cell(cell, context, references, formula_references)
        if compiled is None:
            compiled = super().compile_cell(cell, context, references, formula_references)
            if len(_compiled) >= _KEPT_CELLS:
                _compiled.clear()
            _compiled[key] = compiled
        return compiled
