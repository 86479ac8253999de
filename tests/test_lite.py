"""xlwings Lite: `xl-negcoke lite` generates main.py and requirements.txt from xl_negcoke.udfs;
through xlwings's own Office.js machinery (custom_functions_meta / custom_functions_call) the
generated functions declare what the classic ones declare and answer what they answer; imported
as plain Python they work with the embedded package alone; neither path imports openpyxl or
formulas."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xl_negcoke import __version__, cli, lite, load_model, udfs
from xl_negcoke.model.dataset import DEFAULT_DATA_DIR

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).with_name("lite_probe.py")
COMMITTED = ROOT / "workbooks" / "lite"
NAMES = ("NEGCOKE_FORECAST", "NEGCOKE_SHARE", "NEGCOKE_CAGR", "NEGCOKE_TABLE", "NEGCOKE_SEGMENTS",
         "NEGCOKE_COMPANY", "NEGCOKE_SOURCE", "NEGCOKE_INFO", "NEGCOKE_RANGE", "NEGCOKE_SENSITIVITY")
MODEL = load_model()


def cell(value: object) -> list[list[object]]:
    """One cell as Office.js sends it: a 1x1 matrix."""
    return [[value]]


def error_cell(code: str, error_type: str) -> list[list[dict]]:
    """A cell holding an Excel error, as Office.js sends it (allowErrorForDataTypeAny)."""
    return [[{"type": "Error", "basicValue": code, "errorType": error_type}]]


def _assumptions() -> tuple[list[list[object]], list[list[object]]]:
    """The Assumptions table with coke_per_anode_t edited to 1.4 (dataset: 1.5) and a blank row,
    as Office.js sends it (blank cells as "" and null) and as classic xlwings does (None)."""
    rows = [["key", "value", "unit", "source"],
            *(list(row) for row in MODEL.assumptions()[["key", "value", "unit", "source"]]
              .itertuples(index=False))]
    for row in rows:
        if row[0] == "coke_per_anode_t":
            row[1] = 1.4
    office = [*rows[:3], ["", None, "", None], *rows[3:]]
    classic = [*rows[:3], [None, None, None, None], *rows[3:]]
    return office, classic


OFFICE_RANGE, CLASSIC_RANGE = _assumptions()
COMPANY = "Phillips 66"

# (function, arguments as Office.js sends them, the same cells as classic xlwings passes them)
CASES: list[tuple[str, list, list]] = [
    ("NEGCOKE_FORECAST", [cell("Power Battery"), cell(2027)], ["Power Battery", 2027]),
    ("NEGCOKE_FORECAST", [cell("EV"), cell(2030), cell("volume"), cell("high"), None],
     ["EV", 2030, "volume", "high", None]),
    ("NEGCOKE_FORECAST", [cell("China"), cell(2027.0), cell(""), cell(None)],
     ["China", 2027.0, None, None]),
    ("NEGCOKE_FORECAST", [cell("Power Battery"), cell(2027), None, None, OFFICE_RANGE],
     ["Power Battery", 2027, None, None, CLASSIC_RANGE]),
    ("NEGCOKE_SHARE", [cell("China"), cell(2023)], ["China", 2023]),
    ("NEGCOKE_SHARE", [cell("Power Battery"), cell(2023), cell("volume"), cell("low"), None],
     ["Power Battery", 2023, "volume", "low", None]),
    ("NEGCOKE_CAGR", [cell("Global"), cell(2023), cell(2030)], ["Global", 2023, 2030]),
    ("NEGCOKE_CAGR", [cell("ESS"), cell("2020"), cell(2023), cell("volume")],
     ["ESS", "2020", 2023, "volume"]),
    ("NEGCOKE_TABLE", [cell("type"), cell("revenue"), cell(2023), cell(2030)],
     ["type", "revenue", 2023, 2030]),
    ("NEGCOKE_TABLE", [cell("company"), cell("price"), None, None, None, None],
     ["company", "price", None, None, None, None]),
    ("NEGCOKE_TABLE", [cell("Asia"), cell("volume"), None, None, cell("high"), OFFICE_RANGE],
     ["Asia", "volume", None, None, "high", CLASSIC_RANGE]),
    ("NEGCOKE_SEGMENTS", [cell("application")], ["application"]),
    ("NEGCOKE_SEGMENTS", [cell("all")], ["all"]),
    ("NEGCOKE_COMPANY", [cell(COMPANY), cell("capacity")], [COMPANY, "capacity"]),
    ("NEGCOKE_COMPANY", [cell(COMPANY), cell("rank"), cell(2030)], [COMPANY, "rank", 2030]),
    ("NEGCOKE_COMPANY", [cell(COMPANY), cell("hq_country")], [COMPANY, "hq_country"]),
    ("NEGCOKE_COMPANY", [cell(COMPANY), cell("revenue"), cell(2027), cell("high"), OFFICE_RANGE],
     [COMPANY, "revenue", 2027, "high", CLASSIC_RANGE]),
    ("NEGCOKE_SOURCE", [cell("S1")], ["S1"]),
    ("NEGCOKE_SOURCE", [cell("coke_per_anode_t")], ["coke_per_anode_t"]),
    ("NEGCOKE_INFO", [cell("base_year")], ["base_year"]),
    ("NEGCOKE_INFO", [cell("dataset_id")], ["dataset_id"]),
    ("NEGCOKE_INFO", [cell("version")], ["version"]),
    ("NEGCOKE_RANGE", [cell("Global"), cell(2030), cell(90)], ["Global", 2030, 90]),
    ("NEGCOKE_RANGE", [cell("China"), cell(2030), cell("P10"), cell("volume"), None],
     ["China", 2030, "P10", "volume", None]),
    ("NEGCOKE_SENSITIVITY", [cell("Global"), cell(2030)], ["Global", 2030]),
    ("NEGCOKE_SENSITIVITY", [None, None, None, None], [None, None, None, None]),
    # errors: the same one line of text
    ("NEGCOKE_FORECAST", [cell("Foo"), cell(2027)], ["Foo", 2027]),
    ("NEGCOKE_FORECAST", [cell("Power Battery"), cell(2035)], ["Power Battery", 2035]),
    ("NEGCOKE_FORECAST", [cell("Power Battery"), error_cell("#N/A", "NotAvailable")],
     ["Power Battery", "#N/A"]),
    ("NEGCOKE_FORECAST", [error_cell("#REF!", "Ref"), cell(2027)], ["#REF!", 2027]),
    ("NEGCOKE_FORECAST", [cell("Power Battery"), [[2027, 2028]]], ["Power Battery", [2027, 2028]]),
    ("NEGCOKE_FORECAST", [cell("Power Battery"), cell(2027), None, None,
                          [["key", "value"], ["coke_per_anode_t", "abc"]]],
     ["Power Battery", 2027, None, None, [["key", "value"], ["coke_per_anode_t", "abc"]]]),
    ("NEGCOKE_CAGR", [cell("Global"), cell(2030), cell(2023)], ["Global", 2030, 2023]),
    ("NEGCOKE_TABLE", [cell("application"), cell("capacity")], ["application", "capacity"]),
    ("NEGCOKE_SEGMENTS", [cell("Foo")], ["Foo"]),
    ("NEGCOKE_COMPANY", [cell("Nobody"), cell("revenue")], ["Nobody", "revenue"]),
    ("NEGCOKE_SOURCE", [cell("S99")], ["S99"]),
    ("NEGCOKE_INFO", [cell("author")], ["author"]),
    ("NEGCOKE_RANGE", [cell("Global"), cell(2030), cell(0.9)], ["Global", 2030, 0.9]),
]
ERROR_CASES = 13  # the last ones


def plain(value: object) -> object:
    """A result as JSON carries it (tuples as lists, numpy floats as floats)."""
    return json.loads(json.dumps(value, default=float))


def as_office(value: object) -> list[list[object]]:
    """What Office.js receives for a classic result: a 2-D matrix, None as an empty string."""
    rows = value if isinstance(value, list) and value and isinstance(value[0], list) else [[value]]
    return [["" if item is None else item for item in row] for row in rows]


@pytest.fixture(scope="module")
def classic_results() -> list[object]:
    """Each case answered by the classic functions (xl_negcoke.udfs) in this process."""
    udfs.clear_models()
    return [plain(getattr(udfs, name)(*args)) for name, _, args in CASES]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A folder with main.py and requirements.txt written by `xl-negcoke lite`."""
    folder = tmp_path_factory.mktemp("lite")
    assert cli.main(["lite", str(folder)]) == cli.EXIT_OK
    return folder


