"""Input validation of the transport solvers: errors name the offending parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.ot import sinkhorn, sinkhorn_newton_sparse, sinkhorn_unbalanced


def _unbalanced(a, b, M, reg, **kw):
    return sinkhorn_unbalanced(a, b, M, reg, 1.0, **kw)


SOLVERS = {
    "sinkhorn": sinkhorn,
    "sinkhorn_newton_sparse": sinkhorn_newton_sparse,
    "sinkhorn_unbalanced": _unbalanced,
}
BALANCED = {k: v for k, v in SOLVERS.items() if k != "sinkhorn_unbalanced"}

M0 = np.random.default_rng(0).random((3, 4))
A0 = np.full(3, 1 / 3)
B0 = np.full(4, 1 / 4)

_settings = settings(max_examples=25, deadline=None)


def _finite(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@pytest.fixture(params=sorted(SOLVERS))
def solver(request):
    return request.param, SOLVERS[request.param]


# ----------------------------------------------------------------------------- reg


@_settings
@given(reg=st.floats(max_value=0.0) | st.sampled_from([math.nan, math.inf, -math.inf]))
def test_bad_reg_values(reg):
    for name, fn in SOLVERS.items():
        with pytest.raises(ValueError, match=r"reg must be") as exc:
            fn(A0, B0, M0, reg)
        assert name.split("_")[0] in str(exc.value)


@pytest.mark.parametrize("reg", ["0.1", None, [0.1], 1j, True, np.array([0.1, 0.2])])
def test_reg_not_a_number(solver, reg):
    _, fn = solver
    with pytest.raises(TypeError, match="reg must be a real number"):
        fn(A0, B0, M0, reg)


def test_reg_numpy_scalar_accepted():
    res = sinkhorn(A0, B0, M0, np.float32(0.5))
    assert res.reg == 0.5 and isinstance(res.reg, float)


# ----------------------------------------------------------------------------- marginals


@_settings
@given(a=hnp.arrays(np.float64, 3, elements=_finite(-1.0, 1.0)).filter(lambda a: a.min() < 0))
def test_negative_mass(a):
    for fn in SOLVERS.values():
        with pytest.raises(ValueError, match="a has negative mass"):
            fn(a, B0, M0, 0.1)
        with pytest.raises(ValueError, match="b has negative mass"):
            fn(B0[:3], np.concatenate([a, [0.5]]), M0, 0.1)


@pytest.mark.parametrize("which", ["a", "b"])
def test_zero_total_mass(solver, which):
    _, fn = solver
    a, b = (np.zeros(3), B0) if which == "a" else (A0, np.zeros(4))
    with pytest.raises(ValueError, match=f"{which} has zero total mass"):
        fn(a, b, M0, 0.1)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@_settings
@given(factor=_finite(1e-3, 1e3).filter(lambda f: abs(f - 1) > 1e-5))
def test_mismatched_masses_point_to_unbalanced(factor):
    for name, fn in BALANCED.items():
        with pytest.raises(ValueError, match="different total masses") as exc:
            fn(A0, factor * B0, M0, 0.1)
        msg = str(exc.value)
        assert "sinkhorn_unbalanced" in msg and name in msg
    # the unbalanced solver accepts them
    res = sinkhorn_unbalanced(A0, factor * B0, M0, 0.5, 1.0, max_iter=5)
    assert res.plan.shape == (3, 4)


@_settings
@given(factor=_finite(1 - 1e-7, 1 + 1e-7))
def test_masses_within_rounding_are_matched(factor):
    res = sinkhorn(A0, factor * B0, M0, 0.5, tol=1e-12)
    # b is rescaled to a's mass: the plan has a's mass and b's proportions
    np.testing.assert_allclose(res.plan.sum(axis=0), B0, rtol=1e-10)
    np.testing.assert_allclose(res.plan.sum(axis=1), A0, rtol=1e-10)


def test_batched_mismatch_names_the_problem():
    M = np.stack([M0, M0])
    b = np.stack([B0, 2 * B0])
    with pytest.raises(ValueError, match=r"\(problem 1\).*sinkhorn_unbalanced"):
        sinkhorn(A0, b, M, 0.1)


# ----------------------------------------------------------------------------- cost


@_settings
@given(i=st.integers(0, 2), j=st.integers(0, 3),
       bad=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_non_finite_cost(i, j, bad):
    M = M0.copy()
    M[i, j] = bad
    for fn in SOLVERS.values():
        with pytest.raises(ValueError, match="M contains NaN or infinity"):
            fn(A0, B0, M, 0.1)
        with pytest.raises(ValueError, match="M contains NaN or infinity"):
            fn(A0, B0, np.stack([M0, M]), 0.1)


@pytest.mark.parametrize("M, exc, match", [
    (np.array(["a", "b"]), TypeError, "M must be numeric"),
    (M0 + 0j, TypeError, "M must be real"),
    (np.ones(3), ValueError, r"M must have 2 or 3 dimension\(s\)"),
    (np.ones((1, 2, 3, 4)), ValueError, r"M must have 2 or 3 dimension\(s\)"),
    (np.ones((0, 4)), ValueError, "M is empty"),
])
def test_bad_cost_arrays(solver, M, exc, match):
    _, fn = solver
    with pytest.raises(exc, match=match):
        fn(None, None, M, 0.1)


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("a, b, M, match", [
    (np.full(4, 0.25), B0, M0, "a has 4 entries but the cost matrix M has 3 rows"),
    (A0, np.full(3, 1 / 3), M0, "b has 3 entries but the cost matrix M has 4 columns"),
    (np.full((2, 3), 1 / 3), B0, M0, r"a of shape \(2, 3\) needs a batch"),
    (np.full((3, 3), 1 / 3), B0, np.stack([M0, M0]), r"a of shape \(3, 3\) needs a batch"),
    (np.full((1, 1, 3), 1 / 3), B0, M0, r"a must have 1 or 2 dimension\(s\)"),
])
def test_shape_mismatches(solver, a, b, M, match):
    _, fn = solver
    with pytest.raises(ValueError, match=match):
        fn(a, b, M, 0.1)


@_settings
@given(n=st.integers(1, 5), m=st.integers(1, 5), da=st.integers(-2, 2), db=st.integers(-2, 2))
def test_marginal_lengths(n, m, da, db):
    M = np.ones((n, m))
    a = np.full(max(n + da, 1), 1.0)
    b = np.full(max(m + db, 1), 1.0)
    b *= a.sum() / b.sum()
    if a.size == n and b.size == m:
        assert sinkhorn(a, b, M, 1.0).plan.shape == (n, m)
    else:
        bad = "a" if a.size != n else "b"
        with pytest.raises(ValueError, match=f"{bad} has {(a if bad == 'a' else b).size} entries"):
            sinkhorn(a, b, M, 1.0)


def test_empty_marginal_means_uniform():
    res = sinkhorn([], [], M0, 0.5, tol=1e-12)
    np.testing.assert_allclose(res.plan.sum(axis=1), A0, atol=1e-12)


# ----------------------------------------------------------------------------- options


@pytest.mark.parametrize("solver", ["sinkhorn", "LOG", "", None, "sinkhorn_log"])
def test_bad_solver(solver):
    with pytest.raises(ValueError, match="solver must be one of"):
        sinkhorn(A0, B0, M0, 0.1, solver=solver)


@_settings
@given(eps=st.floats(max_value=1.0) | st.sampled_from([math.nan, math.inf]))
def test_bad_eps_scaling(eps):
    for fn in (sinkhorn, sinkhorn_newton_sparse):
        with pytest.raises(ValueError, match="eps_scaling must be"):
            fn(A0, B0, M0, 0.1, eps_scaling=eps)


def test_eps_scaling_needs_the_log_solver():
    with pytest.raises(ValueError, match="eps_scaling needs solver='log'"):
        sinkhorn(A0, B0, M0, 0.1, eps_scaling=2.0, solver="scaling")


@_settings
@given(density=st.floats(max_value=0.0) | st.floats(min_value=1.0, exclude_min=True)
       | st.sampled_from([math.nan, math.inf]))
def test_bad_density(density):
    with pytest.raises(ValueError, match="density must be"):
        sinkhorn_newton_sparse(A0, B0, M0, 0.1, density=density)


def test_density_type():
    with pytest.raises(TypeError, match="density must be a real number"):
        sinkhorn_newton_sparse(A0, B0, M0, 0.1, density="0.5")


@_settings
@given(reg_m=st.floats(max_value=0.0) | st.sampled_from([math.nan, math.inf]))
def test_bad_reg_m(reg_m):
    with pytest.raises(ValueError, match="reg_m must be"):
        sinkhorn_unbalanced(A0, B0, M0, 0.1, reg_m)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(tol=-1e-3), ValueError, "tol must be >= 0"),
    (dict(tol="1e-3"), TypeError, "tol must be a real number"),
    (dict(max_iter=-1), ValueError, "max_iter must be >= 0"),
    (dict(max_iter=10.0), TypeError, "max_iter must be an integer"),
    (dict(max_iter=True), TypeError, "max_iter must be an integer"),
    (dict(check_every=0), ValueError, "check_every must be >= 1"),
])
def test_bad_iteration_controls(kwargs, exc, match):
    for fn in (sinkhorn, _unbalanced):
        with pytest.raises(exc, match=match):
            fn(A0, B0, M0, 0.1, **kwargs)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(n_sinkhorn=-1), ValueError, "n_sinkhorn must be >= 0"),
    (dict(n_sinkhorn=2.5), TypeError, "n_sinkhorn must be an integer"),
    (dict(tol=-1.0), ValueError, "tol must be >= 0"),
    (dict(max_iter=-1), ValueError, "max_iter must be >= 0"),
    (dict(cg_rtol=-1.0), ValueError, "cg_rtol must be >= 0"),
    (dict(cg_maxiter=0), ValueError, "cg_maxiter must be >= 1"),
    (dict(armijo=0.0), ValueError, "armijo must be > 0"),
    (dict(armijo=0.5), ValueError, "armijo must be < 0.5"),
    (dict(max_linesearch=0), ValueError, "max_linesearch must be >= 1"),
    (dict(n_fallback=0), ValueError, "n_fallback must be >= 1"),
])
def test_bad_sns_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sinkhorn_newton_sparse(A0, B0, M0, 0.1, **kwargs)


@pytest.mark.parametrize("warm, exc, match", [
    ((np.zeros(2), np.zeros(4)), ValueError, r"init potentials have shapes \(2,\)"),
    ((np.zeros(3),), TypeError, "init must be None, an OTResult or a pair"),
    (3.0, TypeError, "init must be None, an OTResult or a pair"),
    ((np.full(3, np.nan), np.zeros(4)), ValueError, "init potentials must be finite"),
])
def test_bad_init(solver, warm, exc, match):
    _, fn = solver
    with pytest.raises(exc, match=match):
        fn(A0, B0, M0, 0.1, init=warm)


def test_errors_name_their_function():
    for name, fn in SOLVERS.items():
        with pytest.raises(ValueError) as exc:
            fn(A0, B0, M0, -1.0)
        assert str(exc.value).startswith(f"{name}: ")
