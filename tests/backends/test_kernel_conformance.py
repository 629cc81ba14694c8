"""Conformance of every Numba kernel with its NumPy reference.

Each op registered on the ``"numba"`` backend has an entry in ``CASES``: a
hypothesis strategy, a fixed example and a check that runs the op on both
backends. For the prox ops the strategy draws a penalty that dispatches to this
op, a valid step and an input array (float32 or float64, finite entries in
[-1e3, 1e3], 0 to 50 entries) and the check compares
``penalty.prox(x, step, engine="numpy")`` with ``engine="numba"``: same dtype,
shape and values. ``cd_gram`` is driven through the coordinate-descent solver
(a fixed number of epochs), ``topk_threshold`` and ``omp_gram`` through
``dispatch`` (``omp_gram`` on generic Gaussian data: with exactly tied
correlations the two implementations may legitimately select different atoms).
``lars_gram`` runs through ``dispatch`` on well-conditioned Gram matrices
(smallest eigenvalue >= 0.05 x largest: a unique Lasso solution), same status.

The optimal-transport ops (``sinkhorn_log_iterations``, ``ot_plan``, ``ot_sparsify``,
``ot_sparsify_scaled``, ``ot_scale_plan``, ``ot_newton_cg``) run through ``dispatch`` on
float64 inputs: a log kernel ``K = -M / reg`` with ``M`` in [0, 1] and ``reg`` down to 1e-3,
finite potentials shifted so that the largest plan exponent is at most 5 (beyond ~709 the
NumPy reference overflows to ``inf`` while the clipped Numba exp returns ``exp(709)``).
Sweeps compare ``u``, ``v``, the count and the error to ``rtol`` 1e-10; plans to a few ulps
of the exponent's scale; the CSR selection exactly; CG solutions of strictly diagonally
dominant systems to ``cond * rtol`` of the exact solution.

Tolerances: ``rtol`` 1e-6 (float64) / 1e-5 (float32) and an ``atol`` of a few units
in the last place of the input scale ``max(1, max|x|)``: the NumPy kernels of
soft thresholding round the threshold to float32 for float32 inputs while Numba
works in float64, which can differ by one ulp of ``|x|`` after cancellation.

Exact ties: at a jump of a discontinuous prox (hard, half or log thresholding),
both branches minimize the prox objective and the two backends may pick different
ones through rounding alone. An element (a row for group penalties) on which the
backends disagree is accepted only if both outputs have the same prox objective up
to rounding; the test records how often that happens (see ``TIES``). For
``omp_gram`` only the reported stop reason may differ, and only at a tie of the
stopping rules (residual at ``tol``, or zero).

A meta-test checks that every registered Numba op has an entry in ``CASES``, so
that a new kernel cannot be added without a conformance test.
"""

from __future__ import annotations

import importlib
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.backends import _registry, dispatch, list_kernels
from sparsopt.penalties import (
    CEL0,
    L0,
    L1,
    MCP,
    SCAD,
    WGSEF,
    Box,
    ElasticNet,
    GroupL21,
    KSupport,
    Log,
    Lq,
    Positive,
)

#: raise for a deeper search, e.g. SPARSOPT_CONFORMANCE_EXAMPLES=2000
MAX_EXAMPLES = int(os.environ.get("SPARSOPT_CONFORMANCE_EXAMPLES", "40"))
DTYPES = (np.float32, np.float64)
RTOL = {np.float32: 1e-5, np.float64: 1e-6}
ULPS = 8  # atol = ULPS * eps(dtype) * max(1, max|x|)

#: per op: how many elements/rows were accepted as exact ties (for the report)
TIES: dict[str, int] = {}

# ----------------------------------------------------------------------------- strategies


def _floats(lo, hi, **kw):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, **kw)


@st.composite
def _separable_input(draw, n_max=50):
    dtype = draw(st.sampled_from(DTYPES))
    width = 32 if dtype is np.float32 else 64
    n = draw(st.integers(0, n_max))
    elements = _floats(-1e3, 1e3, width=width)
    x = draw(hnp.arrays(dtype, n, elements=elements))
    return x


