"""How much a warm NEGCOKE_* call costs in Python, against a raw dict lookup of the same number.

Run (with the package installed, e.g. `pip install -e .`):
    python benchmarks/bench_udfs.py [--repeat 15]

Prints the median time per call (timeit, many loops per repeat) and its ratio to the raw lookup
for: NEGCOKE_FORECAST without assumptions (target <= 20x), with a 40-row assumptions range passed
again (target <= 50x), with a fresh but equal 40-row range each call (as Excel sends it: no
target, the content comparison is most of it), and a warm NEGCOKE_TABLE for the country
dimension 2019-2030. Excel's own round trip per call (COM or Office.js) comes on top and is not
measured here. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import timeit

from xl_negcoke import load_model
from xl_negcoke.udfs import NEGCOKE_FORECAST, NEGCOKE_TABLE

SEGMENT, YEAR = "Power Battery", 2027


def fresh_copy(rows: list[list[object]]) -> list[list[object]]:
    """An equal range made of new objects, the way each call from Excel delivers one."""
    def fresh(cell: object) -> object:
        if isinstance(cell, str):
            return "".join(list(cell))
        if isinstance(cell, float):
            return float(repr(cell))
        return cell

    return [[fresh(cell) for cell in row] for row in rows]


def median_ns(statement: str, namespace: dict, loops: int, repeat: int) -> float:
    """Median over `repeat` runs of the time per call in nanoseconds."""
    times = timeit.repeat(statement, globals=namespace, number=loops, repeat=repeat)
    return statistics.median(times) / loops * 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timeit repeats (default 15)")
    args = parser.parse_args(argv)

    model = load_model()
    raw = {(r.segment, r.year, r.metric, r.scenario): r.value for r in model.frame().itertuples()}
    key = (SEGMENT, YEAR, "revenue", "base")
    frame = model.assumptions()[["key", "value", "unit", "source"]].head(40)
    assumptions = [["key", "value", "unit", "source"], *(list(r) for r in frame.itertuples(index=False))]
    fresh_ranges = itertools.cycle([fresh_copy(assumptions) for _ in range(64)])

    expected = raw[key]
    for result in (NEGCOKE_FORECAST(SEGMENT, YEAR), NEGCOKE_FORECAST(SEGMENT, YEAR, None, None,
                                                                       assumptions)):
        assert result == expected, result  # warm, and the same number as the raw lookup
    NEGCOKE_TABLE("country", "revenue", 2019, 2030)

    namespace = {"raw": raw, "key": key, "NEGCOKE_FORECAST": NEGCOKE_FORECAST,
                 "NEGCOKE_TABLE": NEGCOKE_TABLE, "assumptions": assumptions,
                 "fresh_ranges": fresh_ranges, "next": next}
    cases = [
        ("raw dict lookup of the same number", "raw[key]", 1_000_000, None),
        (f'NEGCOKE_FORECAST("{SEGMENT}", {YEAR})',
         f'NEGCOKE_FORECAST("{SEGMENT}", {YEAR})', 200_000, 20),
        (f'NEGCOKE_FORECAST("{SEGMENT}", {YEAR},,, <40-row range>)',
         f'NEGCOKE_FORECAST("{SEGMENT}", {YEAR}, None, None, assumptions)', 100_000, 50),
        ("  ... a fresh equal 40-row range per call",
         f'NEGCOKE_FORECAST("{SEGMENT}", {YEAR}, None, None, next(fresh_ranges))', 100_000, None),
        ('NEGCOKE_TABLE("country", "revenue", 2019, 2030)',
         'NEGCOKE_TABLE("country", "revenue", 2019, 2030)', 2_000, None),
    ]
    print(f"median of {args.repeat} repeats, Python {sys.version.split()[0]}")
    print(f"{'call':58} {'median':>12} {'ratio':>9}  target")
    baseline = None
    failed = False
    for label, statement, loops, target in cases:
        nanoseconds = median_ns(statement, namespace, loops, args.repeat)
        baseline = baseline or nanoseconds
        ratio = nanoseconds / baseline
        verdict = ""
        if target is not None:
            ok = ratio <= target
            failed |= not ok
            verdict = f"<= {target}x {'ok' if ok else 'MISSED'}"
        shown = f"{nanoseconds / 1000:.1f} us" if nanoseconds >= 10_000 else f"{nanoseconds:.0f} ns"
        print(f"{label:58} {shown:>12} {ratio:>8.1f}x  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
