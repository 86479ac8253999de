"""Schema validation of workbook files: every XML part against the ECMA-376 transitional schemas
(tests/schemas/, see SOURCE.md), with libxml2's validator run as `xmllint`.

Why xmllint and not a Python package (measured, docs/schema-validation.md):
- `lxml` is the same libxml2 validator, but installing it changes what openpyxl writes (openpyxl
  serialises with lxml when it can import it: `<a />` becomes `<a/>` in every part), so the
  build's bytes would depend on whether the test extras are installed;
- `xmlschema` (pure Python) needs 7 s to load sml.xsd and about 8 s per workbook;
- `openxml-audit` reports 3 to 18 false errors per openpyxl file (the order of the children of
  `<font>`, which CT_Font allows in any order) and stops at 10 errors.

xmllint reports every error of every part (there is no cap), one line each, which
`validate_packages` turns into findings; `unexplained` drops the findings in KNOWN_FALSE_POSITIVES,
the one allowlist, each entry with the schema evidence. Parts are chosen by content type: a part
whose content type has no schema here is itself a finding, so nothing goes unchecked silently.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ElementTree
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
CATALOG = SCHEMA_DIR / "catalog.xml"
TIMEOUT_SECONDS = 120

_SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_OFFICE = "application/vnd.openxmlformats-officedocument"
# content type -> (schema, expected root element {namespace}name)
SCHEMAS: dict[str, tuple[str, str]] = {
    f"{_OFFICE}.spreadsheetml.sheet.main+xml": ("sml.xsd", f"{{{_SML}}}workbook"),
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": ("sml.xsd", f"{{{_SML}}}workbook"),
    f"{_OFFICE}.spreadsheetml.worksheet+xml": ("sml.xsd", f"{{{_SML}}}worksheet"),
    f"{_OFFICE}.spreadsheetml.styles+xml": ("sml.xsd", f"{{{_SML}}}styleSheet"),
    f"{_OFFICE}.spreadsheetml.sharedStrings+xml": ("sml.xsd", f"{{{_SML}}}sst"),
    f"{_OFFICE}.spreadsheetml.comments+xml": ("sml.xsd", f"{{{_SML}}}comments"),
    f"{_OFFICE}.spreadsheetml.table+xml": ("sml.xsd", f"{{{_SML}}}table"),
    f"{_OFFICE}.spreadsheetml.calcChain+xml": ("sml.xsd", f"{{{_SML}}}calcChain"),
    f"{_OFFICE}.spreadsheetml.sheetMetadata+xml": ("sml.xsd", f"{{{_SML}}}metadata"),
    f"{_OFFICE}.drawing+xml": (
        "dml-spreadsheetDrawing.xsd",
        "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}wsDr"),
    f"{_OFFICE}.drawingml.chart+xml": (
        "dml-chart.xsd", "{http://schemas.openxmlformats.org/drawingml/2006/chart}chartSpace"),
    f"{_OFFICE}.theme+xml": ("dml-main.xsd", "{http://schemas.openxmlformats.org/drawingml/2006/main}theme"),
    "application/vnd.openxmlformats-package.core-properties+xml": (
        "opc-coreProperties.xsd",
        "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}coreProperties"),
    f"{_OFFICE}.extended-properties+xml": (
        "shared-documentPropertiesExtended.xsd",
        "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Properties"),
    f"{_OFFICE}.custom-properties+xml": (
        "shared-documentPropertiesCustom.xsd",
        "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}Properties"),
    "application/vnd.openxmlformats-package.relationships+xml": (
        "opc-relationships.xsd", "{http://schemas.openxmlformats.org/package/2006/relationships}Relationships"),
}
CONTENT_TYPES_PART = "[Content_Types].xml"
CONTENT_TYPES_SCHEMA = ("opc-contentTypes.xsd", "{http://schemas.openxmlformats.org/package/2006/content-types}Types")
# parts that are not XML: nothing to validate
BINARY = frozenset({"application/vnd.ms-office.vbaProject",
                    f"{_OFFICE}.spreadsheetml.printerSettings", "image/png", "image/jpeg", "image/gif",
                    "image/x-emf", "image/x-wmf", "image/bmp", "image/tiff"})
# legacy VML (the shape of a comment box): ECMA-376 gives it no normative schema that our parts
# could be held to (Part 4's vml-*.xsd import the whole of wml.xsd), so it is checked to be
# well-formed XML only
WELL_FORMED_ONLY = frozenset({f"{_OFFICE}.vmlDrawing"})


@dataclass(frozen=True)
class Finding:
    """One schema error: which file, which part, where, and the validator's message."""

    package: str
    part: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.package}: {self.part}:{self.line}: {self.message}"