@st.composite
def _matrix_input(draw, n_features=None, max_size=50):
    """2-D input ``(n_rows, n_features)`` with at most ``max_size`` entries."""
    dtype = draw(st.sampled_from(DTYPES))
    width = 32 if dtype is np.float32 else 64
    if n_features is None:
        n_features = draw(st.integers(1, 12))
    n_rows = draw(st.integers(0, max_size // n_features))
    elements = _floats(-1e3, 1e3, width=width)
    return draw(hnp.arrays(dtype, (n_rows, n_features), elements=elements))


# the full range down to subnormal alphas: it caught an underflow (ZeroDivisionError)
# of the Numba half-thresholding kernel for float32 inputs
_alpha = _floats(0.0, 10.0)
_step = _floats(1e-3, 10.0)


@st.composite
def _case_l1(draw):
    return L1(alpha=draw(_alpha)), draw(_step), draw(_separable_input())


@st.composite
def _case_l0(draw):
    return L0(alpha=draw(_alpha)), draw(_step), draw(_separable_input())


@st.composite
def _case_elasticnet(draw):
    pen = ElasticNet(alpha=draw(_alpha), l1_ratio=draw(_floats(0.0, 1.0)))
    return pen, draw(_step), draw(_separable_input())


@st.composite
def _case_lhalf(draw):
    return Lq(alpha=draw(_alpha), q=0.5), draw(_step), draw(_separable_input())


@st.composite
def _case_ltwothirds(draw):
    return Lq(alpha=draw(_alpha), q=2.0 / 3.0), draw(_step), draw(_separable_input())


@st.composite
def _case_lq(draw):
    q = draw(_floats(0.05, 0.95).filter(lambda q: abs(q - 0.5) > 1e-6 and abs(q - 2 / 3) > 1e-6))
    return Lq(alpha=draw(_alpha), q=q), draw(_step), draw(_separable_input())


@st.composite
def _case_cel0(draw):
    per_column = draw(st.booleans())
    if per_column:
        x = draw(_matrix_input())
        a = draw(hnp.arrays(np.float64, x.shape[1], elements=_floats(0.05, 5.0)))
        amax = float(a.max())
    else:
        x = draw(_separable_input())
        a = draw(_floats(0.05, 5.0))
        amax = a
    step = draw(_floats(0.01, 0.99)) / amax**2
    return CEL0(alpha=draw(_alpha), a=a), step, x


@st.composite
def _case_mcp(draw):
    step = draw(_step)
    gamma = max(1.0, step) + draw(_floats(1e-2, 10.0))
    return MCP(alpha=draw(_alpha), gamma=gamma), step, draw(_separable_input())


@st.composite
def _case_scad(draw):
    step = draw(_step)
    gamma = max(2.0, 1.0 + step) + draw(_floats(1e-2, 10.0))
    return SCAD(alpha=draw(_alpha), gamma=gamma), step, draw(_separable_input())


@st.composite
def _case_log(draw):
    pen = Log(alpha=draw(_alpha), eps=draw(_floats(1e-3, 10.0)))
    return pen, draw(_step), draw(_separable_input())


@st.composite
def _case_box(draw):
    if draw(st.booleans()):
        return Positive(), draw(_step), draw(_separable_input())
    lower = draw(_floats(-1e3, 1e3) | st.just(-np.inf))
    upper = draw(st.just(np.inf) | _floats(0.0, 2e3).map(lambda d: max(lower, -1e3) + d))
    return Box(lower=lower, upper=upper), draw(_step), draw(_separable_input())


@st.composite
def _groups(draw, n_features):
    """None, a group size, or explicit disjoint groups (possibly leaving features out)."""
    kind = draw(st.sampled_from(["none", "size", "explicit"]))
    if kind == "none":
        return None
    if kind == "size":
        return draw(st.integers(1, n_features))
    perm = draw(st.permutations(range(n_features)))
    n_used = draw(st.integers(1, n_features))
    cuts = sorted(draw(st.sets(st.integers(1, max(n_used - 1, 1)), max_size=n_used - 1)))
    used = list(perm[:n_used])
    bounds = [0, *[c for c in cuts if c < n_used], n_used]
    return [used[b0:b1] for b0, b1 in zip(bounds[:-1], bounds[1:]) if b1 > b0]


def _n_groups(groups, n_features):
    if groups is None:
        return n_features
    if isinstance(groups, int):
        return -(-n_features // groups)
    return len(groups)


@st.composite
def _case_group_l2(draw):
    x = draw(_matrix_input())
    groups = draw(_groups(x.shape[1]))
    if groups is None:
        groups = 1  # GroupL21 has no "None": one feature per group
    weights = None
    if draw(st.booleans()):
        n_groups = _n_groups(groups, x.shape[1])
        weights = draw(hnp.arrays(np.float64, n_groups, elements=_floats(0.0, 5.0)))
    return GroupL21(alpha=draw(_alpha), groups=groups, weights=weights), draw(_step), x


@st.composite
def _case_ksupport(draw):
    x = draw(_matrix_input())
    groups = draw(_groups(x.shape[1]))
    n_groups = _n_groups(groups, x.shape[1])
    weights = None
    if draw(st.booleans()):
        weights = draw(hnp.arrays(np.float64, n_groups, elements=_floats(0.05, 5.0)))
    k = draw(st.integers(1, n_groups + 1))
    cls = draw(st.sampled_from([KSupport, WGSEF]))
    alpha = draw(_floats(1e-3, 10.0))  # alpha = 0 returns a copy without dispatching
    return cls(alpha=alpha, k=k, groups=groups, weights=weights), draw(_step), x


@st.composite
def _case_topk(draw):
    x = draw(_matrix_input())
    if draw(st.booleans()) and x.size:  # ties in magnitude: the lower index must win
        x[:, -1] = -x[:, 0]
    return x, draw(st.integers(0, x.shape[1] + 1))


_CD_PENALTIES = [
    lambda alpha, g: L1(alpha=alpha),
    lambda alpha, g: L0(alpha=alpha),
    lambda alpha, g: Lq(alpha=alpha, q=0.5),
    lambda alpha, g: Lq(alpha=alpha, q=2.0 / 3.0),
    lambda alpha, g: Lq(alpha=alpha, q=0.3),
    lambda alpha, g: CEL0(alpha=alpha, a=np.sqrt(np.diag(g))),
    lambda alpha, g: MCP(alpha=alpha, gamma=1.5 + 1.0 / np.diag(g).min()),
    lambda alpha, g: SCAD(alpha=alpha, gamma=2.5 + 1.0 / np.diag(g).min()),
    lambda alpha, g: Log(alpha=alpha, eps=0.5),
    lambda alpha, g: ElasticNet(alpha=alpha, l1_ratio=0.7),
    lambda alpha, g: Box(lower=-alpha, upper=2 * alpha),
    lambda alpha, g: Positive(),
]


@st.composite
def _case_cd_gram(draw):
    """Inputs of the coordinate-descent solver (which runs the cd_gram kernel)."""
    dtype = draw(st.sampled_from(DTYPES))
    width = 32 if dtype is np.float32 else 64
    n_samples = draw(st.integers(1, 6))  # the solver refuses an empty X
    n_components = draw(st.integers(1, 6))
    n_features = draw(st.integers(1, 8))
    D = draw(hnp.arrays(dtype, (n_components, n_features), elements=_floats(-3, 3, width=width)))
    gram = D.astype(np.float64) @ D.astype(np.float64).T
    assume(np.diag(gram).min() >= 0.25)  # every atom has a usable step 1 / ||d_j||^2
    X = draw(hnp.arrays(dtype, (n_samples, n_features), elements=_floats(-10, 10, width=width)))
    alpha = draw(_floats(0.0, 3.0))
    pen = draw(st.sampled_from(_CD_PENALTIES))(alpha, gram)
    positive = draw(st.booleans())
    max_iter = draw(st.integers(1, 4))
    return X, D, pen, positive, max_iter


def _run_cd(X, D, pen, positive, max_iter, engine):
    from sparsopt.penalties import Box, Positive
    from sparsopt.solvers.coding.cd import cd

    if positive and not isinstance(pen, Box):
        pen = pen + Positive()  # positivity is a constraint composed with the penalty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol=0: a fixed number of epochs, no convergence
        return cd(X, D, penalty=pen, max_iter=max_iter, tol=0.0, engine=engine).x


def _check_cd_gram(op, case):
    X, D, pen, positive, max_iter = case
    out_np = _run_cd(X, D, pen, positive, max_iter, "numpy")
    out_nb = _run_cd(X, D, pen, positive, max_iter, "numba")
    shape = (X.shape[0], D.shape[0])
    assert out_np.dtype == out_nb.dtype == X.dtype
    assert out_np.shape == out_nb.shape == shape
    if out_np.size == 0:
        return
    eps = float(np.finfo(X.dtype).eps)
    # a few epochs of CD accumulate rounding: scale the atol by the problem size
    scale = max(1.0, float(np.abs(out_np).max()), float(np.abs(X).max()))
    np.testing.assert_allclose(out_nb, out_np, rtol=RTOL[X.dtype.type],
                               atol=ULPS * max_iter * D.shape[0] * eps * scale,
                               err_msg=f"cd_gram differs for {pen!r}, positive={positive}")


def _check_topk(op, case):
    x, k = case
    out_np = dispatch("topk_threshold", x, k, np.empty_like(x), engine="numpy")
    out_nb = dispatch("topk_threshold", x, k, np.empty_like(x), engine="numba")
    assert out_np.dtype == out_nb.dtype == x.dtype
    np.testing.assert_array_equal(out_nb, out_np)  # a selection: exactly equal
    assert np.all(np.count_nonzero(out_np, axis=1) <= min(k, x.shape[1]))


@st.composite
def _case_omp_gram(draw):
    """Batch-OMP inputs from generic (random Gaussian) data: no exact ties."""
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_samples = draw(st.integers(0, 6))
    n_components = draw(st.integers(1, 8))
    n_features = draw(st.integers(1, 10))
    D = rng.standard_normal((n_components, n_features)).astype(dtype)
    X = (draw(_floats(0.01, 100.0)) * rng.standard_normal((n_samples, n_features))).astype(dtype)
    n_nonzero = draw(st.integers(0, n_components + 1))
    tol = draw(st.just(-1.0) | _floats(0.0, 1.0).map(
        lambda f: f * float((X.astype(np.float64) ** 2).sum(axis=1).max(initial=0.0))))
    return X, D, n_nonzero, tol


def _check_omp_gram(op, case):
    X, D, n_nonzero, tol = case
    G = D @ D.T
    B = X @ D.T
    norms_sq = (X.astype(np.float64) ** 2).sum(axis=1)
    res = {}
    for engine in ("numpy", "numba"):
        out = np.empty((X.shape[0], D.shape[0]), dtype=X.dtype)
        n_active, reason, resid = dispatch("omp_gram", G, B, norms_sq, n_nonzero, tol, out,
                                           engine=engine)
        res[engine] = (out, np.asarray(n_active), np.asarray(reason), np.asarray(resid))
    (c_np, k_np, r_np, e_np), (c_nb, k_nb, r_nb, e_nb) = res["numpy"], res["numba"]
    assert c_np.dtype == c_nb.dtype == X.dtype
    np.testing.assert_array_equal(k_nb, k_np)
    if X.shape[0] == 0:
        return
    eps = float(np.finfo(X.dtype).eps)
    cond = np.linalg.cond(G.astype(np.float64)) if D.shape[0] <= D.shape[1] else 1e3
    e_atol = ULPS * eps * max(1.0, cond) * max(1.0, norms_sq.max())
    np.testing.assert_allclose(e_nb, e_np, rtol=0, atol=e_atol)
    # Exact ties of the stopping rules (same atoms selected, only the reported reason
    # differs): the residual is at tol (e.g. a perfect fit with tol = 0: "tol" vs
    # "n_nonzero"), or it is 0 and the next atom has both a zero correlation and a zero
    # Cholesky pivot ("zero_correlation" vs "linear_dependence").
    differ = r_nb != r_np
    tie = differ & ((np.abs(e_np - tol) <= e_atol) | (np.abs(e_np) <= e_atol))
    np.testing.assert_array_equal(r_nb[~tie], r_np[~tie])
    if tie.any():
        TIES[op] = TIES.get(op, 0) + int(tie.sum())
    scale = max(1.0, float(np.abs(c_np).max()))
    np.testing.assert_allclose(c_nb, c_np, rtol=RTOL[X.dtype.type] * max(1.0, cond / 10),
                               atol=ULPS * eps * scale * max(1.0, cond))


@st.composite
def _case_lars_gram(draw):
    """Lasso-homotopy inputs with a well-conditioned Gram matrix (unique solution)."""
    dtype = draw(st.sampled_from(DTYPES))
    width = 32 if dtype is np.float32 else 64
    n_samples = draw(st.integers(1, 6))
    n_components = draw(st.integers(1, 6))
    n_features = n_components + draw(st.integers(0, 4))
    D = draw(hnp.arrays(dtype, (n_components, n_features), elements=_floats(-3, 3, width=width)))
    gram = D.astype(np.float64) @ D.astype(np.float64).T
    eig = np.linalg.eigvalsh(gram)
    assume(np.diag(gram).min() >= 0.25 and eig[0] >= 0.05 * eig[-1])
    X = draw(hnp.arrays(dtype, (n_samples, n_features), elements=_floats(-10, 10, width=width)))
    return X, D, draw(_floats(0.0, 3.0)), draw(st.booleans()), 100


def _lasso_kkt_ok(G, B, C, alpha, positive, atol):
    """Whether the codes ``C`` satisfy the Lasso optimality conditions up to ``atol``."""
    G64, C64 = G.astype(np.float64), C.astype(np.float64)
    q = B.astype(np.float64) - C64 @ G64
    on = C64 != 0
    if positive and np.any(C64 < 0):
        return False
    viol = q[~on] if positive else np.abs(q[~on])
    return bool(np.all(viol <= alpha + atol)
                and np.all(np.abs(q[on] - alpha * np.sign(C64[on])) <= atol))


def _check_lars_gram(op, case):
    X, D, alpha, positive, max_steps = case
    G = D @ D.T
    B = X @ D.T
    res = {}
    for engine in ("numpy", "numba"):
        C = np.full(B.shape, np.nan, dtype=X.dtype)  # the kernel must write every entry
        n_steps = np.full(X.shape[0], -1, dtype=np.int64)
        status = np.full(X.shape[0], -1, dtype=np.int64)
        quad = np.full(X.shape[0], -7.0)
        out = dispatch("lars_gram", G, B, C, alpha, positive, max_steps, n_steps, status,
                       quad, engine=engine)
        assert np.shares_memory(out, C)  # the codes are written in place and returned
        # quad = 1/2 c G c - c . b of the certified rows (NaN for the others)
        C64, G64, B64 = C.astype(np.float64), G.astype(np.float64), B.astype(np.float64)
        ref = 0.5 * np.einsum("ij,jk,ik->i", C64, G64, C64) - np.einsum("ij,ij->i", C64, B64)
        ok = status == 0
        assert np.all(np.isnan(quad[~ok]))
        q_scale = max(1.0, float(np.abs(B64).max()) * max(1.0, float(np.abs(C64).max())))
        np.testing.assert_allclose(quad[ok], ref[ok], rtol=1e-9,
                                   atol=1e3 * float(np.finfo(np.float64).eps) * q_scale
                                   * G.shape[0])
        res[engine] = (C, n_steps, status)
    (c_np, k_np, s_np), (c_nb, k_nb, s_nb) = res["numpy"], res["numba"]
    assert c_np.dtype == c_nb.dtype == X.dtype
    assert c_np.shape == c_nb.shape == B.shape
    assert np.all((k_np >= 0) & (k_np <= max_steps)) and np.all((s_np >= 0) & (s_np <= 3))
    assert np.all(np.isfinite(c_np)) and np.all(np.isfinite(c_nb))
    eps = float(np.finfo(X.dtype).eps)
    cond = float(np.linalg.cond(G.astype(np.float64)))  # <= 20 by construction
    scale = max(1.0, float(np.abs(c_np).max()), float(np.abs(X).max()))
    atol = ULPS * D.shape[0] * cond * eps * scale
    if positive:  # certified rows: joins are on the +lam side only, codes certified > 0
        assert np.all(c_np[s_np == 0] >= 0) and np.all(c_nb[s_nb == 0] >= 0)
    rtol = 1e-4 if X.dtype == np.float32 else 1e-6
    np.testing.assert_allclose(c_nb, c_np, rtol=rtol, atol=atol,
                               err_msg=f"lars_gram differs (alpha={alpha!r}, "
                                       f"positive={positive})")
    # Exact ties of events (a join exactly at alpha, several atoms reaching +-lam at
    # once): rounding decides the order, and one backend may take an extra zero-length
    # step, ending with an active code of exactly 0 that fails the certificate. The
    # status may differ only there: same codes, and both optimal.
    differ = s_nb != s_np
    if differ.any():
        g_scale = max(1.0, float(np.abs(G).max()))
        q_atol = ULPS * D.shape[0] * cond * eps * scale * g_scale * max(1.0, float(
            np.abs(B).max()))
        for c in (c_np, c_nb):
            assert _lasso_kkt_ok(G, B[differ], c[differ], alpha, positive, q_atol), (
                f"lars_gram status differs (numpy {s_np[differ]}, numba {s_nb[differ]}) "
                "away from a tie")
    if np.any(differ | (k_nb != k_np)):
        TIES[op] = TIES.get(op, 0) + int(np.sum(differ | (k_nb != k_np)))


# ----------------------------------------------------------------------------- optimal transport
# Inputs of the log-domain OT kernels: a cost M in [0, 1], the log kernel K = -M / reg with
# reg down to 1e-3 (K down to -1000) and finite scaled potentials u = f / reg, v = g / reg.

_OT_REG = st.sampled_from([1e-3, 2e-3, 1e-2]) | _floats(1e-3, 1.0)


@st.composite
def _ot_log_kernel(draw, max_n=8):
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_n))
    M = draw(hnp.arrays(np.float64, (n, m), elements=_floats(0.0, 1.0)))
    reg = draw(_OT_REG)
    return M * (-1.0 / reg), reg


def _cap_exponent(K, u, v, top):
    """Shift ``u`` so that ``max(u_i + v_j + K_ij) = top``.

    Plans of an OT solve have entries <= 1 (exponents <= 0); far above, ``exp`` overflows,
    where the NumPy reference gives ``inf`` and the clipped Numba exp ``exp(709)``.
    """
    return u + (top - float((u[:, None] + v[None, :] + K).max())), v


@st.composite
def _case_sinkhorn_log_iterations(draw):
    K, reg = draw(_ot_log_kernel())
    n, m = K.shape
    a = draw(hnp.arrays(np.float64, n, elements=_floats(1e-3, 1.0)))
    b = draw(hnp.arrays(np.float64, m, elements=_floats(1e-3, 1.0)))
    a, b = a / a.sum(), b / b.sum()
    # potentials: small, or of the size of the log kernel (the regime of small reg)
    lim = draw(st.sampled_from([1.0, 1.0 / reg]))
    u = draw(hnp.arrays(np.float64, n, elements=_floats(-lim, lim)))
    v = draw(hnp.arrays(np.float64, m, elements=_floats(-lim, lim)))
    u, v = _cap_exponent(K, u, v, draw(_floats(-50.0, 5.0)))
    tau = draw(st.just(1.0) | _floats(0.5, 1.0))  # tau < 1: the unbalanced damping
    n_iter = draw(st.integers(0, 6))
    tol = draw(st.just(-1.0) | _floats(0.0, 0.5))
    return K, u, v, a, b, tau, n_iter, tol


def _check_sinkhorn_log_iterations(op, case):
    K, u0, v0, a, b, tau, n_iter, tol = case
    res = {}
    for engine in ("numpy", "numba"):
        u, v = u0.copy(), v0.copy()
        done, err = dispatch(op, K, u, v, np.log(a), np.log(b), a, tau, tau, n_iter, tol,
                             engine=engine)
        res[engine] = (u, v, int(done), float(err))
    (u_np, v_np, k_np, e_np), (u_nb, v_nb, k_nb, e_nb) = res["numpy"], res["numba"]
    assert 0 <= k_np <= n_iter and 0 <= k_nb <= n_iter
    if k_np != k_nb:
        # early stop decided by rounding alone: the error of that iterate is at tol
        TIES[op] = TIES.get(op, 0) + 1
        assert min(abs(e_np - tol), abs(e_nb - tol)) <= 1e-9, (k_np, k_nb, e_np, e_nb, tol)
        return
    # u and v are log-sum-exps of terms of size |K| + |u| + |v|: rounding is relative to that
    scale = max(1.0, float(np.abs(K).max()), float(np.abs(u0).max()),
                float(np.abs(v0).max()))
    np.testing.assert_allclose(u_nb, u_np, rtol=1e-10, atol=1e-12 * scale)
    np.testing.assert_allclose(v_nb, v_np, rtol=1e-10, atol=1e-12 * scale)
    if n_iter == 0:
        assert e_np == e_nb == np.inf
    else:
        # err = sum |exp(u + lse) - a|: a relative rounding of the exponent, times the mass
        e_scale = max(1.0, e_np)
        np.testing.assert_allclose(e_nb, e_np, rtol=1e-10, atol=1e-12 * scale * e_scale)
    if 0 < k_np < n_iter:  # stopped early: the error of that iterate was at most tol
        assert e_np <= tol and e_nb <= tol


@st.composite
def _case_ot_plan(draw):
    K, reg = draw(_ot_log_kernel())
    n, m = K.shape
    lim = draw(st.sampled_from([1.0, 1.0 / reg]))
    u = draw(hnp.arrays(np.float64, n, elements=_floats(-lim, lim)))
    v = draw(hnp.arrays(np.float64, m, elements=_floats(-lim, lim)))
    return K, *_cap_exponent(K, u, v, draw(_floats(-50.0, 5.0)))


def _check_ot_plan(op, case):
    K, u, v = case
    res = {}
    for engine in ("numpy", "numba"):
        out = np.full(K.shape, np.nan)
        r, c = dispatch(op, K, u, v, out, engine=engine)
        assert not np.isnan(out).any()  # the kernel writes every entry
        res[engine] = (out, np.asarray(r), np.asarray(c))
    (P_np, r_np, c_np), (P_nb, r_nb, c_nb) = res["numpy"], res["numba"]
    # the exponent u_i + v_j + K_ij carries a rounding relative to its terms; the numba exp
    # clips arguments below -708 (values < 1e-307 instead of 0 or subnormal)
    scale = max(1.0, float(np.abs(K).max()), float(np.abs(u).max()), float(np.abs(v).max()))
    rtol = 1e-13 + 8 * np.finfo(np.float64).eps * scale
    np.testing.assert_allclose(P_nb, P_np, rtol=rtol, atol=1e-300)
    assert np.all(np.isfinite(P_nb) | np.isinf(P_np))  # inf only where the true value is
    np.testing.assert_allclose(r_nb, r_np, rtol=rtol, atol=1e-300)
    np.testing.assert_allclose(c_nb, c_np, rtol=rtol, atol=1e-300)
    # the returned sums are those of the plan written to ``out``
    np.testing.assert_allclose(r_nb, P_nb.sum(axis=1), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(c_nb, P_nb.sum(axis=0), rtol=1e-13, atol=1e-300)


@st.composite
def _case_ot_sparsify(draw):
    n = draw(st.integers(1, 8))
    m = draw(st.integers(1, 8))
    # few distinct values: ties with the threshold are common
    P = draw(hnp.arrays(np.float64, (n, m),
                        elements=st.sampled_from([0.0, 1e-300, 1e-5, 0.25, 0.5, 1.0])
                        | _floats(0.0, 1.0)))
    thresh = draw(st.sampled_from(sorted(set(P.ravel().tolist())))
                  | _floats(0.0, 1.5) | st.just(0.0))
    return P, thresh


def _check_ot_sparsify(op, case):
    P, thresh = case
    res = {e: dispatch(op, P, thresh, engine=e) for e in ("numpy", "numba")}
    for (x_np, x_nb), dt in zip(zip(res["numpy"], res["numba"]),
                                (np.int64, np.int64, np.float64)):
        assert np.asarray(x_np).dtype == np.asarray(x_nb).dtype == dt
        np.testing.assert_array_equal(x_nb, x_np)  # a selection: exactly equal
    indptr, indices, data = res["numba"]
    dense = np.zeros_like(P)
    for i in range(P.shape[0]):
        dense[i, indices[indptr[i]:indptr[i + 1]]] = data[indptr[i]:indptr[i + 1]]
    np.testing.assert_array_equal(dense, np.where(P >= thresh, P, 0.0))
    assert indptr[-1] == np.count_nonzero(P >= thresh)


@st.composite
def _case_ot_sparsify_scaled(draw):
    P, thresh = draw(_case_ot_sparsify())
    n, m = P.shape
    alpha = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([1.0, 0.5, 2.0])
                            | _floats(1e-3, 1e3)))
    beta = draw(hnp.arrays(np.float64, m, elements=st.sampled_from([1.0, 0.5, 2.0])
                           | _floats(1e-3, 1e3)))
    return P, alpha, beta, thresh


