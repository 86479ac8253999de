"""The workbook layer: layout (the report as data), build (openpyxl), files (deterministic,
atomic), recalc (formula evaluation with our functions plugged in)."""

from __future__ import annotations

from xl_negcoke.workbook import openpyxl_fixes  # noqa: F401  (applied on import: see the module)
from xl_negcoke.workbook.template import FILE_NAMES, MACRO_NAME, TEMPLATE_NAME, build_workbook

__all__ = ["FILE_NAMES", "MACRO_NAME", "TEMPLATE_NAME", "build_workbook"]
