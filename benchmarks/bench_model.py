"""Benchmark of the model layer (issue 2, "Performance"): run `python benchmarks/bench_model.py`.

Prints medians of
  (a) load_model(): read and validate data/ and compute every number of every scenario, after
      imports (target <= 50 ms);
  (b) a warm Model.value("Power Battery", 2027, "revenue", "base") against a raw dict lookup of
      the same precomputed number (target <= 10x).
Add --profile to print where load_model() spends its time (cProfile, top 15 by cumulative time).
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import timeit

from xl_negcoke.model import load_model

LOAD_TARGET_MS = 50.0
VALUE_TARGET_RATIO = 10.0
KEY = ("Power Battery", 2027, "revenue", "base")


def median_seconds(statement, number: int, repeat: int) -> float:
    """Median over `repeat` runs of the time of one execution of `statement`."""
    runs = timeit.repeat(statement, number=number, repeat=repeat)
    return statistics.median(runs) / number


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: list[str]) -> int:
    load_model()  # warm the file cache and any lazy imports
    load_s = median_seconds(load_model, number=1, repeat=51)
    load_ms = load_s * 1000.0

    model = load_model()
    raw = {KEY: model.value(*KEY)}  # the same precomputed number in a plain dict
    assert raw[KEY] == model.value(*KEY)
    value_s = median_seconds(lambda: model.value("Power Battery", 2027, "revenue", "base"),
                             number=200_000, repeat=7)
    dict_s = median_seconds(lambda: raw[("Power Battery", 2027, "revenue", "base")],
                            number=200_000, repeat=7)
    ratio = value_s / dict_s

    print(f"xl_negcoke model benchmark (Python {sys.version.split()[0]}, medians)")
    print(f"(a) load_model(), every number of {len(model.scenarios)} scenarios: "
          f"{load_ms:8.3f} ms | baseline: target {LOAD_TARGET_MS:.0f} ms | "
          f"ratio {load_ms / LOAD_TARGET_MS:.3f} of target (<= 1) {verdict(load_ms <= LOAD_TARGET_MS)}")
    print(f"(b) warm Model.value{KEY}: {value_s * 1e9:8.1f} ns | baseline: raw dict lookup "
          f"{dict_s * 1e9:.1f} ns | ratio {ratio:.2f}x (target <= {VALUE_TARGET_RATIO:.0f}x) "
          f"{verdict(ratio <= VALUE_TARGET_RATIO)}")

    if "--profile" in argv or load_ms > LOAD_TARGET_MS:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(20):
            load_model()
        profiler.disable()
        print("\nload_model() x 20, top 15 by cumulative time:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(15)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
