"""Behaviour of ``sparsopt.ot.sinkhorn`` (log and scaling), the unbalanced solver,
Sinkhorn-Knopp matrix scaling and the vectorised exponential of the Numba kernels.

Accuracy is always measured here, outside the library, on the returned plan:
``||P 1 - a||_1 + ||P^T 1 - b||_1``. References are POT's log-domain Sinkhorn run to
``stopThr=1e-13`` and the entropic objective recomputed from the plan.
"""

from __future__ import annotations

import numpy as np
import pytest

from sparsopt._core.result import SolverResult, SolverState
from sparsopt.backends._numba.sinkhorn import _exp_inplace
from sparsopt.exceptions import NonFiniteIterateWarning
from sparsopt.ot import (
    OTResult,
    sinkhorn,
    sinkhorn_knopp_scaling,
    sinkhorn_newton_sparse,
    sinkhorn_unbalanced,
)
from tests.ot._helpers import (
    _check_against_pot,
    _entropic_objective,
    _l1_error,
    _problem,
    _Recorder,
)

# ----------------------------------------------------------------------------- helpers


def _pot_log(a, b, M, reg):
    ot = pytest.importorskip("ot")
    P, log = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", stopThr=1e-13,
                         numItermax=200_000, log=True)
    return P, log


# ----------------------------------------------------------------------------- exp kernel


def _numba_exp(x):
    y = np.array(x, dtype=np.float64)
    _exp_inplace(y, y.size)
    return y


def test_numba_exp_matches_numpy_on_the_log_kernel_range():
    x = np.concatenate([np.linspace(-40.0, 0.0, 200_001),
                        -np.random.default_rng(0).random(10_000) * 40.0,
                        [-0.0, -1e-300, -np.log(2) / 2, -np.log(2)]])
    rel = np.abs(_numba_exp(x) / np.exp(x) - 1.0)
    assert rel.max() <= 1e-15


def test_numba_exp_is_finite_and_clipped_at_extreme_arguments():
    big = np.array([709.0, 709.5, 710.0, 1e4, 1e300, np.finfo(np.float64).max])
    out = _numba_exp(big)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, np.exp(709.0), rtol=1e-15)  # clipped to exp(709)
    tiny = np.array([-708.0, -708.5, -745.0, -1e4, -1e300, -np.finfo(np.float64).max])
    out = _numba_exp(tiny)
    assert np.all(np.isfinite(out)) and np.all(out > 0)
    np.testing.assert_allclose(out, np.exp(-708.0), rtol=1e-15)  # clipped to exp(-708)
    # between the clips it follows np.exp, normal range included
    mid = np.array([-707.9, -500.0, -100.0, 1.0, 100.0, 700.0, 708.9])
    np.testing.assert_allclose(_numba_exp(mid), np.exp(mid), rtol=1e-15)
    assert _numba_exp(np.array([0.0]))[0] == 1.0


# ----------------------------------------------------------------------------- agreement with POT


@pytest.mark.parametrize("solver", ["log", "scaling"])
@pytest.mark.parametrize("reg", [0.05, 0.01])
@pytest.mark.parametrize("shape", [(7, 7), (5, 9), (9, 4)])
def test_sinkhorn_matches_pot(solver, reg, shape):
    a, b, M = _problem(*shape, seed=shape[0] * 10 + shape[1])
    P_ref, log = _pot_log(a, b, M, reg)
    res = sinkhorn(a, b, M, reg, solver=solver, tol=1e-12, max_iter=100_000)
    assert res.converged and res.marginal_error <= 1e-12
    assert res.plan.shape == shape and res.plan.dtype == np.float64
    _check_against_pot(res, M, reg, P_ref, log)
    assert res.cost == pytest.approx(float((M * res.plan).sum()), rel=1e-13)
    assert res.reg == reg
    assert res.potentials[0] is res.f and res.potentials[1] is res.g


def test_uniform_default_marginals():
    _, _, M = _problem(4, 6, seed=3)
    res = sinkhorn(None, None, M, 0.1, tol=1e-12)
    ref = sinkhorn(np.full(4, 0.25), np.full(6, 1 / 6), M, 0.1, tol=1e-12)
    np.testing.assert_array_equal(res.plan, ref.plan)
    assert _l1_error(res.plan, np.full(4, 0.25), np.full(6, 1 / 6)) <= 1e-12


