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

from openpyxl import Workbook

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
DOC_TIME = "2024-01-01T00:00:00Z"  # the fixed docProps time of every build
_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def book_bytes(book: Workbook) -> bytes:
    """The workbook saved by openpyxl, made deterministic."""
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
    """Write `data` to `path` through a temporary file renamed over it when complete."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
