"""Workbook files: deterministic bytes, atomic writes, and the rules that keep work safe.

A build must give byte-identical files: the zip entries carry a fixed timestamp and the
document properties a fixed creation and modification time. Writes go to a temporary file in
the same folder and are renamed over the target only when complete, so a failed command leaves
every file as it was; the temporary file is removed on any exit (SIGTERM too, see
`terminate_as_interrupt`), and one left by a killed run is removed by the next command on the
same file. A command that changes a file holds an exclusive lock beside it (`exclusive_lock`),
writes through a symbolic link to its target, refuses a read-only file unless forced, and keeps
backups under names never used before (`backup_path`).
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import re
import signal
import socket
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from zlib import error as zlib_error

from openpyxl import Workbook

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
DOC_TIME = "2024-01-01T00:00:00Z"  # the fixed docProps time of every build
_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def book_bytes(book: Workbook) -> bytes:
    """The workbook saved by openpyxl, made deterministic."""
    # Text cells stay inline strings (t="inlineStr", what openpyxl writes), not a shared-string
    # table: valid ECMA-376 (18.3.1.4) and read by Excel, LibreOffice, pandas and calamine;
    # recalc, snapshot and refresh patch sheet XML cell by cell, which a table shared across
    # sheets would turn into a rewrite of every sheet; and it costs little (158 KB against
    # 151 KB with a table for the committed .xlsx). Excel moves them into a table when it saves.
    #
    # <calcPr> keeps openpyxl's calcId="124519" (Excel 2007's engine); cached.py drops
    # fullCalcOnLoad once results are cached. Excel recalculates every formula on open when the
    # calcId is older than its engine (ECMA-376 18.2.2; every Excel since 2010), so the live
    # formulas run there, and without the functions IFERROR falls back to the Cache sheet;
    # the cached <v> values are what viewers, pandas and LibreOffice show.
    # docs/schema-validation.md has the measurements behind both choices.
    buffer = io.BytesIO()
    book.save(buffer)
    return normalise_zip(buffer.getvalue())


def normalise_zip(data: bytes, replace: dict[str, bytes] | None = None, stamp: bool = True) -> bytes:
    """Rewrite an OOXML zip with fixed timestamps (and optionally replaced members).

    With `stamp` the document's creation and modification times are set to DOC_TIME, the mark
    of a file as `build` (or `snapshot`) wrote it (`is_untouched_output`); refresh leaves them as
    they are: its output holds the analyst's work."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = replace.get(item.filename)
            if content is None:
                content = source.read(item.filename)
            if item.filename == "docProps/core.xml" and stamp:
                content = _CORE_TIMES.sub(lambda m: m.group(1) + DOC_TIME.encode() + m.group(3),
                                          content)
            info = zipfile.ZipInfo(item.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, content, compresslevel=6)
    return out.getvalue()


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file renamed over it when complete.

    Raises:
        OSError: the folder or file cannot be written (full disk, no permission, a file in the
            way), with `filename` set to `path`; `path` is left as it was and no temporary file
            remains.
    """
    atomic_write_all({Path(path): data})


def atomic_write_all(files: dict[Path, bytes]) -> None:
    """Write several files so that none is replaced unless every one was written in full.

    Each file goes to a temporary file beside its target first; only when all are on disk are
    they renamed over their targets. A failure while writing leaves every target as it was. Each
    target is locked while it is written (`exclusive_lock`); a symbolic link is written through
    to its target.

    Raises:
        WorkbookError: another command holds the lock on one of the files.
    """
    staged: list[tuple[str, Path]] = []
    try:
        with contextlib.ExitStack() as locks:
            for path, data in files.items():
                target = locks.enter_context(exclusive_lock(path))
                staged.append((_stage(target, data), target))
            for temporary, target in staged:
                os.replace(temporary, target)
    except BaseException as exc:
        for temporary, _target in staged:
            Path(temporary).unlink(missing_ok=True)
        target = staged[-1][1] if staged else next(iter(files), None)
        if isinstance(exc, OSError) and target is not None and exc.filename != str(target):
            raise OSError(exc.errno, exc.strerror or exc.__class__.__name__, str(target)) from exc
        raise


def _stage(target: Path, data: bytes) -> str:
    """Write `data` to a temporary file beside `target` (same folder, so rename is atomic)."""
    temporary: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                             dir=target.parent)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(temporary, mode)
        return temporary
    except BaseException as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename != str(target):
            raise OSError(exc.errno, exc.strerror or exc.__class__.__name__, str(target)) from exc
        raise


MAX_FILE_BYTES = 50_000_000  # a workbook file larger than this is refused
MAX_UNPACKED_BYTES = 100_000_000  # zip-bomb guard: total uncompressed size
MAX_MEMBERS = 5_000  # parts in the zip (the template has about 60)
MAX_CELLS = 200_000  # cells of every worksheet together (the template has about 12,000)
MAX_FORMULAS = 3_000  # formulas of every worksheet (the template has under 1,000; each costs ~5 ms)
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s>/]")
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_METHODS = {9: "deflate64", 12: "bzip2", 14: "lzma", 99: "AES encryption"}
_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"
_RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
MAX_RATIO = 200  # zip-bomb guard: uncompressed / compressed for any large member
MAX_BOMB_MEMBER_BYTES = 10_000_000  # members larger than this must not exceed MAX_RATIO
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_workbook(path: str | Path) -> bytes:
    """The bytes of an .xlsx / .xlsm, after checks that name what is wrong in one line.

    Raises:
        WorkbookError: missing, unreadable, not a workbook, encrypted, corrupt or oversized.
    """
    from xl_negcoke.errors import WorkbookError

    source = Path(path)
    if not source.exists():
        raise WorkbookError(f"{source}: no such file (expected an .xlsx or .xlsm workbook)")
    if not source.is_file():
        raise WorkbookError(f"{source}: not a file (expected an .xlsx or .xlsm workbook)")
    size = source.stat().st_size
    if size > MAX_FILE_BYTES:
        raise WorkbookError(f"{source}: {size / 1e6:.0f} MB is larger than the "
                            f"{MAX_FILE_BYTES / 1e6:.0f} MB this tool opens")
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise WorkbookError(f"{source}: cannot read the file ({exc.strerror})") from None
    if data.startswith(_OLE_SIGNATURE):
        raise WorkbookError(f"{source}: encrypted (password-protected) or legacy .xls workbook; "
                            "save an unprotected .xlsx or .xlsm copy")
    check_workbook_bytes(data, str(source))
    return data


def check_workbook_bytes(data: bytes, name: str) -> None:
    """Refuse bytes that are not an OOXML workbook, are truncated or would unpack too large."""
    from xl_negcoke.errors import WorkbookError

    if not data.startswith(b"PK"):
        raise WorkbookError(f"{name}: not an Excel workbook (.xlsx / .xlsm are zip files)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            if "xl/workbook.xml" not in names:
                raise WorkbookError(f"{name}: a zip file but not an Excel workbook "
                                    "(no xl/workbook.xml)")
            if len(members) > MAX_MEMBERS:
                raise WorkbookError(f"{name}: {len(members):,} parts, more than the {MAX_MEMBERS:,} "
                                    "this tool opens")
            total = sum(m.file_size for m in members)
            if total > MAX_UNPACKED_BYTES:
                raise WorkbookError(f"{name}: unpacks to {total / 1e6:.0f} MB, more than "
                                    f"{MAX_UNPACKED_BYTES / 1e6:.0f} MB (refused as a zip bomb)")
            for member in members:
                _check_member(member, name)
            bad = archive.testzip()
            if bad is not None:
                raise WorkbookError(f"{name}: corrupt (member {bad} fails its checksum)")
            _check_sheet_parts(archive, names, name)
            _check_cell_count(archive, members, name)
    except zipfile.BadZipFile as exc:
        raise WorkbookError(f"{name}: corrupt or truncated workbook ({exc})") from None
    except (OSError, EOFError, zlib_error, NotImplementedError, RuntimeError) as exc:
        raise WorkbookError(f"{name}: corrupt or truncated workbook ({exc.__class__.__name__})"
                            ) from None


def _check_member(member: zipfile.ZipInfo, name: str) -> None:
    """Refuse a zip member that is encrypted, uses a compression Excel does not write, or would
    expand like a zip bomb."""
    from xl_negcoke.errors import WorkbookError, shorten

    part = shorten(member.filename)
    if member.flag_bits & 0x1:
        raise WorkbookError(f"{name}: part {part} is encrypted inside the zip; save an "
                            "unprotected copy from Excel")
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        method = _METHODS.get(member.compress_type, f"method {member.compress_type}")
        raise WorkbookError(f"{name}: part {part} is compressed with {method}, which Excel "
                            "does not write; save the file again from Excel")
    ratio = member.file_size // max(member.compress_size, 1)
    if member.file_size > MAX_BOMB_MEMBER_BYTES and ratio > MAX_RATIO:
        raise WorkbookError(f"{name}: {part} expands {ratio}x (refused as a zip bomb)")


def _check_sheet_parts(archive: zipfile.ZipFile, names: set[str], name: str) -> None:
    """Refuse a workbook whose sheet list names a sheet without its part (an incomplete file
    that would otherwise lose the sheet silently)."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    from xl_negcoke.errors import WorkbookError, shorten

    rels_name = "xl/_rels/workbook.xml.rels"
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read(rels_name)) if rels_name in names else None
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise WorkbookError(f"{name}: not a readable workbook (xl/workbook.xml or its "
                            f"relationships are not well-formed XML: {exc.__class__.__name__})") from None
    targets = {} if rels is None else {
        rel.get("Id"): rel.get("Target", "") for rel in rels.iter(_RELATIONSHIPS)}
    for sheet in book.iter(_SHEET):
        title = shorten(sheet.get("name") or "?")
        target = targets.get(sheet.get(_RELATIONSHIP_ID))
        if target is None:
            raise WorkbookError(f"{name}: sheet {title!r} has no part in the file (incomplete "
                                "workbook); open and save it in Excel, or use an intact copy")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        if posixpath.normpath(part) not in names:
            raise WorkbookError(f"{name}: sheet {title!r} has no part {shorten(part)} in the file "
                                "(incomplete workbook); open and save it in Excel, or use an "
                                "intact copy")


