"""Print the mutation score of the last mutmut runs, per module, from mutants/**/*.meta.

    python scripts/mutation_score.py              the score table
    python scripts/mutation_score.py --sample N   N mutant names per module, a fixed random
                                                  sample (seed 0), for `mutmut run NAMES...`
    python scripts/mutation_score.py --survivors  names of the mutants that survived (or no test
                                                  reached), to run again after adding tests
    python scripts/mutation_score.py --save FILE  keep the results so far (JSON: name -> exit code)
    ... --from FILE                               the score of the results kept in FILE only
    ... --baseline FILE                           a mutant not run since is scored as in FILE (a
                                                  killed mutant stays killed when tests are only
                                                  added; changing the test selection makes mutmut
                                                  forget every result)

killed / (checked - equivalent): a mutant listed in docs/mutation.md as equivalent (it cannot
change any result, e.g. a limit that is never reached) is left out of the denominator.
Timeouts count as killed (the mutant made the tests hang), as mutmut counts them.
"""

from __future__ import annotations

import json
import random
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


def mutable_metas() -> list[Path]:
    """The .meta files of the modules [tool.mutmut] only_mutate names."""
    import tomllib

    settings = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]
    wanted = {str(ROOT / "mutants" / f"{path}.meta") for path in settings["only_mutate"]}
    return sorted(p for p in (ROOT / "mutants").rglob("*.py.meta") if str(p) in wanted)


def names(meta: Path) -> dict[str, int | None]:
    return json.loads(meta.read_text("utf-8"))["exit_code_by_key"]


def option(flag: str) -> str | None:
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else None


def results(metas: list[Path]) -> dict[Path, dict[str, int | None]]:
    """Exit code by mutant name, per module; with --baseline, earlier codes fill mutants not run."""
    baseline_file = option("--baseline")
    baseline = json.loads(Path(baseline_file).read_text("utf-8")) if baseline_file else {}
    kept_file = option("--from")
    kept = json.loads(Path(kept_file).read_text("utf-8")) if kept_file else None
    found = {}
    for meta in metas:
        codes = names(meta) if kept is None else dict.fromkeys(names(meta))
        if kept is not None:
            codes.update({name: code for name, code in kept.items() if name in codes})
        found[meta] = {name: baseline.get(name) if code is None else code for name, code in codes.items()}
    return found


def main() -> int:
    metas = mutable_metas()
    if "--save" in sys.argv:
        codes = {name: code for per_module in results(metas).values()
                 for name, code in per_module.items() if code is not None}
        Path(option("--save")).write_text(json.dumps(codes, indent=0, sort_keys=True) + "\n", "utf-8")
        return 0
    if "--sample" in sys.argv:
        count = int(option("--sample"))
        for meta in metas:
            keys = sorted(names(meta))
            print("\n".join(random.Random(0).sample(keys, min(count, len(keys)))))
        return 0
    if "--survivors" in sys.argv:
        equivalent = equivalent_mutants()
        for per_module in results(metas).values():
            for name, code in per_module.items():
                if code in (0, 5, 33) and name not in equivalent:
                    print(name)
        return 0
    if not metas:
        print("no mutmut results under mutants/; run scripts/mutation.sh first")
        return 1
    equivalent = equivalent_mutants()
    rows = []
    totals: Counter[str] = Counter()
    for meta, codes in results(metas).items():
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
    model_only: Counter[str] = Counter()
    for name, counts in rows:
        if name.startswith("xl_negcoke/model/"):
            model_only.update(counts)
    for name, counts in [*rows, ("xl_negcoke/model/ (all of it)", model_only), ("all", totals)]:
        run = counts["total"] - counts["not run"]
        scored = run - counts["equivalent"]
        dead = counts["killed"] + counts["timeout"]
        score = f"{100 * dead / scored:6.1f}%" if scored else "     -"
        print(f"{name:34} {counts['total']:6} {run:6} {counts['killed']:6} {counts['timeout']:7} "
              f"{counts['survived']:8} {counts['no tests']:8} {counts['equivalent']:6} {score:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
