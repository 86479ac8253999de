"""The `xl-negcoke` command: summary, validate-data, build, recalc, snapshot, check, refresh, lite.

Only this module turns errors into exit codes: 0 success, 1 a check found problems, 2 bad
input (arguments, data folder, workbook). Every failure is one line on stderr, never a traceback.
On a terminal, recalc, snapshot, check and refresh also write a line on stderr as each stage
starts (`xl_negcoke.progress`); stdout carries only results. `--version` prints the version.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from xl_negcoke import __version__
from xl_negcoke.errors import NegcokeError
from xl_negcoke.progress import count_formula_cells, stage

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits with 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_BAD_INPUT)


def _fmt(number: float, unit: str) -> str:
    if unit == "%":
        return f"{number * 100:.1f}%"
    return f"{number:,.1f}"


SUMMARY_DRAWS = 20_000  # as in Excel (NEGCOKE_RANGE): P10/P50/P90 within 1% of 100,000 draws


def command_summary(args: argparse.Namespace) -> int:
    """Print the headline figures of one scenario as a table."""
    from xl_negcoke.model import BASE_YEAR, LAST_YEAR, load_model

    model = load_model(args.data)
    scenario = model.resolve_scenario(args.scenario)
    value, share, cagr = model.value, model.share, model.cagr
    first, latest, last = BASE_YEAR, BASE_YEAR + 1, LAST_YEAR

    def row(label: str, number: Callable[[int], float], unit: str, segment: str | None = None,
            metric: str = "") -> tuple[str, ...]:
        rates = ("", "") if segment is None else (
            _fmt(cagr(segment, first, last, metric, scenario), "%"),
            _fmt(cagr(segment, latest, last, metric, scenario), "%"))
        return (label, *(_fmt(number(year), unit) for year in (first, latest, last)), *rates)

    rows: list[tuple[str, ...]] = [
        row("Revenue (US$ million)", lambda y: value("Global", y, "revenue", scenario), "",
            "Global", "revenue"),
        row("Volume (kt)", lambda y: value("Global", y, "volume", scenario), "", "Global", "volume"),
        row("Average price (US$/t)", lambda y: value("Global", y, "price", scenario), "", "Global",
            "price"),
    ]
    for dimension, metric in (("application", "volume"), ("type", "volume")):
        for segment in model.segments(dimension):
            rows.append(row(f"{segment} share of {metric}",
                            lambda y, s=segment, m=metric: share(s, y, m, scenario), "%", segment,
                            metric))
    rows.append(row("China share of revenue", lambda y: share("China", y, "revenue", scenario), "%"))
    rows.append(row("Top-5 share of capacity",
                    lambda y: model.concentration(5, y, "capacity", scenario), "%"))
    header = ("Negative coke market", *(f"{y} ({model.status(y)[0].upper()})" for y in
                                        (first, latest, last)),
              f"CAGR {first % 100}-{last % 100}", f"CAGR {latest % 100}-{last % 100}")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    info = model.info()
    print(f"Scenario {scenario} | dataset {info['dataset_id']} | base year {info['base_year']} | "
          f"forecast from {info['first_forecast_year']} (A actual, E estimate, F forecast)")
    for line in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                        for i, c in enumerate(line)))
    if scenario == "base" and model.dataset.uncertainty:
        simulation = model.simulate(SUMMARY_DRAWS, 0)
        low, middle, high = (simulation.percentile("Global", last, p) for p in (10, 50, 90))
        print(f"Revenue {last}, {SUMMARY_DRAWS:,} draws (seed 0): P10 {_fmt(low, '')}, "
              f"P50 {_fmt(middle, '')}, P90 {_fmt(high, '')}; the base case sits at P"
              f"{simulation.base_percentile('Global', last):.0f}")
    return EXIT_OK


def command_validate_data(args: argparse.Namespace) -> int:
    """Check a data folder and compute every scenario from it."""
    from xl_negcoke.model import load_model

    model = load_model(args.directory)
    dataset = model.dataset
    print(f"{dataset.directory}: valid ({len(dataset.files)} files, {len(model.assumptions())} inputs, "
          f"{len(dataset.countries)} countries, {len(dataset.companies)} companies, scenarios "
          f"{', '.join(model.scenarios)}; dataset id {dataset.dataset_id})")
    return EXIT_OK


def _progress(line: str) -> None:
    print(f"  {line}", flush=True)


def _recalculated(data: bytes, name: str, data_dir: str | None, command: str,
                  as_of: dt.date | None = None) -> bytes:
    from xl_negcoke.workbook.recalc import recalculate, require_evaluated
    from xl_negcoke.workbook.trust import recalculation_when

    stage(command, lambda: f"recalculating {count_formula_cells(data):,} formula cells")
    start = time.perf_counter()
    result, report = recalculate(data, data_dir, recalculation_when(as_of))
    _progress(f"recalculated {name}: {report.formula_cells:,} formula cells, {report.udf_calls} "
              f"NEGCOKE_* calls, {time.perf_counter() - start:.1f} s")
    require_evaluated(report, name)
    return result


def command_build(args: argparse.Namespace) -> int:
    """Build the template .xlsx and .xlsm with cached values."""
    from xl_negcoke.model import load_model
    from xl_negcoke.workbook import build_workbook

    start = time.perf_counter()
    model = load_model(args.data)
    _progress(f"loaded dataset {model.dataset.dataset_id} ({model.dataset.directory})")
    built = build_workbook(model, args.out, _progress, data_dir=args.data, force=args.force)
    for item in built:
        _progress(f"wrote {item.path} ({item.size / 1024:.0f} KiB)")
    print(f"built {len(built)} files in {args.out} in {time.perf_counter() - start:.1f} s")
    return EXIT_OK


def command_recalc(args: argparse.Namespace) -> int:
    """Evaluate every formula of a workbook and store the results as cached values."""
    from xl_negcoke.workbook.files import atomic_write, exclusive_lock, read_workbook, require_writable

    out = Path(args.out) if args.out else Path(args.path)
    with exclusive_lock(out) as target:
        require_writable(target, args.force)
        stage("recalc", f"reading {args.path}")
        data = read_workbook(args.path)
        result = _recalculated(data, Path(args.path).name, args.data, "recalc", args.as_of)
        stage("recalc", f"writing {out}")
        atomic_write(target, result)
    print(f"wrote {out}")
    return EXIT_OK


def command_snapshot(args: argparse.Namespace) -> int:
    """Write a values-only copy of a workbook."""
    from xl_negcoke.errors import WorkbookError
    from xl_negcoke.workbook.files import (
        atomic_write_all,
        exclusive_lock,
        read_workbook,
        real_path,
        replaceable,
    )
    from xl_negcoke.workbook.snapshot import snapshot_bytes

    source, out = Path(args.path), Path(args.out)
    if out.exists() and source.exists() and real_path(out).resolve() == real_path(source).resolve():
        raise WorkbookError(f"--out {out} is the workbook itself: a snapshot replaces formulas with "
                            "values, so it is written to another file (e.g. --out "
                            f"{source.stem}-snapshot.xlsx)")
    replaceable(out, args.force, "before-snapshot")  # refuse before the work, not after
    stage("snapshot", f"reading {source}")
    data = _recalculated(read_workbook(source), source.name, args.data, "snapshot", args.as_of)
    stage("snapshot", "replacing formulas with their values")
    snapshot = snapshot_bytes(data, source.name, args.as_of)
    stage("snapshot", f"writing {out}")
    with exclusive_lock(out) as target:
        backup = replaceable(target, args.force, "before-snapshot")
        atomic_write_all({**({backup: target.read_bytes()} if backup else {}), target: snapshot})
    if backup:
        _progress(f"kept the previous {out.name} as {backup.name}")
    print(f"wrote {out} (values only, as of {args.as_of.isoformat()})")
    return EXIT_OK


def command_check(args: argparse.Namespace) -> int:
    """Recalculate in memory; list formula errors, failed checks and cells off the model."""
    from xl_negcoke.workbook.check import check_workbook
    from xl_negcoke.workbook.files import read_workbook

    stage("check", f"reading {args.path}")
    data = read_workbook(args.path)
    stage("check", lambda: f"recalculating {count_formula_cells(data):,} formula cells and "
                           "comparing them with the model")
    report = check_workbook(data, args.data)
    for problem in report.problems:
        print(problem)
    status = "clean" if not report.problems else f"{len(report.problems)} problems"
    print(f"{args.path}: {status} ({report.formula_cells:,} formula cells evaluated, "
          f"{report.checks} checks, {report.compared:,} cells compared with the model)")
    return EXIT_OK if not report.problems else EXIT_PROBLEMS


def command_refresh(args: argparse.Namespace) -> int:
    """Bring a workbook up to date with the current dataset and template, keeping user work."""
    from xl_negcoke.model import load_model
    from xl_negcoke.workbook.refresh import refresh_file

    stage("refresh", "loading the dataset")
    model = load_model(args.data)
    stage("refresh", f"refreshing {args.path}: rebuilding the model's cells and recalculating")
    plan = refresh_file(args.path, model, reset_inputs=args.reset_inputs, dry_run=args.dry_run,
                        force=args.force, data_dir=args.data, overwrite_edits=args.overwrite_edits)
    for line in plan.lines():
        print(f"  {line}")
    if args.dry_run:
        print(f"dry run: {args.path} was not changed")
    else:
        print(f"refreshed {args.path} (previous version kept as {plan.backup.name if plan.backup else '-'})")
    return EXIT_OK


def command_lite(args: argparse.Namespace) -> int:
    """Write main.py and requirements.txt for xlwings Lite (Excel on Mac and the web)."""
    from xl_negcoke.lite import write_lite

    main_path, requirements_path, generated = write_lite(args.out_dir, force=args.force)
    bundle = generated.bundle
    print(f"wrote {main_path} ({main_path.stat().st_size / 1024:.0f} KiB: "
          f"{len(generated.functions)} functions; xl_negcoke {generated.version} with "
          f"{len(bundle.modules)} modules and dataset {generated.dataset_id} embedded)")
    print(f"wrote {requirements_path} ({', '.join(generated.requirements.split())})")
    print("paste both into the xlwings Lite editor (README: On Mac and Excel on the web)")
    return EXIT_OK


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "summary": command_summary,
    "validate-data": command_validate_data,
    "build": command_build,
    "recalc": command_recalc,
    "snapshot": command_snapshot,
    "check": command_check,
    "refresh": command_refresh,
    "lite": command_lite,
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xl-negcoke", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"xl-negcoke {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    summary = commands.add_parser("summary", help="print the headline figures")
    summary.add_argument("--data", metavar="DIR", help="data folder (default: the embedded dataset)")
    summary.add_argument("--scenario", default="base", help="base, high, low (default: base)")

    validate = commands.add_parser("validate-data", help="check a data folder")
    validate.add_argument("directory", nargs="?", metavar="DIR",
                          help="data folder (default: the embedded dataset)")

    build = commands.add_parser("build", help="build the template workbooks (.xlsx and .xlsm)")
    build.add_argument("--out", metavar="DIR", default="workbooks", help="output folder (default: workbooks)")
    build.add_argument("--data", metavar="DIR", help="data folder (default: the embedded dataset)")
    build.add_argument("--force", action="store_true",
                       help="replace files in OUT that differ from a build (each is kept as a backup)")

    recalc = commands.add_parser("recalc", help="evaluate every formula and cache the results")
    recalc.add_argument("path", metavar="PATH", help="an .xlsx or .xlsm workbook")
    recalc.add_argument("--out", metavar="OUT", help="write here instead of over PATH")
    recalc.add_argument("--data", metavar="DIR", help="data folder the NEGCOKE_* functions read")
    recalc.add_argument("--force", action="store_true", help="write even over a read-only file")
    recalc.add_argument("--as-of", type=_date, default=dt.date.today(), metavar="YYYY-MM-DD",
                        help="date of the recalculation stamped on the Cache (default: today)")

    snapshot = commands.add_parser("snapshot", help="write a values-only copy")
    snapshot.add_argument("path", metavar="PATH", help="an .xlsx or .xlsm workbook")
    snapshot.add_argument("--out", metavar="OUT", required=True, help="the .xlsx to write")
    snapshot.add_argument("--as-of", type=_date, default=dt.date.today(), metavar="YYYY-MM-DD",
                          help="date printed on Contents (default: today)")
    snapshot.add_argument("--data", metavar="DIR", help="data folder the NEGCOKE_* functions read")
    snapshot.add_argument("--force", action="store_true",
                          help="replace an OUT that is not an earlier snapshot (it is kept as a backup)")

    check = commands.add_parser("check", help="recalculate and report every problem")
    check.add_argument("path", metavar="PATH", help="an .xlsx or .xlsm workbook")
    check.add_argument("--data", metavar="DIR", help="data folder the NEGCOKE_* functions read")

    refresh = commands.add_parser("refresh", help="update a workbook's model-owned parts, keep yours")
    refresh.add_argument("path", metavar="PATH", help="an .xlsx or .xlsm made by xl-negcoke build")
    refresh.add_argument("--data", metavar="DIR", help="data folder (default: the embedded dataset)")
    refresh.add_argument("--reset-inputs", action="store_true",
                         help="set every Assumptions input back to the dataset's value")
    refresh.add_argument("--dry-run", action="store_true", help="list the changes; write nothing")
    refresh.add_argument("--overwrite-edits", action="store_true",
                         help="replace your edits of model cells with the model's content")
    refresh.add_argument("--force", action="store_true",
                         help="refresh even while Excel's lock file exists or the file is read-only")

    lite = commands.add_parser("lite", help="write main.py and requirements.txt for xlwings Lite")
    lite.add_argument("out_dir", metavar="OUT_DIR", help="folder for main.py and requirements.txt")
    lite.add_argument("--force", action="store_true",
                      help="replace a main.py or requirements.txt not written by lite (kept as a backup)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    from xl_negcoke.workbook.files import Terminated, terminate_as_interrupt

    args = build_parser().parse_args(argv)
    terminate_as_interrupt()  # SIGTERM cleans up (temporary files, locks) like Ctrl+C
    try:
        return COMMANDS[args.command](args)
    except NegcokeError as exc:
        sys.stderr.write(f"xl-negcoke {args.command}: error: {exc}\n")
        return EXIT_BAD_INPUT
    except OSError as exc:  # e.g. a write that failed (disk full, no permission): atomic_write
        where = f"{exc.filename}: " if exc.filename else ""  # names the file it left untouched
        sys.stderr.write(f"xl-negcoke {args.command}: error: {where}{exc.strerror or exc}; "
                         "the file was left as it was\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write(f"xl-negcoke {args.command}: interrupted; no file was changed\n")
        return 130
    except Terminated:
        sys.stderr.write(f"xl-negcoke {args.command}: terminated; no file was changed\n")
        return 143


if __name__ == "__main__":
    raise SystemExit(main())
