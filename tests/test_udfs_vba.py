"""Proof on Linux that Excel will register the NEGCOKE_* functions.

xlwings builds the VBA for "Import Functions" in `xlwings.udfs`, which imports only on Windows
(pywin32). These tests provide stand-in modules for `pythoncom`, `pywintypes` and
`win32com.client`, put the real decorators of `xlwings.udfs` in place of the no-op ones that
xlwings exports off Windows, reload `xl_negcoke.udfs` to get the metadata Excel would see, and
run xlwings's own generator. Everything is restored afterwards.
"""

from __future__ import annotations

import importlib
import io
import re
import sys
import types
from typing import Any

import pytest
import xlwings

MODULE = "xl_negcoke.udfs"
PYWIN32_MODULES = ("pythoncom", "pywintypes", "win32com", "win32com.client")
DECORATORS = ("func", "arg", "ret", "sub", "script")
SIGNATURES = {
    "NEGCOKE_FORECAST": "segment, year, Optional metric, Optional scenario, Optional assumptions",
    "NEGCOKE_SHARE": "segment, year, Optional metric, Optional scenario, Optional assumptions",
    "NEGCOKE_CAGR": "segment, start_year, end_year, Optional metric, Optional scenario, "
                    "Optional assumptions",
    "NEGCOKE_TABLE": "dimension, Optional metric, Optional start_year, Optional end_year, "
                     "Optional scenario, Optional assumptions",
    "NEGCOKE_SEGMENTS": "dimension",
    "NEGCOKE_COMPANY": "company, field, Optional year, Optional scenario, Optional assumptions",
    "NEGCOKE_SOURCE": "key",
    "NEGCOKE_INFO": "Optional field",
    "NEGCOKE_RANGE": "segment, year, percentile, Optional metric, Optional assumptions",
    "NEGCOKE_SENSITIVITY": "Optional segment, Optional year, Optional metric, Optional assumptions",
}


class ComError(Exception):
    """Stands in for pywintypes.com_error, which xlwings.udfs catches."""