def _check_ot_sparsify_scaled(op, case):
    Kt, alpha, beta, thresh = case
    res = {e: dispatch(op, Kt, alpha, beta, thresh, engine=e) for e in ("numpy", "numba")}
    for x_np, x_nb in zip(res["numpy"], res["numba"]):
        np.testing.assert_array_equal(x_nb, x_np)  # same products, same selection
    P = alpha[:, None] * Kt * beta[None, :]
    np.testing.assert_array_equal(np.diff(res["numba"][0]), (P >= thresh).sum(axis=1))


def _check_ot_scale_plan(op, case):
    Kt, alpha, beta, _ = case
    res = {}
    for e in ("numpy", "numba"):
        out = Kt.copy()
        r, c = dispatch(op, out, alpha, beta, engine=e)
        res[e] = (out, r, c)
    np.testing.assert_array_equal(res["numba"][0], alpha[:, None] * Kt * beta[None, :])
    np.testing.assert_array_equal(res["numpy"][0], res["numba"][0])
    for x_np, x_nb in zip(res["numpy"][1:], res["numba"][1:]):
        np.testing.assert_allclose(x_nb, x_np, rtol=1e-13, atol=1e-300)  # summation order


@st.composite
def _case_dict_bcd_sweep(draw):
    """Statistics A = C^T C, Bt = C^T X of random codes, a dictionary, some atoms skipped."""
    dtype = draw(st.sampled_from(DTYPES))
    n = draw(st.integers(1, 10))
    k = draw(st.integers(1, 6))
    f = draw(st.integers(1, 6))
    C = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from([0.0]) | _floats(-2, 2)))
    X = draw(hnp.arrays(np.float64, (n, f), elements=_floats(-2, 2)))
    D = draw(hnp.arrays(np.float64, (k, f), elements=_floats(-1, 1)))
    A = C.T @ C + np.eye(k) * draw(_floats(0.1, 1.0))
    skip = draw(hnp.arrays(np.bool_, k))
    positive = draw(st.booleans())
    unit = draw(st.booleans())
    return (D.astype(dtype), A.astype(dtype), (C.T @ X).astype(dtype), skip, positive, unit)


