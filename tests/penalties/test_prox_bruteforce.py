"""Proximal operators against brute force and independent references (spec T1a).

Separable penalties: ``prox(t, step)`` is compared, for ``t`` on a grid of
[-4, 4], with the brute-force minimizer of ``1/2 (x - t)^2 + step * value(x)`` over
the grid ``x = k * 5e-5`` of [-4.5, 4.5] (``value`` is the penalty's own ``value``,
so this also checks that prox and value describe the same function).

* Primary criterion: the objective at ``prox(t)`` is at most the brute-force
  minimum plus 1e-8 (the prox is at least as good as every grid point).
* Secondary: ``|prox(t) - argmin| <= 5e-5`` (the grid spacing), except at exact
  ties of a jump threshold, where two distant points have the same objective
  (difference < 1e-9) and either is a valid prox.
* Jumps: wherever the brute-force path jumps, the jump threshold ``t*`` is located
  by bisection on the brute force and the prox is checked at ``t* -+ 1e-5``, so a
  wrong threshold in a kernel is detected even if no grid point falls near it.

The brute force over all ``t`` uses the monotonicity of the (smallest) argmin in
``t`` (the objective is ``g(x) - t x + const``, which has increasing differences)
to search each ``t`` only between the argmins of its neighbours: exact on the grid
and ~100x cheaper than the full table. ``test_bruteforce_oracle_*`` check this
oracle against the full table and against soft thresholding.

Group penalties (GroupL21, KSupport, WGSEF) are convex: the prox is compared with
``scipy.optimize.minimize`` from several starts and certified by a duality gap
(Moreau decomposition with the conjugate of the penalty).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

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
    ksupport_squared,
)

ENGINES = ("numpy", "numba")

H = 5e-5
X_GRID = np.round(H * np.arange(-90_000, 90_001), 10)  # [-4.5, 4.5], holds 0 and k/100 exactly
T_GRID = np.round(np.linspace(-4.0, 4.0, 801), 12)  # step 0.01
TOL_X = 5e-5
TOL_OBJ = 1e-8
TIE_OBJ = 1e-9
TIE_DX = 1e-3
JUMP_DX = 0.05  # a brute-force path step larger than this between grid ts is refined
PROBE = 1e-5


# ----------------------------------------------------------------------------- oracle


def _pointwise_value(pen, x):
    """``value`` of each entry of ``x`` (a separable penalty is a sum of these)."""
    return pen.value(np.asarray(x, dtype=np.float64).reshape(-1, 1), per_row=True)


def _objective(pen, step, x, t):
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * (x - t) ** 2 + step * _pointwise_value(pen, x)


class BruteForceProx:
    """Exact minimizer of ``1/2 (x - t)^2 + step * value(x)`` over ``X_GRID``."""

    def __init__(self, pen, step):
        self.pen, self.step = pen, step
        # objective = g(x) - t x + t^2 / 2
        self.g = 0.5 * X_GRID**2 + step * _pointwise_value(pen, X_GRID)

    def index(self, t, lo=0, hi=None):
        """Smallest grid index minimizing the objective in ``X_GRID[lo:hi + 1]``."""
        hi = len(X_GRID) - 1 if hi is None else hi
        seg = self.g[lo : hi + 1] - t * X_GRID[lo : hi + 1]
        return lo + int(np.argmin(seg))

    def path_indices(self, ts):
        """Argmin indices for increasing ``ts`` (divide and conquer on monotonicity)."""
        out = np.empty(len(ts), dtype=np.int64)

        def rec(i0, i1, lo, hi):
            if i0 >= i1:
                return
            m = (i0 + i1) // 2
            out[m] = j = self.index(ts[m], lo, hi)
            rec(i0, m, lo, j)
            rec(m + 1, i1, j, hi)

        rec(0, len(ts), 0, len(X_GRID) - 1)
        return out

    def jump_probes(self, ts, idx):
        """Points ``t* -+ PROBE`` around every jump of the brute-force path."""
        probes = []
        for i in np.flatnonzero(np.diff(X_GRID[idx]) > JUMP_DX):
            tl, tr, il, ir = ts[i], ts[i + 1], idx[i], idx[i + 1]
            lo, hi = il, ir
            for _ in range(60):
                if tr - tl < 1e-13:
                    break
                tm = 0.5 * (tl + tr)
                im = self.index(tm, lo, hi)
                if X_GRID[im] - X_GRID[il] < X_GRID[ir] - X_GRID[im]:
                    tl, il = tm, im
                else:
                    tr, ir = tm, im
            t_star = 0.5 * (tl + tr)
            probes += [t_star - PROBE, t_star + PROBE]
        return np.array(probes)

    def argmin(self, ts):
        ts = np.asarray(ts, dtype=np.float64)
        order = np.argsort(ts)
        idx = np.empty(len(ts), dtype=np.int64)
        idx[order] = self.path_indices(ts[order])
        return X_GRID[idx]


def _assert_prox_matches_bruteforce(pen, step, engine, ts=T_GRID):
    brute = BruteForceProx(pen, step)
    idx = brute.path_indices(ts)
    probes = brute.jump_probes(ts, idx)
    t_all = np.concatenate([ts, probes])
    b_all = np.concatenate([X_GRID[idx], brute.argmin(probes)])

    p = pen.prox(t_all, step, engine=engine)
    assert p.shape == t_all.shape and p.dtype == np.float64
    assert np.all(np.isfinite(p)), t_all[~np.isfinite(p)]
    fp = _objective(pen, step, p, t_all)
    fb = _objective(pen, step, b_all, t_all)
    worse = fp > fb + TOL_OBJ
    assert not worse.any(), (
        f"{pen!r} step={step} engine={engine}: prox objective above brute force at "
        f"t={t_all[worse][:5]}: prox={p[worse][:5]}, brute={b_all[worse][:5]}, "
        f"excess={(fp - fb)[worse][:5]}"
    )
    dx = np.abs(p - b_all)
    tie = (np.abs(fp - fb) <= TIE_OBJ) & (dx >= TIE_DX)
    far = (dx > TOL_X) & ~tie
    assert not far.any(), (
        f"{pen!r} step={step} engine={engine}: prox differs from the brute-force argmin at "
        f"t={t_all[far][:5]}: prox={p[far][:5]}, brute={b_all[far][:5]}"
    )
    # ties happen only at isolated jump thresholds, never on a whole range
    assert tie.sum() <= 2, t_all[tie]
    return len(probes)


# ----------------------------------------------------------------------------- cases


def _lq_cases():
    cases = []
    # half thresholding: ell = 2 c = 2 step alpha in {0.05, 0.3, 1, 2}
    for alpha, step in [(0.025, 1.0), (0.3, 0.5), (0.25, 2.0), (0.5, 2.0)]:
        cases.append((Lq(alpha=alpha, q=0.5), step))
    for alpha, step in [(0.05, 1.0), (0.6, 0.5), (1.0, 1.0), (0.75, 2.0)]:
        cases.append((Lq(alpha=alpha, q=2.0 / 3.0), step))
    for alpha, q, step in [(0.1, 0.3, 1.0), (0.5, 0.3, 1.0), (1.2, 0.3, 0.8), (0.7, 0.8, 1.0),
                           (0.3, 0.1, 1.0)]:
        cases.append((Lq(alpha=alpha, q=q), step))
    return cases


SEPARABLE_CASES = [
    (L1(alpha=0.0), 1.0),
    (L1(alpha=0.3), 1.0),
    (L1(alpha=1.7), 0.5),
    (L1(alpha=1.0), 2.0),
    (L0(alpha=0.5), 0.7),
    (L0(alpha=0.05), 1.0),
    (L0(alpha=2.0), 1.5),
    (L0(alpha=0.5), 1.0),  # threshold exactly 1.0, a grid point: a tie there
    *_lq_cases(),
    # CEL0 (a, alpha, step) from the spec
    (CEL0(alpha=0.27, a=1.0), 0.05),
    (CEL0(alpha=0.45, a=1.0), 0.1),
    (CEL0(alpha=0.3, a=1.7), 0.2),
    (CEL0(alpha=1.0, a=0.5), 0.9),
    (MCP(alpha=1.0, gamma=3.0), 1.0),
    (MCP(alpha=0.5, gamma=1.2), 1.0),
    (MCP(alpha=2.0, gamma=1.5), 0.3),
    (SCAD(alpha=1.0, gamma=3.7), 1.0),
    (SCAD(alpha=0.5, gamma=2.5), 1.2),
    (SCAD(alpha=1.5, gamma=4.0), 0.4),
    (Log(alpha=1.0, eps=0.5), 1.0),
    (Log(alpha=0.2, eps=1.0), 1.0),  # c <= eps^2: convex prox objective
    (Log(alpha=2.0, eps=0.1), 0.5),
    (Log(alpha=0.5, eps=2.0), 3.0),
    (ElasticNet(alpha=1.0, l1_ratio=0.3), 1.0),
    (ElasticNet(alpha=2.0, l1_ratio=1.0), 0.5),
    (ElasticNet(alpha=1.5, l1_ratio=0.0), 1.0),
    (ElasticNet(alpha=0.7, l1_ratio=0.8), 2.0),
    (Box(lower=-1.5, upper=2.0), 1.0),
    (Box(lower=0.5, upper=3.0), 0.3),
    (Box(lower=-np.inf, upper=1.25), 1.0),
    (Box(lower=-2.0, upper=-2.0), 1.0),
    (Positive(), 1.0),
]


def _case_id(case):
    pen, step = case
    return f"{pen!r}-step{step}".replace(" ", "")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", SEPARABLE_CASES, ids=_case_id)
def test_separable_prox_matches_bruteforce(case, engine):
    pen, step = case
    _assert_prox_matches_bruteforce(pen, step, engine)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", [
    (L0(alpha=0.5), 0.7), (Lq(alpha=0.3, q=0.5), 0.5), (Lq(alpha=1.0, q=2 / 3), 1.0),
    (Lq(alpha=0.5, q=0.3), 1.0), (Log(alpha=2.0, eps=0.1), 0.5),
], ids=_case_id)
def test_jump_thresholds_are_probed(case, engine):
    """Discontinuous proxes: the jump at +-t* is located and checked on both sides."""
    pen, step = case
    n_probes = _assert_prox_matches_bruteforce(pen, step, engine)
    assert n_probes == 4  # one jump at -t*, one at +t*, probed on each side


def test_bruteforce_oracle_matches_full_table():
    """The divide-and-conquer brute force equals the plain argmin over the grid."""
    ts = T_GRID[::16]
    for pen, step in [(L0(alpha=0.5), 0.7), (Lq(alpha=1.0, q=0.3), 0.5),
                      (Log(alpha=1.0, eps=0.5), 1.0), (Box(lower=0.5, upper=3.0), 1.0)]:
        brute = BruteForceProx(pen, step)
        full = np.array([X_GRID[np.argmin(brute.g - t * X_GRID)] for t in ts])
        np.testing.assert_array_equal(brute.argmin(ts), full)


def test_bruteforce_oracle_on_soft_thresholding():
    ts = T_GRID
    expected = np.sign(ts) * np.maximum(np.abs(ts) - 0.7, 0.0)
    np.testing.assert_allclose(BruteForceProx(L1(alpha=0.7), 1.0).argmin(ts), expected,
                               atol=H / 2 + 1e-12)


# ----------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("engine", ENGINES)
def test_half_thresholding_threshold(engine):
    """Xu et al.: prox of c|x|^(1/2) is 0 below (54^(1/3)/4)(2c)^(2/3), 2/3 t* at the jump."""
    for c in (0.025, 0.15, 0.5, 1.0):
        thr = 54 ** (1 / 3) / 4 * (2 * c) ** (2 / 3)
        pen = Lq(alpha=c, q=0.5)
        below = pen.prox(np.array([thr * (1 - 1e-7), -thr * (1 - 1e-7)]), 1.0, engine=engine)
        above = pen.prox(np.array([thr * (1 + 1e-7), -thr * (1 + 1e-7)]), 1.0, engine=engine)
        np.testing.assert_array_equal(below, 0.0)
        np.testing.assert_allclose(above, [2 / 3 * thr, -2 / 3 * thr], rtol=1e-3)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("q", [0.3, 0.5, 2 / 3, 0.8])
def test_lq_jump_threshold_closed_form(q, engine):
    """The prox of c|x|^q jumps at t* = x0/2 + c x0^(q-1), x0 = (2c(1-q))^(1/(2-q)), to x0."""
    for c in (0.1, 1.0, 3.0):
        x0 = (2 * c * (1 - q)) ** (1 / (2 - q))
        t_star = x0 / 2 + c * x0 ** (q - 1)
        pen = Lq(alpha=c, q=q)
        out = pen.prox(np.array([t_star * (1 - 1e-6), t_star * (1 + 1e-6)]), 1.0,
                       engine=engine)
        assert out[0] == 0.0
        np.testing.assert_allclose(out[1], x0, rtol=1e-2)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("q", [0.3, 0.5, 2 / 3])
def test_lq_tiny_and_huge_scales(q, engine):
    """Extreme c or t: prox of c|x|^q tends to t for c -> 0 and to 0 for tiny t."""
    for c in (1e-12, 1e-100):
        t = np.array([1.0, -3.0, 1e3])
        np.testing.assert_allclose(Lq(alpha=c, q=q).prox(t, 1.0, engine=engine), t, rtol=1e-6)
    out = Lq(alpha=1.0, q=q).prox(np.array([1e-300, -1e-200, 0.0]), 1.0, engine=engine)
    np.testing.assert_array_equal(out, 0.0)


# ----------------------------------------------------------------------------- skglm


def _skglm_prox_funcs():
    return pytest.importorskip("skglm.utils.prox_funcs")


@pytest.mark.parametrize("engine", ENGINES)
def test_against_skglm(engine):
    """skglm conventions: ST(x, u), prox_05(x, u) and prox_2_3(x, u) are the proxes of
    u|.|, u|.|^(1/2), u|.|^(2/3); prox_MCP/prox_SCAD(x, step, alpha, gamma) the prox of
    step * MCP/SCAD(alpha, gamma) (same parametrization as ours)."""
    pf = _skglm_prox_funcs()
    ts = np.linspace(-4.0, 4.0, 641) + 1e-3  # avoid hitting thresholds exactly

    def sk(f, *args):
        return np.array([f(float(t), *args) for t in ts])

    for u in (0.025, 0.15, 0.5, 1.0):
        np.testing.assert_allclose(L1(alpha=u).prox(ts, 1.0, engine=engine), sk(pf.ST, u),
                                   atol=1e-12)
        np.testing.assert_allclose(Lq(alpha=u, q=0.5).prox(ts, 1.0, engine=engine),
                                   sk(pf.prox_05, u), atol=1e-9)
        np.testing.assert_allclose(Lq(alpha=u, q=2 / 3).prox(ts, 1.0, engine=engine),
                                   sk(pf.prox_2_3, u), atol=1e-9)
        # same with alpha and step split
        np.testing.assert_allclose(Lq(alpha=2 * u, q=0.5).prox(ts, 0.5, engine=engine),
                                   sk(pf.prox_05, u), atol=1e-9)
    for alpha, gamma, step in [(1.0, 3.0, 1.0), (0.5, 1.2, 1.0), (2.0, 1.5, 0.3)]:
        np.testing.assert_allclose(MCP(alpha=alpha, gamma=gamma).prox(ts, step, engine=engine),
                                   sk(pf.prox_MCP, step, alpha, gamma), atol=1e-12)
    for alpha, gamma, step in [(1.0, 3.7, 1.0), (0.5, 2.5, 1.2), (1.5, 4.0, 0.4)]:
        np.testing.assert_allclose(
            SCAD(alpha=alpha, gamma=gamma).prox(ts, step, engine=engine),
            sk(pf.prox_SCAD, step, alpha, gamma), atol=1e-12)


# ----------------------------------------------------------------------------- CEL0 facts


def _cel0_phi(a, lam, u):
    return CEL0(alpha=lam, a=a).value(np.asarray(u, dtype=np.float64).reshape(-1, 1),
                                      per_row=True)


def _lower_convex_envelope(x, y):
    """Lower convex envelope of the points (x, y) (x increasing), evaluated at x."""
    hull = []
    for i in range(len(x)):
        while len(hull) >= 2:
            i0, i1 = hull[-2], hull[-1]
            # drop i1 if it lies on or above the segment i0 -> i
            if (y[i1] - y[i0]) * (x[i] - x[i0]) >= (y[i] - y[i0]) * (x[i1] - x[i0]):
                hull.pop()
            else:
                break
        hull.append(i)
    return np.interp(x, x[hull], y[hull])


@pytest.mark.parametrize("a, lam", [(1.0, 0.27), (1.0, 0.45), (1.7, 0.3), (0.5, 1.0), (3.0, 2.0)])
def test_cel0_is_continuous(a, lam):
    b = np.sqrt(2 * lam) / a
    u = np.linspace(-3 * b, 3 * b, 20001)
    phi = _cel0_phi(a, lam, u)
    lipschitz = a * np.sqrt(2 * lam)  # slope of phi at 0+
    assert np.max(np.abs(np.diff(phi))) <= lipschitz * (u[1] - u[0]) * (1 + 1e-9) + 1e-12
    # around the junction |u| = b and at 0
    eps = 1e-9
    vals = _cel0_phi(a, lam, [b - eps, b, b + eps, -b - eps, -b + eps, 0.0, 1e-12])
    np.testing.assert_allclose(vals[:5], lam, atol=1e-8)
    np.testing.assert_allclose(vals[5:], 0.0, atol=1e-10)
    assert np.all(_cel0_phi(a, lam, [10 * b, -100 * b, 1e6]) == lam)


@pytest.mark.parametrize("a, lam", [(1.0, 0.27), (1.0, 0.45), (1.7, 0.3), (0.5, 1.0), (3.0, 2.0)])
def test_cel0_plus_quadratic_is_convex_hull_of_l0(a, lam):
    """phi_CEL0(a, lam; u) + a^2/2 u^2 = conv(a^2/2 u^2 + lam 1{u != 0})."""
    b = np.sqrt(2 * lam) / a
    u = np.linspace(-4 * b, 4 * b, 16001)  # contains 0
    assert np.any(u == 0.0)
    f = 0.5 * a * a * u * u + lam * (u != 0)
    hull = _lower_convex_envelope(u, f)
    lhs = _cel0_phi(a, lam, u) + 0.5 * a * a * u * u
    h = u[1] - u[0]
    np.testing.assert_allclose(lhs, hull, atol=a * a * h * h + 1e-12 + a * np.sqrt(2 * lam) * h)
    # away from the grid-resolution error: the envelope is exact on |u| >= b
    outer = np.abs(u) >= b + h
    np.testing.assert_allclose(lhs[outer], hull[outer], atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("a, step", [(1.0, 1.0), (1.0, 2.0), (2.0, 0.25), (1.7, 0.4)])
def test_cel0_prox_without_strong_convexity_raises(a, step, engine):
    """a^2 step >= 1: the prox objective is not well posed; an error, never zeros."""
    pen = CEL0(alpha=0.5, a=a)
    with pytest.raises(ValueError, match=r"a\*\*2 \* step"):
        pen.prox(np.array([0.1, 1.0, 3.0]), step, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_cel0_per_column_step_check(engine):
    pen = CEL0(alpha=0.5, a=[0.5, 2.0])
    x = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"a\*\*2 \* step"):
        pen.prox(x, 0.25, engine=engine)  # 2^2 * 0.25 = 1
    out = pen.prox(x, 0.2, engine=engine)
    assert out.shape == x.shape


# ----------------------------------------------------------------------------- group penalties


def _conjugate(pen, step, u):
    """Conjugate of ``step * pen.value`` at ``u`` (1-D), for GroupL21 and KSupport."""
    indptr, indices, w = pen._structure(u.size)
    c = step * float(pen.alpha)
    grouped = np.zeros(u.size, dtype=bool)
    grouped[indices] = True
    if np.any(np.abs(u[~grouped]) > 1e-12):  # unpenalized features: conjugate is +inf
        return np.inf
    norms = np.array([np.linalg.norm(u[indices[indptr[g]:indptr[g + 1]]])
                      for g in range(len(indptr) - 1)])
    if isinstance(pen, GroupL21):
        # indicator of {||u_g|| <= c w_g}
        return 0.0 if np.all(norms <= c * w * (1 + 1e-12) + 1e-15) else np.inf
    # KSupport: (c h**)^* (u) = 1/(2c) max_{|S|=k} sum_{g in S} ||u_g||^2 / w_g
    top = np.sort(norms**2 / w)[::-1][: int(pen.k)]
    return top.sum() / (2 * c)


def _duality_gap(pen, step, t, p):
    """Primal objective at p minus the dual bound from u = t - p (Moreau decomposition)."""
    primal = 0.5 * np.sum((p - t) ** 2) + step * pen.value(p)
    u = t - p
    if isinstance(pen, GroupL21):
        # project u onto the dual feasible set so that round-off cannot make it infeasible
        indptr, indices, w = pen._structure(u.size)
        c = step * float(pen.alpha)
        for g in range(len(indptr) - 1):
            idx = indices[indptr[g]:indptr[g + 1]]
            nrm = np.linalg.norm(u[idx])
            if nrm > c * w[g]:
                u[idx] *= c * w[g] / nrm
    dual = 0.5 * np.sum(t**2) - 0.5 * np.sum((u - t) ** 2) - _conjugate(pen, step, u)
    return primal - dual, primal


GROUP_CASES = [
    (GroupL21(alpha=0.5, groups=2), 1.0),
    (GroupL21(alpha=0.7, groups=[[0, 3], [1, 4, 5]], weights=[1.0, 2.0]), 0.6),  # 2 unpenalized
    (GroupL21(alpha=0.3, groups=1), 2.0),
    (KSupport(alpha=0.8, k=1), 1.0),
    (KSupport(alpha=0.5, k=2), 1.5),
    (KSupport(alpha=0.4, k=6), 1.0),  # k >= n: ridge
    (KSupport(alpha=1.0, k=2, groups=2, weights=[1.0, 0.5, 2.0]), 0.7),
    (KSupport(alpha=0.6, k=1, groups=[[0, 1], [2, 3, 4], [5]]), 1.0),
    (WGSEF(alpha=0.6, k=2, groups=[[0, 5], [1, 2], [3, 4]], weights=[2.0, 1.0, 0.3]), 1.0),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", GROUP_CASES, ids=_case_id)
def test_group_prox_duality_gap(case, engine):
    """The prox is certified optimal by a zero duality gap on random batches."""
    pen, step = case
    rng = np.random.default_rng(0)
    t = rng.standard_normal((40, 6)) * rng.choice([0.1, 1.0, 3.0], size=(40, 1))
    t[0] = 0.0
    t[1, :3] = 0.0
    p = pen.prox(t, step, engine=engine)
    assert p.shape == t.shape
    for ti, pi in zip(t, p):
        gap, primal = _duality_gap(pen, step, ti, pi.copy())
        # strong convexity: ||p - p*||^2 <= 2 gap
        assert -1e-10 * (1 + abs(primal)) <= gap <= 1e-10 * (1 + abs(primal)), (ti, pi, gap)


def _scipy_prox(pen, step, t, rng):
    def f(x):
        return 0.5 * np.sum((x - t) ** 2) + step * pen.value(x)

    best = None
    for x0 in (t, np.zeros_like(t), rng.standard_normal(t.size)):
        for _ in range(2):  # restart Powell once from its own result
            res = minimize(f, x0, method="Powell",
                           options={"xtol": 1e-9, "ftol": 1e-14, "maxfev": 50_000})
            x0 = res.x
        if best is None or res.fun < best.fun:
            best = res
    return best.x, best.fun, f


@pytest.mark.parametrize("case", GROUP_CASES, ids=_case_id)
def test_group_prox_matches_scipy(case):
    pen, step = case
    rng = np.random.default_rng(1)
    for _ in range(2):
        t = 2.0 * rng.standard_normal(6)
        x_ref, f_ref, f = _scipy_prox(pen, step, t, rng)
        for engine in ENGINES:
            p = pen.prox(t, step, engine=engine)
            assert f(p) <= f_ref + 1e-7 * max(1.0, abs(f_ref)), (engine, f(p), f_ref)
            np.testing.assert_allclose(p, x_ref, atol=1e-4)


@pytest.mark.parametrize("cls", [KSupport, WGSEF])
def test_ksupport_k1_is_squared_l1(cls):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 7))
    pen = cls(alpha=0.7, k=1)
    np.testing.assert_allclose(pen.value(x, per_row=True),
                               0.35 * np.abs(x).sum(axis=1) ** 2, rtol=1e-12)
    np.testing.assert_allclose(pen.value(x), 0.35 * (np.abs(x).sum(axis=1) ** 2).sum())


def test_ksupport_value_of_k_sparse_vectors_is_ridge():
    rng = np.random.default_rng(3)
    for k in (1, 2, 3):
        x = rng.standard_normal((6, 8))
        for row in x:
            row[rng.permutation(8)[k:]] = 0.0
        np.testing.assert_allclose(KSupport(alpha=1.3, k=k).value(x, per_row=True),
                                   0.65 * (x * x).sum(axis=1), rtol=1e-12)
        # fewer than k non-zeros as well
        x[:, :] = 0.0
        x[:, 0] = 2.0
        np.testing.assert_allclose(KSupport(alpha=1.3, k=k).value(x, per_row=True), 0.65 * 4)
    # groups and weights: at most k non-zero groups gives 1/2 sum_g w_g ||x_g||^2
    groups, w = [[0, 1], [2, 3, 4], [5]], np.array([1.0, 0.5, 2.0])
    x = np.array([[1.0, -2.0, 0.0, 0.0, 0.0, 3.0], [0.0, 0.0, 1.0, 1.0, -1.0, 0.0]])
    pen = WGSEF(alpha=2.0, k=2, groups=groups, weights=w)
    np.testing.assert_allclose(pen.value(x, per_row=True), [1.0 * 5 + 2.0 * 9, 0.5 * 3])


def _biconjugate(x, k, groups, w):
    """h**(x) for h(x) = 1/2 sum_g w_g ||x_g||^2 + indicator(<= k non-zero groups).

    h*(u) = max_{|S| = k} sum_{g in S} ||u_g||^2 / (2 w_g); h** is computed as
    sup_{u, s} <u, x> - s subject to s >= sum_{g in S} ||u_g||^2 / (2 w_g) for all S.
    """
    subsets = list(itertools.combinations(range(len(groups)), min(k, len(groups))))

    def costs(u):
        return np.array([np.sum(u[g] ** 2) / (2 * w[i]) for i, g in enumerate(groups)])

    cons = [{"type": "ineq", "fun": (lambda z, S=S: z[-1] - costs(z[:-1])[list(S)].sum())}
            for S in subsets]
    z0 = np.append(x, costs(x).sum() + 1.0)
    res = minimize(lambda z: -(z[:-1] @ x - z[-1]), z0, method="SLSQP", constraints=cons,
                   options={"ftol": 1e-15, "maxiter": 1000})
    return -res.fun


def test_ksupport_value_is_biconjugate():
    """The closed form equals the convex envelope of the k-sparse ridge penalty."""
    rng = np.random.default_rng(4)
    for trial in range(8):
        x = rng.standard_normal(5)
        if trial >= 6:  # ties in magnitude exercise the fallback of the closed form
            x = rng.choice([-1.0, 1.0], 5) * np.array([2.0, 1.0, 1.0, 1.0, 0.5])
        k = int(rng.integers(1, 5))
        expected = _biconjugate(x, k, [[i] for i in range(5)], np.ones(5))
        np.testing.assert_allclose(KSupport(alpha=1.0, k=k).value(x), expected, rtol=1e-8)
        np.testing.assert_allclose(KSupport(alpha=0.3, k=k).value(x), 0.3 * expected,
                                   rtol=1e-8)
    groups, w = [[0, 1], [2, 3, 4], [5]], np.array([1.0, 0.5, 2.0])
    for _ in range(4):
        x = rng.standard_normal(6)
        k = int(rng.integers(1, 3))
        expected = _biconjugate(x, k, groups, w)
        got = WGSEF(alpha=1.0, k=k, groups=groups, weights=w).value(x)
        np.testing.assert_allclose(got, expected, rtol=1e-8)


def test_ksupport_squared_closed_form_small_cases():
    # ||x||_(k)^2 = min over theta in [0, 1]^d, sum theta = k of sum x_i^2 / theta_i
    np.testing.assert_allclose(ksupport_squared(np.ones((1, 4)), 2), [8.0])
    np.testing.assert_allclose(ksupport_squared(np.array([[3.0, 1.0, 1.0]]), 2), [9.0 + 4.0])
    np.testing.assert_allclose(ksupport_squared(np.array([[1.0, 1.0, 1.0]]), 3), [3.0])
    np.testing.assert_allclose(ksupport_squared(np.array([[-3.0, 1.0, 0.5]]), 1), [4.5**2])
    np.testing.assert_allclose(ksupport_squared(np.zeros((2, 3)), 2), [0.0, 0.0])


def test_ksupport_value_is_convex():
    rng = np.random.default_rng(5)
    pen = WGSEF(alpha=1.0, k=2, groups=[[0, 1], [2, 3], [4, 5]], weights=[1.0, 2.0, 0.5])
    x, y = rng.standard_normal((2, 200, 6))
    lam = rng.uniform(size=(200, 1))
    lhs = pen.value(lam * x + (1 - lam) * y, per_row=True)
    rhs = lam[:, 0] * pen.value(x, per_row=True) + (1 - lam[:, 0]) * pen.value(y, per_row=True)
    assert np.all(lhs <= rhs + 1e-12)
