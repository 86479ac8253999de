"""How long building the template takes, and how much one full recalculation of it computes.

Run (with the package installed, e.g. `pip install -e .`):
    python benchmarks/bench_build.py [--repeat 5]

Prints, each with its target or baseline beside it:
- the median time to build both files (.xlsx and .xlsm) without recalculation (target <= 2 s);
- the formula cells and NEGCOKE_* calls of one full recalculation of the built .xlsx (the
  formulas engine with our functions plugged in): the calls should be exactly one per call site
  in the workbook (one per table, thanks to the array formulas), and are compared with the
  baseline measured before the visual pass (4,175 formula cells, 119 calls);
- the median time of that recalculation and of a whole `build` (no target: the engine's speed,
  not Excel's).
Exits 1 when the build time target or the one-call-per-site target is missed.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.formula import Tokenizer
from openpyxl.worksheet.formula import ArrayFormula
from timing import median_seconds  # benchmarks/timing.py (the script's folder)

from xl_negcoke import load_model
from xl_negcoke.workbook import TEMPLATE_NAME, build_workbook
from xl_negcoke.workbook.recalc import evaluate

BUILD_TARGET_S = 2.0
BASELINE_FORMULA_CELLS = 4_175  # commit 35879b3, before the visual pass
BASELINE_UDF_CALLS = 119


def call_sites(data: bytes) -> tuple[int, int]:
    """NEGCOKE_* calls written in the workbook's formulas, and how many are NEGCOKE_TABLE."""
    book = load_workbook(io.BytesIO(data))
    calls = tables = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                text = cell.value.text if isinstance(cell.value, ArrayFormula) else (
                    str(cell.value) if cell.data_type == "f" else None)
                if not text:
                    continue
                for token in Tokenizer(text).items:
                    if token.type == "FUNC" and token.subtype == "OPEN" and \
                            token.value.upper().startswith("NEGCOKE_"):
                        calls += 1
                        tables += token.value.upper() == "NEGCOKE_TABLE("
    return calls, tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing (default 5)")
    args = parser.parse_args(argv)
    model = load_model()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as folder:
        out = Path(folder)
        build_workbook(model, out, recalculate=False)  # warm imports and the quickstart read
        build_s = median_seconds(lambda: build_workbook(model, out, recalculate=False), args.repeat)
        data = (out / f"{TEMPLATE_NAME}.xlsx").read_bytes()
        report = evaluate(data)
        recalc_s = median_seconds(lambda: evaluate(data), args.repeat)
        full_s = median_seconds(lambda: build_workbook(model, out), max(1, args.repeat // 2))
    sites, tables = call_sites(data)
    build_ok = build_s <= BUILD_TARGET_S
    calls_ok = report.udf_calls == sites and not report.problems
    print(f"median of {args.repeat} runs, Python {sys.version.split()[0]}")
    print(f"{'measure':58} {'value':>10}  target / baseline")
    print(f"{'build .xlsx + .xlsm, no recalculation (s)':58} {build_s:>10.2f}  target <= "
          f"{BUILD_TARGET_S:.1f} s {'ok' if build_ok else 'MISSED'}")
    print(f"{'formula cells per full recalculation':58} {report.formula_cells:>10,}  baseline "
          f"{BASELINE_FORMULA_CELLS:,}")
    print(f"{'NEGCOKE_* calls per full recalculation':58} {report.udf_calls:>10,}  target {sites} "
          f"(one per call site, {tables} NEGCOKE_TABLE) {'ok' if calls_ok else 'MISSED'}; "
          f"baseline {BASELINE_UDF_CALLS}")
    print(f"{'full recalculation with the formulas engine (s)':58} {recalc_s:>10.2f}  no target")
    print(f"{'build with recalculation (what xl-negcoke build does, s)':58} {full_s:>10.2f}  no target")
    return 0 if build_ok and calls_ok else 1


if __name__ == "__main__":
    sys.exit(main())
