"""No write destroys work: refresh, build and snapshot lock the file, keep numbered backups, refuse
read-only files and files they did not write (unless forced), write through symbolic links, and
leave no temporary file behind, even when killed (SIGTERM, or kill -9 and a rerun)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xl_negcoke.cli import main
from xl_negcoke.errors import WorkbookError
from xl_negcoke.model import load_model
from xl_negcoke.workbook.files import (
    backup_path,
    exclusive_lock,
    is_untouched_output,
    lock_path,
    remove_stale_temporaries,
)
from xl_negcoke.workbook.template import TEMPLATE_NAME, build_workbook

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workbook_file(recalculated_template, tmp_path: Path) -> Path:
    path = tmp_path / "analyst.xlsx"
    path.write_bytes(recalculated_template[0])
    return path


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _slow_command(args: list[str]) -> subprocess.Popen[bytes]:
    """`xl-negcoke ARGS` in a child process whose every fsync takes a minute, so it can be caught
    in the middle of writing."""
    script = ("import os, sys, time; os.fsync = lambda fd: time.sleep(60); "
              "from xl_negcoke.cli import main; sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", script, *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(folder: Path, suffix: str, process: subprocess.Popen[bytes], seconds: float = 600) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [p for p in folder.iterdir() if p.name.endswith(suffix)]
        if found:
            return found[0]
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    raise AssertionError(f"no *{suffix} appeared in {folder}")


# ---------------------------------------------------------------------------------------------
# backups, read-only files, links


@pytest.mark.slow  # whole-file commands, some in fresh processes (5-22 s)
def test_each_refresh_keeps_its_own_backup_and_never_overwrites_one(
        workbook_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two refreshes keep analyst.before-refresh.xlsx (the original) and
    analyst.before-refresh.2.xlsx (the first refresh's result), and say which."""
    original = workbook_file.read_bytes()
    assert main(["refresh", str(workbook_file)]) == 0
    first = workbook_file.read_bytes()
    assert main(["refresh", str(workbook_file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"refreshed {workbook_file} (previous version kept as analyst.before-refresh.2.xlsx)"
    folder = workbook_file.parent
    assert _names(folder) == ["analyst.before-refresh.2.xlsx", "analyst.before-refresh.xlsx", "analyst.xlsx"]
    assert (folder / "analyst.before-refresh.xlsx").read_bytes() == original
    assert (folder / "analyst.before-refresh.2.xlsx").read_bytes() == first


def test_backup_path_counts_up_past_every_name_taken(tmp_path: Path) -> None:
    """book.before-x.xlsx, then book.before-x.2.xlsx, .3 ...: the first free name."""
    book = tmp_path / "book.xlsx"
    assert backup_path(book, "before-x") == tmp_path / "book.before-x.xlsx"
    (tmp_path / "book.before-x.xlsx").write_bytes(b"1")
    (tmp_path / "book.before-x.2.xlsx").write_bytes(b"2")
    assert backup_path(book, "before-x") == tmp_path / "book.before-x.3.xlsx"


@pytest.mark.slow  # whole-file commands, some in fresh processes (5-22 s)
def test_a_read_only_workbook_is_refused_unless_forced_and_stays_read_only(
        workbook_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A read-only file: exit 2, one line, nothing written; with --force it is refreshed and is
    still read-only."""
    workbook_file.chmod(0o444)
    original = workbook_file.read_bytes()
    assert main(["refresh", str(workbook_file)]) == 2
    assert capsys.readouterr().err == (
        "xl-negcoke refresh: error: analyst.xlsx is read-only; make it writable first, or pass --force "
        "(the refreshed file stays read-only)\n")
    assert workbook_file.read_bytes() == original and _names(workbook_file.parent) == ["analyst.xlsx"]
    assert main(["refresh", str(workbook_file), "--force"]) == 0
    assert workbook_file.read_bytes() != original
    assert stat.S_IMODE(workbook_file.stat().st_mode) == 0o444


@pytest.mark.slow  # whole-file commands, some in fresh processes (5-22 s)
def test_a_symlink_is_refreshed_at_its_target_and_stays_a_link(workbook_file: Path, tmp_path: Path) -> None:
    """Refreshing link.xlsx -> analyst.xlsx changes analyst.xlsx, keeps the backup beside it,
    and link.xlsx is still the same link."""
    link = tmp_path / "elsewhere" / "link.xlsx"
    link.parent.mkdir()
    link.symlink_to(workbook_file)
    original = workbook_file.read_bytes()
    assert main(["refresh", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(workbook_file)
    assert workbook_file.read_bytes() != original
    assert (tmp_path / "analyst.before-refresh.xlsx").read_bytes() == original
    assert _names(link.parent) == ["link.xlsx"]


# ---------------------------------------------------------------------------------------------
# the lock, and processes that die


def test_a_second_command_on_a_locked_file_exits_2_and_changes_nothing(
        workbook_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """While another command holds the lock, refresh exits 2 naming the lock file, and writes
    no file and no backup."""
    original = workbook_file.read_bytes()
    with exclusive_lock(workbook_file):
        code = subprocess.run([sys.executable, "-m", "xl_negcoke", "refresh", str(workbook_file)],
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                              timeout=600)
    assert (code.returncode, code.stderr) == (2, (
        "xl-negcoke refresh: error: analyst.xlsx is being changed by another xl-negcoke command (lock "
        "file .analyst.xlsx.xl-negcoke-lock); wait for it to finish (if none is running, delete the "
        "lock file)\n"))
    assert workbook_file.read_bytes() == original and _names(workbook_file.parent) == ["analyst.xlsx"]


@pytest.mark.slow  # whole-file commands, some in fresh processes (5-22 s)
def test_two_concurrent_refreshes_one_runs_the_other_is_refused(workbook_file: Path) -> None:
    """A refresh caught while writing holds the lock: a second refresh started then exits 2;
    after the first is stopped (SIGTERM) its temporary file and lock are gone and the workbook is
    byte-identical."""
    original = workbook_file.read_bytes()
    first = _slow_command(["refresh", str(workbook_file)])
    try:
        _wait_for(workbook_file.parent, ".tmp", first)
        assert main(["refresh", str(workbook_file)]) == 2
    finally:
        first.send_signal(signal.SIGTERM)
        _out, err = first.communicate(timeout=120)
    assert first.returncode == 143
    assert err.decode().splitlines()[-1] == "xl-negcoke refresh: terminated; no file was changed"
    assert workbook_file.read_bytes() == original
    assert _names(workbook_file.parent) == ["analyst.xlsx"]


@pytest.mark.slow  # whole-file commands, some in fresh processes (5-22 s)
def test_a_refresh_killed_mid_write_leaves_the_file_whole_and_the_rerun_cleans_up(
        workbook_file: Path) -> None:
    """kill -9 while the backup is being written: the workbook is byte-identical, the lock file
    and a temporary file are left; the next refresh takes the stale lock, removes the leftovers,
    and refreshes."""
    original = workbook_file.read_bytes()
    killed = _slow_command(["refresh", str(workbook_file)])
    _wait_for(workbook_file.parent, ".tmp", killed)
    killed.kill()
    killed.communicate(timeout=60)
    left = _names(workbook_file.parent)
    assert workbook_file.read_bytes() == original
    assert lock_path(workbook_file).name in left and any(n.endswith(".tmp") for n in left)
    assert main(["refresh", str(workbook_file)]) == 0
    assert _names(workbook_file.parent) == ["analyst.before-refresh.xlsx", "analyst.xlsx"]
    assert (workbook_file.parent / "analyst.before-refresh.xlsx").read_bytes() == original


def test_stale_temporaries_of_another_workbook_in_use_are_left_alone(tmp_path: Path) -> None:
    """Cleaning up after analyst.xlsx removes its own and its backups' leftovers, not those of
    analyst.v2.xlsx while a live command holds that workbook's lock."""
    target = tmp_path / "analyst.xlsx"
    for name in (".analyst.xlsx.a1.tmp", ".analyst.before-refresh.xlsx.b2.tmp"):
        (tmp_path / name).write_bytes(b"")
    with exclusive_lock(tmp_path / "analyst.v2.xlsx"):
        (tmp_path / ".analyst.v2.xlsx.c3.tmp").write_bytes(b"")  # that command is writing
        removed = remove_stale_temporaries(target)
        assert sorted(p.name for p in removed) == [".analyst.before-refresh.xlsx.b2.tmp",
                                                   ".analyst.xlsx.a1.tmp"]
    assert _names(tmp_path) == [".analyst.v2.xlsx.c3.tmp"]


# ---------------------------------------------------------------------------------------------
# build and snapshot


@pytest.mark.slow  # whole-file commands, some in fresh processes (5-22 s)
def test_build_refuses_to_replace_an_edited_workbook_unless_forced_then_keeps_it(tmp_path: Path) -> None:
    """A build over an untouched earlier build just writes; over a workbook edited since it is
    refused naming the file; with force the edited file is kept as .before-build.xlsx."""
    from openpyxl import load_workbook

    model = load_model()
    build_workbook(model, tmp_path, recalculate=False)
    xlsx = tmp_path / f"{TEMPLATE_NAME}.xlsx"
    assert is_untouched_output(xlsx.read_bytes())
    build_workbook(model, tmp_path, recalculate=False)  # an earlier build is not work to keep
    book = load_workbook(xlsx)
    book["Contents"]["D4"] = "my note"
    book.save(xlsx)
    edited = xlsx.read_bytes()
    assert not is_untouched_output(edited)
    with pytest.raises(WorkbookError) as refused:
        build_workbook(model, tmp_path, recalculate=False)
    assert str(refused.value) == (
        f"{xlsx} exists and is not a file this command wrote (edited since, or another workbook); it "
        f"was not replaced: write elsewhere, or pass --force to replace it and keep it as "
        f"{TEMPLATE_NAME}.before-build.xlsx")
    assert xlsx.read_bytes() == edited
    build_workbook(model, tmp_path, recalculate=False, force=True)
    assert (tmp_path / f"{TEMPLATE_NAME}.before-build.xlsx").read_bytes() == edited
    assert is_untouched_output(xlsx.read_bytes())


def test_snapshot_over_its_own_workbook_is_refused(workbook_file: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`snapshot X --out X` would turn the only copy into values: exit 2, X byte-identical."""
    original = workbook_file.read_bytes()
    assert main(["snapshot", str(workbook_file), "--out", str(workbook_file)]) == 2
    assert capsys.readouterr().err == (
        f"xl-negcoke snapshot: error: --out {workbook_file} is the workbook itself: a snapshot replaces "
        "formulas with values, so it is written to another file (e.g. --out analyst-snapshot.xlsx)\n")
    assert workbook_file.read_bytes() == original and _names(workbook_file.parent) == ["analyst.xlsx"]


@pytest.mark.slow  # whole-file commands, some in fresh processes (5-22 s)
def test_snapshot_refuses_an_out_file_that_is_not_a_snapshot(
        workbook_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--out naming a workbook of the analyst's (here: a refreshed one) is refused before any
    work, and the file is untouched."""
    assert main(["refresh", str(workbook_file)]) == 0
    refreshed = workbook_file.read_bytes()
    out = workbook_file.with_name("other.xlsx")
    out.write_bytes(refreshed)
    capsys.readouterr()
    assert main(["snapshot", str(workbook_file), "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith(f"xl-negcoke snapshot: error: {out} exists and is not a file "
                                              "this command wrote")
    assert out.read_bytes() == refreshed