def test_engines_agree():
    a, b, M = _problem(6, 8, seed=4)
    r_np = sinkhorn(a, b, M, 0.01, tol=1e-12, engine="numpy")
    r_nb = sinkhorn(a, b, M, 0.01, tol=1e-12, engine="numba")
    np.testing.assert_allclose(r_nb.plan, r_np.plan, rtol=1e-9, atol=1e-14)


def test_masses_other_than_one():
    a, b, M = _problem(5, 6, seed=5)
    res = sinkhorn(3 * a, 3 * b, M, 0.05, tol=1e-11)
    ref = sinkhorn(a, b, M, 0.05, tol=1e-13)
    np.testing.assert_allclose(res.plan, 3 * ref.plan, rtol=1e-8, atol=1e-12)
    assert _l1_error(res.plan, 3 * a, 3 * b) == pytest.approx(res.marginal_error, abs=1e-14)


# --------------------------------------------------------------------------- marginal error claims


@pytest.mark.parametrize("kwargs", [
    dict(solver="log", tol=1e-9),
    dict(solver="log", tol=1e-3),
    dict(solver="scaling", tol=1e-9),
    dict(solver="log", tol=1e-9, eps_scaling=3.0),
    dict(solver="log", tol=1e-9, check_every=1),
])
def test_marginal_error_is_that_of_the_returned_plan(kwargs):
    a, b, M = _problem(6, 5, seed=6)
    with _Recorder() as rec:
        res = sinkhorn(a, b, M, 0.02, **kwargs)
    assert res.marginal_error == pytest.approx(_l1_error(res.plan, a, b), rel=1e-9,
                                               abs=1e-15)
    assert res.converged == (res.marginal_error <= kwargs["tol"])
    assert res.converged
    assert rec.convergence == []
    assert res.n_iter < 1000


@pytest.mark.parametrize("solver", ["log", "scaling"])
def test_exactly_one_convergence_warning_when_max_iter_is_too_small(solver):
    a, b, M = _problem(6, 5, seed=7)
    with _Recorder() as rec:
        res = sinkhorn(a, b, M, 0.01, solver=solver, max_iter=7)
    assert len(rec.convergence) == 1
    msg = str(rec.convergence[0].message)
    assert "max_iter = 7" in msg and "tol = 1.0e-09" in msg
    assert res.n_iter == 7
    assert not res.converged
    err = _l1_error(res.plan, a, b)
    assert res.marginal_error == pytest.approx(err, rel=1e-12) and err > 1e-9
    # the warning points at the caller, not into the library
    assert rec.convergence[0].filename == __file__


def test_an_early_stop_is_a_converged_solve():
    wrong = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n, m = rng.integers(3, 9, 2)
        M = rng.random((n, m))
        a = rng.random(n) + 0.1
        b = rng.random(m) + 0.1
        a, b = a / a.sum(), b / b.sum()
        for tol in (1e-13, 1e-14):
            with _Recorder() as rec:
                res = sinkhorn(a, b, M, 0.05, tol=tol, max_iter=100_000, check_every=1)
            # it stopped at the tolerance test, so the result should be converged
            if res.n_iter < 100_000 and (not res.converged or rec.convergence):
                wrong.append((seed, tol, res.n_iter, res.marginal_error))
    assert wrong == []


def test_max_iter_zero_returns_the_initial_plan():
    a, b, M = _problem(3, 4, seed=8)
    with _Recorder() as rec:
        res = sinkhorn(a, b, M, 0.5, max_iter=0)
    assert res.n_iter == 0 and not res.converged and len(rec.convergence) == 1
    assert res.history == ()
    # the plan of the initial potentials, whatever they are
    np.testing.assert_allclose(res.plan, np.exp((res.f[:, None] + res.g[None, :] - M) / 0.5),
                               rtol=1e-13)
    assert res.marginal_error == pytest.approx(_l1_error(res.plan, a, b), rel=1e-12)


