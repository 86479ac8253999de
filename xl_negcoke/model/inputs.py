"""The one parser of every number and assumption key that comes from outside: the data
folder's CSV files, the workbook's Assumptions range (the NEGCOKE_* functions and `check`) and
overrides passed to `load_model`.

What a number may look like, everywhere:
- a number (int or float, or the same from numpy), finite;
- text of plain digits with an optional sign, a point for decimals and an exponent:
  "1650", "-0.5", "1.5e3"; with a trailing "%", a percentage: "15%" is 0.15.

Refused, with one line that says what is valid: thousands separators and decimal commas
("1,650" reads as 1650 in one locale and 1.65 in another, so no comma is ever guessed),
underscores ("1_6"), TRUE/FALSE, NaN, infinity, dates, digits of other scripts and anything else.

Assumption keys are `key` for the base case and `scenario.key` for a scenario; `base.key` and
`.key` are the base case too and the scenario name ignores case, so `key`, `base.key`, `.key`,
and `HIGH.key` / `high.key` are pairs of the same input: a second row for the same input is an
error naming both rows, never "the last one wins".
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta

from xl_negcoke.errors import AssumptionError, shorten
from xl_negcoke.model.names import SCENARIO_ALIASES, normalise

#: What a number may look like (one line, used in every "not a number" message).
VALID_NUMBER = "write digits with a point for decimals and no separators, e.g. 1650, 1.65 or 15%"
#: At most this many scenarios besides base in one assumptions table or data folder.
MAX_SCENARIOS = 12
#: At most this many rows in one assumptions table (the built workbook has about 80).
MAX_ASSUMPTION_ROWS = 2_000
#: Scenario names: letters, digits and _, at most this long.
MAX_SCENARIO_NAME = 31

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_SCENARIO = re.compile(r"[A-Za-z0-9_]+", re.ASCII)
_SCENARIO_ALIAS_OF = {normalise(alias): name for name, aliases in SCENARIO_ALIASES.items()
                      for alias in aliases}


class NotANumber(ValueError):
    """A value that is not a usable number: `shown` is the value as quoted in messages,
    `reason` the rest of the sentence ("is not a number; write ...")."""

    def __init__(self, shown: str, reason: str) -> None:
        self.shown = shown
        self.reason = reason
        super().__init__(f"{shown} {reason}")


def parse_number(value: object) -> float:
    """The finite number `value` stands for.

    Raises:
        NotANumber: with one line saying what `value` is and what a valid number looks like
            (callers put the file, row or cell in front).
    """
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):  # numpy 1 / numpy 2
        raise NotANumber("TRUE" if value else "FALSE",
                         f"is not a number (TRUE/FALSE is never read as 1/0); {VALID_NUMBER}")
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise NotANumber(show(number), f"is not a finite number; {VALID_NUMBER}")
        return number
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, (date, time, timedelta)):
        raise NotANumber(f"the date or time {shorten(str(value))}", f"is not a number; {VALID_NUMBER}")
    if value is None:
        raise NotANumber("empty", f"is not a number; {VALID_NUMBER}")
    raise NotANumber(shorten(repr(value)), f"is not a number; {VALID_NUMBER}")


def _parse_text(value: str) -> float:
    text = value.strip()
    percent = text.endswith("%")
    digits = text[:-1].rstrip() if percent else text
    if _NUMBER.fullmatch(digits) is None:
        raise NotANumber(repr(shorten(value)), f"is not a number{_why(digits)}; {VALID_NUMBER}")
    number = float(digits)
    if not math.isfinite(number):  # an exponent too large: 1e999
        raise NotANumber(repr(shorten(value)), f"is not a finite number; {VALID_NUMBER}")
    return number / 100.0 if percent else number


def _why(text: str) -> str:
    """What makes a number-like text invalid, when it is one of the common mistakes."""
    if "," in text and re.fullmatch(r"[+-]?[0-9.,]+", text, re.ASCII):
        return " (commas are refused: a thousands separator and a decimal comma look alike)"
    if "_" in text and re.fullmatch(r"[+-]?[0-9._]+", text, re.ASCII):
        return " (underscores are refused)"
    if text.upper() in ("TRUE", "FALSE"):
        return " (TRUE/FALSE is never read as 1/0)"
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return " (NaN and infinity are refused)"
    return ""


def show(value: object) -> str:
    """A value the way a reader recognises it in a message, at most about 60 characters."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return f'"{shorten(value)}"'
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "infinity" if number > 0 else "-infinity"
        return f"{number:.10g}"
    return shorten(repr(value))


