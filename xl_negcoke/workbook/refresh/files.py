"""Files: the refresh of a workbook file in place, safe for the analyst's work.

The file is locked while it is read, refreshed and replaced (two commands never interleave on
it); a symbolic link is refreshed at its target and stays a link; a read-only file, or one open
in Excel, is refused unless forced; the previous version is kept as a backup under a name no file
has, and the refreshed bytes go to a temporary file renamed over the workbook when complete.
"""

from __future__ import annotations

from pathlib import Path

from xl_negcoke.errors import WorkbookError
from xl_negcoke.workbook import files

BACKUP_LABEL = "before-refresh"


def lock_file(path: Path) -> Path:
    """Excel's lock file for an open workbook: ~$name.xlsx beside it."""
    return path.with_name("~$" + path.name)


def backup_path(path: Path) -> Path:
    """Where refresh keeps the previous version: name.before-refresh.xlsx beside the file (through a
    link, beside its target), or name.before-refresh.2.xlsx, .3, ... when that name is taken."""
    return files.backup_path(files.real_path(Path(path)), BACKUP_LABEL)


def check_not_open(path: Path, force: bool) -> None:
    """Refuse a workbook Excel has open (its lock file beside the file or the link) unless forced.

    Raises:
        WorkbookError: Excel's lock file exists and `force` is False.
    """
    for candidate in {lock_file(path), lock_file(files.real_path(path))}:
        if candidate.exists() and not force:
            raise WorkbookError(f"{path.name} is open in Excel ({candidate.name} exists); "
                                "close it first, or pass --force")


def replace_keeping_backup(path: Path, original: bytes, result: bytes) -> Path:
    """Keep `original` as a new backup beside the file, then replace the file with `result`; the
    backup's path. Each write is atomic: a failure leaves the workbook as it was."""
    backup = backup_path(path)
    files.atomic_write(backup, original)
    files.atomic_write(path, result)
    return backup