def test_history_records_the_error_of_the_iterates():
    a, b, M = _problem(6, 6, seed=9)
    res = sinkhorn(a, b, M, 0.02, check_every=5, tol=1e-10)
    its = [h["iteration"] for h in res.history]
    assert its == sorted(its) and its[-1] == res.n_iter
    assert all(h["stage"] == "sinkhorn" for h in res.history)
    errs = np.array([h["marginal_error"] for h in res.history])
    assert np.all(np.diff(errs[:-1]) <= 0)  # Sinkhorn decreases the error of the iterates
    assert errs[-1] <= 1e-10
    assert all(h["time"] >= 0 for h in res.history)


# ----------------------------------------------------------------------------- zero masses, float32


@pytest.mark.parametrize("solver", ["log", "scaling"])
def test_zero_entries_of_the_marginals_are_exact(solver):
    a, b, M = _problem(6, 7, seed=10)
    a[[1, 4]] = 0.0
    b[[0, 6]] = 0.0
    b *= a.sum() / b.sum()
    res = sinkhorn(a, b, M, 0.03, solver=solver, tol=1e-12)
    rows, cols = np.flatnonzero(a), np.flatnonzero(b)
    assert np.all(res.plan[[1, 4], :] == 0.0) and np.all(res.plan[:, [0, 6]] == 0.0)
    assert np.all(res.f[[1, 4]] == -np.inf) and np.all(res.g[[0, 6]] == -np.inf)
    assert np.all(np.isfinite(res.f[rows])) and np.all(np.isfinite(res.g[cols]))
    red = sinkhorn(a[rows], b[cols], M[np.ix_(rows, cols)], 0.03, solver=solver, tol=1e-12)
    np.testing.assert_allclose(res.plan[np.ix_(rows, cols)], red.plan, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.f[rows], red.f, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.g[cols], red.g, rtol=1e-12, atol=1e-14)
    for key in ("cost", "objective", "marginal_error", "n_iter", "converged"):
        assert getattr(res, key) == pytest.approx(getattr(red, key), rel=1e-12, abs=1e-16)
    assert np.isfinite(res.objective) and res.converged
    assert res.marginal_error == pytest.approx(_l1_error(res.plan, a, b), abs=1e-15)


def test_init_from_a_result_with_zero_marginal_entries():
    a, b, M = _problem(5, 6, seed=11)
    a[2] = 0.0
    a /= a.sum()
    first = sinkhorn(a, b, M, 0.05, tol=1e-12)
    again = sinkhorn(a, b, M, 0.05, tol=1e-12, init=first)
    assert again.n_iter <= 1
    np.testing.assert_allclose(again.plan, first.plan, atol=1e-12)


def test_float32_cost_is_solved_in_float64_and_returned_in_float32():
    a, b, M = _problem(6, 7, seed=12)
    M32 = M.astype(np.float32)
    res32 = sinkhorn(a, b, M32, 0.05, tol=1e-6)
    assert res32.plan.dtype == np.float32
    # the same solve as a float64 run on the float32 costs, rounded at the end
    ref = sinkhorn(a, b, M32.astype(np.float64), 0.05, tol=1e-6)
    assert res32.n_iter == ref.n_iter
    np.testing.assert_array_equal(res32.plan, ref.plan.astype(np.float32))
    np.testing.assert_allclose(res32.f, ref.f, rtol=1e-14, atol=1e-15)
    # and it agrees with the float64 solve of the float64 costs to ~1e-6
    ref64 = sinkhorn(a, b, M, 0.05, tol=1e-12)
    np.testing.assert_allclose(res32.plan, ref64.plan, rtol=1e-5, atol=1e-6)
    # the reported error is that of the float32 plan
    assert res32.marginal_error == pytest.approx(_l1_error(res32.plan, a, b), rel=1e-9)
    assert res32.converged


def test_float32_cost_at_small_reg_keeps_float64_accuracy():
    # float32 potentials would carry no accuracy at reg = 1e-3 (|f / reg| ~ 1e3)
    a, b, M = _problem(8, 8, seed=13)
    M32 = M.astype(np.float32)
    res32 = sinkhorn_newton_sparse(a, b, M32, 1e-3, tol=1e-6)
    ref = sinkhorn_newton_sparse(a, b, M32.astype(np.float64), 1e-3, tol=1e-6)
    assert res32.plan.dtype == np.float32
    np.testing.assert_allclose(res32.plan, ref.plan, rtol=1e-6, atol=1e-9)
    assert _l1_error(res32.plan, a, b) <= 1e-6


