#!/usr/bin/env bash
# Run the whole sparsopt test suite from a fresh machine: creates .venv (if missing),
# installs sparsopt with its test extras, then runs pytest on tests/ and the doctests.
#
#   bash scripts/test.sh [PYTEST ARGS]            # newest releases, in .venv
#   bash scripts/test.sh --floors [PYTEST ARGS]   # the oldest declared releases, in .venv-floors
#
# --floors pins every declared dependency (and the [test] extras) to its floor with
# .ci/floors-constraints.txt and runs the same pytest command; it uses Python 3.10 (the
# oldest supported) where one is found, else python3 ($FLOORS_PYTHON overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
PIP_CONSTRAINTS=()
PY=${PYTHON:-python3}
if [ "${1:-}" = "--floors" ]; then
    shift
    VENV=.venv-floors
    PIP_CONSTRAINTS=(-c .ci/floors-constraints.txt)
    # its own hypothesis example database, apart from the main run's: replaying the shared
    # .hypothesis/ that both releases had written, hypothesis 6.90 failed a health check
    export HYPOTHESIS_STORAGE_DIRECTORY=${HYPOTHESIS_STORAGE_DIRECTORY:-$VENV/.hypothesis}
    PY=${FLOORS_PYTHON:-}
    if [ -z "$PY" ]; then
        for cand in python3.10 "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.10*/bin/python3.10 python3; do
            if "$cand" -c "import sys; assert sys.version_info >= (3, 10)" 2>/dev/null; then
                PY=$cand
                break
            fi
        done
    fi
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
. "$VENV/bin/activate"
python -m pip install -q --disable-pip-version-check --upgrade pip
# the main run also installs the dask extra, so tests/dask run on a LocalCluster; the floors
# run stays without Dask (tests/dask skip there)
EXTRAS=test,dask
[ "$VENV" = .venv-floors ] && EXTRAS=test
python -m pip install -q --disable-pip-version-check ${PIP_CONSTRAINTS[@]+"${PIP_CONSTRAINTS[@]}"} -e ".[$EXTRAS]"
if [ "$VENV" = .venv-floors ]; then
    python -m sparsopt versions
fi
python -m pytest --doctest-modules sparsopt tests --doctest-glob="*.rst" docs/user_guide -p no:cacheprovider "$@"
