"""Shared helpers of the array-API tests: the same test on ``array_api_strict`` and CuPy.

``array_api_strict`` arrays are put on its fake ``device1``: arrays there refuse any
conversion to NumPy (``np.asarray`` raises ``RuntimeError``) and any mixing with arrays
on the CPU device (``ValueError``), so a test passing on them proves the code path
stays in the namespace and on the device, as it must for CuPy. The CuPy parameter
is marked ``gpu`` (auto-skipped without a device; ``gpu/run_gpu_tests.sh`` runs it).

Use::

    from tests._array_api import NAMESPACES, namespace, to_xp, to_np, assert_in_namespace

    @pytest.mark.parametrize("xp_name", NAMESPACES)
    def test_something(xp_name):
        xp, dev = namespace(xp_name)
        x = to_xp(np_x, xp, dev)
        out = some_function(x)
        assert_in_namespace(out, xp)
        np.testing.assert_allclose(to_np(out), reference_on_numpy)
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from sparsopt.backends import array_namespace, namespace_name, to_numpy

NAMESPACES = [
    pytest.param("array_api_strict", id="array_api_strict"),
    pytest.param("cupy", id="cupy", marks=pytest.mark.gpu),
]


def namespace(name):
    """``(xp, device)`` for a namespace name; skips the test when it is not installed."""
    if name == "array_api_strict":
        xp = pytest.importorskip("array_api_strict")
        return xp, xp.Device("device1")
    if name == "cupy":
        cp = pytest.importorskip("cupy")
        from sparsopt.backends import cupy_available

        if not cupy_available():
            pytest.skip("CuPy has no usable device")
        return cp, cp.cuda.Device(0)
    raise ValueError(name)


@contextlib.contextmanager
def array_api_dispatch():
    """``sklearn.config_context(array_api_dispatch=True)``, skipping the test where
    scikit-learn refuses to enable it (SciPy older than 1.14, as in the floors run, or
    ``SCIPY_ARRAY_API`` unset)."""
    import sklearn
    from sklearn.utils._array_api import get_namespace

    try:
        with sklearn.config_context(array_api_dispatch=True):
            get_namespace(np.ones(1))
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"scikit-learn's array API dispatch is unavailable here: {exc}")
    with sklearn.config_context(array_api_dispatch=True):
        yield


def to_xp(a, xp, device):
    """A NumPy array (or scalar/None) as an array of ``xp`` on ``device``; others as is."""
    if a is None or np.isscalar(a) or not isinstance(a, np.ndarray):
        return a
    if xp.__name__ == "cupy":
        with device:
            return xp.asarray(a)
    return xp.asarray(a, device=device)


def to_np(a):
    """Copy an array of any namespace to NumPy (explicit, for comparisons)."""
    return to_numpy(a)


def assert_in_namespace(a, xp):
    """``a`` is an array of ``xp`` (not NumPy): nothing was pulled back to the host."""
    got = array_namespace(a)
    assert namespace_name(got) == xp.__name__, (
        f"expected an array of {xp.__name__}, got {type(a).__module__}.{type(a).__name__}"
    )