def test_float32_cost_default_tol_does_not_claim_max_iter():
    a, b, M = _problem(6, 7, seed=1)
    with _Recorder() as rec:
        res = sinkhorn(a, b, M.astype(np.float32), 0.05)
    assert res.n_iter < 1000  # the iterations did stop at tol
    assert rec.convergence == []


# ----------------------------------------------------------------------------- batches


@pytest.mark.parametrize("a_batched", [False, True])
def test_batch_equals_per_problem_solves(a_batched):
    _, b, M = _problem(5, 6, seed=14, batch=3)
    rng = np.random.default_rng(15)
    a = rng.random((3, 5)) + 0.1 if a_batched else rng.random(5) + 0.1
    a /= a.sum(axis=-1, keepdims=True)
    res = sinkhorn(a, b, M, 0.05, tol=1e-11)
    assert res.plan.shape == (3, 5, 6) and res.f.shape == (3, 5) and res.g.shape == (3, 6)
    singles = [sinkhorn(a[k] if a_batched else a, b, M[k], 0.05, tol=1e-11) for k in range(3)]
    stacked = OTResult.stack(singles)
    np.testing.assert_array_equal(res.plan, stacked.plan)
    np.testing.assert_array_equal(res.f, stacked.f)
    np.testing.assert_array_equal(res.g, stacked.g)
    for key in ("cost", "n_iter", "marginal_error", "converged", "objective"):
        np.testing.assert_array_equal(getattr(res, key), getattr(stacked, key))
        assert np.shape(getattr(res, key)) == (3,)
    assert res.info["solver"] == ("log",) * 3
    assert len(res.history) == 3
    assert [len(h) for h in res.history] == [len(r.history) for r in singles]
    # n_jobs=2: the same results
    par = sinkhorn(a, b, M, 0.05, tol=1e-11, n_jobs=2)
    np.testing.assert_array_equal(par.plan, res.plan)
    np.testing.assert_array_equal(par.n_iter, res.n_iter)


def test_batch_with_a_batched_b():
    a, _, M = _problem(4, 5, seed=16, batch=2)
    b = np.random.default_rng(17).random((2, 5)) + 0.1
    b /= b.sum(axis=1, keepdims=True)
    res = sinkhorn(a, b, M, 0.05, tol=1e-11)
    for k in range(2):
        assert _l1_error(res.plan[k], a, b[k]) <= 1e-11


def test_batch_one_warning_counting_the_failed_problems():
    a, b, M = _problem(5, 6, seed=18, batch=3)
    M[1] *= 0.01  # almost constant cost: converges in a few sweeps
    with _Recorder() as rec:
        res = sinkhorn(a, b, M, 0.02, max_iter=30, check_every=1)
    assert list(res.converged) == [False, True, False]
    assert len(rec.convergence) == 1
    msg = str(rec.convergence[0].message)
    assert "2 of 3 problems" in msg
    worst = max(_l1_error(res.plan[k], a, b) for k in (0, 2))
    assert f"{worst:.3e}" in msg
    for k in range(3):
        assert res.marginal_error[k] == pytest.approx(_l1_error(res.plan[k], a, b), rel=1e-9,
                                                      abs=1e-15)


def test_batch_with_zero_marginal_entries_per_problem():
    _, b, M = _problem(4, 5, seed=19, batch=2)
    a = np.array([[0.5, 0.0, 0.25, 0.25], [0.0, 0.4, 0.3, 0.3]])
    res = sinkhorn(a, b, M, 0.05, tol=1e-11)
    assert np.all(res.plan[0, 1] == 0) and np.all(res.plan[1, 0] == 0)
    assert res.f[0, 1] == -np.inf and res.f[1, 0] == -np.inf
    assert np.isfinite(res.f[0, 0]) and np.isfinite(res.f[1, 1])
    for k in range(2):
        assert _l1_error(res.plan[k], a[k], b) <= 1e-11


# ------------------------------------------------------------ eps scaling, warm start, callback


