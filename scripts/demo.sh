#!/usr/bin/env bash
# Run the sparsopt demo from a fresh machine: creates .venv (if missing), installs
# sparsopt with the demo extras (matplotlib, pillow), then runs `python -m sparsopt demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --disable-pip-version-check --upgrade pip
python -m pip install -q --disable-pip-version-check -e ".[demo]"
python -m sparsopt demo "$@"
