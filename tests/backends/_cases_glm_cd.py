"""Conformance cases of the ``glm_cd`` kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``.

Both working-set coordinate-descent kernels run on small random problems (float32 and
float64, a random working set, every separable penalty kind through its spec: l1, elastic
net, MCP, SCAD, log, l0, l1/2, l2/3, lq, CEL0 and a box, alone or under the non-negative
orthant, with and without Anderson acceleration, both stopping tests). Short runs (1 or 3
epochs: no extrapolation yet) follow the same arithmetic and are compared tightly; the kinds
with a discontinuous prox (l0, lq, CEL0, log) run in float64 only (a float32 rounding
difference can flip a threshold decision). Long runs (60 epochs, Anderson on) use a strictly
convex objective (elastic net with an l2 strength ``>= 0.1``), so that the two backends, even if
rounding makes them take a different accept/reject decision for an extrapolated point,
approach the same unique minimiser; they are compared loosely (float32: objectives only, to
1e-2), and their objectives must be within rounding of each other. The score kernel (float64
only: the solver passes float64 gradients) is compared to 1e-12.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sparsopt.backends import _kinds as K
from sparsopt.backends import dispatch
from sparsopt.backends._numpy.glm_cd import pen_values

DTYPES = (np.float32, np.float64)
CONTINUOUS = (K.KIND_L1, K.KIND_ELASTICNET, K.KIND_MCP, K.KIND_SCAD, K.KIND_BOX)
DISCONTINUOUS = (K.KIND_L0, K.KIND_LHALF, K.KIND_LTWOTHIRDS, K.KIND_LQ, K.KIND_CEL0, K.KIND_LOG)


@st.composite
def _spec(draw, kind, lc_min=None):
    """``(kind, params, lower, upper)`` of a random penalty of that kind."""
    lam = draw(_floats(0.0, 1.0))
    lower = draw(st.sampled_from([-np.inf, 0.0]))
    upper = np.inf
    if kind == K.KIND_ELASTICNET:
        params = [lam, draw(_floats(0.0, 1.0))]
    elif kind in (K.KIND_MCP, K.KIND_SCAD):
        params = [lam, draw(_floats(2.5, 6.0))]  # made admissible for the steps in _fit_params
    elif kind == K.KIND_LQ:
        params = [lam, draw(st.sampled_from([0.3, 0.7, 0.9]))]
    elif kind == K.KIND_LOG:
        params = [lam, draw(_floats(0.1, 2.0))]
    elif kind == K.KIND_BOX:
        lo = draw(_floats(-1.0, 0.0))
        params = [lo, lo + draw(_floats(0.0, 2.0))]
        lower, upper = params
    else:
        params = [lam]
    return kind, np.array(params, dtype=np.float64), float(lower), float(upper)


def _fit_params(case, lc):
    """Make MCP's ``gamma > 1 / L_j`` and SCAD's ``gamma > 1 + 1 / L_j`` hold."""
    kind, params = case["kind"], case["params"].copy()
    pos = np.asarray(lc, dtype=np.float64)
    pos = pos[pos > 0]
    if kind in (K.KIND_MCP, K.KIND_SCAD) and pos.size:
        params[1] = max(params[1], 1.5 / pos.min() + 1.5)
    return params


def _floats(lo, hi):
    lo, hi = float(np.float32(lo)), float(np.float32(hi))
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False,
                     width=32)


@st.composite
def _problem(draw, sparse):
    dtype = draw(st.sampled_from(DTYPES))
    n = draw(st.integers(1, 10))
    p = draw(st.integers(1, 7))
    elem = st.sampled_from([0.0]) | _floats(-2, 2) if sparse else _floats(-2, 2)
    X = draw(hnp.arrays(np.float64, (n, p), elements=elem))
    # a column of norm ~1e-16 turns one ulp of the residual into a coefficient of order 1:
    # columns are zero or of reasonable norm (the solver's problems are scaled by n anyway)
    sq = np.einsum("ij,ij->j", X, X)
    assume(np.all((sq == 0) | (sq >= 1e-6)))
    y = draw(hnp.arrays(np.float64, n, elements=_floats(-3, 3)))
    w = draw(hnp.arrays(np.float64, p, elements=st.sampled_from([0.0]) | _floats(-1, 1)))
    mask = draw(hnp.arrays(np.bool_, p))
    ws = np.flatnonzero(mask)
    if ws.size == 0:
        ws = np.array([0])
    long_run = draw(st.booleans())
    if long_run:  # strictly convex: the elastic net with l2 strength >= 0.1
        lam = draw(_floats(0.1, 2.0))
        ratio = draw(_floats(0.0, 1.0 - 0.1 / float(lam)))
        kind, params = K.KIND_ELASTICNET, np.array([lam, ratio])
        lower, upper = draw(st.sampled_from([(-np.inf, np.inf), (0.0, np.inf)]))
        epochs, K_ = 60, 5
    else:
        kind = draw(st.sampled_from(CONTINUOUS + DISCONTINUOUS))
        kind, params, lower, upper = draw(_spec(kind))
        epochs, K_ = draw(st.sampled_from([1, 3])), draw(st.sampled_from([0, 5]))
        if kind in DISCONTINUOUS:
            dtype = np.float64
    w = np.clip(w, lower, upper)
    center = sparse and draw(st.booleans())
    v = draw(hnp.arrays(np.float64, n, elements=_floats(0.5, 1.5))) if center else np.ones(n)
    mu = (draw(hnp.arrays(np.float64, p, elements=_floats(-1, 1))) if center
          else np.zeros(p))
    return dict(X=X.astype(dtype), y=y.astype(dtype), w=w.astype(dtype), ws=ws.astype(np.int64),
                kind=int(kind), params=params, lower=float(lower), upper=float(upper),
                epochs=epochs, K=K_, crit_mode=draw(st.integers(0, 1)),
                check_offset=draw(st.integers(0, 1)), long_run=long_run,
                center=center, v=v.astype(dtype), mu=mu.astype(dtype))


def _example(sparse):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 5))
    if sparse:
        X[rng.random(X.shape) < 0.4] = 0.0
    return dict(X=X, y=rng.standard_normal(8), w=np.zeros(5), ws=np.array([0, 2, 3, 4]),
                kind=K.KIND_ELASTICNET, params=np.array([0.3, 1.0 / 3.0]), lower=-np.inf,
                upper=np.inf, epochs=60, K=5, crit_mode=0, check_offset=0, long_run=True,
                center=sparse, v=np.ones(8), mu=(rng.standard_normal(5) if sparse else np.zeros(5)))


def _objective(case, w, R_true):
    n = case["X"].shape[0]
    w = w.astype(np.float64)
    return 0.5 / n * float(R_true @ R_true) + float(
        pen_values(case["kind"], case["params"], np.ones_like(w), w).sum())


def _compare(case, out):
    dtype = case["X"].dtype
    (w_np, r_np, ep_np, _), (w_nb, r_nb, ep_nb, r_dtype) = out["numpy"], out["numba"]
    assert w_nb.dtype == dtype and r_dtype == dtype
    scale = max(1.0, float(np.abs(case["y"]).max(initial=0)), float(np.abs(w_np).max()))
    if case["long_run"]:
        tol = 1e-6 if dtype == np.float64 else 1e-2
        f_np = _objective(case, w_np, r_np)
        f_nb = _objective(case, w_nb, r_nb)
        assert abs(f_np - f_nb) <= tol * max(1.0, abs(f_np)), (f_np, f_nb)
        if dtype == np.float32:
            # float32 rounding (BLAS sdot in Numba, float64 sums in NumPy) can flip an
            # Anderson accept/reject decision; on ill-conditioned draws (equal columns) the
            # 60-epoch iterates then differ by more than rounding: compare objectives only
            return
    else:
        tol = 1e-9 if dtype == np.float64 else 2e-4
        assert ep_np == ep_nb
    np.testing.assert_allclose(w_nb, w_np, rtol=tol, atol=tol * scale)
    np.testing.assert_allclose(r_nb, r_np, rtol=tol, atol=tol * scale * 10)
    assert np.all(w_nb >= case["lower"]) and np.all(w_nb <= case["upper"])
    # coordinates outside the working set are untouched
    off = np.setdiff1d(np.arange(w_np.size), case["ws"])
    np.testing.assert_array_equal(w_nb[off], case["w"][off])


def _check_dense(op, case):
    X = np.asfortranarray(case["X"])
    n = X.shape[0]
    lc = (np.einsum("ij,ij->j", X.astype(np.float64), X.astype(np.float64)) / n).astype(X.dtype)
    out = {}
    for e in ("numpy", "numba"):
        w = case["w"].copy()
        R = (case["y"] - X @ w).astype(X.dtype)
        ep = dispatch(op, np.ascontiguousarray(X.T), w, R, case["ws"], lc, case["kind"],
                      _fit_params(case, lc), case["lower"], case["upper"], case["epochs"],
                      _inner_tol(case), case["K"], case["crit_mode"], case["check_offset"],
                      engine=e)
        out[e] = (w, R.astype(np.float64), int(ep), R.dtype)
    _compare(case, out)


def _sparse_inputs(case):
    """The sparse kernels' leading arguments of a case (CSC arrays, ``n``, the centring
    ``center, mu, v, xv, vv``) and its explicitly centred matrix ``A`` (float64)."""
    X = case["X"]
    dtype = X.dtype
    Xs = sp.csc_matrix(X)
    Xs.sort_indices()
    data, indices = Xs.data.astype(dtype), Xs.indices.astype(np.int32)
    indptr = Xs.indptr.astype(np.int32)
    v, mu, center = case["v"], case["mu"], case["center"]
    xv = (X.astype(np.float64).T @ v.astype(np.float64)).astype(dtype)
    vv = float(v.astype(np.float64) @ v.astype(np.float64))
    A = X.astype(np.float64) - np.outer(v, mu) if center else X.astype(np.float64)
    return (data, indices, indptr, X.shape[0], center, mu, v, xv, vv), A


def _run_sparse(op, case, args, *rest):
    """Run ``op`` on both engines from the case's ``w`` (``Rs = y - X w``, ``c = mu^T w``):
    ``{engine: (w, true residual, epochs, residual dtype)}``."""
    X, (center, mu, v) = case["X"], args[4:7]
    out = {}
    for e in ("numpy", "numba"):
        w = case["w"].copy()
        Rs = (case["y"] - X @ w).astype(X.dtype)
        c = np.array([float(mu.astype(np.float64) @ w) if center else 0.0], dtype=X.dtype)
        ep = dispatch(op, *args, w, Rs, c, *rest, engine=e)
        R_true = Rs.astype(np.float64) + (float(c[0]) * v.astype(np.float64) if center else 0.0)
        out[e] = (w, R_true, int(ep), Rs.dtype)
    return out


def _check_true_residual(case, out, A):
    """The kernel's residual is the true residual of the implicitly centred matrix."""
    w = out["numba"][0].astype(np.float64)
    R_direct = case["y"].astype(np.float64) - A @ w
    tol = 1e-8 if case["X"].dtype == np.float64 else 1e-3
    scale = max(1.0, float(np.abs(R_direct).max()))
    np.testing.assert_allclose(out["numba"][1], R_direct, atol=tol * scale * 10)


