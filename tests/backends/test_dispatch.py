import os
import subprocess
import sys

import numpy as np
import pytest

import sparsopt
from sparsopt.backends import (
    array_backend,
    dispatch,
    get_kernel,
    has_kernel,
    list_kernels,
    register_kernel,
    resolve_backend,
)


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


def test_cupy_arrays_route_to_cupy_backend():
    assert array_backend(FakeCupyArray()) == "cupy"
    assert resolve_backend("prox_l1", FakeCupyArray()) == "cupy"


def test_mixed_arrays_raise_type_error():
    with pytest.raises(TypeError, match="Mixed CuPy and NumPy"):
        resolve_backend("prox_l1", np.ones(3), FakeCupyArray())


def test_engine_device_mismatch_errors():
    with pytest.raises(TypeError, match="engine='numba'.*CuPy arrays"):
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
    if not has_kernel("prox_l1", "cupy"):
        with pytest.raises(NotImplementedError, match="cupy"):
            L1(1.0).prox(x)
    else:
        out = L1(1.0).prox(x)
        assert isinstance(out, cp.ndarray)
        cp.testing.assert_allclose(out, cp.asarray([-1.0, 0.0, 2.0]))
