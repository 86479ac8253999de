"""Benchmark of the simulation (issue 7, "Performance"): run `python benchmarks/bench_simulation.py`.

For 10,000, 100,000 and 1,000,000 draws, each in a fresh process so that its peak memory is its
own, prints
  (a) the median time of Model.simulate(draws) plus every segment, year (2019-2030) and metric
      computed for all draws (target for 100,000 draws: <= 1 s), and of simulate() alone;
  (b) the peak memory of one such run: tracemalloc's peak of Python and numpy allocations, and
      the process's peak resident set (interpreter and libraries included) (target for 100,000
      draws: <= 1 GiB);
  (c) with the simulation built: a fan chart's 24 percentiles (P10, P50, P90 of Global revenue,
      2023-2030) and one tornado (sensitivity of Global revenue 2030).
Then the Excel face: the first NEGCOKE_RANGE call (it builds the 20,000-draw simulation) and a
warm one.
Options: --draws 10000,100000 (which sizes), --repeats N (timed runs per size, default 5; 3 for
1,000,000 draws).
"""

from __future__ import annotations

import gc
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

TIME_TARGET_S = 1.0
MEMORY_TARGET_BYTES = 2**30
TARGET_DRAWS = 100_000
SIZES = (10_000, 100_000, 1_000_000)
GIB = 2**30


def every_series(model) -> list[tuple[str, str]]:
    return [(segment, metric) for segment, series in model.markets["base"].values.items()
            for metric in series]


def full_run(model, draws: int, seed: int):
    """simulate() and every segment, year and metric for all draws; (simulation, seconds, s of
    simulate alone)."""
    start = time.perf_counter()
    simulation = model.simulate(draws, seed)
    built = time.perf_counter()
    for segment, metric in every_series(model):
        simulation.series(segment, metric)
    return simulation, time.perf_counter() - start, built - start


def child(draws: int, repeats: int) -> dict[str, float]:
    """Measure one size in this process (run by main() in a fresh interpreter)."""
    from xl_negcoke.model import load_model
    from xl_negcoke.model.simulation import clear_simulations

    model = load_model()
    model.simulate(1_000, 10_000)  # imports and first-touch costs outside the timings
    clear_simulations()
    totals, builds = [], []
    for seed in range(repeats):
        _simulation, total, build = full_run(model, draws, seed)
        totals.append(total)
        builds.append(build)
        del _simulation
        clear_simulations()
        gc.collect()
    tracemalloc.start()
    simulation, _total, _build = full_run(model, draws, repeats)
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    start = time.perf_counter()
    for year in range(2023, 2031):
        for p in (10, 50, 90):
            simulation.percentile("Global", year, p)
    fan = time.perf_counter() - start
    start = time.perf_counter()
    simulation.sensitivity("Global", 2030, "revenue")
    tornado = time.perf_counter() - start
    return {"draws": draws, "median_s": statistics.median(totals), "min_s": min(totals),
            "simulate_s": statistics.median(builds), "traced_peak": traced_peak,
            "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "fan_s": fan, "tornado_s": tornado, "repeats": repeats}


def excel_child() -> dict[str, float]:
    """The first and a warm NEGCOKE_RANGE call, in a fresh interpreter."""
    from xl_negcoke import udfs

    udfs.NEGCOKE_FORECAST("Global", 2030)  # the model itself is built by any function
    start = time.perf_counter()
    udfs.NEGCOKE_RANGE("Global", 2030, 90)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(100):
        udfs.NEGCOKE_RANGE("Global", 2030, 90)
    warm = (time.perf_counter() - start) / 100
    return {"first_s": first, "warm_s": warm, "draws": udfs.EXCEL_DRAWS}


def run_child(*arguments: str) -> dict[str, float]:
    output = subprocess.run([sys.executable, __file__, "--child", *arguments], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        result = excel_child() if argv[1] == "excel" else child(int(argv[1]), int(argv[2]))
        print(json.dumps(result))
        return 0
    sizes = SIZES
    repeats = 5
    if "--draws" in argv:
        sizes = tuple(int(n) for n in argv[argv.index("--draws") + 1].split(","))
    if "--repeats" in argv:
        repeats = int(argv[argv.index("--repeats") + 1])
    print(f"xl_negcoke simulation benchmark (Python {sys.version.split()[0]}; every segment, metric "
          "and year 2019-2030 for all draws; each size in a fresh process)")
    results = [run_child(str(draws), str(repeats if draws < 1_000_000 else min(repeats, 3)))
               for draws in sizes]
    for result in results:
        draws = int(result["draws"])
        line = (f"{draws:>9,} draws: {result['median_s']:7.3f} s median of {int(result['repeats'])} "
                f"(min {result['min_s']:.3f} s; simulate() alone {result['simulate_s']:.3f} s) | "
                f"peak {result['traced_peak'] / GIB:6.3f} GiB traced, {result['max_rss'] / GIB:6.3f} GiB "
                f"resident | fan chart {result['fan_s'] * 1000:6.1f} ms, tornado "
                f"{result['tornado_s'] * 1000:5.1f} ms")
        if draws == TARGET_DRAWS:
            line += (f" | targets {TIME_TARGET_S:.0f} s {verdict(result['median_s'] <= TIME_TARGET_S)}, "
                     f"1 GiB {verdict(result['max_rss'] <= MEMORY_TARGET_BYTES)}")
        print(line)
    per_draw = [(r["draws"], r["median_s"] / r["draws"] * 1e6, r["traced_peak"] / r["draws"])
                for r in results]
    print("growth: " + "; ".join(f"{int(d):,} draws {us:.2f} us and {b / 1024:.1f} KiB per draw"
                                 for d, us, b in per_draw))
    excel = run_child("excel")
    print(f"Excel: first NEGCOKE_RANGE call (builds {int(excel['draws']):,} draws) "
          f"{excel['first_s'] * 1000:.0f} ms; warm call {excel['warm_s'] * 1e6:.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
