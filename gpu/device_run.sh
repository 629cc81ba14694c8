#!/usr/bin/env bash
# The ONE script a GPU machine runs from a fresh copy of the repository (issue 23, Part 2):
#
#   1. nvidia-smi;
#   2. a virtual environment that sees the machine's own packages (CuPy, NumPy, Numba, SciPy,
#      scikit-learn, pytest: nothing is downloaded when they are there), the project installed
#      into it from its own files (pip install -e .), missing requirements installed from
#      --wheels DIR (offline) or the package index;
#   3. gpu/run_gpu_tests.sh: versions and devices, every gpu-marked test (the families'
#      array-API cases on CuPy, the pending CuPy kernels against the NumPy references), then
#      gpu/bench_gpu.py (Numba CPU against CuPy, the issue's sizes);
#   4. with --pending, the benchmark again with the pending CuPy kernels registered.
#
# Everything is written to ${OUT:-gpu/out}: device_run.log (all output), nvidia-smi.txt,
# bench.txt + bench.json (the table), bench_pending.txt + bench_pending.json (--pending).
# Exit status: 0 when every step passed, else the first failing step's status (2: setup).
#
#   bash gpu/device_run.sh [--budget SECONDS] [--quick] [--pending] [--wheels DIR]
#                          [--repeat N] [--no-venv] [--venv DIR] [--online] [-- BENCH OPTIONS]
#
#   --budget SECONDS  wall-clock limit of the whole run (default 540): the tests get a
#                     timeout, the benchmark starts no new case when too little time is left
#   --quick           the benchmark's small sizes
#   --pending         also time the pending (unverified) CuPy kernels (bench_gpu.py --pending)
#   --wheels DIR      install missing packages from the wheels in DIR only (--no-index);
#                     default: ./.whl when it exists. An offline machine needs at least
#                     array-api-compat (a dependency) and array-api-strict (the tests) there.
#   --online          install exactly `pip install -e ".[test,$GPU_EXTRA]"` (needs the index)
#   --no-venv         use $PYTHON as it is (installs nothing; the source tree via PYTHONPATH)
#   --venv DIR        where the venv goes (default: ${TMPDIR:-/tmp}/sparsopt-gpu-venv)
#
# Environment: OUT (results folder), PYTHON (base interpreter, default python3), GPU_EXTRA
# (the extra that brings CuPy when it is not importable yet: gpu = cupy-cuda12x (default) or
# gpu-cuda13), CUDA=none (a CPU machine: no nvidia-smi, no CuPy, and the benchmark becomes the
# array_api_strict dry run; this is how the script itself is checked without a GPU).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
cd "$ROOT"

BUDGET=540
QUICK=""
PENDING=0
WHEELS=""
ONLINE=0
USE_VENV=1
REPEAT=3
VENV="${TMPDIR:-/tmp}/sparsopt-gpu-venv"
BENCH_EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --budget) BUDGET="$2"; shift 2 ;;
        --budget=*) BUDGET="${1#*=}"; shift ;;
        --quick) QUICK="--quick"; shift ;;
        --pending) PENDING=1; shift ;;
        --wheels) WHEELS="$2"; shift 2 ;;
        --wheels=*) WHEELS="${1#*=}"; shift ;;
        --online) ONLINE=1; shift ;;
        --no-venv) USE_VENV=0; shift ;;
        --venv) VENV="$2"; shift 2 ;;
        --repeat) REPEAT="$2"; shift 2 ;;
        --) shift; BENCH_EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "device_run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$BUDGET" in ''|*[!0-9]*) echo "device_run.sh: --budget takes whole seconds" >&2; exit 2 ;; esac
if [ -z "$WHEELS" ] && [ -d "$ROOT/.whl" ]; then WHEELS="$ROOT/.whl"; fi

