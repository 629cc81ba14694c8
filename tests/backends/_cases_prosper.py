"""Conformance cases of the ``prosper`` kernels (truncated E-steps of BSC and GSC, and the
M-step's sparse product ``prosper_xt_weighted`` and second moments
``prosper_pair_moments``), merged
into the CASES of ``test_kernel_conformance.py``: ``CASES = {op: (strategy, example, check)}``.

Problems are drawn small (up to 6 samples, 6 components, 6 features), in float32 and
float64, with random candidate sets and state supports of up to γ units. The NumPy
references materialise the dense state matrices (and call ``numpy.linalg`` per state for
GSC), so agreement checks the Numba kernels' Gram-expansion and small Cholesky code.
"""

import numpy as np
from hypothesis import strategies as st

from sparsopt.backends import dispatch
from sparsopt.decomposition import state_combinations


@st.composite
def _problem(draw, model):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n = draw(st.integers(1, 6))
    H = draw(st.integers(1, 6))
    Hp = draw(st.integers(1, H))
    gamma = draw(st.integers(1, Hp))
    D = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.floats(0.1, 5.0))
    rng = np.random.default_rng(seed)
    W = (scale * rng.standard_normal((H, D))).astype(dtype)
    Y = (scale * rng.standard_normal((n, D))).astype(dtype)
    cand = np.sort(np.argsort(rng.random((n, H)), axis=1)[:, :Hp], axis=1).astype(np.int64)
    common = dict(yw=Y @ W.T, yy=np.einsum("ij,ij->i", Y, Y), G=W @ W.T, cand=cand,
                  combos=state_combinations(Hp, gamma), dtype=dtype)
    sigma2 = draw(st.floats(0.2, 4.0))
    if model == "bsc":
        return dict(common, log_odds=draw(st.floats(-4.0, 2.0)),
                    beta_prior=draw(st.sampled_from([1.0, 0.5])),
                    beta_lik=draw(st.floats(0.2, 1.0)), sigma2=sigma2)
    pi = rng.uniform(0.05, 0.9, H)
    return dict(common, log_odds=np.log(pi / (1 - pi)), mu=rng.normal(size=H),
                psi2=rng.uniform(0.1, 2.0, H), sigma2=sigma2, beta=draw(st.floats(0.25, 1.0)),
                half=draw(st.sampled_from([0.5, 1.0])), const=draw(st.floats(-5.0, 5.0)))


def _outputs(case, gsc):
    n, H = case["yw"].shape
    Hp = case["cand"].shape[1]
    dt = case["dtype"]
    shapes = [(n,), (n, H)] + ([(n, H), (n, H)] if gsc else []) + [(n, Hp, Hp)]
    return [np.full(s, np.nan, dtype=dt) for s in shapes]


def _compare(outs, dtype):
    rtol = 2e-3 if dtype == np.float32 else 1e-8
    for a, b in zip(outs["numpy"], outs["numba"]):
        assert a.dtype == dtype and b.dtype == dtype
        assert np.isfinite(b).all()
        scale = 1.0 + float(np.max(np.abs(a))) if a.size else 1.0
        np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=rtol,
                                   atol=rtol * scale)


def _check_bsc(op, case):
    outs = {}
    for engine in ("numpy", "numba"):
        out = _outputs(case, gsc=False)
        dispatch(op, case["yw"], case["yy"], case["G"], case["cand"], case["combos"],
                 case["log_odds"], case["beta_prior"], case["beta_lik"], case["sigma2"],
                 *out, engine=engine)
        outs[engine] = out
    _compare(outs, case["dtype"])


def _check_gsc(op, case):
    outs = {}
    for engine in ("numpy", "numba"):
        out = _outputs(case, gsc=True)
        dispatch(op, case["yw"], case["yy"], case["G"], case["cand"], case["combos"],
                 case["log_odds"], case["mu"], case["psi2"], case["sigma2"], case["beta"],
                 case["half"], case["const"], *out, engine=engine)
        outs[engine] = out
    _compare(outs, case["dtype"])


def _example(model):
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 5))
    Y = rng.standard_normal((3, 5))
    cand = np.array([[0, 1, 2], [1, 2, 3], [0, 2, 3]], dtype=np.int64)
    case = dict(yw=Y @ W.T, yy=(Y * Y).sum(1), G=W @ W.T, cand=cand,
                combos=state_combinations(3, 2), dtype=np.float64, sigma2=1.0)
    if model == "bsc":
        return dict(case, log_odds=-1.0, beta_prior=1.0, beta_lik=1.0)
    return dict(case, log_odds=np.full(4, -1.0), mu=np.ones(4), psi2=np.ones(4), beta=1.0,
                half=0.5, const=0.0)


