"""Sinkhorn-Newton-Sparse: published-result reproductions (spec 2(d)), agreement with POT,
the bookkeeping of its ``info`` and the shared solver behaviour (batches, zero masses,
warm start, callback).

Accuracy is measured outside the library on the returned plan,
``||P 1 - a||_1 + ||P^T 1 - b||_1``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sparsopt.ot import OTResult, sinkhorn, sinkhorn_newton_sparse
from tests.ot._helpers import _check_against_pot, _l1_error, _problem, _Recorder

# ----------------------------------------------------------------------------- helpers


def _check_info(res):
    """The counts of ``info`` add up (single problem)."""
    info = res.info
    assert info["solver"] == "sns"
    n_newton, n_failed = info["n_newton"], info["n_failed"]
    # n_iter: Sinkhorn sweeps (warm-up and fallback) plus accepted Newton steps
    assert res.n_iter == info["n_sinkhorn"] + n_newton + info["n_fallback_sweeps"]
    # one density per Newton attempt
    assert n_newton <= len(info["densities"]) <= n_newton + n_failed
    if n_failed == 0:
        assert info["n_fallback_sweeps"] == 0
        assert res.n_iter == info["n_sinkhorn"] + n_newton
        assert len(info["densities"]) == n_newton
    assert all(0 < d <= 1 for d in info["densities"])
    # one O(nm) plan per accepted step at least, plus the initial one
    assert info["n_plan_evals"] >= (1 + n_newton if info["densities"] else 0)
    assert info["n_cg"] >= 0
    newton = [h for h in res.history if h["stage"] == "newton"]
    assert len(newton) >= n_newton


# -------------------------------------------------------------------------- R2-a, R2-b (spec 2(d))


def test_r2a_random_assignment_n500():
    """n = 500, reg = 1/1200, C ~ U[0,1], uniform marginals (Tang et al., Table 1)."""
    n = 500
    C = np.random.default_rng(0).random((n, n))
    u = np.full(n, 1.0 / n)
    with _Recorder() as rec:
        res = sinkhorn_newton_sparse(u, u, C, 1 / 1200, n_sinkhorn=20)
    assert rec.convergence == [] and rec.runtime == []
    err = _l1_error(res.plan, u, u)
    assert err <= 1e-12
    assert res.converged and res.marginal_error == pytest.approx(err, rel=1e-6, abs=1e-15)
    assert res.info["n_sinkhorn"] == 20
    assert res.info["n_newton"] <= 25
    assert res.info["n_failed"] == 0  # pure Newton after the warm-up
    assert res.n_iter == 20 + res.info["n_newton"]
    _check_info(res)
    # 1000 log-domain Sinkhorn sweeps stay orders of magnitude above
    with _Recorder() as rec:
        sk = sinkhorn(u, u, C, 1 / 1200, max_iter=1000, tol=0.0, check_every=100)
    assert len(rec.convergence) == 1
    assert sk.n_iter == 1000
    sk_err = _l1_error(sk.plan, u, u)
    assert sk_err >= 1e-6
    assert sk.marginal_error == pytest.approx(sk_err, rel=1e-9)
    # both approximate the same plan: SNS is the converged one
    assert np.abs(res.plan - sk.plan).max() <= 1e-3 / n


def _blobs(rng, s=28):
    y, x = np.mgrid[0:s, 0:s] / (s - 1)
    img = np.zeros((s, s))
    for _ in range(3):
        cx, cy = rng.uniform(0.2, 0.8, 2)
        w = rng.uniform(0.05, 0.15)
        img += rng.uniform(0.5, 1.5) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * w**2))
    img /= img.sum()
    img += 1e-6
    return (img / img.sum()).ravel()


def test_r2b_w2_between_two_synthetic_images():
    """W2 between 28 x 28 images (3 Gaussian blobs), squared Euclidean cost, reg = 1/1200."""
    s = 28
    rng = np.random.default_rng(0)
    a, b = _blobs(rng), _blobs(rng)
    grid = np.stack(np.mgrid[0:s, 0:s], axis=-1).reshape(-1, 2) / (s - 1)  # [0, 1]^2
    C = ((grid[:, None, :] - grid[None, :, :]) ** 2).sum(axis=-1)
    C /= C.max()
    with _Recorder() as rec:
        res = sinkhorn_newton_sparse(a, b, C, 1 / 1200, n_sinkhorn=20)
    assert rec.convergence == []
    err = _l1_error(res.plan, a, b)
    # measured: 20 sweeps + 23 Newton steps to 1.2e-14 (the paper: 20 + 33 on MNIST)
    assert err <= 1e-12 and res.converged
    assert 5 <= res.info["n_newton"] <= 50
    _check_info(res)
    # the W2^2 cost of the entropic plan is below that of the independent coupling
    assert res.cost < float(a @ C @ b)
    assert res.cost == pytest.approx(float((C * res.plan).sum()), rel=1e-12)


# ----------------------------------------------------------------------------- agreement with POT


@pytest.mark.parametrize("reg", [0.05, 0.01])
@pytest.mark.parametrize("shape", [(8, 8), (6, 10), (11, 5)])
def test_sns_matches_pot(reg, shape):
    ot = pytest.importorskip("ot")
    a, b, M = _problem(*shape, seed=100 + shape[0] + shape[1])
    P_ref, log = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", stopThr=1e-13,
                             numItermax=200_000, log=True)
    res = sinkhorn_newton_sparse(a, b, M, reg)
    assert res.converged and _l1_error(res.plan, a, b) <= 1e-12
    _check_against_pot(res, M, reg, P_ref, log)
    _check_info(res)


def test_sns_and_log_sinkhorn_agree_at_small_reg():
    a, b, M = _problem(12, 12, seed=101)
    with _Recorder():  # a tolerance at rounding level (see test_an_early_stop_...)
        ref = sinkhorn(a, b, M, 0.003, tol=1e-12, max_iter=200_000)
    res = sinkhorn_newton_sparse(a, b, M, 0.003)
    np.testing.assert_allclose(res.plan, ref.plan, rtol=1e-8, atol=1e-13)


# ----------------------------------------------------------------------------- info and warm-up


def test_large_reg_converges_during_the_warm_up():
    a, b, M = _problem(10, 9, seed=102)
    res = sinkhorn_newton_sparse(a, b, M, 0.5, n_sinkhorn=200)
    assert res.converged and _l1_error(res.plan, a, b) <= 1e-12
    assert res.info["n_newton"] == 0 and res.info["densities"] == ()
    assert res.info["n_sinkhorn"] == res.n_iter < 200
    assert all(h["stage"] == "sinkhorn" for h in res.history)
    _check_info(res)


def test_info_counts_without_warm_up():
    a, b, M = _problem(9, 9, seed=103)
    res = sinkhorn_newton_sparse(a, b, M, 0.05, n_sinkhorn=0)
    assert res.info["n_sinkhorn"] == 0
    assert res.converged and _l1_error(res.plan, a, b) <= 1e-12
    _check_info(res)


@pytest.mark.parametrize("density", [None, 0.05, 1.0])
def test_info_counts_and_density(density):
    a, b, M = _problem(20, 20, seed=104)
    res = sinkhorn_newton_sparse(a, b, M, 0.01, density=density)
    assert res.converged and _l1_error(res.plan, a, b) <= 1e-12
    _check_info(res)
    first = 5 / 20 if density is None else density
    assert res.info["densities"][0] == pytest.approx(first)
    # the density only ever grows (doubling on slow or failed steps), capped at 1
    d = np.array(res.info["densities"])
    assert np.all(np.diff(d) >= 0) and d.max() <= 1.0
    newton = [h for h in res.history if h["stage"] == "newton"]
    errs = [h["marginal_error"] for h in newton]
    assert errs[-1] == pytest.approx(res.marginal_error, rel=1e-9, abs=1e-16)


def test_max_iter_limits_newton_steps_and_warns_once():
    a, b, M = _problem(30, 30, seed=105)
    with _Recorder() as rec:
        res = sinkhorn_newton_sparse(a, b, M, 0.002, max_iter=2)
    assert not res.converged and len(rec.convergence) == 1
    msg = str(rec.convergence[0].message)
    assert "max_iter = 2" in msg and "Newton steps" in msg and "sinkhorn_newton_sparse" in msg
    assert len(res.info["densities"]) <= 2
    assert res.marginal_error == pytest.approx(_l1_error(res.plan, a, b), rel=1e-9)
    _check_info(res)
    # max_iter = 0: the warm-up only
    with _Recorder() as rec:
        res0 = sinkhorn_newton_sparse(a, b, M, 0.002, max_iter=0, n_sinkhorn=7)
    assert res0.n_iter == 7 and res0.info["n_newton"] == 0 and len(rec.convergence) == 1


def test_callback_stops_sns():
    a, b, M = _problem(15, 15, seed=106)
    seen = []

    def cb(state):
        seen.append(state.info["stage"])
        return state.info["stage"] == "newton"

    with _Recorder():
        res = sinkhorn_newton_sparse(a, b, M, 0.005, callback=cb)
    assert seen[-1] == "newton" and seen.count("newton") == 1
    assert res.info["n_newton"] <= 1
    full = sinkhorn_newton_sparse(a, b, M, 0.005)
    assert full.info["n_newton"] > res.info["n_newton"]


def test_init_from_a_converged_result():
    a, b, M = _problem(12, 12, seed=107)
    first = sinkhorn_newton_sparse(a, b, M, 0.005)
    again = sinkhorn_newton_sparse(a, b, M, 0.005, init=first, n_sinkhorn=0)
    assert again.converged and again.info["n_newton"] == 0 and again.n_iter == 0
    np.testing.assert_allclose(again.plan, first.plan, rtol=1e-12, atol=1e-16)
    # from a log-Sinkhorn result at a nearby cost: fewer Newton steps than cold
    M2 = M + 0.01 * np.random.default_rng(108).random(M.shape)
    cold = sinkhorn_newton_sparse(a, b, M2, 0.005)
    warm = sinkhorn_newton_sparse(a, b, M2, 0.005, init=(first.f, first.g))
    assert warm.converged and warm.n_iter < cold.n_iter


# ----------------------------------------------------------------------------- shared behaviour


def test_sns_batch_equals_per_problem_solves_and_n_jobs():
    a, b, M = _problem(6, 7, seed=109, batch=3)
    res = sinkhorn_newton_sparse(a, b, M, 0.02)
    singles = OTResult.stack([sinkhorn_newton_sparse(a, b, M[k], 0.02) for k in range(3)])
    np.testing.assert_array_equal(res.plan, singles.plan)
    np.testing.assert_array_equal(res.n_iter, singles.n_iter)
    assert res.info["n_newton"] == singles.info["n_newton"]
    assert res.info["densities"] == singles.info["densities"]
    par = sinkhorn_newton_sparse(a, b, M, 0.02, n_jobs=2)
    np.testing.assert_array_equal(par.plan, res.plan)
    for k in range(3):
        assert _l1_error(res.plan[k], a, b) <= 1e-12


def test_sns_batch_single_warning():
    a, b, M = _problem(20, 20, seed=110, batch=2)
    M[0] = 0.01 * M[0]  # easy
    with _Recorder() as rec:
        res = sinkhorn_newton_sparse(a, b, M, 0.002, max_iter=1)
    assert list(res.converged) == [True, False]
    assert len(rec.convergence) == 1 and "1 of 2 problems" in str(rec.convergence[0].message)


def test_sns_zero_marginal_entries():
    a, b, M = _problem(8, 9, seed=111)
    a[3] = 0.0
    b[[0, 5]] = 0.0
    b *= a.sum() / b.sum()
    res = sinkhorn_newton_sparse(a, b, M, 0.01)
    rows, cols = np.flatnonzero(a), np.flatnonzero(b)
    assert np.all(res.plan[3] == 0) and np.all(res.plan[:, [0, 5]] == 0)
    assert res.f[3] == -np.inf and np.all(res.g[[0, 5]] == -np.inf)
    red = sinkhorn_newton_sparse(a[rows], b[cols], M[np.ix_(rows, cols)], 0.01)
    np.testing.assert_array_equal(res.plan[np.ix_(rows, cols)], red.plan)
    assert res.n_iter == red.n_iter and res.converged
    assert _l1_error(res.plan, a, b) <= 1e-12


def test_sns_engines_agree():
    a, b, M = _problem(15, 12, seed=112)
    r_np = sinkhorn_newton_sparse(a, b, M, 0.005, engine="numpy")
    r_nb = sinkhorn_newton_sparse(a, b, M, 0.005, engine="numba")
    assert r_np.converged and r_nb.converged
    np.testing.assert_allclose(r_nb.plan, r_np.plan, rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("n", [5, 20])
def test_sns_emits_no_runtime_warnings_at_small_reg(n):
    # line-search trials with long steps overflow the plan: no numpy warning may leak
    C = np.random.default_rng(0).random((n, n))
    with _Recorder() as rec:
        res = sinkhorn_newton_sparse(None, None, C, 1 / 1200)
    assert rec.runtime == []
    assert res.converged and _l1_error(res.plan, np.full(n, 1 / n), np.full(n, 1 / n)) <= 1e-12


@pytest.mark.parametrize("shift", [-0.9, 0.9, 5.0])
def test_sns_recovers_from_warm_starts_that_under_or_overflow_the_scaled_kernel(shift):
    # f0 + g0 - M far from 0 at reg = 1/1200: exp underflows (or overflows) for every
    # entry of the absorbed kernel, so the sweeps must go through the log domain
    a, b, M = _problem(60, 50, 3)
    reg = 1 / 1200
    ref = sinkhorn_newton_sparse(a, b, M, reg, tol=1e-12)
    f0 = np.full(a.size, shift)
    g0 = np.zeros(b.size)
    with _Recorder() as rec:
        res = sinkhorn_newton_sparse(a, b, M, reg, tol=1e-12, init=(f0, g0))
    assert not rec.runtime and not rec.convergence
    assert res.converged and _l1_error(res.plan, a, b) <= 1e-12
    np.testing.assert_allclose(res.plan, ref.plan, atol=1e-10)


def test_sns_absorbs_drifting_scalings():
    # potentials move by far more than the absorption bound (30 / reg units) from the
    # default start: the scalings are absorbed again, and the plan is still exact
    a, b, M = _problem(80, 80, 4)
    M = M * 40.0  # costs up to 40: f, g of order 40, i.e. 40 / reg = 800 in u, v
    reg = 0.05
    res = sinkhorn_newton_sparse(a, b, M, reg, tol=1e-12)
    assert res.info["n_absorb"] >= 2
    assert res.converged and _l1_error(res.plan, a, b) <= 1e-12
    ref = sinkhorn(a, b, M, reg, tol=1e-13, max_iter=100_000)  # log domain throughout
    np.testing.assert_allclose(res.plan, ref.plan, atol=1e-12)


def test_sns_threads_over_row_blocks_of_one_problem():
    a, b, M = _problem(300, 280, 5)
    one = sinkhorn_newton_sparse(a, b, M, 1 / 500, tol=1e-12)
    two = sinkhorn_newton_sparse(a, b, M, 1 / 500, tol=1e-12, n_jobs=2)
    assert two.converged and _l1_error(two.plan, a, b) <= 1e-12
    np.testing.assert_allclose(two.plan, one.plan, atol=1e-13)