def test_eps_scaling_reaches_the_same_plan():
    a, b, M = _problem(8, 6, seed=20)
    ref = sinkhorn(a, b, M, 0.005, tol=1e-12, max_iter=20_000)
    res = sinkhorn(a, b, M, 0.005, tol=1e-12, max_iter=20_000, eps_scaling=2.0)
    assert res.converged and res.marginal_error <= 1e-12
    np.testing.assert_allclose(res.plan, ref.plan, rtol=1e-8, atol=1e-12)
    stages = [h["stage"] for h in res.history]
    assert stages[0].startswith("eps=") and stages[-1] == "sinkhorn"
    assert res.n_iter == res.history[-1]["iteration"]


def test_init_converges_in_fewer_sweeps():
    a, b, M = _problem(8, 8, seed=21)
    cold = sinkhorn(a, b, M, 0.01, tol=1e-11, max_iter=10_000)
    M2 = M + 0.02 * np.random.default_rng(22).random(M.shape)
    cold2 = sinkhorn(a, b, M2, 0.01, tol=1e-11, max_iter=10_000)
    warm = sinkhorn(a, b, M2, 0.01, tol=1e-11, max_iter=10_000, init=cold)
    warm_tuple = sinkhorn(a, b, M2, 0.01, tol=1e-11, max_iter=10_000,
                          init=(cold.f, cold.g))
    assert warm.converged and warm.n_iter < cold2.n_iter
    assert warm_tuple.n_iter == warm.n_iter
    np.testing.assert_allclose(warm.plan, cold2.plan, rtol=1e-7, atol=1e-11)
    # restarting from the solution itself: no sweep needed
    same = sinkhorn(a, b, M, 0.01, tol=1e-11, init=cold)
    assert same.n_iter == 0 and same.converged
    np.testing.assert_allclose(same.plan, cold.plan, rtol=1e-12, atol=1e-15)


def test_init_with_the_scaling_solver():
    a, b, M = _problem(6, 6, seed=23)
    cold = sinkhorn(a, b, M, 0.05, tol=1e-11, solver="scaling")
    same = sinkhorn(a, b, M, 0.05, tol=1e-11, solver="scaling", init=cold)
    assert same.n_iter <= 10 and same.converged  # one check of check_every sweeps at most


def test_callback_returning_true_stops_early():
    a, b, M = _problem(6, 6, seed=24)
    calls = []

    def cb(state):
        calls.append(state)
        return len(calls) == 3

    with _Recorder():
        res = sinkhorn(a, b, M, 0.001, callback=cb, check_every=5)
    assert len(calls) == 3 and res.n_iter == 15
    assert all(isinstance(c, SolverState) for c in calls)
    assert [c.iteration for c in calls] == [5, 10, 15]
    assert {"stage", "marginal_error", "f", "g", "reg"} <= set(calls[0].info)
    assert calls[0].stop_crit == calls[0].info["marginal_error"] and calls[0].elapsed >= 0
    # the potentials handed to the callback are those of the iterate: state.x = (f, g)
    f, g = calls[-1].x
    assert f is calls[-1].info["f"] and g is calls[-1].info["g"]
    assert f.shape == (6,) and np.all(np.isfinite(f))
    np.testing.assert_allclose(f, res.f)
    assert not res.converged and res.stopped_by == "callback"


def test_callback_false_does_not_stop():
    a, b, M = _problem(5, 5, seed=25)
    seen = []
    res = sinkhorn(a, b, M, 0.05, tol=1e-10, callback=lambda s: seen.append(1) and False)
    ref = sinkhorn(a, b, M, 0.05, tol=1e-10)
    # the loop protocol: every check calls the callback, the one that converges included
    assert res.n_iter == ref.n_iter and len(seen) == len(ref.history)
    np.testing.assert_array_equal(res.plan, ref.plan)


def test_scaling_solver_refuses_an_underflowing_kernel():
    # reg = 1/1200, C in [0, 1]: exp(-C / reg) underflows to 0 on the last row
    M = np.array([[0.0, 0.2, 0.4], [0.3, 0.0, 0.5], [0.7, 0.8, 0.9]])
    with pytest.raises(ValueError, match=r"underflow.*solver='log'"):
        sinkhorn(None, None, M, 1 / 1200, solver="scaling")
    # the log-domain solvers represent it
    res = sinkhorn_newton_sparse(None, None, M, 1 / 1200)
    assert _l1_error(res.plan, np.full(3, 1 / 3), np.full(3, 1 / 3)) <= 1e-12


