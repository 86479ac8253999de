"""The two template files: deterministic bytes, the committed copies equal a fresh build, the
.xlsm keeps xlwings's VBA project byte for byte, and every formula of the committed workbook
evaluates to the model's number."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from xl_negcoke import load_model
from xl_negcoke.workbook import FILE_NAMES, MACRO_NAME, TEMPLATE_NAME, build_workbook
from xl_negcoke.workbook.check import check_workbook
from xl_negcoke.workbook.template import quickstart_path

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "workbooks"
MODEL = load_model()
REBUILD = "the committed workbook differs from a fresh build: run `xl-negcoke build` and commit workbooks/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Both template files built without recalculation (fast), by suffix."""
    out = tmp_path_factory.mktemp("built")
    return {item.path.suffix: item.path.read_bytes()
            for item in build_workbook(MODEL, out, recalculate=False)}


def test_two_builds_are_byte_identical(built: dict[str, bytes], tmp_path: Path) -> None:
    """Building twice gives the same bytes for the .xlsx and the .xlsm (fixed zip and docProps times)."""
    again = {item.path.suffix: item.path.read_bytes()
             for item in build_workbook(MODEL, tmp_path, recalculate=False)}
    assert set(again) == {".xlsx", ".xlsm", ".py"}
    assert again == built


@pytest.mark.slow  # a build in a fresh process (14 s)
@pytest.mark.parametrize("hash_seed", ["1", "2"])
def test_a_build_in_another_process_equals_the_committed_files(tmp_path: Path, hash_seed: str) -> None:
    """`xl-negcoke build` in a fresh process (another string-hash seed) gives the committed bytes."""
    environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
    subprocess.run([sys.executable, "-m", "xl_negcoke", "build", "--out", str(tmp_path)],
                   check=True, capture_output=True, env=environment, timeout=300)
    for name in [*FILE_NAMES.values(), f"{MACRO_NAME}.py"]:
        assert (tmp_path / name).read_bytes() == (COMMITTED / name).read_bytes(), f"{name}: {REBUILD}"


def test_committed_workbooks_equal_a_fresh_build(tmp_path: Path) -> None:
    """workbooks/*.xlsx and .xlsm are exactly what `xl-negcoke build` writes today."""
    for item in build_workbook(MODEL, tmp_path):
        committed = COMMITTED / item.path.name
        assert committed.is_file(), f"{committed} is missing: {REBUILD}"
        assert committed.read_bytes() == item.path.read_bytes(), f"{committed.name}: {REBUILD}"


def test_xlsm_keeps_the_quickstart_vba_project_byte_for_byte(built: dict[str, bytes]) -> None:
    """The .xlsm's xl/vbaProject.bin is the one inside xlwings's quickstart_standalone.xlsm."""
    with zipfile.ZipFile(quickstart_path()) as quickstart:
        original = quickstart.read("xl/vbaProject.bin")
    for data in (built[".xlsm"], (COMMITTED / FILE_NAMES[".xlsm"]).read_bytes()):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.read("xl/vbaProject.bin") == original
    with zipfile.ZipFile(io.BytesIO(built[".xlsx"])) as archive:
        assert "xl/vbaProject.bin" not in archive.namelist()


def test_every_formula_of_the_committed_workbook_equals_the_model() -> None:
    """check_workbook on the committed .xlsx: no error, every check TRUE, >1000 cells equal the model."""
    report = check_workbook((COMMITTED / f"{TEMPLATE_NAME}.xlsx").read_bytes())
    assert report.problems == []
    assert report.compared > 1000
    assert report.checks > 40
