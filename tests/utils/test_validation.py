import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsopt.utils import check_array, check_int, check_scalar, spectral_norm_sq


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.booleans(),
                 st.text(max_size=3), st.none()))
@settings(max_examples=80, deadline=None)
def test_check_scalar_accepts_only_finite_reals_in_bounds(v):
    try:
        finite = np.isfinite(float(v))
    except (TypeError, ValueError, OverflowError):
        finite = False
    ok = not isinstance(v, bool) and isinstance(v, (int, float)) and finite and v >= 0
    if ok:
        assert check_scalar(v, "alpha", "X", lower=0.0) == float(v)
    else:
        with pytest.raises((TypeError, ValueError), match="alpha"):
            check_scalar(v, "alpha", "X", lower=0.0)


def test_check_scalar_bounds_messages():
    with pytest.raises(ValueError, match="q must be < 1"):
        check_scalar(1.0, "q", "Lq", upper=1.0, upper_inclusive=False)
    with pytest.raises(ValueError, match="step must be > 0"):
        check_scalar(0.0, "step", "f", lower=0.0, lower_inclusive=False)


def test_check_int():
    assert check_int(np.int64(3), "k", "f", lower=1) == 3
    with pytest.raises(TypeError, match="k"):
        check_int(2.0, "k", "f")
    with pytest.raises(TypeError, match="k"):
        check_int(True, "k", "f")
    with pytest.raises(ValueError, match="k must be >= 1"):
        check_int(0, "k", "f", lower=1)


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1,
                max_size=20))
@settings(max_examples=60, deadline=None)
def test_check_array_nonfinite(values):
    arr = np.array(values, dtype=np.float32)
    if np.all(np.isfinite(arr)):
        out = check_array(arr, "X", "f")
        assert out.dtype == np.float32
    else:
        with pytest.raises(ValueError, match="X contains NaN or infinity"):
            check_array(arr, "X", "f")


def test_check_array_errors_and_conversions():
    assert check_array([1, 2], "y", "f").dtype == np.float64
    with pytest.raises(ValueError, match="y must have 2 dimension"):
        check_array([1.0, 2.0], "y", "f", ndim=2)
    with pytest.raises(TypeError, match="numeric"):
        check_array(["a"], "y", "f")
    with pytest.raises(TypeError, match="real"):
        check_array([1j], "y", "f")
    with pytest.raises(ValueError, match="empty"):
        check_array(np.zeros((0, 3)), "X", "f")
    with pytest.raises(TypeError, match="dense"):
        check_array(sp.eye(3), "X", "f")
    m = check_array(sp.eye(3, format="csr"), "X", "f", allow_sparse=True)
    assert sp.issparse(m)
    bad = sp.csr_matrix(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="NaN"):
        check_array(bad, "X", "f", allow_sparse=True)


def test_spectral_norm_dense_sparse_and_power_iteration():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((1100, 1200))
    exact = np.linalg.norm(A, 2) ** 2
    assert spectral_norm_sq(A) == pytest.approx(exact, rel=1e-4)
    assert spectral_norm_sq(sp.csr_matrix(A[:50, :40])) == pytest.approx(
        np.linalg.norm(A[:50, :40], 2) ** 2, rel=1e-4)
    assert spectral_norm_sq(np.zeros((3, 3))) == 0.0
