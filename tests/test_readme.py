"""The README promises only what exists: install commands, function count, the Assumptions
example and the macros it names (the formula tables are checked in test_udfs.py)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import openpyxl
from vba_source import subs, vba_modules

import xl_negcoke
import xl_negcoke.macros
from xl_negcoke import udfs
from xl_negcoke.workbook import FILE_NAMES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TEMPLATE = ROOT / "workbooks" / "negative-coke-outlook-2024-2030"
WORKBOOKS = ROOT / "workbooks"
NUMBER_WORDS = {"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}


def test_readme_states_the_number_of_negcoke_functions():
    """Every count of worksheet functions in the README is the number of NEGCOKE_* in udfs.py."""
    names = sorted(name for name in vars(udfs) if name.startswith("NEGCOKE_"))
    assert names == ["NEGCOKE_CAGR", "NEGCOKE_COMPANY", "NEGCOKE_FORECAST", "NEGCOKE_INFO",
                     "NEGCOKE_RANGE", "NEGCOKE_SEGMENTS", "NEGCOKE_SENSITIVITY", "NEGCOKE_SHARE",
                     "NEGCOKE_SOURCE", "NEGCOKE_TABLE"]
    words = "|".join(NUMBER_WORDS)
    counts = re.findall(rf"\b({words}) (?:worksheet |`NEGCOKE_\*` )?functions\b", README,
                        flags=re.IGNORECASE)
    assert len(counts) == 3, counts  # "Ten worksheet functions", "The ten `NEGCOKE_*`", Lite's
    assert [NUMBER_WORDS[word.lower()] for word in counts] == [len(names)] * 3


def test_readme_installs_from_a_checkout_or_a_wheel_of_this_version():
    """xl_negcoke is not on PyPI: the README installs `.` or the wheel named for __version__."""
    assert not re.search(r"pip install xl_negcoke\b", README)
    assert "pip install .  " in README
    wheel = f"dist/xl_negcoke-{xl_negcoke.__version__}-py3-none-any.whl"
    assert xl_negcoke.__version__ == "0.1.0"
    assert f"pip wheel --no-deps . -w dist                     # or build {wheel}" in README
    assert f"pip install {wheel}" in README


def _named_range_values(name: str) -> list[list[object]]:
    """The cells of a defined name of the committed template, as xlwings passes a range."""
    book = openpyxl.load_workbook(TEMPLATE.with_suffix(".xlsx"))
    (sheet, reference), = book.defined_names[name].destinations
    return [list(row) for row in book[sheet].iter_rows(values_only=True,
                                                         **_bounds(reference))]


def _bounds(reference: str) -> dict[str, int]:
    min_col, min_row, max_col, max_row = openpyxl.utils.cell.range_boundaries(reference)
    return {"min_col": min_col, "min_row": min_row, "max_col": max_col, "max_row": max_row}


def test_readme_assumptions_example_works_on_the_template():
    """The README's assumptions example names the template's table and returns its figure."""
    example = '`=NEGCOKE_FORECAST("Power Battery", 2027, "revenue", "base", AssumptionsTable)`'
    assert example in README
    table = _named_range_values("AssumptionsTable")
    assert table[0][:4] == ["key", "value", "unit", "source"]
    result = udfs.NEGCOKE_FORECAST("Power Battery", 2027, "revenue", "base", table)
    assert f"{result:,.1f}" == "2,087.7"  # the template's inputs are the dataset's: same as without


def test_a_range_from_the_sheet_title_is_refused_as_the_readme_says():
    """The old example range Assumptions!$A$1:$E$80 starts at the title: one #VALUE! line."""
    book = openpyxl.load_workbook(TEMPLATE.with_suffix(".xlsx"))
    rows = [list(row) for row in book["Assumptions"].iter_rows(
        min_row=1, max_row=80, max_col=5, values_only=True)]
    result = udfs.NEGCOKE_FORECAST("Power Battery", 2027, "revenue", "base", rows)
    assert isinstance(result, str) and result.startswith("#VALUE! assumptions row 1: expected the header")
    assert ("A range that starts above the header row\n  (the sheet's title) is refused with "
            "`#VALUE!`") in README


def test_readme_runpython_calls_name_functions_that_macros_offers():
    """Each RunPython line in the README imports xl_negcoke.macros and calls a function it has,
    with no argument it requires."""
    calls = re.findall(r'RunPython "import ([\w.]+); ([\w.]+)\.(\w+)\(\)"', README)
    assert calls == [("xl_negcoke.macros", "xl_negcoke.macros", "refresh_workbook")]
    function = getattr(xl_negcoke.macros, calls[0][2])
    required = [parameter for parameter in inspect.signature(function).parameters.values()
                if parameter.default is inspect.Parameter.empty]
    assert required == []


def test_readme_names_the_macros_the_xlsm_contains():
    """The .xlsm's only macro outside xlwings's own module is SampleCall, as the README says; it
    imports the module named after the workbook, which is a valid module name (xlwings's
    quickstart convention), and that module is committed beside the .xlsm."""
    modules = vba_modules(WORKBOOKS / FILE_NAMES[".xlsm"])
    assert "xlwings" in modules and "RunPython" in modules["xlwings"]
    own = {name: subs(source) for name, source in modules.items()
           if name not in ("xlwings", "Dictionary")}
    assert own == {"Sheet1": [], "Sheet2": [], "Module1": ["SampleCall"], "ThisWorkbook": []}
    # SampleCall imports the workbook's name without its extension
    assert 'RunPython "import " & mymodule & ";" & mymodule & ".main()"' in modules["Module1"]
    assert "Left(ThisWorkbook.Name, (InStrRev(ThisWorkbook.Name" in modules["Module1"]
    stem = FILE_NAMES[".xlsm"].removesuffix(".xlsm")
    assert stem.isidentifier() and (WORKBOOKS / f"{stem}.py").is_file()
    assert "one macro of its own, `SampleCall`, which runs" in README
    assert f"the workbook is `{stem}.xlsm` and `xl-negcoke build`\nwrites `{stem}.py` beside it" in README


def test_readme_progress_example_is_what_recalc_says_for_the_template():
    """The README's recalc progress example counts the committed template's formula cells and
    names the version --version prints."""
    from xl_negcoke.progress import count_formula_cells

    cells = count_formula_cells(TEMPLATE.with_suffix(".xlsx").read_bytes())
    assert f"xl-negcoke recalc: recalculating {cells:,} formula cells...\n" in README
    assert f"`xl-negcoke --version` prints the version (`xl-negcoke {xl_negcoke.__version__}`)" in README


def test_the_readme_test_line_ci_runs_is_the_full_suite():
    """CI runs the README's `# tests` line, so it runs the whole suite (--full), not the fast
    developer default that leaves the slow tests out; the Development section names both."""
    line = next(line for line in README.splitlines() if line.endswith("# tests"))
    assert re.sub(r"\s+# tests$", "", line) == "bash scripts/setup.sh && .venv/bin/python -m pytest -q --full"
    development = README.split("\n## Development\n", 1)[1]
    assert "| `pytest -q` |" in development and "| `pytest -q --full` |" in development
