"""Shared fixtures: the template built from this tree, recalculated once per session, and the
committed workbook."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMITTED_XLSX = ROOT / "workbooks" / "negative-coke-outlook-2024-2030.xlsx"


@pytest.fixture(scope="session")
def template_xlsx() -> bytes:
    """The template .xlsx as `build` lays it out, formulas without cached values."""
    from xl_negcoke.model import load_model
    from xl_negcoke.workbook.template import template_bytes

    return template_bytes(load_model(), False)


@pytest.fixture(scope="session")
def recalculated_template(template_xlsx: bytes):
    """(bytes, Recalculation) of the template recalculated once for the whole session."""
    from xl_negcoke.workbook.recalc import recalculate

    return recalculate(template_xlsx)


@pytest.fixture(scope="session")
def committed_xlsx() -> Path:
    """The committed template workbook (with cached values)."""
    return COMMITTED_XLSX