def _check_dict_bcd_sweep(op, case):
    D, A, Bt, skip, positive, unit = case
    out = {}
    for e in ("numpy", "numba"):
        Dc = D.copy()
        dispatch(op, Dc, A, Bt, skip, positive, unit, np.empty(D.shape[1]), engine=e)
        out[e] = Dc
    assert out["numba"].dtype == D.dtype
    rtol = 1e-10 if D.dtype == np.float64 else 2e-5
    rows = ~skip
    if unit:
        # an atom whose update cancels to round-off has no direction to normalise: the two
        # kernels may legitimately differ there, and so may every later atom (they use it)
        Dn = D.astype(np.float64)
        A64, B64 = A.astype(np.float64), Bt.astype(np.float64)
        for j in np.flatnonzero(~skip):
            raw = Dn[j] + (B64[j] - A64[j] @ Dn) / A64[j, j]
            if positive:
                raw = np.maximum(raw, 0.0)
            terms = (np.abs(B64[j]) + np.abs(A64[j]) @ np.abs(Dn)) / abs(A64[j, j])
            # the normalised direction carries a relative error ~ eps * |terms| / |raw|
            if np.linalg.norm(raw) <= 10 * np.finfo(D.dtype).eps / rtol * np.linalg.norm(terms):
                rows[j:] = False
                break
            Dn[j] = out["numpy"][j]
    np.testing.assert_allclose(out["numba"][rows], out["numpy"][rows], rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(out["numba"][skip], D[skip])  # skipped atoms untouched
    norms = np.linalg.norm(out["numba"][~skip].astype(np.float64), axis=1)
    assert np.all(norms <= 1 + 1e-5)


@st.composite
def _case_dict_stats_update(draw):
    dtype = draw(st.sampled_from(DTYPES))
    n = draw(st.integers(1, 10))
    k = draw(st.integers(1, 6))
    f = draw(st.integers(1, 6))
    A = draw(hnp.arrays(np.float64, (k, k), elements=_floats(-2, 2)))
    Bt = draw(hnp.arrays(np.float64, (k, f), elements=_floats(-2, 2)))
    C = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from([0.0]) | _floats(-2, 2)))
    X = draw(hnp.arrays(np.float64, (n, f), elements=_floats(-2, 2)))
    beta = draw(_floats(0.0, 1.0))
    scale = draw(_floats(1e-3, 1.0))
    return tuple(x.astype(dtype) for x in (A, Bt, C, X)) + (beta, scale)