def _check_sparse(op, case):
    args, A = _sparse_inputs(case)
    lc = (np.einsum("ij,ij->j", A, A) / args[3]).astype(case["X"].dtype)
    out = _run_sparse(op, case, args, case["ws"], lc, case["kind"], _fit_params(case, lc),
                      case["lower"], case["upper"], case["epochs"], _inner_tol(case), case["K"],
                      case["crit_mode"], case["check_offset"])
    _compare(case, out)
    _check_true_residual(case, out, A)


@st.composite
def _scores_case(draw):
    p = draw(st.integers(1, 30))
    f = _floats(-3, 3)
    w = draw(hnp.arrays(np.float64, p, elements=st.sampled_from([0.0]) | f))
    G = draw(hnp.arrays(np.float64, p, elements=f))
    lc = draw(hnp.arrays(np.float64, p, elements=st.sampled_from([0.0]) | _floats(0, 3)))
    kind, params, lower, upper = draw(_spec(draw(st.sampled_from(CONTINUOUS + DISCONTINUOUS))))
    w = np.clip(w, lower, upper)
    strategy = draw(st.integers(0, 2)) if kind in (K.KIND_L1, K.KIND_ELASTICNET) else \
        draw(st.integers(0, 1))
    return dict(w=w, G=G, lc=lc, norms=np.sqrt(lc * 7.0), kind=int(kind), params=params,
                lower=lower, upper=upper, strategy=strategy, crit_mode=draw(st.integers(0, 1)),
                const=draw(_floats(0, 1)), screened=draw(hnp.arrays(np.bool_, p)) & (w == 0))