@st.composite
def _xt_problem(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n, H, D = draw(st.integers(1, 8)), draw(st.integers(1, 6)), draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    density = draw(st.floats(0.0, 1.0))
    E = np.where(rng.random((n, H)) < density, rng.random((n, H)), 0.0).astype(dtype)
    w = np.where(rng.random(n) < 0.8, 1.0, 0.0).astype(dtype)  # N_cut weights
    return dict(X=rng.standard_normal((n, D)).astype(dtype), E=E, w=w, dtype=dtype)


def _xt_example():
    rng = np.random.default_rng(0)
    E = np.array([[0.0, 1.0], [0.5, 0.0], [0.0, 0.0]])
    return dict(X=rng.standard_normal((3, 4)), E=E, w=np.array([1.0, 0.0, 1.0]),
                dtype=np.float64)


def _check_xt(op, case):
    outs = {}
    for engine in ("numpy", "numba"):
        out = np.full((case["E"].shape[1], case["X"].shape[1]), np.nan, dtype=case["dtype"])
        dispatch(op, case["X"], case["E"], case["w"], out, engine=engine)
        outs[engine] = [out]
    _compare(outs, case["dtype"])


@st.composite
def _pair_problem(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n, H = draw(st.integers(1, 7)), draw(st.integers(1, 6))
    Hp = draw(st.integers(1, H))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    cand = np.sort(np.argsort(rng.random((n, H)), axis=1)[:, :Hp], axis=1).astype(np.int64)
    ecc = rng.random((n, Hp, Hp))
    ecc = (ecc + ecc.transpose(0, 2, 1)).astype(dtype)
    w = np.where(rng.random(n) < 0.7, 1.0, 0.0)  # N_cut weights
    return dict(cand=cand, ecc=ecc, diag=rng.random((n, H)).astype(dtype), w=w, dtype=dtype)


def _pair_example():
    return dict(cand=np.array([[0, 2], [1, 2]], dtype=np.int64), ecc=np.ones((2, 2, 2)),
                diag=np.full((2, 3), 0.5), w=np.array([1.0, 0.0]), dtype=np.float64)


def _check_pair(op, case):
    outs = {}
    H = case["diag"].shape[1]
    for engine in ("numpy", "numba"):
        out = np.full((H, H), np.nan)
        dispatch(op, case["cand"], case["ecc"], case["diag"], case["w"], out, engine=engine)
        outs[engine] = out
    np.testing.assert_allclose(outs["numba"], outs["numpy"], rtol=1e-12, atol=1e-12)


CASES = {
    "prosper_bsc_estep": (_problem("bsc"), lambda: _example("bsc"), _check_bsc),
    "prosper_gsc_estep": (_problem("gsc"), lambda: _example("gsc"), _check_gsc),
    "prosper_xt_weighted": (_xt_problem(), _xt_example, _check_xt),
    "prosper_pair_moments": (_pair_problem(), _pair_example, _check_pair),
}


@st.composite
def _presel_problem(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n, H, D = draw(st.integers(1, 7)), draw(st.integers(1, 8)), draw(st.integers(1, 8))
    Hp = draw(st.integers(1, H))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    W = rng.standard_normal((H, D))
    if draw(st.booleans()):
        W[rng.integers(H)] = 0.0   # a dead unit (zero norm)
    X = rng.standard_normal((n, D))
    return dict(yw=(X @ W.T).astype(dtype), G=(W @ W.T).astype(dtype), Hp=Hp, dtype=dtype)


def _presel_example():
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    X = np.array([[2.0, 0.1]])
    return dict(yw=X @ W.T, G=W @ W.T, Hp=2, dtype=np.float64)


def _check_candidates(op, first, second, Hp, H):
    """Both engines pick the same ``Hp`` candidates per row, ascending, within ``0..H-1``."""
    outs = {}
    for engine in ("numpy", "numba"):
        cand = np.full((first.shape[0], Hp), -1, dtype=np.int64)
        dispatch(op, first, second, cand, engine=engine)
        outs[engine] = cand
    np.testing.assert_array_equal(outs["numba"], outs["numpy"])
    c = outs["numba"]
    assert (np.diff(c, axis=1) > 0).all() and c.min() >= 0 and c.max() < H


def _check_presel(op, case):
    _check_candidates(op, case["yw"], case["G"], case["Hp"], case["G"].shape[0])


CASES["prosper_residual_preselect"] = (_presel_problem(), _presel_example, _check_presel)


@st.composite
def _topk_problem(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n, H = draw(st.integers(1, 70)), draw(st.integers(1, 9))   # n > 64: two column blocks
    Hp = draw(st.integers(1, H))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    # few distinct values, so that ties are common; some inf, -inf and NaN
    scores = rng.integers(-3, 4, (n, H)).astype(dtype)
    special = rng.random((n, H))
    scores[special < 0.05] = np.nan
    scores[(special >= 0.05) & (special < 0.1)] = -np.inf
    scores[(special >= 0.1) & (special < 0.12)] = np.inf
    scale = np.where(rng.random(H) < 0.2, 0.0, rng.integers(1, 3, H).astype(float))
    return dict(scores=scores, scale=scale, Hp=Hp)


def _topk_example():
    return dict(scores=np.array([[0.1, 0.9, 0.5, 0.9], [np.nan, -np.inf, 2.0, 1.0]]),
                scale=np.ones(4), Hp=2)


def _check_topk(op, case):
    _check_candidates(op, case["scores"], case["scale"], case["Hp"], case["scale"].size)


CASES["prosper_topk_preselect"] = (_topk_problem(), _topk_example, _check_topk)
