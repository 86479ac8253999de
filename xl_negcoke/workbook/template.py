"""The two template files: the `.xlsx` and the `.xlsm` built on xlwings's quickstart workbook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import Model
from xl_negcoke.workbook.build import build_book
from xl_negcoke.workbook.files import atomic_write, book_bytes

TEMPLATE_NAME = "negative-coke-outlook-2024-2030"


def quickstart_path() -> Path:
    """The standalone quickstart workbook shipped inside the xlwings package."""
    import importlib.util

    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise WorkbookError("xlwings is not installed; pip install xlwings (it ships the .xlsm base)")
    path = Path(spec.origin).parent / "quickstart_standalone.xlsm"
    if not path.is_file():
        raise WorkbookError(f"xlwings has no quickstart_standalone.xlsm at {path}; "
                            "pip install a current xlwings")
    return path


@dataclass(frozen=True)
class Built:
    """One written file."""

    path: Path
    size: int


def template_bytes(model: Model, macro_enabled: bool) -> bytes:
    """The template as deterministic bytes (before recalculation)."""
    if macro_enabled:
        book = load_workbook(quickstart_path(), keep_vba=True)
    else:
        book = None
    return book_bytes(build_book(model, book))


def build_workbook(model: Model, out_dir: str | Path,
                   progress: Callable[[str], None] = lambda _: None,
                   finish: Callable[[bytes], bytes] | None = None) -> list[Built]:
    """Write `<out_dir>/negative-coke-outlook-2024-2030.xlsx` and `.xlsm`.

    Args:
        model: the model the formulas will evaluate against.
        out_dir: the folder; created if missing.
        progress: called with one line per step.
        finish: turns built bytes into final bytes (the recalculation that adds cached values).
    """
    out = Path(out_dir)
    results: list[Built] = []
    files = []
    for suffix, macro_enabled in ((".xlsx", False), (".xlsm", True)):
        progress(f"building {TEMPLATE_NAME}{suffix}")
        data = template_bytes(model, macro_enabled)
        if finish is not None:
            data = finish(data)
        files.append((out / f"{TEMPLATE_NAME}{suffix}", data))
    for path, data in files:  # write only when every file was built
        atomic_write(path, data)
        results.append(Built(path, len(data)))
    return results
