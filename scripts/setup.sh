#!/usr/bin/env bash
# Set up a fresh machine: system tools (LibreOffice Calc, Gnumeric, poppler, xmllint) and a virtualenv in .venv
# with xl_negcoke installed (editable) and its test extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# fonts-crosextra-carlito: metric-compatible with Calibri, so LibreOffice lays pages out as Excel does
# libxml2-utils: xmllint, the schema validator of tests/test_schema.py (a program, not lxml:
# openpyxl writes different bytes when lxml is importable; docs/schema-validation.md)
# gnumeric: its ssconvert --recalc is the third engine the committed workbook must agree with
if ! command -v soffice >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1 \
    || ! command -v xmllint >/dev/null 2>&1 || ! command -v ssconvert >/dev/null 2>&1 \
    || ! fc-list 2>/dev/null | grep -qi carlito; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing LibreOffice Calc, Gnumeric, poppler-utils, xmllint and the Carlito font (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libreoffice-calc-nogui gnumeric poppler-utils libxml2-utils fonts-crosextra-carlito >/dev/null
  else
    echo "setup: LibreOffice (soffice), Gnumeric (ssconvert), pdftoppm or xmllint missing and apt-get" \
         "not usable as root; install libreoffice-calc-nogui, gnumeric, poppler-utils and libxml2-utils yourself" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
