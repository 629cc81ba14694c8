"""Conformance cases of the ``prox_newton`` kernels (merged into the CASES of
``test_kernel_conformance.py``): ``CASES = {op: (strategy, example, check)}``.

The four kernels (binary / multinomial quadratic models, dense / CSC matrices) run
coordinate-descent epochs on the model of one proximal Newton step; they are float64
only (the solver computes in float64 and converts float32 input). Hypothesis draws the
shapes, the flags (intercept, group penalty), the penalty (l1, elastic net, MCP, SCAD,
log, l0, l1/2, generic lq, CEL0: through its ``PenaltySpec``, optionally under
``Positive()``, which also exercises the curvature floors of the non-convex proxes), the
number of epochs, the penalty level and the sparsity pattern; the values come from a
NumPy generator seeded by hypothesis, so that no exact ties of a threshold occur (at a
tie the two backends may legitimately round to different sides).
Both backends must return the same direction ``d``/``D`` and ``X d``/``M`` to 1e-9
(relative), the same number of epochs (the epochs stop at a criterion of 1e-10, above the
rounding noise of an exact coordinate minimum) and the same final criterion.
"""

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

from sparsopt.backends import dispatch
from sparsopt.penalties import CEL0, L0, L1, MCP, SCAD, ElasticNet, Log, Lq, Positive

#: penalties drawn for the coordinate steps (alpha is set per case)
_PENALTIES = {
    "l1": lambda a: L1(a),
    "elasticnet": lambda a: ElasticNet(a, l1_ratio=0.6),
    "mcp": lambda a: MCP(a, gamma=2.5),
    "scad": lambda a: SCAD(a, gamma=3.7),
    "log": lambda a: Log(a, eps=0.5),
    "l0": lambda a: L0(a),
    "lhalf": lambda a: Lq(a, q=0.5),
    "lq": lambda a: Lq(a, q=0.3),
    "cel0": lambda a: CEL0(a, a=0.8),
}


def _spec(name, alpha, positive):
    pen = _PENALTIES[name](alpha)
    if positive:
        pen = pen + Positive()
    return pen.spec()

RTOL = 1e-9
#: stopping tolerance of the epochs: above rounding noise (an exact coordinate minimum may
#: move by one ulp in one backend and not in the other), far below the real changes
TOL = 1e-10


@st.composite
def _problem(draw, multi, sparse):
    n = draw(st.integers(1, 12))
    m = draw(st.integers(0, 6))
    K = draw(st.integers(2, 4)) if multi else 1
    seed = draw(st.integers(0, 2**32 - 1))
    density = draw(st.sampled_from([1.0, 0.5, 0.2]))
    fit_intercept = draw(st.booleans())
    group = draw(st.booleans()) if multi else False
    epochs = draw(st.integers(1, 5))
    alpha = draw(st.sampled_from([0.0, 1e-3, 0.05, 0.3]))
    positive = draw(st.booleans())
    pen = "l1" if group else draw(st.sampled_from(sorted(_PENALTIES)))
    return _make(n, m, K, seed, density, fit_intercept, group, epochs, alpha, multi, sparse,
                 positive, pen)


def _make(n, m, K, seed, density, fit_intercept, group, epochs, alpha, multi, sparse,
          positive=False, pen="l1"):
    rng = np.random.default_rng(seed)
    spec = _spec(pen, alpha, positive)
    avec = 0.5 + rng.random(m)
    X = rng.standard_normal((n, m)) * (rng.random((n, m)) < density)
    if multi:
        Z = rng.standard_normal((n, K))
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        sw = rng.random(n) + 0.1
        sw /= sw.sum()
        G = 0.3 * rng.standard_normal((m, K))
        W = rng.standard_normal((m, K)) * (rng.random((m, 1)) < 0.5)
        if positive:  # the solver's iterates are feasible
            W = np.abs(W)
        curv = (P, sw)
        g_int = 0.1 * rng.standard_normal(K)
    else:
        h = 0.25 * rng.random(n) / n
        G = 0.3 * rng.standard_normal(m)
        W = rng.standard_normal(m) * (rng.random(m) < 0.5)
        if positive:
            W = np.abs(W)
        curv = (h,)
        g_int = float(0.1 * rng.standard_normal())
    if sparse:
        Xs = sp.csc_matrix(X)
        xargs = (Xs.data, Xs.indices, Xs.indptr)
    elif multi:
        xargs = (np.asfortranarray(X),)
    else:  # the binary dense kernel takes the transposed matrix, rows contiguous
        xargs = (np.ascontiguousarray(X.T),)
    return dict(xargs=xargs, curv=curv, G=G, W=W, spec=spec, avec=avec, group=group,
                fit_intercept=fit_intercept, g_int=g_int, epochs=epochs, multi=multi, n=n,
                m=m, K=K, positive=positive)


