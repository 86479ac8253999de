"""Corrections to what openpyxl writes, applied once when the workbook layer is imported.

openpyxl 3.1 gives the preset-geometry adjustment list of a shape (`<a:avLst>` and its
`<a:gd>` guides) no namespace, so a picture it read back from a file (Excel and LibreOffice
both write `<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>`) is saved with `<avLst/>` in the
drawing part's default namespace. CT_PresetGeometry2D (dml-main.xsd) allows only a:avLst, so
the drawing fails the schema and Excel repairs it on open. Refresh loads and saves the
analyst's workbook with openpyxl, so without this every picture of theirs came back broken.
tests/test_schema.py finds the defect again if the correction stops working.
"""

from __future__ import annotations

from openpyxl.drawing.geometry import GeomGuide, GeomGuideList
from openpyxl.xml.constants import DRAWING_NS


def apply() -> None:
    """Give DrawingML's geometry guide list and guides their namespace (idempotent)."""
    GeomGuideList.namespace = DRAWING_NS
    GeomGuide.namespace = DRAWING_NS


apply()
