"""Formula lint of the built template: every function is one Excel 2010 knows (or ours),
functions newer than Excel 2010 carry the `_xlfn.` prefix, every reference (cells, ranges, other
sheets, defined names, print areas, chart series) points at an existing sheet and at cells that
hold a value or a formula, and no sheet name or range is broken."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.formula import Tokenizer
from openpyxl.formula.tokenizer import TokenizerError
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from xl_negcoke import load_model, udfs
from xl_negcoke.workbook import TEMPLATE_NAME, build_workbook
from xl_negcoke.workbook.build import CACHE

COMMITTED = Path(__file__).resolve().parents[1] / "workbooks" / f"{TEMPLATE_NAME}.xlsx"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Worksheet functions of Excel 2007, written in files without a prefix (Excel 2010 has them all).
EXCEL_2007 = _words("""
ABS ACCRINT ACCRINTM ACOS ACOSH ADDRESS AMORDEGRC AMORLINC AND AREAS ASC ASIN ASINH ATAN ATAN2 ATANH
AVEDEV AVERAGE AVERAGEA AVERAGEIF AVERAGEIFS BAHTTEXT BESSELI BESSELJ BESSELK BESSELY BETADIST
BETAINV BIN2DEC BIN2HEX BIN2OCT BINOMDIST CALL CEILING CELL CHAR CHIDIST CHIINV CHITEST CHOOSE CLEAN
CODE COLUMN COLUMNS COMBIN COMPLEX CONCATENATE CONFIDENCE CONVERT CORREL COS COSH COUNT COUNTA
COUNTBLANK COUNTIF COUNTIFS COUPDAYBS COUPDAYS COUPDAYSNC COUPNCD COUPNUM COUPPCD COVAR CRITBINOM
CUBEKPIMEMBER CUBEMEMBER CUBEMEMBERPROPERTY CUBERANKEDMEMBER CUBESET CUBESETCOUNT CUBEVALUE CUMIPMT
CUMPRINC DATE DATEDIF DATEVALUE DAVERAGE DAY DAYS360 DB DCOUNT DCOUNTA DDB DEC2BIN DEC2HEX DEC2OCT
DEGREES DELTA DEVSQ DGET DISC DMAX DMIN DOLLAR DOLLARDE DOLLARFR DPRODUCT DSTDEV DSTDEVP DSUM
DURATION DVAR DVARP EDATE EFFECT EOMONTH ERF ERFC ERROR.TYPE EUROCONVERT EVEN EXACT EXP EXPONDIST
FACT FACTDOUBLE FALSE FDIST FIND FINDB FINV FISHER FISHERINV FIXED FLOOR FORECAST FREQUENCY FTEST FV
FVSCHEDULE GAMMADIST GAMMAINV GAMMALN GCD GEOMEAN GESTEP GETPIVOTDATA GROWTH HARMEAN HEX2BIN HEX2DEC
HEX2OCT HLOOKUP HOUR HYPERLINK HYPGEOMDIST IF IFERROR IMABS IMAGINARY IMARGUMENT IMCONJUGATE IMCOS
IMDIV IMEXP IMLN IMLOG10 IMLOG2 IMPOWER IMPRODUCT IMREAL IMSIN IMSQRT IMSUB IMSUM INDEX INDIRECT
INFO INT INTERCEPT INTRATE IPMT IRR ISBLANK ISERR ISERROR ISEVEN ISLOGICAL ISNA ISNONTEXT ISNUMBER
ISODD ISPMT ISREF ISTEXT JIS KURT LARGE LCM LEFT LEFTB LEN LENB LINEST LN LOG LOG10 LOGEST LOGINV
LOGNORMDIST LOOKUP LOWER MATCH MAX MAXA MDETERM MDURATION MEDIAN MID MIDB MIN MINA MINUTE MINVERSE
MIRR MMULT MOD MODE MONTH MROUND MULTINOMIAL N NA NEGBINOMDIST NETWORKDAYS NOMINAL NORMDIST NORMINV
NORMSDIST NORMSINV NOT NOW NPER NPV OCT2BIN OCT2DEC OCT2HEX ODD ODDFPRICE ODDFYIELD ODDLPRICE
ODDLYIELD OFFSET OR PEARSON PERCENTILE PERCENTRANK PERMUT PHONETIC PI PMT POISSON POWER PPMT PRICE
PRICEDISC PRICEMAT PROB PRODUCT PROPER PV QUARTILE QUOTIENT RADIANS RAND RANDBETWEEN RANK RATE
RECEIVED REGISTER.ID REPLACE REPLACEB REPT RIGHT RIGHTB ROMAN ROUND ROUNDDOWN ROUNDUP ROW ROWS RSQ
RTD SEARCH SEARCHB SECOND SERIESSUM SIGN SIN SINH SKEW SLN SLOPE SMALL SQRT SQRTPI STANDARDIZE STDEV
STDEVA STDEVP STDEVPA STEYX SUBSTITUTE SUBTOTAL SUM SUMIF SUMIFS SUMPRODUCT SUMSQ SUMX2MY2 SUMX2PY2
SUMXMY2 SYD T TAN TANH TBILLEQ TBILLPRICE TBILLYIELD TDIST TEXT TIME TIMEVALUE TINV TODAY TRANSPOSE
TREND TRIM TRIMMEAN TRUE TRUNC TTEST TYPE UPPER USDOLLAR VALUE VAR VARA VARP VARPA VDB VLOOKUP
WEEKDAY WEEKNUM WEIBULL WORKDAY XIRR XNPV YEAR YEARFRAC YIELD YIELDDISC YIELDMAT ZTEST
""")
# New in Excel 2010: files store them as _xlfn.<NAME>.
EXCEL_2010_NEW = _words("""
AGGREGATE BETA.DIST BETA.INV BINOM.DIST BINOM.INV CEILING.PRECISE CHISQ.DIST CHISQ.DIST.RT CHISQ.INV
CHISQ.INV.RT CHISQ.TEST CONFIDENCE.NORM CONFIDENCE.T COVARIANCE.P COVARIANCE.S ERF.PRECISE
ERFC.PRECISE EXPON.DIST F.DIST F.DIST.RT F.INV F.INV.RT F.TEST FLOOR.PRECISE GAMMA.DIST GAMMA.INV
GAMMALN.PRECISE HYPGEOM.DIST ISO.CEILING LOGNORM.DIST LOGNORM.INV MODE.MULT MODE.SNGL NEGBINOM.DIST
NETWORKDAYS.INTL NORM.DIST NORM.INV NORM.S.DIST NORM.S.INV PERCENTILE.EXC PERCENTILE.INC
PERCENTRANK.EXC PERCENTRANK.INC POISSON.DIST QUARTILE.EXC QUARTILE.INC RANK.AVG RANK.EQ STDEV.P
STDEV.S T.DIST T.DIST.2T T.DIST.RT T.INV T.INV.2T T.TEST VAR.P VAR.S WEIBULL.DIST WORKDAY.INTL
Z.TEST
""")
# Newer than Excel 2010 (2013, 2016, 2019, 365): they need the _xlfn. prefix, and an Excel 2010
# user sees #NAME? for them anyway.
NEWER_THAN_2010 = _words("""
ACOT ACOTH ARABIC BASE BINOM.DIST.RANGE BITAND BITLSHIFT BITOR BITRSHIFT BITXOR CEILING.MATH COMBINA
COT COTH CSC CSCH DAYS DECIMAL ENCODEURL FILTERXML FLOOR.MATH FORMULATEXT GAMMA GAUSS IFNA IMCOSH
IMCOT IMCSC IMCSCH IMSEC IMSECH IMSINH IMTAN ISFORMULA ISOWEEKNUM MUNIT NUMBERVALUE PDURATION
PERMUTATIONA PHI RRI SEC SECH SHEET SHEETS SKEW.P UNICHAR UNICODE WEBSERVICE XOR CONCAT FORECAST.ETS
FORECAST.ETS.CONFINT FORECAST.ETS.SEASONALITY FORECAST.ETS.STAT FORECAST.LINEAR IFS MAXIFS MINIFS
SWITCH TEXTJOIN ANCHORARRAY ARRAYTOTEXT BYCOL BYROW CHOOSECOLS CHOOSEROWS DROP EXPAND FILTER GROUPBY
HSTACK IMAGE ISOMITTED LAMBDA LET MAKEARRAY MAP PERCENTOF PIVOTBY RANDARRAY REDUCE REGEXEXTRACT
REGEXREPLACE REGEXTEST SCAN SEQUENCE SINGLE SORT SORTBY STOCKHISTORY TAKE TEXTAFTER TEXTBEFORE
TEXTSPLIT TOCOL TOROW TRIMRANGE UNIQUE VALUETOTEXT VSTACK WRAPCOLS WRAPROWS XLOOKUP XMATCH
""")
OURS = frozenset(name for name in udfs.__all__ if name.startswith("NEGCOKE_"))
DESIGN_FUNCTIONS = frozenset({"NEGCOKE_CAGR", "NEGCOKE_COMPANY", "NEGCOKE_FORECAST", "NEGCOKE_INFO",
                              "NEGCOKE_SEGMENTS", "NEGCOKE_SHARE", "NEGCOKE_SOURCE", "NEGCOKE_TABLE"})
PREFIX = "_xlfn."

_CELL = r"\$?[A-Z]{1,3}\$?\d+"
_AREA = re.compile(rf"^(?P<a>{_CELL})(?::(?P<b>{_CELL}))?$")
_ROWS = re.compile(r"^\$?(?P<a>\d+):\$?(?P<b>\d+)$")
_COLUMNS = re.compile(r"^\$?(?P<a>[A-Z]{1,3}):\$?(?P<b>[A-Z]{1,3})$")
_QUOTED = re.compile(r"^'(?P<name>(?:[^']|'')+)'!(?P<ref>[^!]+)$")
_PLAIN = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_.]*)!(?P<ref>[^!]+)$")
_NAME = re.compile(r"^[A-Za-z_\\][A-Za-z0-9_.]*$")

Box = tuple[int, int, int, int]  # min_col, min_row, max_col, max_row


def function_problem(name: str) -> str | None:
    """Why a function name would fail in Excel 2010 (or in any Excel), or None."""
    if name.lower().startswith(PREFIX):
        base = name[len(PREFIX):]
        base = (base[len("_xlws."):] if base.lower().startswith("_xlws.") else base).upper()
        if base in EXCEL_2010_NEW or base in NEWER_THAN_2010:
            return None
        return f"{name}: the {PREFIX} prefix on a function that is not new ({base})"
    name = name.upper()
    if name in OURS or name in EXCEL_2007:
        return None
    if name in EXCEL_2010_NEW or name in NEWER_THAN_2010:
        return f"{name}: newer than Excel 2007, must be written {PREFIX}{name}"
    return f"{name}: not an Excel function"


def filled_cells(book: Workbook) -> dict[str, set[tuple[int, int]]]:
    """Per sheet, every (column, row) holding a value or a formula (array blocks and merged cells too)."""
    filled: dict[str, set[tuple[int, int]]] = {}
    for ws in book.worksheets:
        cells = filled.setdefault(ws.title, set())
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                if isinstance(cell.value, ArrayFormula):
                    c1, r1, c2, r2 = range_boundaries(cell.value.ref)
                    cells.update((c, r) for c in range(c1, c2 + 1) for r in range(r1, r2 + 1))
                else:
                    cells.add((cell.column, cell.row))
        for merged in ws.merged_cells.ranges:  # merged cells show their first cell's content
            if (merged.min_col, merged.min_row) in cells:
                cells.update(merged.cells)
    return filled


def _box(cells: set[tuple[int, int]]) -> Box | None:
    if not cells:
        return None
    return (min(c for c, _ in cells), min(r for _, r in cells),
            max(c for c, _ in cells), max(r for _, r in cells))


class Linter:
    """Checks function names and references of formulas against one workbook's cells."""

    def __init__(self, book: Workbook, cache_from: Workbook | None = None) -> None:
        self.book = book
        self.filled = filled_cells(book)
        if cache_from is not None and CACHE in self.filled:  # filled only by a recalculation
            self.filled[CACHE] = filled_cells(cache_from)[CACHE]
        self.names = {name: item.attr_text for name, item in book.defined_names.items()}

    def formula(self, text: str, sheet: str) -> list[str]:
        """Every problem of one formula written on `sheet`."""
        if "#REF!" in text.upper():
            return [f"{text}: #REF!"]
        try:
            tokens = Tokenizer(text if text.startswith("=") else "=" + text).items
        except TokenizerError as error:
            return [f"{text}: does not parse ({error})"]
        problems: list[str] = []
        for token in tokens:
            if token.type == "FUNC" and token.subtype == "OPEN":
                problem = function_problem(token.value[:-1])
                if problem:
                    problems.append(problem)
            elif token.type == "OPERAND" and token.subtype == "ERROR":
                problems.append(f"{text}: error literal {token.value}")
            elif token.type == "OPERAND" and token.subtype == "RANGE":
                problems += self.reference(token.value, sheet)
        return problems

    def reference(self, text: str, sheet: str | None, strict: bool = False, depth: int = 0) -> list[str]:
        """Problems of one reference as written in a formula on `sheet` (None: a defined name).

        A single cell must hold a value or a formula; a range must lie inside the sheet's used
        area (or, `strict`, every one of its cells must be filled).
        """
        if "!" in text:
            match = _QUOTED.match(text) or _PLAIN.match(text)
            if match is None:
                return [f"{text}: broken sheet name (quote it and double inner quotes)"]
            target = match["name"].replace("''", "'") if text.startswith("'") else match["name"]
            area = match["ref"]
            if not text.startswith("'") and not re.match(r"^[A-Za-z_][A-Za-z0-9_.]*$", target):
                return [f"{text}: sheet name {target!r} must be quoted"]
        else:
            target, area = sheet, text
        if target not in self.filled:
            return [f"{text}: no sheet {target!r}"]
        if _NAME.match(area) and not _AREA.match(area):  # a defined name
            if area not in self.names:
                return [f"{text}: no defined name {area!r}"]
            if depth > 3:
                return [f"{text}: defined names nest too deep"]
            return self.reference(self.names[area], None, strict, depth + 1)
        cells = self.filled[target]
        box = _box(cells)
        if box is None:
            return [f"{text}: sheet {target!r} is empty"]
        if match := _AREA.match(area):
            c1, r1, c2, r2 = range_boundaries(area.replace("$", "") if match["b"]
                                              else f"{area}:{area}".replace("$", ""))
        elif match := _ROWS.match(area):
            c1, r1, c2, r2 = box[0], int(match["a"]), box[2], int(match["b"])
        elif match := _COLUMNS.match(area):
            c1, r1 = column_index_from_string(match["a"]), box[1]
            c2, r2 = column_index_from_string(match["b"]), box[3]
        else:
            return [f"{text}: not a cell, range or name"]
        if (c1 == c2 and r1 == r2) or strict:
            empty = [(c, r) for c in range(c1, c2 + 1) for r in range(r1, r2 + 1) if (c, r) not in cells]
            if empty:
                return [f"{text}: {len(empty)} cells hold neither a value nor a formula"]
        elif not (box[0] <= c1 <= c2 <= box[2] and box[1] <= r1 <= r2 <= box[3]):
            return [f"{text}: outside the used area of {target!r}"]
        return []

    def book_problems(self) -> Iterator[str]:
        """Every problem of every formula, defined name and print area of the workbook."""
        for ws in self.book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, ArrayFormula):
                        text = cell.value.text or ""
                    elif cell.data_type == "f":
                        text = str(cell.value)
                    else:
                        continue
                    for problem in self.formula(text, ws.title):
                        yield f"{ws.title}!{cell.coordinate}: {problem}"
            if ws.print_area:  # the same columns A:N on every report sheet, so rows only
                for area in str(ws.print_area).split(","):
                    _sheet, cells = area.rsplit("!", 1)
                    last_row = range_boundaries(cells.replace("$", ""))[3]
                    if ws._charts:  # rows below the last cell may hold the sheet's charts
                        last_row = min(last_row, ws.max_row)
                    for problem in self.reference(f"{_sheet}!A1:A{last_row}", ws.title):
                        yield f"{ws.title} print area {area}: {problem}"
        for name, target in self.names.items():
            for problem in self.reference(target, None):
                yield f"defined name {name}: {problem}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Workbook]:
    out = tmp_path_factory.mktemp("lint")
    return {item.path.suffix: load_workbook(io.BytesIO(item.path.read_bytes()))
            for item in build_workbook(load_model(), out, recalculate=False)
            if item.path.suffix in (".xlsx", ".xlsm")}  # not the .xlsm's Python module


