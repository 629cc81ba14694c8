"""Conformance cases of the matrix-completion kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``.

Patterns are random sparsity patterns of up to 9 x 12 matrices (empty rows included),
factors of rank 1 to 5, float32 and float64. The NumPy references solve each row
through an SVD (the Numba kernels through normal equations and Cholesky, or a
Householder QR of the sketch), so agreement checks the derivation, not a transcription.
Both backends are also run on a block of rows (``indptr[a:b+1]``, as the threaded
callers do) and must give the same rows.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.backends import dispatch
from sparsopt.backends._numba.completion import _PREC_FLOOR
from sparsopt.backends._numpy.completion import sketch_matrix

DTYPES = (np.float32, np.float64)


def _floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False,
                     width=32)


def _values(lo, hi):
    """Floats with no tiny nonzero magnitudes (a 1e-45 regressor makes a solution beyond
    float32's range: a true overflow, not a kernel disagreement)."""
    return _floats(lo, hi).map(lambda v: v if abs(v) >= 1e-3 else 0.0)


@st.composite
def _pattern(draw):
    m = draw(st.integers(1, 9))
    n = draw(st.integers(1, 12))
    k = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from(DTYPES))
    dens = draw(_floats(0.0, 1.0))
    mask = draw(hnp.arrays(np.float64, (m, n), elements=_floats(0.0, 1.0))) < dens
    vals = draw(hnp.arrays(np.float64, (m, n), elements=_values(-5.0, 5.0)))
    F = draw(hnp.arrays(np.float64, (n, k), elements=_values(-3.0, 3.0))).astype(dtype)
    U = draw(hnp.arrays(np.float64, (m, k), elements=_values(-3.0, 3.0))).astype(dtype)
    rows, cols = np.nonzero(mask)
    indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64)
    return indptr, cols.astype(np.int32), vals[rows, cols].astype(dtype), F, U


@st.composite
def _case_normal(draw):
    pat = draw(_pattern())
    ridge = draw(st.sampled_from([0.0, 1e-12, 1e-3]))
    reg = draw(st.sampled_from([0.0, 0.5]))
    return pat, ridge, reg


def _tols(dtype, scale):
    if dtype == np.float32:
        return dict(rtol=2e-3, atol=2e-3 * scale)
    return dict(rtol=1e-7, atol=1e-7 * scale)


def _well_posed_rows(indptr, indices, F, lam_rel, reg):
    """Rows whose ridge problem is well conditioned (compare those tightly)."""
    ok = []
    k = F.shape[1]
    for i in range(indptr.size - 1):
        A = F[indices[indptr[i]:indptr[i + 1]]].astype(np.float64)
        s = np.linalg.svd(A, compute_uv=False) if A.size else np.zeros(0)
        smin2 = (s[-1] ** 2 if s.size == k else 0.0)
        lam = reg + lam_rel * float((A * A).sum()) / k
        ok.append(smin2 + lam > 1e-3 * (1.0 + (s[0] ** 2 if s.size else 0.0)))
    return np.array(ok, dtype=bool)


def _ridge_rows(indptr, indices, data, F, ridge, reg):
    """Each row's ridge solution by ``lstsq`` on the stacked ``[A; sqrt(lam) I]``."""
    k = F.shape[1]
    out = np.zeros((indptr.size - 1, k))
    for i in range(indptr.size - 1):
        A = F[indices[indptr[i]:indptr[i + 1]]].astype(np.float64)
        y = data[indptr[i]:indptr[i + 1]].astype(np.float64)
        lam = reg + ridge * float((A * A).sum()) / k
        if lam == 0.0 and not A.any():
            continue
        Ab = np.vstack([A, np.sqrt(lam) * np.eye(k)])
        out[i] = np.linalg.lstsq(Ab, np.concatenate([y, np.zeros(k)]), rcond=None)[0]
    return out


def _run_solve(op, args_before_out, pat, engine, block=None):
    indptr, indices, data, F, _ = pat
    m, k = indptr.size - 1, F.shape[1]
    out = np.zeros((m, k), dtype=data.dtype)
    if block is None:
        dispatch(op, indptr, indices, data, F, *args_before_out, out, engine=engine)
    else:
        a, b = block
        dispatch(op, indptr[a:b + 1], indices, data, F, *args_before_out, out[a:b],
                 engine=engine)
    return out


