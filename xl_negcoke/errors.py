"""The one exception tree of xl_negcoke.

The model and the workbook layer raise these; only the Excel face (`udfs.py`) turns them into
error text for a cell and only the CLI turns them into exit codes. Every message is one line that
names what is wrong and what would be valid.
"""

from __future__ import annotations

#: Longest piece of a user's input quoted in a message, so an error line stays short.
QUOTE_CHARS = 60


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text` on one line (whitespace runs as one space, other unprintable characters as ?)
    and at most `limit` characters, ending in "..." when cut: how messages quote user input."""
    flat = "".join(ch if ch.isprintable() else "?" for ch in " ".join(str(text).split()))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class NegcokeError(Exception):
    """Base class of every error xl_negcoke raises on purpose."""

    #: Excel error code the Excel face shows in front of the message.
    excel_code = "#VALUE!"


class UnknownNameError(NegcokeError, KeyError):
    """A segment, metric, scenario, dimension, company, field or key that does not exist."""

    excel_code = "#N/A"

    def __init__(self, kind: str, name: object, valid: list[str], hint: str = "",
                 complete: bool = True) -> None:
        self.kind = kind
        self.name = name
        self.valid = valid
        self.hint = hint
        self.complete = complete  # False: `valid` holds only the closest names
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f'unknown {self.kind} "{shorten(str(self.name))}"'
        if self.valid:
            text += f"; {'valid' if self.complete else 'closest'}: {', '.join(self.valid)}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class InvalidArgumentError(NegcokeError, ValueError):
    """An argument of the right name but an invalid value (a year out of range, a bad count)."""


class NotAvailableError(NegcokeError, LookupError):
    """A valid question the model has no number for (price has no share, capacity by type)."""

    excel_code = "#N/A"


class DataError(NegcokeError):
    """A data folder that cannot be used: names file, row and column of the first problem."""

    def __init__(self, file: str, message: str, row: int | None = None, column: str | None = None):
        self.file = file
        self.row = row
        self.column = column
        message = shorten(message, 400)  # one line, however long the values it quotes
        self.message = message
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")


class AssumptionError(NegcokeError, ValueError):
    """An assumptions table or override that cannot be used (unknown key, non-numeric value)."""


class WorkbookError(NegcokeError):
    """A workbook that cannot be read, built, recalculated or refreshed."""
