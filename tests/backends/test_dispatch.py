import os
import subprocess
import sys

import numpy as np
import pytest

import sparsopt
from sparsopt.backends import (
    array_api_kernels,
    array_backend,
    dispatch,
    get_kernel,
    has_kernel,
    is_array_api_kernel,
    list_kernels,
    register_kernel,
    resolve_backend,
)


@pytest.fixture(autouse=True)
def _restore_registry():
    """Ops registered by a test here are removed after it (other tests see the real registry)."""
    from sparsopt.backends import _registry

    list_kernels()  # load the backends first: their kernels belong to the snapshot
    kernels, generic = dict(_registry._KERNELS), set(_registry._GENERIC)
    yield
    _registry._KERNELS.clear()
    _registry._KERNELS.update(kernels)
    _registry._GENERIC.clear()
    _registry._GENERIC.update(generic)


class FakeCupyArray:
    """Looks like a CuPy array to the dispatcher (its type's module is 'cupy...')."""

    shape = (3,)
    dtype = np.float64


FakeCupyArray.__module__ = "cupy._core.core"


def test_auto_prefers_numba_for_host_arrays():
    assert resolve_backend("prox_l1", np.ones(3)) == "numba"


def test_auto_falls_back_to_numpy_without_numba_kernel():
    register_kernel("only_numpy_op", "numpy")(lambda x: x + 1)
    assert resolve_backend("only_numpy_op", np.ones(2)) == "numpy"
    np.testing.assert_array_equal(dispatch("only_numpy_op", np.ones(2)), [2.0, 2.0])


def test_engine_override_and_config():
    x = np.array([-2.0, 0.5, 3.0])
    assert get_kernel("prox_l1", "numpy") is not get_kernel("prox_l1", "numba")
    with sparsopt.config_context(engine="numpy"):
        assert resolve_backend("prox_l1", x) == "numpy"
    assert resolve_backend("prox_l1", x, engine="numpy") == "numpy"
    out = np.empty_like(x)
    res = dispatch("prox_l1", x, 1.0, out, engine="numba")
    assert res is out
    np.testing.assert_array_equal(out, [-1.0, 0.0, 2.0])


def test_cupy_arrays_route_to_cupy_kernel_or_generic_reference():
    """CuPy in: a CuPy kernel when registered, else the namespace-generic reference."""
    assert array_backend(FakeCupyArray()) == "cupy"
    register_kernel("generic_op_for_cupy", "numpy", array_api=True)(lambda x: x)
    expected = "cupy" if has_kernel("generic_op_for_cupy", "cupy") else "numpy"
    assert resolve_backend("generic_op_for_cupy", FakeCupyArray()) == expected
    register_kernel("numpy_only_op", "numpy")(lambda x: x)
    with pytest.raises(NotImplementedError, match="'numpy_only_op'.*cupy arrays"):
        resolve_backend("numpy_only_op", FakeCupyArray())


def test_array_api_arrays_route_to_generic_reference():
    xp = pytest.importorskip("array_api_strict")
    a = xp.asarray([1.0], device=xp.Device("device1"))
    assert array_backend(a, 2.0, None) == "array_api"
    register_kernel("generic_op", "numpy", array_api=True)(lambda x: x * 2)
    assert is_array_api_kernel("generic_op") and "generic_op" in array_api_kernels()
    assert resolve_backend("generic_op", a) == "numpy"
    assert resolve_backend("generic_op", a, engine="numpy") == "numpy"
    out = dispatch("generic_op", a)
    assert type(out).__module__.startswith("array_api_strict")
    register_kernel("host_only_op", "numpy")(lambda x: x)
    with pytest.raises(NotImplementedError, match="'host_only_op'.*array_api_kernels"):
        dispatch("host_only_op", a)
    with pytest.raises(TypeError, match="engine='numba'"):
        resolve_backend("generic_op", a, engine="numba")
    with pytest.raises(TypeError, match="engine='cupy' needs CuPy"):
        resolve_backend("generic_op", a, engine="cupy")
    with pytest.raises(TypeError, match="different libraries"):
        resolve_backend("generic_op", a, np.ones(1))


def test_array_api_flag_only_for_numpy_references():
    with pytest.raises(ValueError, match="backend must be 'numpy'"):
        register_kernel("x", "numba", array_api=True)


def test_mixed_arrays_raise_type_error():
    with pytest.raises(TypeError, match="Mixed CuPy and NumPy"):
        resolve_backend("prox_l1", np.ones(3), FakeCupyArray())


def test_engine_device_mismatch_errors():
    with pytest.raises(TypeError, match="engine='numba'.*cupy arrays"):
        resolve_backend("prox_l1", FakeCupyArray(), engine="numba")
    with pytest.raises(TypeError, match="engine='cupy' needs CuPy arrays"):
        resolve_backend("prox_l1", np.ones(3), engine="cupy")
    with pytest.raises(ValueError, match="engine must be"):
        resolve_backend("prox_l1", np.ones(3), engine="tpu")


def test_missing_kernel_names_op_and_backend():
    with pytest.raises(NotImplementedError, match=r"'no_such_op'.*'numba'"):
        get_kernel("no_such_op", "numba")
    with pytest.raises(NotImplementedError, match="no_such_op"):
        dispatch("no_such_op", np.ones(2), engine="numpy")


def test_register_kernel_rejects_unknown_backend():
    with pytest.raises(ValueError, match="backend must be one of"):
        register_kernel("x", "opencl")


def test_every_numba_kernel_has_numpy_reference():
    assert set(list_kernels("numba")) <= set(list_kernels("numpy"))
    assert has_kernel("prox_l1", "numba")


def test_cupy_disabled_by_environment():
    code = (
        "import sparsopt.backends as b; print(b.cupy_available(), "
        "b.backend_info()['cupy'].get('reason', ''))"
    )
    env = dict(os.environ, SPARSOPT_DISABLE_CUPY="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert out.startswith("False") and "SPARSOPT_DISABLE_CUPY" in out


@pytest.mark.gpu
def test_cupy_input_stays_on_device():
    import cupy as cp

    from sparsopt.penalties import L1

    x = cp.asarray([-2.0, 0.5, 3.0])
    out = L1(1.0).prox(x)
    assert isinstance(out, cp.ndarray)
    cp.testing.assert_allclose(out, cp.asarray([-1.0, 0.0, 2.0]))