def _check_normal(op, case):
    pat, ridge, reg = case
    indptr, indices, data, F, _ = pat
    ok = _well_posed_rows(indptr, indices, F, ridge, reg)
    res = {e: _run_solve(op, (ridge, reg), pat, e) for e in ("numpy", "numba")}
    assert res["numba"].dtype == data.dtype
    assert np.all(np.isfinite(res["numba"]))
    scale = 1.0 + float(np.abs(res["numpy"][ok]).max(initial=0.0))
    np.testing.assert_allclose(res["numba"][ok], res["numpy"][ok], **_tols(data.dtype, scale))
    m = indptr.size - 1
    if m >= 2:  # a block of rows, as the threaded callers run it
        a, b = 1, m
        blk = _run_solve(op, (ridge, reg), pat, "numba", block=(a, b))
        np.testing.assert_array_equal(blk[a:b], res["numba"][a:b])


@st.composite
def _case_sketch(draw):
    pat = draw(_pattern())
    k = pat[3].shape[1]
    s = draw(st.integers(k + 1, k + 4))
    n_iter = draw(st.integers(0, 6))
    kind = draw(st.sampled_from([0, 1]))
    seed = draw(st.integers(0, 2**40))
    reg = draw(st.sampled_from([0.0, 0.5]))
    warm = draw(st.booleans())
    return pat, 1e-10, reg, s, n_iter, seed, kind, warm


#: largest condition number of the preconditioned system for which k + 1 CG steps (the
#: kernels work in float64) are compared as converged: eps64 * kappa <= 1e-12. Measured on
#: ~19,000 sketched well-posed rows at n_iter = k + 1: the error to the exact ridge solution
#: stays below 5e-11 up to kappa 1e5, then reaches 1e-6 .. 1e-1 for kappa 3e5 .. 5e6.
_CG_KAPPA_MAX = 1e-12 / np.finfo(np.float64).eps


def _cg_converging_rows(indptr, indices, F, ridge, reg, s, seed, kind):
    """Rows whose ``n_iter > k`` CG iterate is the ridge solution to rounding (compare those
    tightly).

    CG on k unknowns is exact after k steps in exact arithmetic only. In floating point it
    takes more steps when the preconditioned matrix ``R^-T (A^T A + lam I) R^-1`` is ill
    conditioned: a CountSketch with ``s = k + 1`` buckets can merge columns of ``A`` (``S A``
    of rank < k), ``R`` is then held up only by the preconditioner's damping floor
    (``_PREC_FLOOR``), kappa reaches ~1e6 through one outlying eigenvalue and CG loses
    orthogonality. Its ``k + 1``-st iterate is then off the solution by up to 1e-1 and
    moves by as much for a one-ulp change of the data (the solution itself, with
    ``cond(A^T A + lam I)`` ~ 10, by 1e-15): both backends are right to rounding of a
    sensitive quantity, and both reach the solution a few steps later. Rows solved
    directly (``|row| <= s``, or no damping at all) always count as converging.
    """
    k = F.shape[1]
    s = max(int(s), k + 1)
    ok = []
    for i in range(indptr.size - 1):
        A = F[indices[indptr[i]:indptr[i + 1]]].astype(np.float64)
        tr = float((A * A).sum())
        lam = reg + ridge * tr / k
        lam_p = max(lam, _PREC_FLOOR * tr / k)
        if A.shape[0] <= s or lam_p == 0.0:
            ok.append(True)
            continue
        SA = sketch_matrix(seed, np.arange(indptr[i], indptr[i + 1]), s, kind) @ A
        R = np.linalg.qr(np.vstack([SA, np.sqrt(lam_p) * np.eye(k)]), mode="r")
        damped = np.vstack([A, np.sqrt(lam) * np.eye(k)])
        AR = np.linalg.solve(R.T, damped.T).T  # [A; sqrt(lam) I] R^-1
        sv = np.linalg.svd(AR, compute_uv=False)
        ok.append(sv[-1] > 0 and (sv[0] / sv[-1]) ** 2 <= _CG_KAPPA_MAX)
    return np.array(ok, dtype=bool)


