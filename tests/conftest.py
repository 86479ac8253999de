"""Shared fixtures: the template built from this tree, recalculated once per session, and the
committed workbook. And the two suites:

- `pytest -q`, the developer's default (about 3 minutes on 2 cores), leaves out the tests marked
  `slow` and draws fewer examples in the property tests (tests/suite.py). It still runs every
  model, function and build test and each workbook command end to end: the refresh property
  test (two chosen workbooks with every kind of edit, one drawn), rows inserted and values
  pasted over a table, check of a clean, an edited, a tampered and a stale workbook, recalc,
  snapshot, the macro, LibreOffice's saved files;
- `pytest -q --full`, what CI runs (the README's test line), runs everything, with every example.

`slow` marks a test that needs LibreOffice or Gnumeric, starts the command in a fresh process,
or repeats a whole refresh or check (3-22 s each) for one more variation of what the fast suite
already runs once. A test named on the command line (a file or a test id) runs even when it is
slow, and `-m` chooses by marker as usual.

Both suites run on every core (pytest-xdist, `-n auto --dist worksteal` in pyproject.toml): an
idle worker takes tests from a busy one, so the long refresh tests do not leave a core idle at
the end. A module fixture is made once per worker that needs it. `-n 0` runs in one process.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMITTED_XLSX = ROOT / "workbooks" / "negative-coke-outlook-2024-2030.xlsx"

# The session keeps large structures alive (built templates, the engine's compiled cells), and
# every full collection of the cyclic collector walks all of them: with the default thresholds
# a refresh and a check spent a third of their time there. Collecting less often costs some
# memory (cyclic garbage lives a little longer) and changes no result.
gc.set_threshold(10_000, 10, 10)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full", action="store_true",
                     help="run the slow tests too, and every example of the refresh property test "
                          "(what CI runs)")


def pytest_configure(config: pytest.Config) -> None:
    import suite  # tests/suite.py, on the path as the other helpers of the tests

    suite.FULL = full_run(config)


def _named_files(config: pytest.Config) -> set[Path]:
    """The test files named on the command line, alone or in a test id (not folders)."""
    files = (config.invocation_params.dir / arg.split("::")[0] for arg in config.args)
    return {path.resolve() for path in files if path.suffix == ".py"}


def full_run(config: pytest.Config) -> bool:
    """True when this session runs the full suite (--full)."""
    return bool(config.getoption("--full"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if full_run(config) or config.getoption("-m"):
        return
    named = _named_files(config)
    slow = [item for item in items if item.get_closest_marker("slow") and item.path.resolve() not in named]
    if slow:
        left_out = {id(item) for item in slow}
        items[:] = [item for item in items if id(item) not in left_out]
        config.hook.pytest_deselected(items=slow)
        config.stash[_SLOW_LEFT_OUT] = len(slow)
        if hasattr(config, "workeroutput"):  # a pytest-xdist worker: tell the controller
            config.workeroutput["slow_left_out"] = len(slow)


_SLOW_LEFT_OUT = pytest.StashKey[int]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # type: ignore[no-untyped-def]
    """pytest-xdist: a worker finished; every worker collects the same tests, so any one's count
    of slow tests left out is the run's."""
    left_out = getattr(node, "workeroutput", {}).get("slow_left_out")
    if left_out:
        node.config.stash[_SLOW_LEFT_OUT] = left_out


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    left_out = config.stash.get(_SLOW_LEFT_OUT, 0)
    if left_out:
        terminalreporter.write_line(f"{left_out} slow tests not run: `pytest -q --full` runs the whole "
                                    "suite, as CI does")


@pytest.fixture(scope="session")
def built_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The .xlsx and .xlsm `xl-negcoke build` writes for the embedded dataset (recalculated), by
    suffix: built once for the session."""
    from xl_negcoke.model import load_model
    from xl_negcoke.workbook import build_workbook

    out = tmp_path_factory.mktemp("template")
    return {item.path.suffix: item.path.read_bytes() for item in build_workbook(load_model(), out)}


@pytest.fixture(scope="session")
def template_xlsx() -> bytes:
    """The template .xlsx as `build` lays it out, formulas without cached values."""
    from xl_negcoke.model import load_model
    from xl_negcoke.workbook.template import template_bytes

    return template_bytes(load_model(), False)


@pytest.fixture(scope="session")
def recalculated_template(template_xlsx: bytes):
    """(bytes, Recalculation) of the template recalculated once for the whole session."""
    from xl_negcoke.workbook.recalc import recalculate

    return recalculate(template_xlsx)


@pytest.fixture(scope="session")
def committed_xlsx() -> Path:
    """The committed template workbook (with cached values)."""
    return COMMITTED_XLSX