def _check_dict_stats_update(op, case):
    A, Bt, C, X, beta, scale = case
    out = {}
    for e in ("numpy", "numba"):
        Ac, Bc = A.copy(), Bt.copy()
        dispatch(op, Ac, Bc, C, X, beta, scale, np.empty(A.shape[0], dtype=np.int64), engine=e)
        out[e] = (Ac, Bc)
    rtol = 1e-12 if A.dtype == np.float64 else 1e-5
    for x_np, x_nb in zip(out["numpy"], out["numba"]):
        np.testing.assert_allclose(x_nb, x_np, rtol=rtol, atol=10 * rtol)


@st.composite
def _case_ot_newton_cg(draw):
    """A sparsified plan S with diagonals above its row/column sums: SPD, well conditioned."""
    n = draw(st.integers(1, 8))
    m = draw(st.integers(1, 8))
    P = draw(hnp.arrays(np.float64, (n, m), elements=_floats(0.0, 1.0)))
    keep = draw(hnp.arrays(np.bool_, (n, m)))
    S = np.where(keep, P, 0.0)
    margin = draw(_floats(0.05, 1.0))
    r = P.sum(axis=1) + margin
    c = P.sum(axis=0) + margin
    ga = draw(hnp.arrays(np.float64, n, elements=_floats(-1.0, 1.0)))
    gb = draw(hnp.arrays(np.float64, m, elements=_floats(-1.0, 1.0)))
    rtol = draw(st.sampled_from([1e-12, 1e-10, 1e-8, 1e-6]))
    maxiter = draw(st.integers(0, 3 * (n + m)))
    return S, r, c, ga, gb, rtol, maxiter