def _check_cell_count(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], name: str) -> None:
    """Refuse more cells or formulas than MAX_CELLS / MAX_FORMULAS, counted while unpacking (so
    an oversized workbook is refused in seconds, before any sheet is parsed)."""
    from xl_negcoke.errors import WorkbookError

    cells = formulas = 0
    for member in members:
        if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
            continue
        tail = b""
        with archive.open(member) as stream:
            while chunk := stream.read(1 << 20):
                text = tail + chunk
                # a tag cut by the chunk's end is counted with the next chunk
                cut = text.rfind(b"<", max(len(text) - 64, 0))
                head, tail = (text, b"") if cut < 0 else (text[:cut], text[cut:])
                cells += len(_CELL.findall(head))
                formulas += len(_FORMULA.findall(head))
        cells += len(_CELL.findall(tail))
        formulas += len(_FORMULA.findall(tail))
        if cells > MAX_CELLS:
            raise WorkbookError(f"{name}: more than {MAX_CELLS:,} cells; this tool opens workbooks "
                                f"up to {MAX_CELLS:,} cells (the template has about 12,000)")
        if formulas > MAX_FORMULAS:
            raise WorkbookError(f"{name}: more than {MAX_FORMULAS:,} formulas; this tool opens "
                                f"workbooks up to {MAX_FORMULAS:,} formulas")