def _scores_example():
    rng = np.random.default_rng(1)
    w = rng.standard_normal(12) * (rng.random(12) < 0.4)
    lc = rng.random(12)
    return dict(w=w, G=rng.standard_normal(12), lc=lc, norms=np.sqrt(lc),
                kind=K.KIND_ELASTICNET, params=np.array([0.6, 5.0 / 6.0]), lower=-np.inf,
                upper=np.inf, strategy=1, crit_mode=0, const=0.8,
                screened=(w == 0) & (rng.random(12) < 0.3))


def _check_scores(op, case):
    out = {}
    for e in ("numpy", "numba"):
        score = np.full(case["w"].size, np.nan)
        res = dispatch(op, case["w"], case["G"], case["lc"], case["norms"], case["kind"],
                       _fit_params(case, case["lc"]), case["lower"], case["upper"],
                       case["strategy"], case["crit_mode"], case["const"], case["screened"],
                       score, engine=e)
        out[e] = (score, res)
    (s_np, (k_np, n_np)), (s_nb, (k_nb, n_nb)) = out["numpy"], out["numba"]
    # the fixed-point violation |w - prox(w + g / L)| L cancels: absolute rounding of w L
    scale = max(float(np.max(np.abs(case["w"]) * case["lc"], initial=0.0)),
                float(np.abs(case["G"]).max(initial=0.0)))
    atol = 1e-12 * scale + 1e-300
    np.testing.assert_allclose(s_nb, s_np, rtol=1e-12, atol=atol)
    assert k_nb == pytest.approx(k_np, rel=1e-12, abs=atol) and n_nb == n_np
    assert np.all(s_nb[case["w"] != 0] == np.inf)
    assert np.all(s_nb[case["screened"]] == -np.inf)