def _csr(S):
    rows, cols = np.nonzero(S)
    indptr = np.zeros(S.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.count_nonzero(S, axis=1), out=indptr[1:])
    return indptr, cols.astype(np.int64), S[rows, cols]


def _check_ot_newton_cg(op, case):
    S, r, c, ga, gb, rtol, maxiter = case
    n, m = S.shape
    indptr, indices, data = _csr(S)
    res = {}
    for engine in ("numpy", "numba"):
        da, db, it = dispatch(op, indptr, indices, data, r, c, ga, gb, rtol, maxiter,
                              engine=engine)
        assert da.shape == (n,) and db.shape == (m,)
        assert 0 <= int(it) <= maxiter
        res[engine] = (np.concatenate([da, db]), int(it))
    (x_np, k_np), (x_nb, k_nb) = res["numpy"], res["numba"]
    H = np.block([[np.diag(r), S], [S.T, np.diag(c)]])
    g = np.concatenate([ga, gb])
    x_ref = np.linalg.solve(H, g)
    cond = float(np.linalg.cond(H))  # <= (1 + 2 max sum) / margin: moderate
    if k_np == maxiter or k_nb == maxiter:
        # capped (or converged exactly at the cap): the same iterates up to rounding
        if k_np == k_nb:
            np.testing.assert_allclose(x_nb, x_np, rtol=1e-8,
                                       atol=1e-10 * max(1.0, np.abs(x_np).max()))
        return
    # both stopped at the residual test: each within rtol (times cond) of the solution
    g_norm = float(np.linalg.norm(g))
    for x in (x_np, x_nb):
        assert np.linalg.norm(H @ x - g) <= rtol * g_norm * (1 + 1e-6) + 1e-14
    tol_x = 2 * cond * rtol * np.linalg.norm(x_ref) + 1e-13
    assert np.linalg.norm(x_nb - x_ref) <= tol_x
    assert np.linalg.norm(x_nb - x_np) <= 2 * tol_x
    assert abs(k_nb - k_np) <= 1  # the same iteration up to a tie at the residual test


def _check_prox(op, case):
    _assert_conform(op, *case)


