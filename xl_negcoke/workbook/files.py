"""Workbook files: deterministic bytes and atomic writes.

A build must give byte-identical files: the zip entries carry a fixed timestamp and the
document properties a fixed creation and modification time. Writes go to a temporary file in
the same folder and are renamed over the target only when complete, so a failed command leaves
every file as it was.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
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


def normalise_zip(data: bytes, replace: dict[str, bytes] | None = None) -> bytes:
    """Rewrite an OOXML zip with fixed timestamps (and optionally replaced members)."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = replace.get(item.filename)
            if content is None:
                content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
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
    they renamed over their targets. A failure while writing leaves every target as it was.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            staged.append((_stage(Path(path), data), Path(path)))
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


MAX_FILE_BYTES = 200 * 1024 * 1024  # a workbook file larger than this is refused
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # zip-bomb guard: total uncompressed size
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
            total = sum(m.file_size for m in members)
            if total > MAX_UNPACKED_BYTES:
                raise WorkbookError(f"{name}: unpacks to {total / 1e6:.0f} MB, more than "
                                    f"{MAX_UNPACKED_BYTES / 1e6:.0f} MB (refused as a zip bomb)")
            for member in members:
                ratio = member.file_size // max(member.compress_size, 1)
                if member.file_size > MAX_BOMB_MEMBER_BYTES and ratio > MAX_RATIO:
                    raise WorkbookError(f"{name}: {member.filename} expands {ratio}x "
                                        "(refused as a zip bomb)")
            bad = archive.testzip()
            if bad is not None:
                raise WorkbookError(f"{name}: corrupt (member {bad} fails its checksum)")
    except zipfile.BadZipFile as exc:
        raise WorkbookError(f"{name}: corrupt or truncated workbook ({exc})") from None
    except (OSError, EOFError, zlib_error) as exc:
        raise WorkbookError(f"{name}: corrupt or truncated workbook ({exc.__class__.__name__})"
                            ) from None