def _pywin32_stand_ins() -> dict[str, types.ModuleType]:
    """Just what `xlwings/udfs.py` touches at import and in import_udfs()."""
    pythoncom = types.ModuleType("pythoncom")
    pythoncom.CoInitialize = lambda: None  # ThreadPoolExecutor(initializer=...) at import
    pythoncom.IID_IDispatch = None
    pywintypes = types.ModuleType("pywintypes")
    pywintypes.com_error = ComError
    win32com = types.ModuleType("win32com")
    win32com.__path__ = []  # a package
    client = types.ModuleType("win32com.client")

    def dispatch(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("no COM on this platform")

    client.Dispatch = dispatch
    win32com.client = client
    return {"pythoncom": pythoncom, "pywintypes": pywintypes, "win32com": win32com,
            "win32com.client": client}


class FakeComponents:
    """The workbook's VBComponents: records the .bas file import_udfs() imports."""

    def __init__(self) -> None:
        self.imported = ""

    def __call__(self, name: str) -> None:
        raise ComError(name)  # no xlwings_udfs module yet: Remove is skipped

    def Remove(self, component: object) -> None:  # COM spelling
        pass

    def Import(self, path: str) -> None:  # COM spelling
        with open(path) as handle:
            self.imported = handle.read()


class FakeApplication:
    """Excel's Application: records the MacroOptions calls that carry the help texts."""

    Version = "16.0"

    def __init__(self) -> None:
        self.macro_options: dict[str, dict[str, Any]] = {}

    def MacroOptions(self, macro: str, **options: Any) -> None:  # COM spelling
        self.macro_options[macro] = options


class FakeWorkbook:
    """The COM workbook import_udfs() writes to (only the attributes it reads)."""

    Name = "negcoke.xlsm"

    def __init__(self) -> None:
        self.VBProject = types.SimpleNamespace(VBComponents=FakeComponents())
        self.Application = FakeApplication()


@pytest.fixture(scope="module")
def classic_xlwings():
    """`xlwings.udfs` importable and its decorators in place; our module reloaded under them."""
    saved_modules = {name: sys.modules.get(name) for name in (*PYWIN32_MODULES, "xlwings.udfs")}
    saved_decorators = {name: getattr(xlwings, name) for name in DECORATORS if hasattr(xlwings, name)}
    had_udfs_attribute = hasattr(xlwings, "udfs")
    saved_udfs_attribute = getattr(xlwings, "udfs", None)
    try:
        for name, module in _pywin32_stand_ins().items():
            sys.modules.setdefault(name, module)
        xlwings_udfs = importlib.import_module("xlwings.udfs")
        xlwings.func, xlwings.arg, xlwings.ret = (xlwings_udfs.xlfunc, xlwings_udfs.xlarg,
                                                  xlwings_udfs.xlret)
        xlwings.sub = xlwings.script = xlwings_udfs.xlsub
        module = importlib.reload(importlib.import_module(MODULE))
        yield xlwings_udfs, module
    finally:
        for name, value in saved_decorators.items():
            setattr(xlwings, name, value)
        for name, module in saved_modules.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        if had_udfs_attribute:
            xlwings.udfs = saved_udfs_attribute
        elif hasattr(xlwings, "udfs"):
            del xlwings.udfs
        importlib.reload(importlib.import_module(MODULE))  # back to the plain functions


@pytest.fixture(scope="module")
def vba(classic_xlwings):
    """The VBA that xlwings's own generator writes for xl_negcoke.udfs."""
    xlwings_udfs, module = classic_xlwings
    buffer = io.StringIO()
    xlwings_udfs.generate_vba_wrapper(MODULE, module, buffer, FakeWorkbook())
    return buffer.getvalue()


def declarations(vba_text: str) -> dict[str, str]:
    return dict(re.findall(r"^Function (\w+)\((.*)\)$", vba_text, flags=re.MULTILINE))


def test_vba_declares_exactly_the_ten_functions(vba):
    """Import Functions declares the ten NEGCOKE_* functions and nothing else."""
    assert sorted(declarations(vba)) == sorted(SIGNATURES)
    assert "Sub " not in vba


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_vba_declares_required_then_optional_parameters(vba, name):
    """Each function is declared with its required parameters, then Optional ones."""
    assert declarations(vba)[name] == SIGNATURES[name]


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_vba_calls_the_python_function_of_the_same_name(vba, name):
    """Each VBA function calls xl_negcoke.udfs.<name> with every argument, in order."""
    arguments = SIGNATURES[name].replace("Optional ", "")
    assert (f'{name} = XLPy.CallUDF("{MODULE}", "{name}", Array({arguments}), ThisWorkbook, '
            "Application.Caller)") in vba


def test_vba_functions_are_not_volatile_and_run_in_the_wizard(vba):
    """No function recalculates on every change: Excel's dependency graph decides."""
    assert "Application.Volatile" not in vba
    assert "CommandBars" not in vba


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_metadata_carries_the_help_texts(classic_xlwings, name):
    """The function help (docstring, under 255 chars) and a doc per argument are in __xlfunc__."""
    _, module = classic_xlwings
    meta = getattr(module, name).__xlfunc__
    assert meta["name"] == name
    assert meta["ret"]["doc"] == getattr(module, name).__doc__
    assert 0 < len(meta["ret"]["doc"]) < 255
    for argument in meta["args"]:
        assert argument["doc"] and not argument["doc"].startswith("Positional argument")
        assert len(argument["doc"]) < 255
        assert argument["vba"] is None and not argument["vararg"]


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_metadata_uses_only_options_xlwings_lite_understands(classic_xlwings, name):
    """No caller, vba or expand; arguments read cell errors as text; ranges stay 2-D."""
    _, module = classic_xlwings
    meta = getattr(module, name).__xlfunc__
    assert "expand" not in meta["ret"]["options"]
    assert meta["volatile"] is False and meta["async_mode"] is None
    for argument in meta["args"]:
        assert argument["name"] != "caller"
        assert argument["options"]["err_to_str"] is True
        assert argument["options"]["convert"] is Any  # no converter: values as Excel sends them
        if argument["name"] == "assumptions":
            assert argument["options"]["ndim"] == 2


def test_import_udfs_registers_help_with_excel(classic_xlwings):
    """import_udfs() imports the module and passes each description to Application.MacroOptions."""
    xlwings_udfs, module = classic_xlwings
    saved = xlwings_udfs.udf_modules.get(MODULE)
    xlwings_udfs.udf_modules[MODULE] = {"filename": module.__file__, "filetime": None,
                                        "module": module}
    try:
        workbook = FakeWorkbook()
        xlwings_udfs.import_udfs(MODULE, workbook)
    finally:
        if saved is None:
            xlwings_udfs.udf_modules.pop(MODULE, None)
        else:
            xlwings_udfs.udf_modules[MODULE] = saved
    assert workbook.VBProject.VBComponents.imported.startswith('Attribute VB_Name = "xlwings_udfs"')
    options = workbook.Application.macro_options
    assert sorted(options) == sorted(f"'negcoke.xlsm'!{name}" for name in SIGNATURES)
    for name in SIGNATURES:
        registered = options[f"'negcoke.xlsm'!{name}"]
        function = getattr(module, name)
        assert registered["Description"] == function.__doc__
        assert registered["ArgumentDescriptions"] == [a["doc"] for a in function.__xlfunc__["args"]]


def test_functions_still_answer_under_the_classic_decorators(classic_xlwings):
    """The decorated functions compute the same numbers and error text."""
    _, module = classic_xlwings
    assert isinstance(module.NEGCOKE_FORECAST("Power Battery", 2027), float)
    assert module.NEGCOKE_FORECAST("Power Battery", 2035) == "#VALUE! year 2035 is outside 2019-2030"