def probe(main: Path, mode: str, cases: list, tmp: Path, block=("openpyxl", "formulas")) -> dict:
    """Run tests/lite_probe.py in a fresh Python (officejs: with xlwings's server switches)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("XLWINGS_", "XL_NEGCOKE_"))}
    env.update(PYTHONPATH=str(ROOT), TMPDIR=str(tmp))
    if mode == "officejs":  # tests only: xlwings's Office.js decorators and machinery on Linux
        env.update(XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    request = {"main": str(main), "mode": mode, "cases": cases, "block": list(block)}
    done = subprocess.run([sys.executable, str(PROBE)], input=json.dumps(request), text=True,
                          capture_output=True, cwd=tmp, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def officejs(generated, tmp_path_factory) -> dict:
    """Every case sent through xlwings's custom_functions_call to the generated main.py."""
    return probe(generated / "main.py", "officejs", [[name, args] for name, args, _ in CASES],
                 tmp_path_factory.mktemp("officejs"))


@pytest.fixture(scope="module")
def plain_import(generated, tmp_path_factory) -> dict:
    """Every case called on the generated main.py imported as plain Python."""
    return probe(generated / "main.py", "plain", [[name, args] for name, _, args in CASES],
                 tmp_path_factory.mktemp("plain"))


def case_ids() -> list[str]:
    return [f"{index}-{name}" for index, (name, _, _) in enumerate(CASES)]