# ---------------------------------------------------------------------------------------------
# keeping the analyst's work safe: locks, links, read-only files, backups, leftovers


class Terminated(BaseException):
    """The process received SIGTERM: raised where it runs, so every cleanup (temporary files,
    the lock) happens as for Ctrl+C."""


def terminate_as_interrupt() -> None:
    """Turn SIGTERM into `Terminated` for the rest of the process (the command line sets it)."""
    def handler(_signum: int, _frame: object) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, handler)


def lock_path(path: Path) -> Path:
    """The lock file a command holds while it changes `path`: .name.xl-negcoke-lock beside it."""
    return path.with_name(f".{path.name}.xl-negcoke-lock")


_HELD: dict[Path, int] = {}  # lock files this process holds -> depth (a command may nest them)


def _owner_alive(lock: Path) -> bool:
    """Whether the process that wrote the lock file still runs (a lock of a killed run is stale)."""
    try:
        host, _, pid = lock.read_text(encoding="utf-8").partition(":")
        pid_number = int(pid.split()[0])
    except (OSError, ValueError, IndexError):
        return True  # unreadable or being written: assume a live owner
    if host != socket.gethostname():
        return True  # another machine's lock cannot be checked: respect it
    try:
        os.kill(pid_number, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove the temporary files a killed write to `target` or to one of its backups left
    (.name.*.tmp beside it); only call while holding the lock on `target`. A temporary file of
    another workbook whose name starts alike is left alone while a live command holds its lock."""
    removed = []
    if not target.parent.is_dir():
        return removed
    for leftover in target.parent.glob(f".{target.stem}*.tmp"):
        written = leftover.name[1:].rsplit(".", 2)[0]  # .NAME.<random>.tmp -> NAME
        if written != target.name:
            if not (written.startswith(f"{target.stem}.") and written.endswith(target.suffix)):
                continue
            lock = lock_path(target.with_name(written))
            if lock.exists() and _owner_alive(lock):
                continue
        leftover.unlink(missing_ok=True)
        removed.append(leftover)
    for lock in target.parent.glob(f".{target.stem}.*{target.suffix}.xl-negcoke-lock"):
        if lock != lock_path(target) and not _owner_alive(lock):  # a killed write of a backup
            lock.unlink(missing_ok=True)
    return removed


@contextlib.contextmanager
def exclusive_lock(path: str | Path) -> Iterator[Path]:
    """Hold the lock on a workbook file while a command reads and replaces it.

    The lock file is created atomically (O_EXCL) beside the workbook and holds host and process
    id; a lock whose process no longer runs (kill -9) is taken over. Temporary files of a killed
    run are removed once the lock is held.

    Raises:
        WorkbookError: another running command holds the lock.
    """
    from xl_negcoke.errors import WorkbookError

    target = real_path(Path(path))
    lock = lock_path(target)
    if lock in _HELD:  # the same command, one level down
        _HELD[lock] += 1
        try:
            yield target
        finally:
            _HELD[lock] -= 1
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. a file where the folder should be: name the file to write
        raise OSError(exc.errno, exc.strerror or exc.__class__.__name__, str(target)) from exc
    for _attempt in range(2):
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _owner_alive(lock):
                raise WorkbookError(
                    f"{target.name} is being changed by another xl-negcoke command (lock file "
                    f"{lock.name}); wait for it to finish (if none is running, delete the lock "
                    "file)") from None
            lock.unlink(missing_ok=True)  # left by a killed run
            continue
        except OSError as exc:  # a folder without write permission, a full disk
            raise OSError(exc.errno, exc.strerror or exc.__class__.__name__, str(target)) from exc
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(f"{socket.gethostname()}:{os.getpid()}\n")
        break
    else:
        raise WorkbookError(f"{target.name}: cannot take the lock file {lock.name}; try again")
    _HELD[lock] = 1
    try:
        remove_stale_temporaries(target)
        yield target
    finally:
        _HELD.pop(lock, None)
        lock.unlink(missing_ok=True)


def real_path(path: Path) -> Path:
    """Where a write to `path` must go: through symbolic links to the file itself, so the link
    stays a link and its target is the file changed."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def require_writable(path: Path, force: bool) -> None:
    """Refuse a read-only file unless forced.

    Raises:
        WorkbookError: the file has no write permission and `force` is False.
    """
    from xl_negcoke.errors import WorkbookError

    if path.exists() and not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) \
            and not force:
        raise WorkbookError(f"{path.name} is read-only; make it writable first, or pass --force "
                            "(the refreshed file stays read-only)")


