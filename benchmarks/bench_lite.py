"""The xlwings Lite main.py: its size, its first (cold) call and a warm NEGCOKE_FORECAST.

Run (with the package installed, e.g. `pip install -e .`):
    python benchmarks/bench_lite.py [--repeat 15] [--cold 3]

Generates main.py and requirements.txt into a temporary folder and prints:
- the size of both files, and of the embedded package and dataset before compression;
- cold: in a fresh Python (median of --cold runs), the time to import main.py (mostly xlwings)
  and the time of the first NEGCOKE_FORECAST call (unpacking the package, importing numpy and
  pandas, reading the dataset, building the model). This is CPython on this machine: under
  Pyodide in Excel the same steps run in WebAssembly and take longer;
- warm: a NEGCOKE_FORECAST call of the generated module in this process against a raw dict
  lookup of the same number (target <= 20x, as for the classic UDF, printed beside it).
Exits 1 when the warm target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

from xl_negcoke import load_model
from xl_negcoke.lite import load_main, write_lite
from xl_negcoke.udfs import NEGCOKE_FORECAST as CLASSIC_FORECAST

SEGMENT, YEAR = "Power Battery", 2027
TARGET = 20

_COLD = """
import importlib.util, sys, time
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("main", sys.argv[1])
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)
imported = time.perf_counter()
value = main.NEGCOKE_FORECAST("Power Battery", 2027)
called = time.perf_counter()
assert isinstance(value, float), value
print(imported - start, called - imported)
"""


def median_ns(statement: str, namespace: dict, loops: int, repeat: int) -> float:
    """Median over `repeat` runs of the time per call in nanoseconds."""
    times = timeit.repeat(statement, globals=namespace, number=loops, repeat=repeat)
    return statistics.median(times) / loops * 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timeit repeats (default 15)")
    parser.add_argument("--cold", type=int, default=3, help="fresh-Python runs (default 3)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_lite_") as temporary:
        return measure(Path(temporary), args.repeat, args.cold)


def measure(folder: Path, repeat: int, cold_runs: int) -> int:
    """Generate into `folder` (the embedded package is unpacked there too) and print the figures."""
    main_path, requirements_path, generated = write_lite(folder)
    plain = sum(len(text.encode("utf-8")) for text in generated.bundle.files.values())
    print(f"main.py {main_path.stat().st_size:,} bytes ({main_path.stat().st_size / 1024:.0f} KiB); "
          f"requirements.txt {requirements_path.stat().st_size} bytes")
    print(f"  embedded: {len(generated.bundle.modules)} modules and {len(generated.bundle.data_files)} "
          f"CSV files, {plain:,} bytes before compression")

    cold = []
    for _ in range(cold_runs):
        done = subprocess.run([sys.executable, "-c", _COLD, str(main_path)], capture_output=True,
                              text=True, check=True, cwd=folder,
                              env={"PATH": "/usr/bin:/bin", "TMPDIR": str(folder)})
        cold.append(tuple(float(number) for number in done.stdout.split()))
    imported = statistics.median(run[0] for run in cold)
    first = statistics.median(run[1] for run in cold)
    print(f"cold (CPython {sys.version.split()[0]}, median of {cold_runs}): import main.py "
          f"{imported:.2f} s, first NEGCOKE_FORECAST {first:.2f} s")

    model = load_model()
    raw = {(r.segment, r.year, r.metric, r.scenario): r.value for r in model.frame().itertuples()}
    key = (SEGMENT, YEAR, "revenue", "base")
    tempfile.tempdir = str(folder)  # this process unpacks main.py's package there too
    lite_module = load_main(main_path, "bench_lite_main")
    assert lite_module.NEGCOKE_FORECAST(SEGMENT, YEAR) == CLASSIC_FORECAST(SEGMENT, YEAR) == raw[key]
    namespace = {"raw": raw, "key": key, "LITE": lite_module.NEGCOKE_FORECAST,
                 "CLASSIC": CLASSIC_FORECAST}
    baseline = median_ns("raw[key]", namespace, 1_000_000, repeat)
    print(f"{'warm call':52} {'median':>8} {'ratio':>7}  target")
    print(f"{'raw dict lookup of the same number':52} {baseline:>5.0f} ns {1:>6.1f}x")
    failed = False
    for label, statement, target in (
            (f'classic NEGCOKE_FORECAST("{SEGMENT}", {YEAR})', f'CLASSIC("{SEGMENT}", {YEAR})', None),
            (f'Lite main.py NEGCOKE_FORECAST("{SEGMENT}", {YEAR})', f'LITE("{SEGMENT}", {YEAR})',
             TARGET)):
        nanoseconds = median_ns(statement, namespace, 200_000, repeat)
        ratio = nanoseconds / baseline
        verdict = ""
        if target is not None:
            failed |= ratio > target
            verdict = f"<= {target}x {'ok' if ratio <= target else 'MISSED'}"
        print(f"{label:52} {nanoseconds:>5.0f} ns {ratio:>6.1f}x  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