# -------------------------------------------------------------------------------------------
# generation: udfs.py is the one source


def test_generated_functions_are_the_ten_of_udfs():
    """The generator finds the ten NEGCOKE_* functions udfs exports, in its source order."""
    names = [definition.name for definition in lite.function_definitions()]
    assert names == list(NAMES)
    assert set(names) == {name for name in udfs.__all__ if name.startswith("NEGCOKE_")}


@pytest.mark.parametrize("name", NAMES)
def test_generated_signature_and_doc_are_those_of_udfs(name):
    """Each generated function has the udfs function's parameters, defaults and docstring."""
    definition = {d.name: d for d in lite.function_definitions()}[name]
    classic = inspect.signature(getattr(udfs, name)).parameters.values()
    assert [(p.name, p.has_default, p.default) for p in definition.parameters] == [
        (p.name, p.default is not p.empty, None if p.default is p.empty else p.default)
        for p in classic]
    assert definition.doc == getattr(udfs, name).__doc__


def test_every_argument_reads_cell_errors_as_text():
    """Every argument of every generated function carries err_to_str, as in udfs."""
    for definition in lite.function_definitions():
        options = dict(definition.arg_options)
        assert [p.name for p in definition.parameters] == list(options), definition.name
        assert all(option.get("err_to_str") is True for option in options.values())


def test_a_function_added_to_udfs_appears_in_main_py(tmp_path):
    """What udfs.py declares at generation time is what main.py gets, a new function included."""
    source = Path(udfs.__file__).read_text(encoding="utf-8") + (
        '\n\n@xw.func\n@xw.arg("x", doc="Any value", err_to_str=True)\n'
        '@_returns_error_text\ndef NEGCOKE_ECHO(x=None):\n    """Returns x."""\n    return x\n')
    path = tmp_path / "udfs_copy.py"
    path.write_text(source, encoding="utf-8")
    definition = lite.function_definitions(path)[-1]
    assert (definition.name, definition.doc) == ("NEGCOKE_ECHO", "Returns x.")
    assert lite.render_function(definition) == (
        "@func\n@arg('x', doc='Any value', err_to_str=True)\ndef NEGCOKE_ECHO(x=None):\n"
        '    """Returns x."""\n    return (_UDFS or _load_udfs()).NEGCOKE_ECHO(x)')