@dataclass(frozen=True)
class KnownFalsePositive:
    """A finding the schema reports although the file is correct, and the evidence why."""

    part: str  # regular expression on the part name
    message: str  # regular expression on the whole message
    evidence: str

    def matches(self, finding: Finding) -> bool:
        return bool(re.fullmatch(self.part, finding.part) and re.fullmatch(self.message, finding.message))


# THE allowlist. Everything not matched here fails the schema test.
KNOWN_FALSE_POSITIVES: tuple[KnownFalsePositive, ...] = (
    KnownFalsePositive(
        part=r"xl/(sharedStrings|worksheets/sheet\d+|comments\d*|comments/comment\d+)\.xml",
        message=(r"Element '\{" + re.escape(_SML) + r"\}t', attribute "
                 r"'\{http://www\.w3\.org/XML/1998/namespace\}space': The attribute "
                 r"'\{http://www\.w3\.org/XML/1998/namespace\}space' is not allowed\."),
        evidence=(
            "sml.xsd types <t> as s:ST_Xstring, a simple type, so the schema allows it no "
            "attribute at all; but ECMA-376 Part 1 §18.4.12 (t, Text) describes "
            "xml:space=\"preserve\" on it for text with leading or trailing spaces, Excel writes "
            "exactly that in sharedStrings.xml, and openpyxl and LibreOffice do the same. The gap "
            "in the schema is known (docx4j issue 41: the schema's ST_Xstring drops the "
            "attribute). Without it, Excel trims the spaces."),
    ),
)


def unexplained(findings: list[Finding]) -> list[Finding]:
    """The findings no allowlist entry explains."""
    return [f for f in findings if not any(known.matches(f) for known in KNOWN_FALSE_POSITIVES)]


def xmllint() -> str | None:
    return shutil.which("xmllint")


def _content_types(archive: zipfile.ZipFile) -> tuple[dict[str, str], dict[str, str]]:
    """(defaults by lower-case extension, overrides by part name without the leading /)."""
    root = ElementTree.fromstring(archive.read(CONTENT_TYPES_PART))
    defaults, overrides = {}, {}
    for item in root:
        name = item.tag.rsplit("}", 1)[-1]
        if name == "Default":
            defaults[item.get("Extension", "").lower()] = item.get("ContentType", "")
        elif name == "Override":
            overrides[item.get("PartName", "").lstrip("/")] = item.get("ContentType", "")
    return defaults, overrides


def _plan(package: str, archive: zipfile.ZipFile, folder: Path,
          findings: list[Finding]) -> dict[str, list[tuple[Path, str]]]:
    """Write each XML part of `archive` under `folder`; return {schema: [(file, part)]}.

    Parts without a schema, of the wrong root element, or not well-formed become findings.
    """
    batches: dict[str, list[tuple[Path, str]]] = {}
    names = [n for n in archive.namelist() if not n.endswith("/")]
    if CONTENT_TYPES_PART not in names:
        findings.append(Finding(package, CONTENT_TYPES_PART, 0, "missing"))
        return batches
    defaults, overrides = _content_types(archive)
    for index, part in enumerate(names):
        if part == CONTENT_TYPES_PART:
            content_type, (schema, root) = "", CONTENT_TYPES_SCHEMA
        else:
            extension = PurePosixPath(part).name.rpartition(".")[2].lower()  # "_rels/.rels": "rels"
            content_type = overrides.get(part) or defaults.get(extension, "")
            if content_type in BINARY:
                continue
            if content_type not in SCHEMAS and content_type not in WELL_FORMED_ONLY:
                findings.append(Finding(package, part, 0, f"no schema for content type {content_type!r}"))
                continue
            schema, root = SCHEMAS.get(content_type, ("", ""))
        data = archive.read(part)
        try:
            element = ElementTree.fromstring(data)
        except ElementTree.ParseError as exc:
            findings.append(Finding(package, part, exc.position[0], f"not well-formed XML: {exc}"))
            continue
        if not schema:
            continue
        if element.tag != root:
            findings.append(Finding(package, part, 1, f"root element {element.tag}, expected {root}"))
            continue
        path = folder / f"{index:04d}.xml"
        path.write_bytes(data)
        batches.setdefault(schema, []).append((path, part))
    return batches