# ----------------------------------------------------------------------------- group kernels
# glm_bcd_ws_dense / glm_bcd_ws_sparse: working-set block CD for the group lasso. A random
# partition of the features into groups (some with threshold 0: unpenalised), free or under
# the orthant, a random working set of groups; short runs (1 or 3 epochs, Anderson on or off)
# compared tightly, long runs (60 epochs, Anderson on, float64) on their objectives.


@st.composite
def _group_problem(draw, sparse):
    base = draw(_problem(sparse))
    X = base["X"]
    p = X.shape[1]
    perm = np.asarray(draw(st.permutations(list(range(p)))), dtype=np.int64)
    cuts = sorted(set(draw(st.lists(st.integers(1, max(p - 1, 1)), max_size=p))) - {p})
    gptr = np.array([0] + [c for c in cuts if c < p] + [p], dtype=np.int64)
    n_groups = gptr.size - 1
    thresh = draw(hnp.arrays(np.float64, n_groups, elements=st.sampled_from([0.0])
                             | _floats(0.0, 1.5)))
    mask = draw(hnp.arrays(np.bool_, n_groups))
    ws = np.flatnonzero(mask).astype(np.int64)
    if ws.size == 0:
        ws = np.array([0], dtype=np.int64)
    lower = draw(st.sampled_from([-np.inf, 0.0]))
    dtype = X.dtype
    long_run = draw(st.booleans())
    if long_run:
        epochs, K_ = 60, 5
        dtype = np.float64
    else:
        epochs, K_ = draw(st.sampled_from([1, 3])), draw(st.sampled_from([0, 5]))
    w = np.maximum(base["w"].astype(np.float64), lower)
    return dict(X=X.astype(dtype), y=base["y"].astype(dtype), w=w.astype(dtype), gptr=gptr,
                gidx=perm, ws=ws, thresh=thresh, lower=float(lower), epochs=epochs, K=K_,
                check_offset=draw(st.integers(0, 1)), long_run=long_run,
                center=base["center"], v=base["v"].astype(dtype), mu=base["mu"].astype(dtype))


def _group_example(sparse):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((9, 7))
    if sparse:
        X[rng.random(X.shape) < 0.4] = 0.0
    return dict(X=X, y=rng.standard_normal(9), w=np.zeros(7),
                gptr=np.array([0, 3, 5, 6, 7]), gidx=np.array([4, 0, 2, 1, 6, 3, 5]),
                ws=np.array([0, 1, 3]), thresh=np.array([0.3, 0.2, 0.1, 0.0]), lower=-np.inf,
                epochs=60, K=5, check_offset=0, long_run=True, center=sparse, v=np.ones(9),
                mu=(rng.standard_normal(7) if sparse else np.zeros(7)))