OUT="${OUT:-$ROOT/gpu/out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
exec > >(tee -a "$OUT/device_run.log") 2>&1
START=$(date +%s)
DEADLINE=$((START + BUDGET))
left() { echo $((DEADLINE - $(date +%s))); }
step() { echo; echo "=== [$(( $(date +%s) - START )) s] $*"; }
fail() { echo "device_run.sh: ERROR: $*" >&2; exit 2; }

DRY=0
if [ "${CUDA:-}" = "none" ]; then DRY=1; fi
echo "sparsopt device run: $(date -u +%FT%TZ), budget ${BUDGET} s, results in $OUT"
echo "repository: $ROOT ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"

step "1/4 the device"
if [ "$DRY" = 1 ]; then
    echo "CUDA=none: no GPU expected; the benchmark runs the array_api_strict dry run."
elif command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi | tee "$OUT/nvidia-smi.txt"
else
    fail "nvidia-smi not found: no NVIDIA driver here (set CUDA=none for a CPU dry run)."
fi

step "2/4 Python environment"
BASE_PY="${PYTHON:-python3}"
command -v "$BASE_PY" >/dev/null 2>&1 || fail "no interpreter $BASE_PY (set PYTHON=...)."
if [ "$USE_VENV" = 1 ]; then
    if [ ! -x "$VENV/bin/python" ]; then
        # no pip/setuptools of its own: the machine's (recent) ones are used, ensurepip's
        # bundled setuptools may be too old for pyproject.toml's PEP 639 licence field
        "$BASE_PY" -m venv --system-site-packages --without-pip "$VENV" \
            || fail "python -m venv failed."
        # the base interpreter may itself live in a venv (its packages are then not the
        # "system" ones): make them visible too, after the new venv's own site-packages
        "$BASE_PY" - "$VENV" <<'PYEOF'
import os, site, sys, sysconfig
venv = sys.argv[1]
if sys.prefix != sys.base_prefix:
    dirs = [d for d in site.getsitepackages() if os.path.isdir(d)]
    target = sysconfig.get_path("purelib", vars={"base": venv, "platbase": venv})
    with open(os.path.join(target, "zz_parent_env.pth"), "w") as fh:
        # addsitedir also runs the .pth files there (as for the machine's own environment)
        fh.write("".join(f"import site; site.addsitedir({d!r})\n" for d in dirs))
    print("parent environment's packages visible in the venv:", ", ".join(dirs))
PYEOF
    fi
    PY="$VENV/bin/python"
    if ! "$PY" -m pip --version >/dev/null 2>&1; then
        "$PY" -m ensurepip --default-pip >/dev/null || fail "no pip in the venv."
    fi
    PIP=("$PY" -m pip --disable-pip-version-check --no-input)
    WHEEL_OPTS=()
    if [ -n "$WHEELS" ]; then WHEEL_OPTS=(--no-index --find-links "$WHEELS"); fi
    if [ "$ONLINE" = 1 ]; then
        EXTRAS="test"
        if [ "$DRY" = 0 ]; then EXTRAS="test,${GPU_EXTRA:-gpu}"; fi
        "${PIP[@]}" install "${WHEEL_OPTS[@]}" -e ".[$EXTRAS]" || fail "pip install -e .[$EXTRAS] failed."
    else
        # the project from its own files, its requirements from what is already there
        if ! "${PIP[@]}" install -q --no-deps --no-build-isolation -e . ; then
            # e.g. a setuptools older than 77 (pyproject.toml's PEP 639 licence field)
            echo "WARNING: pip install -e . failed: using the source tree via PYTHONPATH." >&2
            export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
        fi
        MISSING=$("$PY" - "$DRY" <<'PYEOF'
import importlib, sys
need = {"numpy": "numpy", "scipy": "scipy", "numba": "numba", "sklearn": "scikit-learn",
        "threadpoolctl": "threadpoolctl", "array_api_compat": "array-api-compat",
        "pytest": "pytest", "hypothesis": "hypothesis", "array_api_strict": "array-api-strict"}
if sys.argv[1] == "0":
    need["cupy"] = None  # CuPy comes from the machine (or from the gpu extra, below)
missing = []
for mod, req in need.items():
    try:
        importlib.import_module(mod)
    except Exception:
        missing.append(req or "CUPY")
print(" ".join(missing))
PYEOF
)
        if [[ " $MISSING " == *" CUPY "* ]]; then
            MISSING="${MISSING//CUPY/}"
            if [ "${GPU_EXTRA:-gpu}" = "gpu-cuda13" ]; then MISSING="$MISSING cupy-cuda13x"
            else MISSING="$MISSING cupy-cuda12x"; fi
        fi
        MISSING="$(echo $MISSING)"
        if [ -n "$MISSING" ]; then
            echo "installing what the environment lacks: $MISSING ${WHEELS:+(from $WHEELS)}"
            # shellcheck disable=SC2086
            "${PIP[@]}" install "${WHEEL_OPTS[@]}" $MISSING || fail "could not install: $MISSING.
  On a machine without network, download wheels elsewhere into .whl/ and carry them, e.g.
  pip download --no-deps --only-binary=:all: -d .whl array-api-compat array-api-strict"
        fi
    fi
