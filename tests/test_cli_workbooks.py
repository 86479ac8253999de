"""The workbook commands' failures: a bad argument exits 2 with one line on stderr, and a write
that fails leaves every file byte-identical with no temporary file behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from xl_negcoke.cli import main
from xl_negcoke.workbook import files
from xl_negcoke.workbook.files import book_bytes


@pytest.fixture(scope="module")
def small_workbook(tmp_path_factory) -> bytes:
    """A one-sheet workbook with two NEGCOKE_* formulas (fast to recalculate)."""
    book = Workbook()
    ws = book.active
    ws.title = "Data"
    ws["A1"] = '=NEGCOKE_FORECAST("Global",2027)'
    ws["A2"] = "=A1*2"
    return book_bytes(book)


@pytest.mark.parametrize(("argv", "says"), [
    (["recalc"], "the following arguments are required: PATH"),
    (["check"], "the following arguments are required: PATH"),
    (["snapshot", "book.xlsx"], "the following arguments are required: --out"),
    (["snapshot", "book.xlsx", "--out", "s.xlsx", "--as-of", "2024-02-30"],
     "'2024-02-30' is not a date; use YYYY-MM-DD"),
    (["snapshot", "book.xlsx", "--out", "s.xlsx", "--as-of", "yesterday"],
     "'yesterday' is not a date; use YYYY-MM-DD"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_a_bad_argument_exits_2_with_one_line(argv, says, capsys):
    """A missing PATH or --out, a bad --as-of date and an unknown command exit 2 with one line on
    stderr that says what is wrong and points at --help."""
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == ""
    assert len(lines) == 1
    assert says in lines[0]
    assert lines[0].startswith("xl-negcoke") and lines[0].endswith("--help)")


def test_the_installed_command_rejects_an_unknown_command_in_one_line():
    """Run as a process, an unknown command exits 2 with one stderr line and no traceback."""
    done = subprocess.run([sys.executable, "-m", "xl_negcoke", "frobnicate"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "invalid choice: 'frobnicate'" in done.stderr


def test_a_missing_workbook_exits_2_with_one_line(tmp_path: Path, capsys):
    """recalc, snapshot and check on a path that does not exist each exit 2 with one line."""
    missing = tmp_path / "nope.xlsx"
    for argv in (["recalc", str(missing)], ["check", str(missing)],
                 ["snapshot", str(missing), "--out", str(tmp_path / "s.xlsx")]):
        assert main(argv) == 2
        lines = capsys.readouterr().err.splitlines()
        assert lines == [f"xl-negcoke {argv[0]}: error: {missing}: no such file (expected an .xlsx or "
                         ".xlsm workbook)"]
    assert list(tmp_path.iterdir()) == []


def _fail_replace(*args: object) -> None:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("command", ["recalc", "recalc --out", "snapshot"])
def test_a_failed_write_leaves_every_file_byte_identical(command, small_workbook, tmp_path: Path,
                                                         monkeypatch, capsys):
    """When the final rename fails (disk full), recalc and snapshot exit 2 with one line, the
    workbook and an existing --out are byte-identical, and no temporary file remains."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(small_workbook)
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"an older output")
    argv = {"recalc": ["recalc", str(path)],
            "recalc --out": ["recalc", str(path), "--out", str(out)],
            "snapshot": ["snapshot", str(path), "--out", str(out), "--as-of", "2024-06-30",
                         "--force"]}[command]  # (the older output is not a snapshot: forced)
    monkeypatch.setattr(files.os, "replace", _fail_replace)
    assert main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    target = out if "--out" in argv else path
    assert lines == [f"xl-negcoke {argv[0]}: error: {target}: No space left on device; "
                     "the file was left as it was"]
    assert path.read_bytes() == small_workbook
    assert out.read_bytes() == b"an older output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "out.xlsx"]


def test_a_write_into_a_path_blocked_by_a_file_exits_2(small_workbook, tmp_path: Path, capsys):
    """--out under a 'folder' that is a file exits 2 with one line; nothing is created."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(small_workbook)
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"")
    assert main(["recalc", str(path), "--out", str(blocker / "out.xlsx")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"xl-negcoke recalc: error: {blocker / 'out.xlsx'}: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "book.xlsx"]


def test_recalc_writes_cached_values_in_place_keeping_the_file_mode(small_workbook, tmp_path: Path,
                                                                    capsys):
    """recalc without --out rewrites the workbook with its values cached and keeps its mode."""
    path = tmp_path / "book.xlsx"
    path.write_bytes(small_workbook)
    os.chmod(path, 0o640)
    assert main(["recalc", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {path}"
    assert path.stat().st_mode & 0o777 == 0o640
    from xl_negcoke.udfs import NEGCOKE_FORECAST

    ws = load_workbook(path, data_only=True)["Data"]
    assert ws["A1"].value == NEGCOKE_FORECAST("Global", 2027)
    assert ws["A2"].value == NEGCOKE_FORECAST("Global", 2027) * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]