def _run(op, c, engine):
    n, m, K = c["n"], c["m"], c["K"]
    if c["multi"]:
        D, M, s = np.full((m + 1, K), np.nan), np.full((n, K), np.nan), np.full(n, np.nan)
        sp_ = c["spec"]
        ep, crit = dispatch(op, *c["xargs"], *c["curv"], c["G"], c["W"], sp_.kind, sp_.params,
                            sp_.lower, sp_.upper, c["avec"], c["group"], c["fit_intercept"],
                            c["g_int"], c["epochs"], TOL, D, M, s, engine=engine)
        return ep, crit, (D, M, s)
    d, Xd = np.full(m + 1, np.nan), np.full(n, np.nan)
    sp_ = c["spec"]
    ep, crit = dispatch(op, *c["xargs"], *c["curv"], c["G"], c["W"], sp_.kind, sp_.params,
                        sp_.lower, sp_.upper, c["avec"], c["fit_intercept"], c["g_int"],
                        c["epochs"], TOL, d, Xd, engine=engine)
    return ep, crit, (d, Xd)


def _check(op, c):
    out = {e: _run(op, c, e) for e in ("numpy", "numba")}
    (ep_np, crit_np, arrs_np), (ep_nb, crit_nb, arrs_nb) = out["numpy"], out["numba"]
    assert ep_np == ep_nb
    if max(crit_np, crit_nb) > 1e3 * TOL:  # below: both are rounding noise
        np.testing.assert_allclose(crit_nb, crit_np, rtol=1e-7)
    for a_np, a_nb in zip(arrs_np, arrs_nb):
        assert np.all(np.isfinite(a_nb))
        scale = max(1.0, float(np.abs(a_np).max(initial=0.0)))
        np.testing.assert_allclose(a_nb, a_np, rtol=RTOL, atol=RTOL * scale)
    if not c["multi"] and not c["fit_intercept"]:
        assert arrs_nb[0][-1] == 0.0  # no intercept direction
    if c["positive"]:  # the new coefficients stay in the orthant
        assert np.all(c["W"] + arrs_nb[0][:-1] >= 0.0)


def _example(multi, sparse):
    return lambda: _make(8, 5, 3 if multi else 1, 0, 0.5, True, multi, 3, 0.05, multi, sparse,
                         True)


@st.composite
def _fixpoint_case(draw):
    m = draw(st.integers(0, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spec = _spec(draw(st.sampled_from(sorted(_PENALTIES))), draw(st.sampled_from([0.0, 0.05, 0.5])),
                 draw(st.booleans()))
    W = rng.standard_normal(m) * (rng.random(m) < 0.5)
    if spec.lower == 0.0:
        W = np.abs(W)
    L = rng.random(m) * (rng.random(m) < 0.9)
    return spec, 0.5 + rng.random(m), W, rng.standard_normal(m), L


def _check_fixpoint(op, case):
    spec, avec, W, G, L = case
    out = {e: dispatch(op, spec.kind, spec.params, spec.lower, spec.upper, avec, W, G, L,
                       np.full(W.size, np.nan), engine=e) for e in ("numpy", "numba")}
    assert np.all(out["numba"] >= 0) and np.all(out["numba"][L == 0] == 0)
    np.testing.assert_allclose(out["numba"], out["numpy"], rtol=1e-9, atol=1e-12)


def _fixpoint_example():
    spec = _spec("mcp", 0.1, True)
    return spec, np.ones(4), np.array([0.0, 0.3, 1.0, 0.0]), np.array([0.5, -0.2, 0.1, -2.0]), \
        np.array([0.1, 1.0, 0.0, 2.0])


@st.composite
def _xt_dot_case(draw):
    p = draw(st.integers(0, 8))
    n = draw(st.integers(0, 12))
    K = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((p, n)), rng.standard_normal((K, n))


def _check_xt_dot(op, case):
    XT, RT = case
    out = {e: dispatch(op, XT, RT, np.full((XT.shape[0], RT.shape[0]), np.nan), engine=e)
           for e in ("numpy", "numba")}
    np.testing.assert_allclose(out["numba"], out["numpy"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out["numba"], XT @ RT.T, rtol=1e-12, atol=1e-12)


CASES = {
    "pn_xt_dot": (_xt_dot_case(), lambda: (np.ones((3, 4)), np.arange(8.0).reshape(2, 4)),
                  _check_xt_dot),
    "pn_cd_binary_dense": (_problem(False, False), _example(False, False), _check),
    "pn_cd_binary_csc": (_problem(False, True), _example(False, True), _check),
    "pn_cd_multi_dense": (_problem(True, False), _example(True, False), _check),
    "pn_cd_multi_csc": (_problem(True, True), _example(True, True), _check),
    "pn_fixpoint": (_fixpoint_case(), _fixpoint_example, _check_fixpoint),
}