else
    PY="$BASE_PY"
    export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
    echo "--no-venv: $PY as it is, sparsopt from the source tree"
fi
"$PY" -c "import sparsopt, os; print('python', os.sys.version.split()[0], '| sparsopt', sparsopt.__version__, 'from', os.path.dirname(sparsopt.__file__))" \
    || fail "sparsopt does not import with $PY."
if [ "$DRY" = 0 ]; then
    "$PY" -c "from sparsopt.backends import cupy_available, backend_info; import sys; ok = cupy_available(); print('cupy:', backend_info()['cupy']); sys.exit(0 if ok else 1)" \
        || fail "CuPy has no usable device with $PY (see the line above)."
fi

BENCH_ARGS=(--repeat "$REPEAT" --json "$OUT/bench.json" --table "$OUT/bench.txt")
if [ -n "$QUICK" ]; then BENCH_ARGS+=("$QUICK"); fi
if [ "$DRY" = 1 ]; then BENCH_ARGS+=(--namespace array_api_strict); else BENCH_ARGS+=(--require-device); fi
BENCH_ARGS+=("${BENCH_EXTRA[@]}")

step "3/4 gpu/run_gpu_tests.sh (GPU tests, then the benchmark): $(left) s left"
set +e
# the benchmark starts no case in the last third of what is left after the tests (a case at
# the issue's sizes takes up to a few minutes); the whole step is cut at the deadline
PYTHON="$PY" BENCH_DEADLINE="$DEADLINE" timeout --signal=INT --kill-after=20 "$(left)" \
    bash gpu/run_gpu_tests.sh "${BENCH_ARGS[@]}"
rc=$?
set -e
if [ "$rc" -eq 124 ]; then echo "device_run.sh: the time budget ran out during step 3." >&2; fi

rc_pending=0
if [ "$PENDING" = 1 ] && [ "$DRY" = 0 ]; then
    step "4/4 the benchmark with the pending CuPy kernels: $(left) s left"
    if [ "$(left)" -gt 60 ]; then
        set +e
        timeout --signal=INT --kill-after=20 "$(left)" "$PY" gpu/bench_gpu.py --pending \
            --require-device --repeat "$REPEAT" ${QUICK:+$QUICK} --only fista,sinkhorn,fwht \
            --budget $(( $(left) * 2 / 3 )) --json "$OUT/bench_pending.json" \
            --table "$OUT/bench_pending.txt"
        rc_pending=$?
        set -e
    else
        echo "skipped: too little time left"
    fi
else
    step "4/4 pending CuPy kernels' benchmark: not asked (--pending)"
fi

step "done in $(( $(date +%s) - START )) s; files in $OUT:"
ls -l "$OUT"
if [ "$rc" -ne 0 ]; then exit "$rc"; fi
exit "$rc_pending"