def test_builtin_converters_are_spelled_in_main_py(tmp_path):
    """An xlwings option whose value is a builtin type (numbers=int) is written as its name."""
    path = tmp_path / "udfs_copy.py"
    path.write_text('import xlwings as xw\n\n@xw.func(volatile=True)\n@xw.arg("n", numbers=int)\n'
                    '@xw.ret(transpose=True)\ndef F(n, *more):\n    return n\n', encoding="utf-8")
    assert lite.render_function(lite.function_definitions(path)[0]) == (
        "@func(volatile=True)\n@arg('n', numbers=int)\n@ret(transpose=True)\n"
        "def F(n, *more):\n    return (_UDFS or _load_udfs()).F(n, *more)")


@pytest.mark.parametrize(("snippet", "named"), [
    ('@xw.func\n@xw.arg("x", vba="Sheet1")\ndef F(x):\n    return x\n', "vba"),
    ('@xw.func\n@xw.ret(expand="table")\ndef F(x):\n    return x\n', "expand"),
    ("@xw.func\ndef F(x: float):\n    return x\n", "annotated"),
    ("@xw.func\ndef F(x, *, y=None):\n    return x\n", "keyword"),
    ("@xw.func\ndef F(caller, x):\n    return x\n", "caller"),
    ("@xw.func\n@xw.arg(\"x\", convert=dict.fromkeys)\ndef F(x):\n    return x\n", "convert"),
    ('@xw.func\n@xw.arg("y", doc="no such argument")\ndef F(x):\n    return x\n', "'y'"),
])
def test_what_lite_cannot_do_is_refused_in_one_line(tmp_path, snippet, named):
    """A udfs function using a classic-only option or form stops the generator with one line."""
    path = tmp_path / "udfs_copy.py"
    path.write_text("import xlwings as xw\n\n" + snippet, encoding="utf-8")
    with pytest.raises(lite.LiteError) as raised:
        lite.function_definitions(path)
    assert named in str(raised.value) and "\n" not in str(raised.value)
    assert str(raised.value).startswith("udfs.F: ")


def test_recording_leaves_xlwings_decorators_as_they_were():
    """Generating restores xlwings.func, arg and ret afterwards."""
    import xlwings

    before = (xlwings.func, xlwings.arg, xlwings.ret)
    lite.function_definitions()
    assert (xlwings.func, xlwings.arg, xlwings.ret) == before


def test_embedded_package_is_the_import_path_of_udfs_and_the_csv_dataset():
    """main.py carries the modules udfs imports (not workbook/, cli, lite) and every data CSV."""
    bundle = lite.embedded_files()
    assert bundle.modules == [
        "xl_negcoke/__init__.py", "xl_negcoke/errors.py", "xl_negcoke/model/__init__.py",
        *sorted(f"xl_negcoke/model/{path.name}" for path in (ROOT / "xl_negcoke" / "model")
                .glob("*.py") if path.name != "__init__.py"),
        "xl_negcoke/udfs.py"]
    assert bundle.data_files == [f"xl_negcoke/_data/{path.name}"
                                 for path in sorted(Path(DEFAULT_DATA_DIR).glob("*.csv"))]
    for name in bundle.data_files:
        assert bundle.files[name].encode("utf-8") == (
            Path(DEFAULT_DATA_DIR) / Path(name).name).read_bytes()
    assert bundle.packages == ("numpy", "pandas", "xlwings")


def test_embedded_files_round_trip_through_base85():
    """The base85 text in main.py decodes to exactly the embedded files."""
    bundle = lite.embedded_files()
    assert lite.decode_files(lite.encode_files(bundle.files)) == bundle.files


