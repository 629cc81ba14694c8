#!/usr/bin/env bash
# Run the whole sparsopt test suite from a fresh machine: creates .venv (if missing),
# installs sparsopt with its test extras, then runs pytest on tests/ and the doctests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --disable-pip-version-check --upgrade pip
python -m pip install -q --disable-pip-version-check -e ".[test]"
python -m pytest --doctest-modules sparsopt tests --doctest-glob="*.rst" docs/user_guide -p no:cacheprovider "$@"
