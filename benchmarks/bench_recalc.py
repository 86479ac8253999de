"""How long recalculating the template takes, next to the formula engine's plain documented use
and to LibreOffice converting a snapshot, in one run.

Run (with the package installed, e.g. `pip install -e .`; LibreOffice optional):
    python benchmarks/bench_recalc.py [--runs 5]

Prints the median wall-clock (and, in process, CPU) time of:
  1. `recalculate()` on the template's bytes, end to end: evaluate every formula with the
     NEGCOKE_* functions and write the cached values (target <= 3 s on a 2-core machine);
  2. the `formulas` engine's documented use on the same file, functions registered:
     `formulas.ExcelModel().loads(path).finish().calculate()` (no values written);
  3. `xl-negcoke recalc FILE --out OUT` as a process (Python start and imports included);
  4. `soffice --headless --convert-to xlsx` of the snapshot (values only), private profile;
and each one's ratio to (1). Exits 1 when (1) misses its target.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET_SECONDS = 3.0


def measure(function: Callable[[], object], runs: int, warm_up: bool = True) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of `runs` calls (after one warm-up call)."""
    if warm_up:
        function()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def plain_engine(path: Path) -> Callable[[], object]:
    """The engine as its documentation shows it, with our functions registered first."""
    import formulas

    from xl_negcoke.workbook.recalc import _register

    _register()
    logging.getLogger("formulas").setLevel(logging.ERROR)

    def run() -> object:
        with contextlib.redirect_stderr(io.StringIO()):  # its progress bar
            return formulas.ExcelModel().loads(str(path)).finish().calculate()

    return run


def command(argv: list[str]) -> Callable[[], object]:
    def run() -> object:
        return subprocess.run(argv, check=True, capture_output=True, timeout=300)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per case (default 5)")
    args = parser.parse_args(argv)

    from xl_negcoke import load_model
    from xl_negcoke.workbook.recalc import recalculate
    from xl_negcoke.workbook.snapshot import snapshot_bytes
    from xl_negcoke.workbook.template import template_bytes

    folder = Path(tempfile.mkdtemp(prefix="bench-recalc-"))
    try:
        template = template_bytes(load_model(), False)
        source = folder / "template.xlsx"
        source.write_bytes(template)
        recalculated, report = recalculate(template)
        assert not report.problems, report.problems[:3]
        snapshot = folder / "snapshot.xlsx"
        snapshot.write_bytes(snapshot_bytes(recalculated, source.name, dt.date.today()))

        rows: list[tuple[str, float, float | None]] = []
        wall, cpu = measure(lambda: recalculate(template), args.runs)
        rows.append(("recalculate(template bytes), end to end", wall, cpu))
        wall, cpu = measure(plain_engine(source), args.runs)
        rows.append(("formulas ExcelModel().loads().finish().calculate()", wall, cpu))
        cli = [sys.executable, "-m", "xl_negcoke", "recalc", str(source), "--out",
               str(folder / "out.xlsx")]
        wall, _ = measure(command(cli), args.runs)
        rows.append(("xl-negcoke recalc FILE --out OUT (a process)", wall, None))
        soffice = shutil.which("soffice")
        if soffice:
            profile = (folder / "lo-profile").as_uri()
            convert = [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                       "--convert-to", "xlsx", "--outdir", str(folder / "lo"), str(snapshot)]
            wall, _ = measure(command(convert), args.runs)  # the warm-up creates the profile
            rows.append(("soffice --headless --convert-to xlsx (snapshot)", wall, None))
        else:
            print("LibreOffice (soffice) not found: its row is left out")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    baseline = rows[0][1]
    print(f"median of {args.runs} runs after a warm-up; {report.formula_cells:,} formula cells, "
          f"{report.udf_calls} NEGCOKE_* calls; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    print(f"{'case':54} {'wall s':>7} {'cpu s':>7} {'ratio':>7}")
    for name, wall, cpu in rows:
        cpu_text = f"{cpu:7.2f}" if cpu is not None else f"{'':>7}"
        print(f"{name:54} {wall:7.2f} {cpu_text} {wall / baseline:6.2f}x")
    met = baseline <= TARGET_SECONDS
    print(f"target: recalculate() <= {TARGET_SECONDS:.0f} s: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
