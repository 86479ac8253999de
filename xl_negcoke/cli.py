"""The `xl-negcoke` command: summary, validate-data, build, recalc, snapshot, check, refresh.

Only this module turns errors into exit codes: 0 success, 1 a check found problems, 2 bad
input (arguments, data folder, workbook). Every failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

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


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "summary": command_summary,
    "validate-data": command_validate_data,
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except NegcokeError as exc:
        sys.stderr.write(f"xl-negcoke {args.command}: error: {exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write(f"xl-negcoke {args.command}: interrupted; no file was changed\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