def test_scaling_solver_overflowing_iterates_warn_once_and_roll_back():
    # exp(-M / reg) keeps a positive entry in every row and column, but the scalings
    # overflow: one NonFiniteIterateWarning pointing at solver='log', no numpy warnings
    M = np.array([[0.0, 0.55], [0.6, 0.7]])
    with _Recorder() as rec:
        res = sinkhorn(None, None, M, 1 / 1200, solver="scaling")
    assert len(rec.all) == 1 and issubclass(rec.all[0].category, NonFiniteIterateWarning)
    assert "solver='log'" in str(rec.all[0].message)
    assert rec.all[0].filename == __file__
    assert not res.converged and np.all(np.isfinite(res.plan))
    assert res.stopped_by == "nonfinite" and np.all(np.isfinite(res.f))
    # the returned plan is that of the last finite check's potentials
    np.testing.assert_allclose(res.plan, np.exp((res.f[:, None] + res.g[None, :] - M) * 1200),
                               rtol=1e-12)
    assert sinkhorn_newton_sparse(None, None, M, 1 / 1200).converged


# ----------------------------------------------------------------------------- unbalanced


def test_unbalanced_approaches_the_balanced_plan_as_reg_m_grows():
    a, b, M = _problem(5, 6, seed=26)
    bal = sinkhorn(a, b, M, 0.05, tol=1e-13)
    gaps = []
    for reg_m in (1.0, 10.0, 100.0):
        res = sinkhorn_unbalanced(a, b, M, 0.05, reg_m, tol=1e-10, max_iter=50_000)
        assert res.converged and res.info["potential_change"] <= 1e-10
        gaps.append(float(np.abs(res.plan - bal.plan).max()))
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] <= 1e-3
    # roughly inversely proportional to reg_m
    assert gaps[2] <= 0.2 * gaps[1] and gaps[1] <= 0.2 * gaps[0]


def test_unbalanced_accepts_different_masses_and_reports_its_objective():
    a, b, M = _problem(4, 6, seed=27)
    reg, reg_m = 0.1, 0.5
    res = sinkhorn_unbalanced(a, 2.0 * b, M, reg, reg_m, tol=1e-11, max_iter=10_000)
    assert res.converged and res.info["solver"] == "unbalanced"
    P = res.plan
    assert 1.0 < P.sum() < 2.0
    assert res.marginal_error == pytest.approx(_l1_error(P, a, 2.0 * b), rel=1e-9)
    assert res.marginal_error > 1e-3  # relaxed marginals: not met by design

    def kl(x, y):
        return float((x * np.log(x / y) - x + y).sum())

    obj = _entropic_objective(P, M, reg) + reg_m * (kl(P.sum(1), a) + kl(P.sum(0), 2 * b))
    assert res.objective == pytest.approx(obj, rel=1e-9)
    # first-order optimality: f = -reg_m log(P1 / a), g = -reg_m log(P^T 1 / b)
    np.testing.assert_allclose(res.f, -reg_m * np.log(P.sum(1) / a), atol=1e-8)
    np.testing.assert_allclose(res.g, -reg_m * np.log(P.sum(0) / (2 * b)), atol=1e-8)
    np.testing.assert_allclose(res.f[:, None] + res.g[None, :] - M, reg * np.log(P),
                               atol=1e-12)


@pytest.mark.filterwarnings("ignore:If reg_type = entropy:UserWarning")
def test_unbalanced_matches_pot():
    a, b, M = _problem(5, 5, seed=28)
    reg, reg_m = 0.05, 2.0
    ot = pytest.importorskip("ot")
    res = sinkhorn_unbalanced(a, 1.5 * b, M, reg, reg_m, tol=1e-12, max_iter=50_000)
    P_ref = ot.unbalanced.sinkhorn_unbalanced(a, 1.5 * b, M, reg, reg_m,
                                              method="sinkhorn_stabilized", reg_type="entropy",
                                              numItermax=50_000, stopThr=1e-14)
    np.testing.assert_allclose(res.plan, P_ref, rtol=1e-6, atol=1e-10)