def _damped(indptr, indices, data, F, ridge, reg, W):
    """Each row's damped objective ``||y - A w||^2 + lam ||w||^2`` (float64)."""
    k = F.shape[1]
    out = np.zeros(indptr.size - 1)
    for i in range(indptr.size - 1):
        A = F[indices[indptr[i]:indptr[i + 1]]].astype(np.float64)
        y = data[indptr[i]:indptr[i + 1]].astype(np.float64)
        lam = reg + ridge * float((A * A).sum()) / k
        w = W[i].astype(np.float64)
        out[i] = float(np.sum((y - A @ w) ** 2) + lam * w @ w)
    return out


def _check_sketch(op, case):
    """The start (sketch-and-solve, n_iter=0), the first CG step and the converged
    solution (n_iter > k, on the rows where floating-point CG converges in that many steps:
    ``_cg_converging_rows``) are compared tightly; in between (and on the other rows), a
    near-breakdown CG step or a loss of orthogonality can amplify rounding (both backends
    are right to rounding of a sensitive quantity), so there each backend must only have
    decreased the damped objective from its start."""
    pat, ridge, reg, s, n_iter, seed, kind, warm = case
    indptr, indices, data, F, U = pat
    k = F.shape[1]

    def run(engine, iters):
        out = U.copy()  # the warm start
        dispatch(op, indptr, indices, data, F, ridge, reg, s, iters, seed, kind, warm, out,
                 engine=engine)
        return out

    res = {e: run(e, n_iter) for e in ("numpy", "numba")}
    assert res["numba"].dtype == data.dtype
    assert np.all(np.isfinite(res["numba"]))
    ok = _well_posed_rows(indptr, indices, F, ridge, reg)
    tight = ok.copy() if n_iter <= 1 else np.zeros_like(ok)
    if n_iter > k:
        tight = ok & _cg_converging_rows(indptr, indices, F, ridge, reg, s, seed, kind)
    scale = 1.0 + float(np.abs(res["numpy"][ok]).max(initial=0.0))
    np.testing.assert_allclose(res["numba"][tight], res["numpy"][tight],
                               **_tols(data.dtype, scale))
    loose = ok & ~tight
    if loose.any():
        for engine in ("numpy", "numba"):
            start = run(engine, 0)
            f0 = _damped(indptr, indices, data, F, ridge, reg, start)
            f1 = _damped(indptr, indices, data, F, ridge, reg, res[engine])
            slack = 1e-4 if data.dtype == np.float32 else 1e-9
            assert np.all(f1[loose] <= f0[loose] * (1 + slack) + slack), (engine, f0, f1)
    if n_iter > k and data.dtype == np.float64:
        # CG on k unknowns is exact after k steps (to rounding where it converges)
        exact = _ridge_rows(indptr, indices, data, F, ridge, reg)
        np.testing.assert_allclose(res["numba"][tight], exact[tight], rtol=1e-6,
                                   atol=1e-6 * scale)


@st.composite
def _case_residual(draw):
    return draw(_pattern())


def _check_residual(op, case):
    indptr, indices, data, F, U = case
    out = {}
    tot = {}
    for engine in ("numpy", "numba"):
        o = np.full(data.size, np.nan, dtype=data.dtype)
        tot[engine] = float(dispatch(op, indptr, indices, data, U, F, o, engine=engine))
        out[engine] = o
    scale = 1.0 + float(np.abs(data).max(initial=0.0)) + 9 * 5
    np.testing.assert_allclose(out["numba"], out["numpy"], **_tols(data.dtype, scale))
    np.testing.assert_allclose(tot["numba"], tot["numpy"], rtol=1e-6, atol=1e-9)
    assert out["numba"].dtype == data.dtype


def _example():
    rng = np.random.default_rng(0)
    mask = rng.random((6, 8)) < 0.7
    rows, cols = np.nonzero(mask)
    indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64)
    data = rng.standard_normal(rows.size)
    F = rng.standard_normal((8, 2))
    U = rng.standard_normal((6, 2))
    return indptr, cols.astype(np.int32), data, F, U


CASES = {
    "als_normal_solve": (_case_normal(), lambda: (_example(), 1e-12, 0.0), _check_normal),
    "als_sketch_solve": (_case_sketch(),
                         lambda: (_example(), 1e-10, 0.0, 3, 4, 7, 0, False), _check_sketch),
    "als_residual": (_case_residual(), _example, _check_residual),
}