_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?:element \S+: )?"
                    r"Schemas validity error : (?P<message>.*)$")


def validate_packages(packages: dict[str, bytes]) -> dict[str, list[Finding]]:
    """Every XML part of every package against its schema: {package name: findings}.

    One xmllint process per schema validates the parts of all packages that use it. Every part
    must get xmllint's verdict ("validates" or "fails to validate"); a part without one is a
    finding, so a crash or a cut-off output cannot pass for success.

    Raises:
        RuntimeError: xmllint is missing, or a schema itself fails to load.
    """
    tool = xmllint()
    if tool is None:
        raise RuntimeError("xmllint not found (apt-get install libxml2-utils; scripts/setup.sh does)")
    findings: dict[str, list[Finding]] = {name: [] for name in packages}
    with tempfile.TemporaryDirectory(prefix="schema-") as temporary:
        batches: dict[str, list[tuple[Path, str, str]]] = {}
        for number, (name, data) in enumerate(packages.items()):
            folder = Path(temporary) / str(number)
            folder.mkdir()
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for schema, files in _plan(name, archive, folder, findings[name]).items():
                    batches.setdefault(schema, []).extend((path, part, name) for path, part in files)
        environment = {**os.environ, "XML_CATALOG_FILES": str(CATALOG)}
        for schema, files in batches.items():
            where = {str(path): (name, part) for path, part, name in files}
            result = subprocess.run([tool, "--noout", "--nonet", "--schema", str(SCHEMA_DIR / schema),
                                     *where], capture_output=True, text=True, env=environment,
                                    timeout=TIMEOUT_SECONDS, check=False)
            verdicts: dict[str, bool] = {}  # file -> validates
            errors: set[str] = set()
            for line in result.stderr.splitlines():
                path, _, verdict = line.rpartition(" ")
                if verdict == "validates" and path in where:
                    verdicts[path] = True
                elif line.endswith(" fails to validate") and line[: -len(" fails to validate")] in where:
                    verdicts[line[: -len(" fails to validate")]] = False
                elif (match := _ERROR.match(line)) and match["path"] in where:
                    name, part = where[match["path"]]
                    errors.add(match["path"])
                    findings[name].append(Finding(name, part, int(match["line"]), match["message"]))
                elif "error" in line.lower() and "Schemas parser warning" not in line:
                    raise RuntimeError(f"xmllint could not use {schema}: {line}")
            for path, (name, part) in where.items():
                if path not in verdicts:
                    findings[name].append(Finding(name, part, 0, "xmllint gave no verdict "
                                                  f"(exit {result.returncode})"))
                elif not verdicts[path] and path not in errors:
                    findings[name].append(Finding(name, part, 0, "fails to validate (no message)"))
    return findings


# ---------------------------------------------------------------------------------------------
# sheet views: the defect that started this (issue 17), checked directly

_PANES = ("topLeft", "topRight", "bottomLeft", "bottomRight")


def sheet_view_problems(name: str, data: bytes) -> list[str]:
    """Each sheetView of each worksheet with more than 4 <selection>s or one pane selected twice."""
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        _defaults, overrides = _content_types(archive)
        for part, content_type in sorted(overrides.items()):
            if content_type != f"{_OFFICE}.spreadsheetml.worksheet+xml":
                continue
            root = ElementTree.fromstring(archive.read(part))
            for number, view in enumerate(root.iter(f"{{{_SML}}}sheetView")):
                panes = [s.get("pane", "topLeft") for s in view.findall(f"{{{_SML}}}selection")]
                doubled = sorted({p for p in panes if panes.count(p) > 1})
                if len(panes) > len(_PANES) or doubled:
                    problems.append(f"{name}: {part} sheetView {number}: {len(panes)} selections "
                                    f"(panes {', '.join(panes)}; at most one per pane: {', '.join(_PANES)})")
    return problems