@pytest.fixture(scope="module")
def committed() -> Workbook:
    """The committed, recalculated .xlsx: its Cache sheet holds every fallback block."""
    return load_workbook(COMMITTED)


def _formula_functions(book: Workbook) -> set[str]:
    names = set()
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                text = cell.value.text if isinstance(cell.value, ArrayFormula) else (
                    str(cell.value) if cell.data_type == "f" else None)
                if text:
                    names |= {t.value[:-1].upper() for t in Tokenizer(text).items
                              if t.type == "FUNC" and t.subtype == "OPEN"}
    return names


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_every_formula_names_known_functions_and_valid_references(
        built: dict[str, Workbook], committed: Workbook, suffix: str) -> None:
    """No unknown or unprefixed-new function, broken sheet name, #REF! or reference to an empty cell."""
    linter = Linter(built[suffix], cache_from=committed)
    assert list(linter.book_problems()) == []


def test_the_template_uses_only_excel_2007_functions_and_ours(built: dict[str, Workbook]) -> None:
    """The functions in the template: plain Excel 2007 ones (no _xlfn. needed) and the NEGCOKE_* set,
    and ISFORMULA (Excel 2013) only in the Checks' "no NEGCOKE_* cell typed over" rows, inside
    IFERROR(..., TRUE) so that an Excel without it skips those rows instead of failing the master
    check."""
    names = _formula_functions(built[".xlsx"])
    assert names - OURS - {"_XLFN.ISFORMULA"} <= EXCEL_2007
    checks = built[".xlsx"]["Checks"]
    uses = [c.value for row in checks.iter_rows() for c in row
            if isinstance(c.value, str) and "ISFORMULA" in c.value.upper()]
    assert uses and all(u.startswith("=IFERROR(AND(_xlfn.ISFORMULA(") and u.endswith("),TRUE)")
                        for u in uses)
    assert names >= DESIGN_FUNCTIONS | {"IFERROR"}
    assert DESIGN_FUNCTIONS <= OURS