#: op -> (hypothesis strategy of a case, a fixed example, the check of a case)
CASES = {
    "prox_l1": (_case_l1(), lambda: (L1(0.5), 1.0, np.linspace(-2, 2, 9)), _check_prox),
    "prox_l0": (_case_l0(), lambda: (L0(0.5), 1.0, np.linspace(-2, 2, 9)), _check_prox),
    "prox_elasticnet": (_case_elasticnet(),
                        lambda: (ElasticNet(1.0, 0.5), 1.0, np.linspace(-2, 2, 9)), _check_prox),
    "prox_lhalf": (_case_lhalf(),
                   lambda: (Lq(0.5, q=0.5), 1.0, np.linspace(-2, 2, 9)), _check_prox),
    "prox_ltwothirds": (_case_ltwothirds(),
                        lambda: (Lq(0.5, q=2 / 3), 1.0, np.linspace(-2, 2, 9)), _check_prox),
    "prox_lq": (_case_lq(), lambda: (Lq(0.5, q=0.3), 1.0, np.linspace(-2, 2, 9)), _check_prox),
    "prox_cel0": (_case_cel0(),
                  lambda: (CEL0(0.5, a=[0.5, 1.0, 1.5]), 0.3,
                           np.linspace(-2, 2, 12).reshape(4, 3)), _check_prox),
    "prox_mcp": (_case_mcp(), lambda: (MCP(1.0, 3.0), 1.0, np.linspace(-4, 4, 9)), _check_prox),
    "prox_scad": (_case_scad(),
                  lambda: (SCAD(1.0, 3.7), 1.0, np.linspace(-5, 5, 11)), _check_prox),
    "prox_log": (_case_log(), lambda: (Log(1.0, 0.5), 1.0, np.linspace(-3, 3, 13)), _check_prox),
    "prox_box": (_case_box(), lambda: (Box(-1.0, 0.5), 1.0, np.linspace(-2, 2, 9)), _check_prox),
    "prox_group_l2": (_case_group_l2(),
                      lambda: (GroupL21(0.5, groups=2), 1.0,
                               np.linspace(-2, 2, 12).reshape(3, 4)), _check_prox),
    "prox_ksupport": (_case_ksupport(),
                      lambda: (KSupport(0.5, k=2), 1.0,
                               np.linspace(-2, 2, 12).reshape(3, 4)), _check_prox),
    # L1 runs the specialised cd_gram_l1 kernel; every other separable penalty cd_gram
    "cd_gram": (_case_cd_gram().filter(lambda c: not isinstance(c[2], L1)),
                lambda: (np.linspace(-2, 2, 24).reshape(4, 6), np.eye(3, 6) + 0.1,
                         MCP(0.3, gamma=3.0), False, 3), _check_cd_gram),
    "cd_gram_l1": (_case_cd_gram().map(
                       lambda c: (c[0], c[1], L1(float(getattr(c[2], "alpha", 0.5))), c[3],
                                  c[4])),
                   lambda: (np.linspace(-2, 2, 24).reshape(4, 6), np.eye(3, 6) + 0.1, L1(0.3),
                            False, 3), _check_cd_gram),
    "omp_gram": (_case_omp_gram(),
                 lambda: (np.linspace(-2, 2, 24).reshape(4, 6), np.eye(3, 6) + 0.1, 2, -1.0),
                 _check_omp_gram),
    "lars_gram": (_case_lars_gram(),
                  lambda: (np.linspace(-2, 2, 24).reshape(4, 6), np.eye(3, 6) + 0.1, 0.3, False,
                           100), _check_lars_gram),
    "topk_threshold": (_case_topk(),
                       lambda: (np.linspace(-2, 2, 12).reshape(3, 4), 2), _check_topk),
    "sinkhorn_log_iterations": (
        _case_sinkhorn_log_iterations(),
        lambda: (np.linspace(0.0, 1.0, 12).reshape(3, 4) * -1e3, np.zeros(3), np.zeros(4),
                 np.full(3, 1 / 3), np.full(4, 1 / 4), 1.0, 5, -1.0),
        _check_sinkhorn_log_iterations),
    "ot_plan": (_case_ot_plan(),
                lambda: (np.linspace(0.0, 1.0, 12).reshape(3, 4) * -1e3, np.linspace(0, 5, 3),
                         np.linspace(-1, 1, 4)), _check_ot_plan),
    "ot_sparsify": (_case_ot_sparsify(),
                    lambda: (np.linspace(0.0, 1.0, 12).reshape(3, 4), 0.5), _check_ot_sparsify),
    "ot_sparsify_scaled": (_case_ot_sparsify_scaled(),
                           lambda: (np.linspace(0.0, 1.0, 12).reshape(3, 4), np.ones(3),
                                    np.full(4, 2.0), 0.5), _check_ot_sparsify_scaled),
    "ot_scale_plan": (_case_ot_sparsify_scaled(),
                      lambda: (np.linspace(0.0, 1.0, 12).reshape(3, 4), np.ones(3),
                               np.full(4, 2.0), 0.5), _check_ot_scale_plan),
    "dict_bcd_sweep": (_case_dict_bcd_sweep(),
                       lambda: (np.eye(2, 3) * 0.5, np.eye(2) * 2.0, np.ones((2, 3)),
                                np.array([False, True]), False, False), _check_dict_bcd_sweep),
    "dict_stats_update": (_case_dict_stats_update(),
                          lambda: (np.eye(2), np.ones((2, 3)), np.eye(3, 2), np.ones((3, 3)),
                                   0.5, 0.25), _check_dict_stats_update),
    "ot_newton_cg": (_case_ot_newton_cg(),
                     lambda: (np.eye(3, 4) * 0.5, np.full(3, 1.0), np.full(4, 0.75),
                              np.linspace(-1, 1, 3), np.linspace(1, -1, 4), 1e-10, 50),
                     _check_ot_newton_cg),
}

# ----------------------------------------------------------------------------- helpers


def _prox_objective(pen, step, z, x):
    """``1/2 ||z - x||^2 + step * value(z)`` per element (separable) or per row (group)."""
    z64 = np.asarray(z, dtype=np.float64)
    x64 = np.asarray(x, dtype=np.float64)
    if pen.is_separable:
        vals = pen.value(z64.reshape(-1, 1), per_row=True)
        return 0.5 * (z64.ravel() - x64.ravel()) ** 2 + step * vals
    z2 = z64.reshape(-1, z64.shape[-1])
    x2 = x64.reshape(-1, x64.shape[-1])
    return 0.5 * ((z2 - x2) ** 2).sum(axis=1) + step * pen.value(z2, per_row=True)