def _inner_tol(case):
    """Inner tolerance of a case (separable or group). A coordinate or block step can reach
    its exact minimiser, whose criterion is then 0 in one backend and ~eps in the other
    (float32
    dot products in Numba, float64 in NumPy; v^T R kept incrementally by the sparse kernel):
    short runs (compared epoch by epoch) never stop early (tol < 0); long runs stop at 1e-10
    (their epoch counts are not compared)."""
    return 1e-10 if case["long_run"] else -1.0


def _block_lipschitz(A, case):
    n = A.shape[0]
    lg = np.zeros(case["gptr"].size - 1)
    for G in range(lg.size):
        idx = case["gidx"][case["gptr"][G]:case["gptr"][G + 1]]
        B = A[:, idx].astype(np.float64)
        lg[G] = float(np.linalg.eigvalsh(B.T @ B)[-1]) / n
    return lg


def _group_objective(case, w, R_true):
    n = case["X"].shape[0]
    w = w.astype(np.float64)
    pen = sum(t * np.linalg.norm(w[case["gidx"][a:b]])
              for t, a, b in zip(case["thresh"], case["gptr"][:-1], case["gptr"][1:]))
    return 0.5 / n * float(R_true @ R_true) + pen


def _group_compare(case, out):
    dtype = case["X"].dtype
    (w_np, r_np, ep_np, _), (w_nb, r_nb, ep_nb, r_dtype) = out["numpy"], out["numba"]
    assert w_nb.dtype == dtype and r_dtype == dtype
    scale = max(1.0, float(np.abs(case["y"]).max(initial=0)), float(np.abs(w_np).max()))
    if case["long_run"]:
        f_np = _group_objective(case, w_np, r_np)
        f_nb = _group_objective(case, w_nb, r_nb)
        assert abs(f_np - f_nb) <= 1e-6 * max(1.0, abs(f_np)), (f_np, f_nb)
    else:
        tol = 1e-9 if dtype == np.float64 else 2e-4
        assert ep_np == ep_nb
        np.testing.assert_allclose(w_nb, w_np, rtol=tol, atol=tol * scale)
        np.testing.assert_allclose(r_nb, r_np, rtol=tol, atol=tol * scale * 10)
    if case["lower"] == 0.0:
        assert np.all(w_nb >= 0.0)
    # features outside the working set's groups are untouched
    inside = np.concatenate([case["gidx"][case["gptr"][G]:case["gptr"][G + 1]]
                             for G in case["ws"]])
    off = np.setdiff1d(np.arange(w_np.size), inside)
    np.testing.assert_array_equal(w_nb[off], case["w"][off])


def _check_group_dense(op, case):
    X = np.asfortranarray(case["X"])
    lg = _block_lipschitz(X, case)
    out = {}
    for e in ("numpy", "numba"):
        w = case["w"].copy()
        R = (case["y"] - X @ w).astype(X.dtype)
        ep = dispatch(op, np.ascontiguousarray(X.T), w, R, case["gptr"], case["gidx"],
                      case["ws"], lg, case["thresh"], case["lower"], case["epochs"],
                      _inner_tol(case), case["K"], case["check_offset"], engine=e)
        out[e] = (w, R.astype(np.float64), int(ep), R.dtype)
    _group_compare(case, out)


def _check_group_sparse(op, case):
    args, A = _sparse_inputs(case)
    lg = _block_lipschitz(A, case)
    out = _run_sparse(op, case, args, case["gptr"], case["gidx"], case["ws"], lg,
                      case["thresh"], case["lower"], case["epochs"], _inner_tol(case), case["K"],
                      case["check_offset"])
    _group_compare(case, out)
    _check_true_residual(case, out, A)


CASES = {
    "glm_cd_scores": (_scores_case(), _scores_example, _check_scores),
    "glm_cd_ws_dense": (_problem(False), lambda: _example(False), _check_dense),
    "glm_cd_ws_sparse": (_problem(True), lambda: _example(True), _check_sparse),
    "glm_bcd_ws_dense": (_group_problem(False), lambda: _group_example(False),
                         _check_group_dense),
    "glm_bcd_ws_sparse": (_group_problem(True), lambda: _group_example(True),
                          _check_group_sparse),
}
