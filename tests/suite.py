"""Which suite is running: `pytest -q`, the fast default, or `pytest -q --full`, what CI runs.

conftest.py sets FULL before the test modules are imported, so a property test's number of
examples can follow it: all of them in the full suite, a quarter in the fast one.
"""

from __future__ import annotations

FULL = False


def examples(full: int) -> int:
    """How many examples a property test draws: `full` in the full suite, a quarter of it (at
    least 5) in the fast one."""
    return full if FULL else min(full, max(5, full // 4))
