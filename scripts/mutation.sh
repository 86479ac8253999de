#!/usr/bin/env bash
# Mutation testing of xl_negcoke/model/, udfs.py and errors.py with mutmut 3 (docs/mutation.md).
#
#   scripts/mutation.sh                          every mutant (hours on 2 cores)
#   scripts/mutation.sh 'xl_negcoke.model.market*'   one module (names are module.function)
#   JOBS=1 scripts/mutation.sh ...               fewer parallel test processes (default 2)
#   scripts/mutation.sh --score                  only print the score of the last runs
#
# mutmut needs `pip install mutmut` (3.x) in the same environment as the package; its settings
# (which files, which tests) are [tool.mutmut] in pyproject.toml. It copies the package and the
# tests to mutants/ (git-ignored), runs the selected tests once to learn which tests reach which
# function, then for each mutant forks and runs only those tests with -x. Results stay in
# mutants/ between runs: a later run only tests mutants of functions that changed (delete
# mutants/ to start over).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
if [[ -x .venv/bin/python && "$PYTHON" == python ]]; then PYTHON=.venv/bin/python; fi
if [[ "${1:-}" != "--score" ]]; then
    "$PYTHON" -c "import mutmut" 2>/dev/null || { echo "mutmut is not installed: pip install mutmut" >&2; exit 2; }
    "$PYTHON" -m mutmut run --max-children "${JOBS:-2}" "$@" || true
fi
"$PYTHON" scripts/mutation_score.py