def backup_path(path: Path, label: str) -> Path:
    """A backup name beside `path` that no file has: name.<label>.xlsx, then name.<label>.2.xlsx,
    name.<label>.3.xlsx, ... (a backup is never overwritten)."""
    candidate = path.with_name(f"{path.stem}.{label}{path.suffix}")
    number = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{path.stem}.{label}.{number}{path.suffix}")
        number += 1
    return candidate


_CORE_MODIFIED = re.compile(rb"<dcterms:modified\b[^>]*>([^<]*)</dcterms:modified>")


def is_untouched_output(data: bytes) -> bool:
    """Whether a workbook file is as `build` or `snapshot` wrote it: its modification time is
    still the fixed DOC_TIME (Excel, LibreOffice, openpyxl and refresh all set their own)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            core = archive.read("docProps/core.xml")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib_error):
        return False
    found = _CORE_MODIFIED.search(core)
    return bool(found) and found.group(1).decode(errors="replace") == DOC_TIME


def replaceable(path: Path, force: bool, label: str) -> Path | None:
    """Check that writing over `path` destroys no work; the backup to keep, if any.

    A missing file and one still as `build` / `snapshot` wrote it may be replaced. Any other file
    (edited in Excel, refreshed, someone else's) is refused unless `force`; then it is to be kept
    as a backup (name.<label>.xlsx, never overwriting one).

    Raises:
        WorkbookError: the file holds other content and `force` is False.
    """
    from xl_negcoke.errors import WorkbookError

    target = real_path(path)
    if not target.exists():
        return None
    try:
        existing = target.read_bytes()
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot read the file in the way ({exc.strerror})") from None
    if is_untouched_output(existing):
        return None
    if not force:
        raise WorkbookError(f"{path} exists and is not a file this command wrote (edited since, "
                            "or another workbook); it was not replaced: write elsewhere, or pass "
                            f"--force to replace it and keep it as {backup_path(target, label).name}")
    return backup_path(target, label)
