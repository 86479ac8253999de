"""How long `xl-negcoke refresh` takes on the template and on analyst workbooks with 50k, 100k and
200,000 cells of their own, and what the time is made of.

Run (with the package installed, e.g. `pip install -e .`):
    python benchmarks/bench_refresh.py [--repeat 3] [--sizes 0,50000,100000,200000] [--profile 200000]

The analyst's cells sit on one sheet of their own, 20 columns wide: numbers, some text and one
formula in ten (with a cached result, as Excel saves them). For each size it prints the median
refresh time (`refresh_bytes`: load, merge, evaluate the model's sheets, cache results, loss
check) beside:
- openpyxl load + save of the same workbook: what a refresh that parsed the analyst's cells
  would pay at least (the baseline; refresh leaves their cells out of the load and copies them
  back verbatim, so it does not pay it);
- the evaluation of the model's sheets by the formulas engine (printed once: it does not grow
  with the analyst's cells), the largest part of every refresh;
and the time per 1,000 analyst cells above the template's refresh (the growth: linear, and
small). Target: <= 5 s at 200,000 cells. Exits 1 when it is missed.
A last line times the 200,000-cell refresh when rows were also inserted on a model sheet (its
blocks found again and written where they moved). `--profile N` prints the functions that take
the most time for N cells (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook
from timing import median_seconds  # benchmarks/timing.py (the script's folder)

from xl_negcoke import load_model
from xl_negcoke.workbook import TEMPLATE_NAME, build_workbook
from xl_negcoke.workbook.files import book_bytes
from xl_negcoke.workbook.recalc import evaluate
from xl_negcoke.workbook.refresh import exact_numbers, refresh_bytes, refreshed_book
from xl_negcoke.workbook.refresh.results import _evaluation_copy
from xl_negcoke.workbook.refresh.splice import save_book

TARGET_S = 5.0
TARGET_CELLS = 200_000
COLUMNS = 20


def with_user_cells(template: bytes, count: int, moved: bool = False) -> bytes:
    """The template with `count` cells of the analyst's on a sheet of their own (with `moved`,
    also two rows inserted above the tables of '4 By type', so refresh re-anchors its blocks)."""
    book = load_workbook(io.BytesIO(template))
    if moved:
        book["4 By type"].insert_rows(9, 2)
    if count:
        ws = book.create_sheet("Analyst data", 1)
        for index in range(count):
            row, column = divmod(index, COLUMNS)
            row += 1
            if column == COLUMNS - 1:
                ws.cell(row, column + 1, f"=SUM(A{row}:C{row})*2")
            elif column == 3:
                ws.cell(row, column + 1, f"note {row}")
            else:
                ws.cell(row, column + 1, row * 0.25 + column)
    with exact_numbers():
        data = book_bytes(book)
    # as Excel saves them: every formula with its last result
    return re.sub(rb"</f><v\s*/></c>", b"</f><v>1</v></c>", data)


def openpyxl_round_trip(data: bytes) -> None:
    book = load_workbook(io.BytesIO(data))
    with exact_numbers():
        book.save(io.BytesIO())


def model_evaluation(data: bytes, model) -> Callable[[], object]:
    """The evaluation step of a refresh alone (the model's sheets, prepared once)."""
    from xl_negcoke.workbook.ownership import RECORD_SHEET

    book, plan = refreshed_book(data, model)
    sheets = [ws.title for ws in book.worksheets
              if ws.title not in plan.user_sheets and ws.title != RECORD_SHEET]
    copy = _evaluation_copy(save_book(book), sheets, plan.record.names, {})
    return lambda: evaluate(copy)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (default 3)")
    parser.add_argument("--sizes", default="0,50000,100000,200000",
                        help="analyst cells per workbook, comma-separated")
    parser.add_argument("--profile", type=int, metavar="N", help="profile the refresh of N cells")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    model = load_model()
    with tempfile.TemporaryDirectory(prefix="bench-refresh-") as folder:
        build_workbook(model, folder)
        template = (Path(folder) / f"{TEMPLATE_NAME}.xlsx").read_bytes()
    refresh_bytes(template, model)  # warm imports, the engine's function table, the quickstart
    evaluation_s = median_seconds(model_evaluation(template, model), args.repeat)
    print(f"median of {args.repeat} runs, Python {sys.version.split()[0]}; evaluating the model's "
          f"sheets (constant): {evaluation_s:.2f} s")
    print(f"{'analyst cells':>13} {'file MB':>8} {'refresh s':>10} {'openpyxl load+save s':>21} "
          f"{'refresh - template s':>21} {'ms per 1k cells':>16}")
    results: dict[int, float] = {}
    base_s = None
    for count in sizes:
        data = with_user_cells(template, count)
        refresh_s = median_seconds(lambda data=data: refresh_bytes(data, model), args.repeat)
        floor_s = median_seconds(lambda data=data: openpyxl_round_trip(data), args.repeat)
        results[count] = refresh_s
        if count == 0:
            base_s = refresh_s
        extra = refresh_s - base_s if base_s is not None else float("nan")
        per_k = f"{extra / (count / 1000) * 1000:>16.1f}" if count and base_s is not None else f"{'-':>16}"
        print(f"{count:>13,} {len(data) / 1e6:>8.1f} {refresh_s:>10.2f} {floor_s:>21.2f} "
              f"{extra if count else 0:>21.2f} {per_k}")
    moved = with_user_cells(template, TARGET_CELLS, moved=True)
    moved_s = median_seconds(lambda: refresh_bytes(moved, model), args.repeat)
    print(f"{TARGET_CELLS:,} analyst cells and 2 rows inserted on '4 By type' (blocks re-anchored): "
          f"{moved_s:.2f} s")
    if args.profile is not None:
        data = with_user_cells(template, args.profile)
        profile = cProfile.Profile()
        profile.runcall(refresh_bytes, data, model)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    if TARGET_CELLS in results:
        ok = results[TARGET_CELLS] <= TARGET_S
        print(f"target: refresh of {TARGET_CELLS:,} analyst cells <= {TARGET_S:.0f} s: "
              f"{results[TARGET_CELLS]:.2f} s {'ok' if ok else 'MISSED'}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
