"""The `xl-negcoke` command: summary, validate-data, build, recalc, snapshot, check, refresh.

Only this module turns errors into exit codes: 0 success, 1 a check found problems, 2 bad
input (arguments, data folder, workbook). Every failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from xl_negcoke.errors import NegcokeError

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


def command_summary(args: argparse.Namespace) -> int:
    """Print the headline figures of one scenario as a table."""
    from xl_negcoke.model import load_model

    model = load_model(args.data)
    scenario = model.resolve_scenario(args.scenario)
    value, share, cagr = model.value, model.share, model.cagr
    rows: list[tuple[str, str, str, str]] = [
        ("Revenue (US$ million)", _fmt(value("Global", 2023, "revenue", scenario), ""),
         _fmt(value("Global", 2030, "revenue", scenario), ""),
         _fmt(cagr("Global", 2023, 2030, "revenue", scenario), "%")),
        ("Volume (kt)", _fmt(value("Global", 2023, "volume", scenario), ""),
         _fmt(value("Global", 2030, "volume", scenario), ""),
         _fmt(cagr("Global", 2023, 2030, "volume", scenario), "%")),
        ("Average price (US$/t)", _fmt(value("Global", 2023, "price", scenario), ""),
         _fmt(value("Global", 2030, "price", scenario), ""),
         _fmt(cagr("Global", 2023, 2030, "price", scenario), "%")),
    ]
    for dimension, metric in (("application", "volume"), ("type", "volume")):
        for segment in model.segments(dimension):
            rows.append((f"{segment} share of {metric}", _fmt(share(segment, 2023, metric, scenario), "%"),
                         _fmt(share(segment, 2030, metric, scenario), "%"),
                         _fmt(cagr(segment, 2023, 2030, metric, scenario), "%")))
    rows.append(("China share of revenue", _fmt(share("China", 2023, "revenue", scenario), "%"),
                 _fmt(share("China", 2030, "revenue", scenario), "%"), ""))
    rows.append(("Top-5 share of capacity", _fmt(model.concentration(5, 2023, "capacity", scenario), "%"),
                 _fmt(model.concentration(5, 2030, "capacity", scenario), "%"), ""))
    header = ("Negative coke market", "2023", "2030", "CAGR 23-30")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    info = model.info()
    print(f"Scenario {scenario} | dataset {info['dataset_id']} | base year {info['base_year']}")
    print("  ".join(h.ljust(widths[0]) if i == 0 else h.rjust(widths[i]) for i, h in enumerate(header)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))
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


def _recalculated(data: bytes, name: str, data_dir: str | None, as_of: dt.date | None = None
                  ) -> bytes:
    from xl_negcoke.workbook.recalc import recalculate, require_evaluated
    from xl_negcoke.workbook.trust import recalculation_when

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
    built = build_workbook(model, args.out, _progress, data_dir=args.data)
    for item in built:
        _progress(f"wrote {item.path} ({item.size / 1024:.0f} KiB)")
    print(f"built {len(built)} files in {args.out} in {time.perf_counter() - start:.1f} s")
    return EXIT_OK


def command_recalc(args: argparse.Namespace) -> int:
    """Evaluate every formula of a workbook and store the results as cached values."""
    from xl_negcoke.workbook.files import atomic_write, read_workbook

    data = read_workbook(args.path)
    out = Path(args.out) if args.out else Path(args.path)
    result = _recalculated(data, Path(args.path).name, args.data, args.as_of)
    atomic_write(out, result)
    print(f"wrote {out}")
    return EXIT_OK


def command_snapshot(args: argparse.Namespace) -> int:
    """Write a values-only copy of a workbook."""
    from xl_negcoke.workbook.files import atomic_write, read_workbook
    from xl_negcoke.workbook.snapshot import snapshot_bytes

    source = Path(args.path)
    data = _recalculated(read_workbook(source), source.name, args.data, args.as_of)
    out = Path(args.out)
    atomic_write(out, snapshot_bytes(data, source.name, args.as_of))
    print(f"wrote {out} (values only, as of {args.as_of.isoformat()})")
    return EXIT_OK


def command_check(args: argparse.Namespace) -> int:
    """Recalculate in memory; list formula errors, failed checks and cells off the model."""
    from xl_negcoke.workbook.check import check_workbook
    from xl_negcoke.workbook.files import read_workbook

    report = check_workbook(read_workbook(args.path), args.data)
    for problem in report.problems:
        print(problem)
    status = "clean" if not report.problems else f"{len(report.problems)} problems"
    print(f"{args.path}: {status} ({report.formula_cells:,} formula cells evaluated, "
          f"{report.checks} checks, {report.compared:,} cells compared with the model)")
    return EXIT_OK if not report.problems else EXIT_PROBLEMS


def command_refresh(args: argparse.Namespace) -> int:
    """Bring a workbook up to date with the current dataset and template, keeping user work."""
    from xl_negcoke.model import load_model
    from xl_negcoke.workbook.refresh import backup_path, refresh_file

    model = load_model(args.data)
    plan = refresh_file(args.path, model, reset_inputs=args.reset_inputs, dry_run=args.dry_run,
                        force=args.force, data_dir=args.data)
    for line in plan.lines():
        print(f"  {line}")
    if args.dry_run:
        print(f"dry run: {args.path} was not changed")
    else:
        print(f"refreshed {args.path} (previous version kept as {backup_path(Path(args.path)).name})")
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
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xl-negcoke", description=__doc__.splitlines()[0])
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

    recalc = commands.add_parser("recalc", help="evaluate every formula and cache the results")
    recalc.add_argument("path", metavar="PATH", help="an .xlsx or .xlsm workbook")
    recalc.add_argument("--out", metavar="OUT", help="write here instead of over PATH")
    recalc.add_argument("--data", metavar="DIR", help="data folder the NEGCOKE_* functions read")
    recalc.add_argument("--as-of", type=_date, default=dt.date.today(), metavar="YYYY-MM-DD",
                        help="date of the recalculation stamped on the Cache (default: today)")

    snapshot = commands.add_parser("snapshot", help="write a values-only copy")
    snapshot.add_argument("path", metavar="PATH", help="an .xlsx or .xlsm workbook")
    snapshot.add_argument("--out", metavar="OUT", required=True, help="the .xlsx to write")
    snapshot.add_argument("--as-of", type=_date, default=dt.date.today(), metavar="YYYY-MM-DD",
                          help="date printed on Contents (default: today)")
    snapshot.add_argument("--data", metavar="DIR", help="data folder the NEGCOKE_* functions read")

    check = commands.add_parser("check", help="recalculate and report every problem")
    check.add_argument("path", metavar="PATH", help="an .xlsx or .xlsm workbook")
    check.add_argument("--data", metavar="DIR", help="data folder the NEGCOKE_* functions read")

    refresh = commands.add_parser("refresh", help="update a workbook's model-owned parts, keep yours")
    refresh.add_argument("path", metavar="PATH", help="an .xlsx or .xlsm made by xl-negcoke build")
    refresh.add_argument("--data", metavar="DIR", help="data folder (default: the embedded dataset)")
    refresh.add_argument("--reset-inputs", action="store_true",
                         help="set every Assumptions input back to the dataset's value")
    refresh.add_argument("--dry-run", action="store_true", help="list the changes; write nothing")
    refresh.add_argument("--force", action="store_true", help="refresh even while Excel's lock file exists")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
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


if __name__ == "__main__":
    raise SystemExit(main())