def _assert_conform(op, pen, step, x):
    out_np = pen.prox(x, step, engine="numpy")
    out_nb = pen.prox(x, step, engine="numba")
    assert out_np.dtype == x.dtype, f"numpy kernel returned {out_np.dtype} for {x.dtype}"
    assert out_nb.dtype == x.dtype, f"numba kernel returned {out_nb.dtype} for {x.dtype}"
    assert out_np.shape == x.shape and out_nb.shape == x.shape
    if x.size == 0:
        return
    dtype = x.dtype.type
    eps = float(np.finfo(dtype).eps)
    scale = max(1.0, float(np.max(np.abs(x))))
    atol = ULPS * eps * scale
    close = np.isclose(out_nb.astype(np.float64), out_np.astype(np.float64),
                       rtol=RTOL[dtype], atol=atol)
    if close.all():
        return
    # Disagreement: accept only exact ties of the prox objective (both outputs optimal).
    f_np = _prox_objective(pen, step, out_np, x)
    f_nb = _prox_objective(pen, step, out_nb, x)
    x64 = np.asarray(x, dtype=np.float64)
    if pen.is_separable:
        bad = ~close.ravel()
        f_scale = 1.0 + 0.5 * x64.ravel() ** 2
    else:
        bad = ~close.reshape(-1, x.shape[-1]).all(axis=1)
        f_scale = 1.0 + 0.5 * (x64.reshape(-1, x.shape[-1]) ** 2).sum(axis=1)
    tie = np.abs(f_np - f_nb) <= 16 * eps * f_scale
    not_tie = bad & ~tie
    if not_tie.any():
        i = int(np.flatnonzero(not_tie)[0])
        flat_x = x64.reshape(len(bad), -1)
        raise AssertionError(
            f"{op}: numba and numpy kernels differ for {pen!r}, step={step!r}, "
            f"dtype={x.dtype}, at input {flat_x[i]!r}: numpy -> "
            f"{out_np.reshape(len(bad), -1)[i]!r}, numba -> {out_nb.reshape(len(bad), -1)[i]!r}"
            f" (prox objectives {f_np[i]!r} vs {f_nb[i]!r})"
        )
    TIES[op] = TIES.get(op, 0) + int(bad.sum())


# ----------------------------------------------------------------------------- tests


def test_every_numba_kernel_has_a_conformance_case():
    ops = set(list_kernels("numba"))
    assert ops, "no Numba kernel registered"
    missing = ops - set(CASES)
    assert not missing, (
        f"Numba kernels without a conformance case in {__file__}: {sorted(missing)}. "
        "Add an entry to CASES."
    )


def test_numba_kernels_do_not_promote_with_float():
    """``float(x[i])`` of a float32 element stays float32 in Numba (docs/dev/architecture.rst,
    "Rules for kernels"): the kernels promote with ``np.float64``."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "sparsopt" / "backends" / "_numba"
    pattern = re.compile(r"(?<![\w.])float\(\s*\w+\[")
    hits = [f"{path.name}:{no}" for path in sorted(root.glob("*.py"))
            for no, line in enumerate(path.read_text().splitlines(), 1)
            if pattern.search(line)]
    assert not hits, f"float(array[...]) in Numba kernels (use np.float64): {hits}"


# each kernel family may keep its cases in tests/backends/_cases_<family>.py
for _family in ("bcd", "completion", "glm_cd", "prox_newton", "prosper", "pruning", "spright",
                "trees", "unfolding", "wht"):
    CASES.update(importlib.import_module(f"tests.backends._cases_{_family}").CASES)


@pytest.mark.parametrize("op", sorted(CASES))
def test_case_dispatches_to_its_op(op, monkeypatch):
    """The fixed example of each case really runs the kernel it claims to test."""
    calls = []
    real = _registry.get_kernel

    def spy(name, backend):
        calls.append((name, backend))
        return real(name, backend)

    monkeypatch.setattr(_registry, "get_kernel", spy)
    _, example, check = CASES[op]
    check(op, example())
    assert {name for name, _ in calls} == {op}, calls
    assert {backend for _, backend in calls} == {"numpy", "numba"}


@pytest.mark.parametrize("op", sorted(CASES))
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_numba_kernel_matches_numpy_reference(op, data):
    strategy, _, check = CASES[op]
    check(op, data.draw(strategy, label="case"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pen, step", [
    (L0(0.3), 1.0),       # hard threshold sqrt(0.6) is not a float32
    (Lq(0.3, q=0.5), 0.7),
    (Log(2.0, 0.1), 0.5),
])
def test_inputs_at_a_jump_are_ties_not_errors(pen, step, dtype):
    """At the jump of a discontinuous prox both backends return an optimal point.

    The inputs are the floats of ``dtype`` around the jump threshold, located by
    bisection on the NumPy kernel; whichever branch each backend picks there, the
    prox objective of its output must be minimal up to rounding.
    """
    lo, hi = 1e-6, 10.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if pen.prox(np.array([mid]), step, engine="numpy")[0] == 0.0:
            lo = mid
        else:
            hi = mid
    t = np.asarray(lo, dtype=dtype)
    xs = [t]
    for _ in range(3):
        xs.append(np.nextafter(xs[-1], dtype(np.inf)))
        xs.insert(0, np.nextafter(xs[0], dtype(0)))
    x = np.array(xs, dtype=dtype)
    x = np.concatenate([x, -x])
    op = {L0: "prox_l0", Lq: "prox_lhalf", Log: "prox_log"}[type(pen)]
    _assert_conform(op, pen, step, x)  # disagreements there must be exact ties
    for engine in ("numpy", "numba"):
        out = pen.prox(x, step, engine=engine)
        f = _prox_objective(pen, step, out, x)
        x64 = x.astype(np.float64)
        f_zero = 0.5 * x64**2
        # the better of the two branches, evaluated in float64 at each input
        f_keep = _prox_objective(pen, step, pen.prox(x64, step, engine="numpy"), x64)
        best = np.minimum(f_zero, f_keep)
        eps = float(np.finfo(dtype).eps)
        assert np.all(f <= best + 16 * eps * (1 + f_zero)), (engine, x, out)