def test_every_chart_series_points_at_filled_cells(committed: Workbook) -> None:
    """Each chart's values, categories and series names are cells that hold numbers or labels."""
    linter = Linter(committed)
    references = 0
    for ws in committed.worksheets:
        for chart in ws._charts:
            for series in chart.series:
                for source in (series.val, series.cat, series.tx):
                    for kind in ("numRef", "strRef"):
                        ref = getattr(source, kind, None) if source is not None else None
                        if ref is not None and ref.f:
                            references += 1
                            assert linter.reference(ref.f, ws.title, strict=True) == [], ref.f
    assert references >= 9 * 2


@pytest.fixture(scope="module")
def sample() -> Linter:
    """A two-sheet workbook for the lint's own tests: 'My sheet'!A1:B2 filled, a name on it."""
    from openpyxl.workbook.defined_name import DefinedName

    book = Workbook()
    book.active.title = "Data"
    book["Data"]["A1"] = 1
    other = book.create_sheet("My sheet")
    for cell in ("A1", "B1", "A2", "B2"):
        other[cell] = 2
    book.defined_names["Input"] = DefinedName("Input", attr_text="'My sheet'!$A$1:$B$2")
    book.defined_names["Gone"] = DefinedName("Gone", attr_text="'No sheet'!$A$1")
    return Linter(book)


