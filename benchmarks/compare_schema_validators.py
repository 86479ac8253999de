"""Which schema validator the test suite uses, by measurement (issue 17; docs/schema-validation.md).

Two steps, because two of the candidates must not be installed beside the project: `lxml`
(also pulled in by openxml-audit) changes what openpyxl writes (`<a />` becomes `<a/>` in every
part), so the committed workbooks would no longer equal a fresh build.

    # 1. in the project's environment: write one file of each kind into DIR
    python benchmarks/compare_schema_validators.py write DIR
    # 2. in a throwaway environment with the candidates:
    python3 -m venv /tmp/validators && /tmp/validators/bin/pip install openxml-audit xmlschema
    /tmp/validators/bin/python benchmarks/compare_schema_validators.py measure DIR

`write` puts in DIR: the committed build (.xlsx, .xlsm), `xl-negcoke recalc` and `snapshot` of
it, `xl-negcoke refresh` of an analyst-edited copy and of that copy saved by LibreOffice, a plain
openpyxl workbook (fonts, a frozen pane, a comment, a chart), and two files with the sheet-view
defect (the template with Checks frozen twice, a plain workbook frozen twice).

`measure` runs on every file: openxml-audit (max_errors 10, its default-like cap, and 100000),
xmlschema and lxml with tests/schemas, and xmllint through tests/ooxml_schema.py (skipped when
missing). For each it prints the errors per file (warnings apart), the seconds, and whether the
selection defect is reported in the two defect files.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # ooxml_schema: the suite's validator (stdlib + xmllint)

from ooxml_schema import (  # noqa: E402
    BINARY,
    CATALOG,
    CONTENT_TYPES_PART,
    CONTENT_TYPES_SCHEMA,
    SCHEMA_DIR,
    SCHEMAS,
    _content_types,
    unexplained,
    validate_packages,
    xmllint,
)

COMMITTED = ROOT / "workbooks" / "negative-coke-outlook-2024-2030"
DEFECTS = ("defect-checks-frozen-twice.xlsx", "defect-plain-frozen-twice.xlsx")


def write(folder: Path) -> None:
    """One file of each kind the project writes, a plain openpyxl file and the two defects."""
    from openpyxl import Workbook, load_workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    from xl_negcoke.cli import main
    from xl_negcoke.model import load_model
    from xl_negcoke.workbook.build import CHECKS, build_book
    from xl_negcoke.workbook.files import book_bytes

    folder.mkdir(parents=True, exist_ok=True)
    from xl_negcoke.workbook import FILE_NAMES

    for suffix, name in FILE_NAMES.items():
        shutil.copy(COMMITTED.parent / name, folder / f"build{suffix}")
    assert main(["recalc", str(folder / "build.xlsx"), "--out", str(folder / "recalc.xlsx")]) == 0
    assert main(["snapshot", str(folder / "build.xlsx"), "--out", str(folder / "snapshot.xlsx"),
                 "--as-of", "2024-06-30"]) == 0
    book = load_workbook(folder / "build.xlsx")
    notes = book.create_sheet("Notes", 2)
    for row in range(1, 7):
        notes.cell(row, 1, f"item {row}").font = Font(bold=row % 2 == 0)
        notes.cell(row, 2, row * 10)
    notes["A1"].comment = Comment("checked with the desk", "Analyst")
    chart = BarChart()
    chart.add_data(Reference(notes, min_col=2, min_row=1, max_row=6))
    notes.add_chart(chart, "E2")
    analyst = book_bytes(book)
    (folder / "refresh-analyst.xlsx").write_bytes(analyst)
    assert main(["refresh", str(folder / "refresh-analyst.xlsx")]) == 0
    soffice = shutil.which("soffice")
    if soffice:
        saved = folder / "saved"
        saved.mkdir(exist_ok=True)
        (saved / "refresh-libreoffice.xlsx").write_bytes(analyst)
        subprocess.run([soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                        "--norestore", "--convert-to", "xlsx", "--outdir", str(folder),
                        str(saved / "refresh-libreoffice.xlsx")], check=True, capture_output=True,
                       timeout=180)
        assert main(["refresh", str(folder / "refresh-libreoffice.xlsx")]) == 0
    for leftover in folder.glob("*.before-refresh.xlsx"):
        leftover.unlink()
    plain = Workbook()
    ws = plain.active
    for row in range(1, 11):
        ws.cell(row, 1, f"row {row}").font = Font(bold=True, italic=row % 2 == 0, color="FF0000",
                                                 size=12, name="Arial")
        ws.cell(row, 2, row * 1.5).number_format = "0.00%"
    ws.freeze_panes = "B2"
    ws["A1"].comment = Comment("a note", "me")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=10))
    ws.add_chart(chart, "D2")
    plain.save(folder / "plain-openpyxl.xlsx")
    template = build_book(load_model())
    template[CHECKS].freeze_panes = "B5"  # the defect of issue 17: panes frozen a second time
    (folder / DEFECTS[0]).write_bytes(book_bytes(template))
    twice = Workbook()
    twice.active["A1"] = "x"
    twice.active.freeze_panes = "B3"
    twice.active.freeze_panes = "B5"
    twice.save(folder / DEFECTS[1])
    print(f"wrote {len(list(folder.glob('*.xls?')))} files in {folder}")


def _parts(data: bytes):
    """(part, schema, bytes) of every XML part that has a schema in tests/schemas."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        defaults, overrides = _content_types(archive)
        for part in archive.namelist():
            if part == CONTENT_TYPES_PART:
                yield part, CONTENT_TYPES_SCHEMA[0], archive.read(part)
                continue
            extension = part.rpartition("/")[2].rpartition(".")[2].lower()
            content_type = overrides.get(part) or defaults.get(extension, "")
            if content_type in SCHEMAS and content_type not in BINARY:
                yield part, SCHEMAS[content_type][0], archive.read(part)


