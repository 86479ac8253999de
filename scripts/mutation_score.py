"""Print the mutation score of the last mutmut runs, per module, from mutants/**/*.meta.

killed / (checked - equivalent): a mutant listed in docs/mutation.md as equivalent (it cannot
change any result, e.g. a limit that is never reached) is left out of the denominator.
Timeouts count as killed (the mutant made the tests hang), as mutmut counts them.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {1, 3}
TIMEOUT = {36, -24, 24, 152, 255}


def equivalent_mutants() -> set[str]:
    """Mutant names listed in docs/mutation.md (lines starting `- \\`name\\``)."""
    path = ROOT / "docs" / "mutation.md"
    if not path.exists():
        return set()
    return set(re.findall(r"^- `([\w.]+__mutmut_\d+)`", path.read_text("utf-8"), re.MULTILINE))


def main() -> int:
    metas = sorted((ROOT / "mutants").rglob("*.py.meta"))
    if not metas:
        print("no mutmut results under mutants/; run scripts/mutation.sh first")
        return 1
    equivalent = equivalent_mutants()
    rows = []
    totals: Counter[str] = Counter()
    for meta in metas:
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        if not codes:
            continue
        counts: Counter[str] = Counter()
        for name, code in codes.items():
            if code is None:
                counts["not run"] += 1
            elif name in equivalent:
                counts["equivalent"] += 1
            elif code in KILLED:
                counts["killed"] += 1
            elif code in TIMEOUT:
                counts["timeout"] += 1
            elif code == 0:
                counts["survived"] += 1
            elif code in (5, 33):
                counts["no tests"] += 1
            else:
                counts["other"] += 1
        counts["total"] = len(codes)
        totals.update(counts)
        rows.append((str(meta.relative_to(ROOT / "mutants")).removesuffix(".meta"), counts))
    print(f"{'module':34} {'total':>6} {'run':>6} {'killed':>6} {'timeout':>7} {'survived':>8} "
          f"{'no tests':>8} {'equiv':>6} {'score':>7}")
    for name, counts in [*rows, ("all", totals)]:
        run = counts["total"] - counts["not run"]
        scored = run - counts["equivalent"]
        dead = counts["killed"] + counts["timeout"]
        score = f"{100 * dead / scored:6.1f}%" if scored else "     -"
        print(f"{name:34} {counts['total']:6} {run:6} {counts['killed']:6} {counts['timeout']:7} "
              f"{counts['survived']:8} {counts['no tests']:8} {counts['equivalent']:6} {score:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