@dataclass(frozen=True)
class AssumptionKey:
    """An assumption key split into its scenario ("base" for the base case) and its name."""

    scenario: str
    name: str

    @property
    def text(self) -> str:
        """The canonical spelling: `name` for base, `scenario.name` otherwise."""
        return self.name if self.scenario == "base" else f"{self.scenario}.{self.name}"


def parse_key(raw: object, valid_names: Collection[str]) -> AssumptionKey:
    """Split `raw` ("key", "base.key", ".key" or "scenario.key") and check both parts.

    Raises:
        ValueError: one line naming the key and what would be valid.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"key {show(raw)} is not an assumption key")
    key = raw.strip()
    scenario, _, name = key.rpartition(".")
    scenario = scenario.strip().lower() or "base"
    name = name.strip()
    if name not in valid_names:
        close = _closest(name, valid_names)
        raise ValueError(f'unknown key "{shorten(key)}"' + (f"; closest: {', '.join(close)}"
                                                            if close else ""))
    problem = scenario_problem(scenario)
    if problem:
        raise ValueError(f"{problem} (in key {shorten(key)})")
    return AssumptionKey(scenario, name)


def scenario_problem(scenario: str) -> str | None:
    """Why `scenario` (lower case) cannot name a scenario of its own, or None when it can."""
    if len(scenario) > MAX_SCENARIO_NAME or _SCENARIO.fullmatch(scenario) is None:
        return (f'invalid scenario name "{shorten(scenario)}"; use letters, digits and _ (at most '
                f"{MAX_SCENARIO_NAME})")
    name = _SCENARIO_ALIAS_OF.get(normalise(scenario))
    if name is not None and name != scenario:
        return f'scenario name "{scenario}" is another name of {name}; write {name}'
    return None


def _closest(name: str, valid_names: Collection[str]) -> list[str]:
    import difflib

    return difflib.get_close_matches(name[:100], sorted(valid_names), n=3, cutoff=0.6)


def read_assumptions(rows: Iterable[tuple[str, object, object]], valid_names: Collection[str],
                     check: Callable[[str, float], str | None] | None = None) -> dict[str, float]:
    """{canonical key: value} from (where, key, value) rows; `where` names the row in messages
    ("assumptions row 7", "Assumptions!A12"); `check(name, value)` says why a value is out of
    range (None when it is fine).

    Raises:
        AssumptionError: the first bad row (unknown key, bad scenario name, a value that is not a
            number, the same input twice naming both rows, too many rows or scenarios).
    """
    found: dict[str, float] = {}
    first: dict[str, tuple[str, str]] = {}
    scenarios: set[str] = set()
    for count, (where, raw_key, raw_value) in enumerate(rows, start=1):
        if count > MAX_ASSUMPTION_ROWS:
            raise AssumptionError(f"{where}: more than {MAX_ASSUMPTION_ROWS:,} assumption rows; "
                                  "an assumptions table holds at most that many")
        try:
            key = parse_key(raw_key, valid_names)
        except ValueError as error:
            raise AssumptionError(f"{where}: {error} (see the key column of the Assumptions "
                                  "sheet; scenario values are written scenario.key)") from None
        spelled = shorten(str(raw_key).strip())
        if key.text in first:
            first_where, first_spelled = first[key.text]
            also = "" if first_where == where else f" in {first_where}"
            raise AssumptionError(f"{where}: key {spelled} is the same input as key "
                                  f"{first_spelled}{also}; keep one of the two rows")
        if key.scenario != "base" and key.scenario not in scenarios:
            scenarios.add(key.scenario)
            if len(scenarios) > MAX_SCENARIOS:
                raise AssumptionError(f"{where}: scenario {key.scenario} is one more than the "
                                      f"{MAX_SCENARIOS} scenarios besides base a table may define")
        try:
            value = parse_number(raw_value)
        except NotANumber as error:
            raise AssumptionError(f"{where}: value {error.shown} for key {key.text} "
                                  f"{error.reason}") from None
        problem = check(key.name, value) if check else None
        if problem:
            raise AssumptionError(f"{where}: {key.text} {problem}")
        first[key.text] = (where, spelled)
        found[key.text] = value
    return found


def read_overrides(overrides: Mapping[str, object], valid_names: Collection[str],
                   check: Callable[[str, float], str | None] | None = None) -> dict[str, float]:
    """`read_assumptions` for a mapping (load_model's overrides)."""
    return read_assumptions((("assumption overrides", key, value)
                             for key, value in overrides.items()), valid_names, check)
