#!/usr/bin/env bash
# Mutation testing of xl_negcoke/model/ (but simulation.py), udfs.py and errors.py with mutmut 3;
# docs/mutation.md has the scores, what is left out and the equivalent mutants.
#
#   scripts/mutation.sh                        every mutant (about 5,000; many hours on 2 cores)
#   scripts/mutation.sh 'xl_negcoke.model.market*'   the mutants of one module (module.function)
#   SAMPLE=20 scripts/mutation.sh              20 mutants per module, a fixed random sample
#   SURVIVORS=1 scripts/mutation.sh            again the mutants that survived the last runs
#   BASELINE=docs/mutation-before.json ...     score (and find survivors) with the results kept
#                                              by `python scripts/mutation_score.py --save FILE`
#   JOBS=1 scripts/mutation.sh ...             parallel test processes (default 2)
#   scripts/mutation.sh --score                only print the score of the runs so far
#
# Needs mutmut 3 in the package's environment (pip install "mutmut>=3,<4"); its settings (which
# files, which tests) are [tool.mutmut] in pyproject.toml. mutmut copies the package and tests to
# mutants/ (git-ignored), runs the selected tests once to learn which tests reach which function,
# then for each mutant forks and runs only those tests, with -x. Results stay in mutants/ between
# runs: delete mutants/ to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
score() { "$PYTHON" scripts/mutation_score.py "$@" ${BASELINE:+--baseline "$BASELINE"}; }
if [[ "${1:-}" == "--score" ]]; then
    score
    exit
fi
"$PYTHON" -c "import mutmut" 2>/dev/null || { echo 'mutmut is not installed: pip install "mutmut>=3,<4"' >&2; exit 2; }
mutmut() { "$PYTHON" -m mutmut run --max-children "${JOBS:-2}" "$@"; }
if [[ -n "${SAMPLE:-}${SURVIVORS:-}" && -z "$(find mutants -name '*.py.meta' 2>/dev/null | head -1)" ]]; then
    # the mutant names exist once mutmut has generated them: generate (a name matching nothing)
    mutmut "generate-only" >/dev/null 2>&1 || true
fi
if [[ -n "${SAMPLE:-}" ]]; then
    mapfile -t names < <(score --sample "$SAMPLE")
    mutmut "${names[@]}" || true
elif [[ -n "${SURVIVORS:-}" ]]; then
    mapfile -t names < <(score --survivors)
    if (( ${#names[@]} )); then mutmut "${names[@]}" || true; fi
else
    mutmut "$@" || true
fi
score