def _openxml_audit(max_errors: int):
    from openxml_audit import OpenXmlValidator

    def run(path: Path) -> tuple[int, int, bool]:
        result = OpenXmlValidator(max_errors=max_errors).validate(str(path))
        errors = [e for e in result.errors if str(e.severity).endswith("ERROR")]
        selection = any("'selection'" in e.description for e in errors)
        return len(errors), len(result.errors) - len(errors), selection
    return run


def _xsd_backend(name: str):
    remote = {"http://dublincore.org/schemas/xmls/qdc/2003/04/02/dc.xsd": "dc.xsd",
              "http://dublincore.org/schemas/xmls/qdc/2003/04/02/dcterms.xsd": "dcterms.xsd",
              "http://www.w3.org/2001/03/xml.xsd": "xml.xsd"}
    files = sorted({schema for schema, _root in SCHEMAS.values()} | {CONTENT_TYPES_SCHEMA[0]})
    start = time.perf_counter()
    if name == "lxml":
        from lxml import etree

        class Local(etree.Resolver):
            def resolve(self, url, public_id, context):
                if url not in remote:
                    return None
                return self.resolve_filename(str(SCHEMA_DIR / remote[url]), context)

        schemas = {}
        for schema in files:
            parser = etree.XMLParser()
            parser.resolvers.add(Local())
            schemas[schema] = etree.XMLSchema(etree.parse(str(SCHEMA_DIR / schema), parser))

        def errors_of(schema: str, data: bytes) -> list[str]:
            checker = schemas[schema]
            checker.validate(etree.fromstring(data))
            return [e.message for e in checker.error_log]
    else:
        import xml.etree.ElementTree as ElementTree

        import xmlschema

        def local(url: str) -> str:
            return str(SCHEMA_DIR / remote[url]) if url in remote else url

        schemas = {schema: xmlschema.XMLSchema(str(SCHEMA_DIR / schema), uri_mapper=local)
                   for schema in files}

        def errors_of(schema: str, data: bytes) -> list[str]:
            try:
                return [str(e.reason) for e in schemas[schema].iter_errors(ElementTree.fromstring(data))]
            except Exception as exc:  # xmlschema fails on xsi:type in docProps/core.xml
                return [f"validator failure: {exc.__class__.__name__}: {exc}"]
    print(f"  {name}: schemas loaded in {time.perf_counter() - start:.1f} s")

    def run(path: Path) -> tuple[int, int, bool]:
        found = [message for part, schema, data in _parts(path.read_bytes())
                 for message in errors_of(schema, data)]
        real = [m for m in found if "XML/1998/namespace}space" not in m and "xml:space" not in m]
        return len(real), len(found) - len(real), any("selection" in m for m in real)
    return run


def _xmllint(path: Path) -> tuple[int, int, bool]:
    found = validate_packages({path.name: path.read_bytes()})[path.name]
    real = unexplained(found)
    return len(real), len(found) - len(real), any("selection" in f.message for f in real)


def measure(folder: Path) -> None:
    files = sorted(folder.glob("*.xls?"))
    validators = {}
    for name, make in (("openxml-audit max_errors=10", lambda: _openxml_audit(10)),
                       ("openxml-audit max_errors=100000", lambda: _openxml_audit(100000)),
                       ("lxml + tests/schemas", lambda: _xsd_backend("lxml")),
                       ("xmlschema + tests/schemas", lambda: _xsd_backend("xmlschema"))):
        try:
            validators[name] = make()
        except ImportError as exc:
            print(f"  {name}: not installed ({exc.name})")
    if xmllint():
        validators["xmllint + tests/schemas (the suite's)"] = _xmllint
        print(f"  xmllint: catalog {CATALOG.name}")
    for name, run in validators.items():
        print(f"\n{name}\n  {'file':34} errors  other  seconds  selection defect found")
        total = 0.0
        for path in files:
            start = time.perf_counter()
            errors, other, selection = run(path)
            seconds = time.perf_counter() - start
            total += seconds
            mark = ("yes" if selection else "NO") if path.name in DEFECTS else ""
            print(f"  {path.name:34} {errors:6} {other:6} {seconds:8.2f}  {mark}")
        print(f"  {'total':34} {'':13} {total:8.2f}")
    print("\n'other': openxml-audit's warnings (inline strings); for the XSD validators the "
          "xml:space findings of the allowlist")


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("write", "measure"))
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    (write if args.step == "write" else measure)(args.folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main_())