@pytest.mark.parametrize(("formula", "problem"), [
    ("=SUMM(A1)", "SUMM: not an Excel function"),
    ("=XLOOKUP(1,A1:A1,A1:A1)", "XLOOKUP: newer than Excel 2007, must be written _xlfn.XLOOKUP"),
    ("=STDEV.S(A1:A1)", "STDEV.S: newer than Excel 2007, must be written _xlfn.STDEV.S"),
    ("=_xlfn.SUM(A1)", "_xlfn.SUM: the _xlfn. prefix on a function that is not new (SUM)"),
    ("=A1+#REF!", "=A1+#REF!: #REF!"),
    ("='No sheet'!A1", "'No sheet'!A1: no sheet 'No sheet'"),
    ("=C9", "C9: 1 cells hold neither a value nor a formula"),
    ("=SUM('My sheet'!A1:Z99)", "'My sheet'!A1:Z99: outside the used area of 'My sheet'"),
    ("=Missing", "Missing: no defined name 'Missing'"),
    ("=Gone", "'No sheet'!$A$1: no sheet 'No sheet'"),
])
def test_the_lint_reports_each_kind_of_broken_formula(sample: Linter, formula: str, problem: str) -> None:
    """The lint names the problem of an unknown, unprefixed or broken function or reference."""
    assert sample.formula(formula, "Data") == [problem]


@pytest.mark.parametrize("formula", [
    "=SUM('My sheet'!A1:B2)+Data!A1", "=IFERROR(A1,0)", "=_xlfn.XLOOKUP(1,A1:A1,A1:A1)",
    "=SUM(Input)", "=NEGCOKE_FORECAST(\"Global\",2023)", "=_xlfn._xlws.SORT(Input)",
])
def test_the_lint_accepts_good_formulas(sample: Linter, formula: str) -> None:
    """Known functions (prefixed where needed), quoted sheets, names and filled cells pass."""
    assert sample.formula(formula, "Data") == []


def test_the_lint_reports_an_unquoted_sheet_name(sample: Linter) -> None:
    """A sheet name with a space must be quoted; an unbalanced quote does not parse."""
    assert sample.reference("My sheet!A1", "Data") == ["My sheet!A1: broken sheet name (quote it and "
                                                       "double inner quotes)"]
    assert sample.formula("='My sheet!A1", "Data")[0].startswith("='My sheet!A1: does not parse")