def test_requirements_are_pyodides_numpy_pandas_and_xlwings(generated):
    """requirements.txt: numpy and pandas unpinned (Pyodide's), xlwings below 1.0."""
    assert (generated / "requirements.txt").read_text(encoding="utf-8") == \
        "numpy\npandas\nxlwings<1.0.0\n"


def test_generation_is_deterministic(generated):
    """Generating twice gives byte-identical files."""
    again = lite.generate()
    assert (generated / "main.py").read_text(encoding="utf-8") == again.main
    assert again.main.startswith(f"{lite.MARKER} from xl_negcoke {__version__} "
                                 f"(dataset {MODEL.dataset.dataset_id}).\n")


def test_committed_lite_files_equal_a_fresh_generation(generated):
    """workbooks/lite/ holds what `xl-negcoke lite workbooks/lite` writes now."""
    for name in ("main.py", "requirements.txt"):
        assert (COMMITTED / name).read_bytes() == (generated / name).read_bytes(), name


# -------------------------------------------------------------------------------------------
# the command


def test_lite_refuses_to_overwrite_a_main_py_it_did_not_write(tmp_path, capsys):
    """A hand-written main.py stops `lite` (exit 2, one line) and is left as it was."""
    (tmp_path / "main.py").write_text("print('mine')\n", encoding="utf-8")
    assert cli.main(["lite", str(tmp_path)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was not written by xl-negcoke lite; use --force" in err
    assert (tmp_path / "main.py").read_text(encoding="utf-8") == "print('mine')\n"
    assert not (tmp_path / "requirements.txt").exists()


def test_lite_force_keeps_the_replaced_files_as_backups(tmp_path):
    """With --force the hand-written files are kept as main.before-lite.py and so on."""
    (tmp_path / "main.py").write_text("print('mine')\n", encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("polars\n", encoding="utf-8")
    assert cli.main(["lite", str(tmp_path), "--force"]) == cli.EXIT_OK
    assert (tmp_path / "main.before-lite.py").read_text(encoding="utf-8") == "print('mine')\n"
    assert (tmp_path / "requirements.before-lite.txt").read_text(encoding="utf-8") == "polars\n"
    assert (tmp_path / "main.py").read_text(encoding="utf-8").startswith(lite.MARKER)


def test_lite_overwrites_its_own_files(generated, capsys):
    """Running `lite` again into the same folder replaces its own files without --force."""
    assert cli.main(["lite", str(generated)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert re.search(r"wrote .*main\.py \(\d+ KiB: 10 functions; xl_negcoke ", out)


def test_lite_into_a_path_that_is_a_file_exits_2_with_one_line(tmp_path, capsys):
    """OUT_DIR naming an existing file: exit 2, one line naming it, the file untouched."""
    blocker = tmp_path / "out"
    blocker.write_text("a file\n", encoding="utf-8")
    assert cli.main(["lite", str(blocker)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("xl-negcoke lite: error: ") and err.count("\n") == 1
    assert str(blocker) in err and blocker.read_text(encoding="utf-8") == "a file\n"


# -------------------------------------------------------------------------------------------
# xlwings's Office.js machinery, as xlwings Lite runs it


def test_officejs_metadata_equals_the_classic_modules(officejs):
    """custom_functions_meta of main.py is that of xl_negcoke.udfs, function by function."""
    assert officejs["meta"] == officejs["classic_meta"]


@pytest.mark.parametrize("name", NAMES)
def test_officejs_metadata_names_describes_and_marks_optional_arguments(officejs, name):
    """Each function: its Excel name, the udfs docstring, every parameter with its doc and the
    optional flag exactly on the arguments with a default."""
    functions = {function["id"]: function for function in officejs["meta"]["functions"]}
    assert sorted(functions) == sorted(NAMES)
    function = functions[name]
    assert function["name"] == name
    assert function["description"] == getattr(udfs, name).__doc__
    parameters = inspect.signature(getattr(udfs, name)).parameters.values()
    assert [(p["name"], p.get("optional", False)) for p in function["parameters"]] == [
        (p.name, p.default is not p.empty) for p in parameters]
    for parameter in function["parameters"]:
        assert parameter["description"] and not parameter["description"].startswith("Positional")


def test_officejs_metadata_carries_the_argument_help(officejs):
    """Spot check of the help Excel shows for NEGCOKE_FORECAST's arguments."""
    forecast = next(f for f in officejs["meta"]["functions"] if f["id"] == "NEGCOKE_FORECAST")
    help_of = {parameter["name"]: parameter["description"] for parameter in forecast["parameters"]}
    assert help_of["year"] == "Year 2019-2030"
    assert help_of["assumptions"].startswith("Optional: the Assumptions table range")


@pytest.mark.parametrize("index", range(len(CASES)), ids=case_ids())
def test_officejs_result_equals_the_classic_function(officejs, classic_results, index):
    """An Office.js-shaped request (2-D matrices, empty cells, omitted arguments, error cells)
    gets the classic function's result as a matrix, errors as the same one line of text."""
    assert officejs["results"][index] == as_office(classic_results[index])


def test_officejs_errors_are_one_line_of_text(officejs):
    """The error cases come back as '#N/A ...' or '#VALUE! ...' text, one line each."""
    for result in officejs["results"][-ERROR_CASES:]:
        text = result[0][0]
        assert text.startswith(("#N/A ", "#VALUE! ")) and "\n" not in text, text


def test_officejs_info_table_differs_only_in_data_dir(generated, tmp_path):
    """NEGCOKE_INFO() lists the same fields and values, except that data_dir is the embedded
    copy's folder."""
    result = probe(generated / "main.py", "officejs", [["NEGCOKE_INFO", [None]]], tmp_path)
    rows = dict((name, value) for name, value in result["results"][0])
    classic = dict(udfs.NEGCOKE_INFO())
    assert rows.keys() == classic.keys()
    assert {k: v for k, v in rows.items() if k != "data_dir"} == \
        {k: v for k, v in classic.items() if k != "data_dir"}
    assert rows["data_dir"] == str(Path(result["udfs_file"]).parent / "_data")


def test_officejs_runs_the_embedded_package(officejs):
    """The functions answered from the copy main.py carries, not from an installed xl_negcoke."""
    bundle_root = Path(officejs["udfs_file"]).parents[1]
    assert officejs["modules"] and all(Path(path).is_relative_to(bundle_root)
                                       for path in officejs["modules"].values())


# -------------------------------------------------------------------------------------------
# plain Python: the no-op decorators, the embedded package alone


@pytest.mark.parametrize("index", range(len(CASES)), ids=case_ids())
def test_plain_import_result_equals_the_classic_function(plain_import, classic_results, index):
    """Imported as plain Python, every generated function answers as the classic one."""
    assert plain_import["results"][index] == classic_results[index]


def test_plain_import_uses_only_the_embedded_package(plain_import):
    """Every xl_negcoke module comes from main.py's copy; openpyxl and formulas were blocked
    and the functions still answered, so they are off the path."""
    bundle_root = Path(plain_import["udfs_file"]).parents[1]
    assert bundle_root.name.startswith("xl_negcoke_lite_")
    assert set(plain_import["modules"]) == {path[:-3].replace("/", ".").removesuffix(".__init__")
                                            for path in lite.embedded_files().modules}
    assert all(Path(path).is_relative_to(bundle_root) for path in plain_import["modules"].values())
    assert not {"openpyxl", "formulas"} & set(plain_import["loaded"])


def test_a_missing_requirement_is_one_line_in_every_cell(generated, tmp_path):
    """Without pandas (requirements.txt not installed) each function returns one line saying so."""
    result = probe(generated / "main.py", "plain",
                   [["NEGCOKE_FORECAST", ["Global", 2030]], ["NEGCOKE_INFO", []]], tmp_path,
                   block=("pandas",))
    first, second = result["results"]
    assert first == second == result["unavailable_text"]
    assert first.startswith("#VALUE! xl_negcoke could not start (ModuleNotFoundError: ")
    assert "pandas" in first and "\n" not in first
    assert first.endswith("requirements.txt must list numpy, pandas, xlwings<1.0.0; then "
                          "restart xlwings Lite")


# -------------------------------------------------------------------------------------------
# the import path stays light


def test_model_and_udfs_import_neither_openpyxl_nor_formulas():
    """`import xl_negcoke.model, xl_negcoke.udfs` loads no openpyxl, formulas or workbook layer."""
    code = ("import sys, xl_negcoke.model, xl_negcoke.udfs; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('openpyxl', 'formulas') or m.startswith(('xl_negcoke.workbook',"
            " 'xl_negcoke.cli', 'xl_negcoke.lite'))))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=env, timeout=300)
    assert out.stdout.strip() == "[]"


# -------------------------------------------------------------------------------------------
# the README section "On Mac and Excel on the web"


def lite_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### On Mac and Excel on the web\n")
    return text[start:text.index("\n## ", start)]


def section_examples() -> list[tuple[str, list, str]]:
    """(function, arguments, shown result) of each `| formula | result |` row of the section."""
    examples = []
    for line in lite_section().splitlines():
        match = re.fullmatch(r"\| `=(NEGCOKE_\w+)\((.*)\)` \| (.+) \|", line)
        if match:
            python = "[" + re.sub(r",\s*(?=,)", ", None", match[2]) + "]"  # an omitted argument
            arguments = eval(python, {"__builtins__": {}})  # our own README, literals only
            examples.append((match[1], arguments, match[3]))
    return examples


def shown(result: object, like: str) -> str:
    """`result` formatted the way the README shows `like`."""
    if like.startswith("`"):
        return f"`{result}`"
    if like.endswith("%"):
        return f"{result * 100:.1f}%"
    return f"{result:,.{len(like.partition('.')[2])}f}"


def test_readme_examples_are_what_the_generated_main_py_returns(generated, tmp_path):
    """Every formula in the section's table gives the shown result through main.py."""
    examples = section_examples()
    assert len(examples) >= 3
    result = probe(generated / "main.py", "plain", [[f, args] for f, args, _ in examples], tmp_path)
    assert [shown(value, like) for value, (_, _, like) in zip(result["results"], examples,
                                                               strict=True)] == \
        [like for _, _, like in examples]


def test_readme_states_the_generated_files_sizes(generated):
    """The section's sizes of main.py (KiB, within 20%) and requirements.txt (bytes) are current."""
    section = lite_section()
    kib = float(re.search(r"`workbooks/lite/main\.py`\]\([^)]*\) \| (\d+) KiB", section)[1])
    assert abs(kib * 1024 - (generated / "main.py").stat().st_size) <= 0.2 * kib * 1024
    size = int(re.search(r"`workbooks/lite/requirements\.txt`\]\([^)]*\) \| (\d+) bytes",
                         section)[1])
    assert size == (generated / "requirements.txt").stat().st_size


@pytest.mark.parametrize(("package", "says"), [
    ("openpyxl", "xl_negcoke.model.names imports openpyxl, which must stay off the path"),
    ("formulas", "xl_negcoke.model.names imports formulas, which must stay off the path"),
    ("scipy", "xl_negcoke.model.names imports scipy, which is not one of the packages xlwings "
              "Lite provides"),
])
def test_an_import_lite_cannot_satisfy_is_refused_naming_the_module(monkeypatch, package, says):
    """A module on udfs's import path that imports openpyxl, formulas or a package Lite does not
    have stops the generator, naming the module."""
    real = lite._imports

    def imports(path, module):
        yield from real(path, module)
        if module == "xl_negcoke.model.names":
            yield f"{package}.sub"

    monkeypatch.setattr(lite, "_imports", imports)
    with pytest.raises(lite.LiteError, match=re.escape(says)):
        lite.embedded_files()
