#!/usr/bin/env bash
# GPU harness for sparsopt: versions and devices, the GPU tests, the GPU benchmark.
#
#   bash gpu/run_gpu_tests.sh [bench_gpu.py options, e.g. --quick --repeat 3 --json out.json]
#
# Uses $PYTHON (default: python3). Installs NOTHING: CuPy, pytest, NumPy, Numba and
# scikit-learn must already be importable (gpu/device_run.sh prepares such an environment
# from a fresh checkout; see gpu/README.md). BENCH_DEADLINE (epoch seconds), when set, gives
# the benchmark a --budget of two thirds of the time left after the tests.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"

if ! "$PYTHON" -c "import sparsopt" >/dev/null 2>&1; then
    export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
    echo "sparsopt is not installed for $PYTHON: using the source tree ($ROOT) via PYTHONPATH"
fi
if ! "$PYTHON" -c "import sparsopt" ; then
    echo "ERROR: cannot import sparsopt with $PYTHON (missing dependencies?)." >&2
    exit 2
fi
"$PYTHON" -c "import sparsopt, os; print('sparsopt from', os.path.dirname(sparsopt.__file__))"

echo
echo "== 1/3 versions, backends and devices"
"$PYTHON" -c "import sparsopt; sparsopt.show_versions()"

if ! "$PYTHON" -c "import cupy" >/dev/null 2>&1; then
    echo
    echo "WARNING: CuPy does not import with $PYTHON: the GPU tests will be skipped and the"
    echo "         benchmark will only report why. Install CuPy from local wheels (gpu/README.md)."
fi

echo
echo "== 2/3 GPU tests: pytest -m gpu tests"
if ! "$PYTHON" -c "import pytest" >/dev/null 2>&1; then
    echo "ERROR: pytest is not installed for $PYTHON (this script installs nothing)." >&2
    exit 2
fi
set +e
"$PYTHON" -m pytest -m gpu tests -q -p no:cacheprovider
rc=$?
set -e
tests_rc=0
if [ "$rc" -eq 5 ]; then
    echo "(no test carries the gpu marker: nothing to run)"
elif [ "$rc" -ne 0 ]; then
    # the benchmark still runs (a device run is rare: get the table anyway); the script
    # then exits with pytest's code
    echo "ERROR: GPU tests failed (pytest exit code $rc); the benchmark runs anyway." >&2
    tests_rc=$rc
fi

BUDGET_ARGS=()
if [ -n "${BENCH_DEADLINE:-}" ]; then
    remaining=$(( BENCH_DEADLINE - $(date +%s) ))
    if [ "$remaining" -lt 30 ]; then
        echo "ERROR: no time left for the benchmark (BENCH_DEADLINE)." >&2
        if [ "$tests_rc" -ne 0 ]; then exit "$tests_rc"; fi
        exit 124
    fi
    BUDGET_ARGS=(--budget $(( remaining * 2 / 3 )))
fi

echo
echo "== 3/3 GPU benchmark: gpu/bench_gpu.py $* ${BUDGET_ARGS[*]}"
set +e
"$PYTHON" gpu/bench_gpu.py "$@" "${BUDGET_ARGS[@]}"
bench_rc=$?
set -e
if [ "$tests_rc" -ne 0 ]; then exit "$tests_rc"; fi
exit "$bench_rc"