def test_unbalanced_warns_once_without_convergence():
    a, b, M = _problem(5, 5, seed=29)
    with _Recorder() as rec:
        res = sinkhorn_unbalanced(a, b, M, 0.01, 10.0, max_iter=20)
    assert not res.converged and len(rec.convergence) == 1
    assert "potential change" in str(rec.convergence[0].message)
    assert res.info["potential_change"] > 1e-9


# -------------------------------------------------------------------------- Sinkhorn-Knopp scaling


def test_knopp_positive_square_matrix_becomes_doubly_stochastic():
    K = np.random.default_rng(30).random((6, 6)) + 0.05
    with _Recorder() as rec:
        res = sinkhorn_knopp_scaling(K)
    P, x, y = res.x, res.info["row_scaling"], res.info["col_scaling"]
    assert isinstance(res, SolverResult) and res.converged and res.stop_crit <= 1e-12
    assert rec.convergence == []
    assert np.abs(P.sum(axis=0) - 1).max() <= 1e-12
    assert np.abs(P.sum(axis=1) - 1).max() <= 1e-12
    np.testing.assert_allclose(P, x[:, None] * K * y[None, :], rtol=1e-14)
    assert np.all(x > 0) and np.all(y > 0)


def test_knopp_rectangular_with_given_sums():
    rng = np.random.default_rng(31)
    K = rng.random((4, 7)) + 0.1
    a = rng.random(4) + 0.5
    b = rng.random(7) + 0.5
    b *= a.sum() / b.sum()
    P = sinkhorn_knopp_scaling(K, a=a, b=b).x
    assert np.abs(P.sum(axis=1) - a).max() <= 1e-12
    assert np.abs(P.sum(axis=0) - b).max() <= 1e-12
    # default b for a rectangular matrix: n / m
    P = sinkhorn_knopp_scaling(K).x
    np.testing.assert_allclose(P.sum(axis=0), 4 / 7, atol=1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)


def test_knopp_without_total_support_warns():
    with _Recorder() as rec:
        res = sinkhorn_knopp_scaling(np.array([[1.0, 1.0], [0.0, 1.0]]))
    P = res.x
    assert not res.converged and res.stop_crit > 1e-12
    assert len(rec.convergence) == 1
    assert "total support" in str(rec.convergence[0].message)
    # the limit is the identity, reached only slowly (P_12 ~ 1 / iterations)
    np.testing.assert_allclose(P, np.eye(2), atol=1e-3)
    assert P[1, 0] == 0.0


def test_knopp_matrix_with_zeros_but_total_support_scales_exactly():
    K = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [4.0, 0.0, 1.0]])
    with _Recorder() as rec:
        P = sinkhorn_knopp_scaling(K).x
    assert rec.convergence == []
    assert np.abs(P.sum(0) - 1).max() <= 1e-12 and np.abs(P.sum(1) - 1).max() <= 1e-12
    assert np.all(P[K == 0] == 0)


@pytest.mark.parametrize("K, match", [
    (np.array([[1.0, 2.0], [0.0, 0.0]]), "zero row or column"),
    (np.array([[1.0, 0.0], [2.0, 0.0]]), "zero row or column"),
    (np.array([[1.0, -2.0], [1.0, 1.0]]), "non-negative"),
    (np.array([[1.0, np.nan], [1.0, 1.0]]), "K contains NaN"),
])
def test_knopp_refuses_bad_matrices(K, match):
    with pytest.raises(ValueError, match=match):
        sinkhorn_knopp_scaling(K)


@pytest.mark.parametrize("kwargs, match", [
    (dict(a=[1.0, 1.0], b=[1.0, 2.0]), "differ"),
    (dict(a=[1.0, 0.0], b=[0.5, 0.5]), "positive"),
    (dict(a=[1.0, 1.0, 1.0]), "shapes"),
    (dict(tol=-1.0), "tol"),
    (dict(max_iter=0), "max_iter"),
])
def test_knopp_refuses_bad_sums_and_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sinkhorn_knopp_scaling(np.ones((2, 2)), **kwargs)
