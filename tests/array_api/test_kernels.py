"""Every namespace-generic kernel on array-API arrays, against its NumPy run.

Each family lists its ``array_api=True`` ops in ``tests/array_api/_cases_<family>.py`` as
``CASES = {op: check}``, where ``check(to_ns, xp)`` builds NumPy inputs (small, seeded),
runs ``dispatch(op, ...)`` on them (``engine="numpy"``, the reference) and on the same
inputs converted with ``to_ns`` (arrays of ``xp`` on its device), asserts that every
array output is an array of ``xp`` (see :func:`tests._array_api.assert_in_namespace`)
and compares the values with :func:`tests._array_api.to_np`.

On ``array_api_strict``'s ``device1`` any hidden conversion to NumPy raises, so a
passing case proves the kernel stays in its namespace; with ``-m gpu`` the same cases
run on CuPy (``gpu/run_gpu_tests.sh``). A meta-test checks that every op registered
with ``array_api=True`` has a case.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests.array_api as _pkg
from sparsopt.backends import array_api_kernels
from tests._array_api import NAMESPACES, namespace, to_xp

CASES: dict = {}
for _mod in pkgutil.iter_modules(_pkg.__path__):
    if _mod.name.startswith("_cases_"):
        _cases = importlib.import_module(f"tests.array_api.{_mod.name}").CASES
        assert not set(_cases) & set(CASES), f"op defined twice: {set(_cases) & set(CASES)}"
        CASES.update(_cases)


def test_every_array_api_kernel_has_a_case():
    missing = sorted(set(array_api_kernels()) - set(CASES))
    assert not missing, f"array_api=True ops without a case in tests/array_api: {missing}"


@pytest.mark.parametrize("xp_name", NAMESPACES)
@pytest.mark.parametrize("op", sorted(CASES))
def test_kernel_in_namespace(op, xp_name):
    xp, dev = namespace(xp_name)
    CASES[op](lambda a: to_xp(a, xp, dev), xp)
