"""The one-road protocol of the transport solvers: result class, callback, verbose, warnings.

Every solver returns a :class:`~sparsopt.solvers.SolverResult` (``OTResult`` for the
transport solvers, whose ``x`` is the plan), calls ``callback(SolverState)`` at each
check (True stops after that one check with ``converged=False``), reads ``verbose=None``
from the configuration and warns at most once per call.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import sparsopt
from sparsopt._core.result import SolverResult, SolverState
from sparsopt.exceptions import NonFiniteIterateWarning
from sparsopt.ot import (
    OTResult,
    sinkhorn,
    sinkhorn_knopp_scaling,
    sinkhorn_newton_sparse,
    sinkhorn_unbalanced,
)
from tests.ot._helpers import _l1_error, _problem, _Recorder

REG = 0.005  # small enough that no solver converges at its first check


def _solvers():
    """name -> call(M, **kwargs) for every public solver of the family."""
    return {
        "sinkhorn_log": lambda a, b, M, **kw: sinkhorn(a, b, M, REG, **kw),
        "sinkhorn_scaling": lambda a, b, M, **kw: sinkhorn(a, b, M, 0.05, solver="scaling",
                                                           tol=1e-14, **kw),
        "sinkhorn_eps": lambda a, b, M, **kw: sinkhorn(a, b, M, REG, eps_scaling=4.0, **kw),
        "sinkhorn_unbalanced": lambda a, b, M, **kw: sinkhorn_unbalanced(a, b, M, REG, 1.0,
                                                                         **kw),
        "sinkhorn_newton_sparse": lambda a, b, M, **kw: sinkhorn_newton_sparse(a, b, M, REG,
                                                                               **kw),
        "sinkhorn_knopp_scaling": lambda a, b, M, **kw: sinkhorn_knopp_scaling(
            np.exp(-M / 0.05), tol=1e-15, **kw),
    }


SOLVERS = _solvers()


@pytest.fixture(params=sorted(SOLVERS))
def solver(request):
    return request.param, SOLVERS[request.param]


# ----------------------------------------------------------------------------- results


def test_results_are_solver_results(solver):
    name, fn = solver
    a, b, M = _problem(12, 10, seed=200)
    with _Recorder():
        res = fn(a, b, M)
    assert isinstance(res, SolverResult)
    x, same = res
    assert x is res.x and same is res
    assert res.stopped_by in ("tol", "max_iter")
    assert res.info["stopped_by"] == res.stopped_by
    if name == "sinkhorn_knopp_scaling":
        P = res.x
        np.testing.assert_allclose(
            P, res.info["row_scaling"][:, None] * np.exp(-M / 0.05)
            * res.info["col_scaling"][None, :], rtol=1e-12)
        return
    assert isinstance(res, OTResult)
    assert res.x is res.plan
    if name == "sinkhorn_unbalanced":
        assert res.stop_crit == res.info["potential_change"]
        assert res.history[-1]["potential_change"] == res.history[-1]["stop_crit"]
    else:
        assert res.stop_crit == pytest.approx(_l1_error(res.plan, a, b), rel=1e-9, abs=1e-15)
        assert res.marginal_error == pytest.approx(res.stop_crit, rel=1e-9, abs=1e-15)
        assert res.converged == (res.stop_crit <= res.info["tol"])
    assert {"iteration", "stop_crit", "objective", "time", "stage"} <= set(res.history[0])
    # the potentials are not stored in every history record
    assert "f" not in res.history[0] and "g" not in res.history[0]


def test_ot_result_pickles_and_keeps_its_fields():
    a, b, M = _problem(8, 9, seed=201)
    res = sinkhorn(a, b, M, 0.05)
    again = pickle.loads(pickle.dumps(res))
    assert type(again) is OTResult and again.x is again.plan
    for key in ("plan", "f", "g"):
        np.testing.assert_array_equal(getattr(again, key), getattr(res, key))
    for key in ("cost", "marginal_error", "objective", "reg", "n_iter", "converged",
                "stop_crit", "history"):
        assert getattr(again, key) == getattr(res, key)
    assert dict(again.info) == dict(res.info)
    more = res.with_info(note="kept")
    assert type(more) is OTResult and more.info["note"] == "kept"
    assert more.plan is res.plan and more.x is res.plan and more.cost == res.cost
    assert more.objective == res.objective  # the field, not SolverResult's history look-up
    f, g = res.potentials
    assert f is res.f and g is res.g


def test_batched_results_keep_their_arrays():
    a, b, M = _problem(6, 7, seed=202, batch=3)
    res = sinkhorn(a, b, M, 0.05)
    assert isinstance(res, SolverResult) and res.x is res.plan and res.plan.shape == (3, 6, 7)
    for key in ("n_iter", "converged", "stop_crit", "marginal_error", "cost", "objective"):
        assert np.asarray(getattr(res, key)).shape == (3,)
    stacked = OTResult.stack([sinkhorn(a, b, M[k], 0.05) for k in range(3)])
    np.testing.assert_array_equal(stacked.x, res.x)
    np.testing.assert_array_equal(stacked.stop_crit, res.stop_crit)
    again = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(again.plan, res.plan)
    assert again.info["stopped_by"] == ("tol",) * 3


def test_constructing_from_x_or_plan():
    P = np.eye(2) / 2
    res = OTResult(x=P, n_iter=1, converged=True, stop_crit=0.0)
    assert res.plan is P and res.marginal_error == 0.0
    res = OTResult(x=None, plan=P, n_iter=1, converged=True, stop_crit=0.0)
    assert res.x is P


# ----------------------------------------------------------------------------- callback


def test_callback_true_stops_after_one_check(solver):
    name, fn = solver
    a, b, M = _problem(12, 10, seed=203)
    calls = []

    def cb(state):
        calls.append(state)
        return True

    with _Recorder() as rec:
        res = fn(a, b, M, callback=cb)
    assert len(calls) == 1 and isinstance(calls[0], SolverState)
    assert isinstance(res, SolverResult)
    assert not res.converged and res.stopped_by == "callback"
    assert len(res.history) == 1 and res.n_iter == calls[0].iteration
    assert rec.convergence == []  # a callback's stop is not a failure
    if name == "sinkhorn_knopp_scaling":
        x, y = calls[0].x
        assert x.shape == (12,) and y.shape == (10,)
        return
    # state.x is the pair of potentials, and the result's plan is theirs
    f, g = calls[0].x
    assert f is calls[0].info["f"] and g is calls[0].info["g"]
    assert {"stage", "reg"} <= set(calls[0].info)
    np.testing.assert_allclose(res.f, f, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(res.g, g, rtol=1e-12, atol=1e-300)


def test_callback_stops_every_problem_of_a_batch():
    a, b, M = _problem(6, 7, seed=204, batch=3)
    for fn in (sinkhorn, sinkhorn_newton_sparse):
        calls = []
        with _Recorder() as rec:
            res = fn(a, b, M, REG, callback=calls.append, n_jobs=2)  # appends, returns None
        assert len(calls) > 3
        calls = []
        with _Recorder() as rec:
            res = fn(a, b, M, REG, callback=lambda s, seen=calls: seen.append(s) or True,
                     n_jobs=2)
        assert len(calls) == 3 and rec.convergence == []
        assert not res.converged.any() and res.info["stopped_by"] == ("callback",) * 3


def test_callback_stops_inside_an_eps_scaling_stage():
    a, b, M = _problem(10, 10, seed=205)
    calls = []
    res = sinkhorn(a, b, M, 1e-3, eps_scaling=3.0, check_every=5,
                   callback=lambda s: calls.append(s) or True)
    assert len(calls) == 1 and calls[0].info["stage"].startswith("eps=")
    assert res.n_iter == calls[0].iteration <= 5 and res.stopped_by == "callback"
    # no later stage ran: the plan is that of the potentials handed to the callback, at
    # the final reg (far from feasible, and its marginal error says so)
    f, g = calls[0].x
    np.testing.assert_allclose(res.f, f, rtol=1e-12)
    np.testing.assert_allclose(res.plan, np.exp((res.f[:, None] + res.g[None, :] - M) / 1e-3),
                               rtol=1e-10, atol=1e-300)
    assert res.marginal_error == pytest.approx(_l1_error(res.plan, a, b), rel=1e-9)


def test_sns_callback_sees_each_stage():
    a, b, M = _problem(15, 15, seed=206)
    stages = []
    res = sinkhorn_newton_sparse(a, b, M, REG,
                                 callback=lambda s: stages.append(s.info["stage"]) and False)
    assert res.converged and stages[0] == "sinkhorn" and "newton" in stages
    assert [h["stage"] for h in res.history][:len(stages)] == stages


def test_callback_must_be_callable(solver):
    _, fn = solver
    a, b, M = _problem(4, 4, seed=207)
    with pytest.raises(TypeError, match="callback must be callable"):
        fn(a, b, M, callback=3)


# ----------------------------------------------------------------------------- verbose


def test_verbose_none_reads_the_configuration(solver, capsys):
    _, fn = solver
    a, b, M = _problem(8, 8, seed=208)
    with _Recorder():
        fn(a, b, M)
        assert capsys.readouterr().out == ""
        with sparsopt.config_context(verbose=1):
            fn(a, b, M)
        assert "stop_crit" in capsys.readouterr().out
        with sparsopt.config_context(verbose=1):
            fn(a, b, M, verbose=0)
        assert capsys.readouterr().out == ""
        fn(a, b, M, verbose=True)
        assert capsys.readouterr().out != ""


def test_verbose_configuration_reaches_the_threads_of_a_batch(capsys):
    a, b, M = _problem(6, 7, seed=209, batch=2)
    with sparsopt.config_context(verbose=1):
        sinkhorn(a, b, M, 0.05, n_jobs=2)
    assert capsys.readouterr().out.count("sinkhorn:") > 4


def test_bad_verbose():
    a, b, M = _problem(4, 4, seed=210)
    with pytest.raises(ValueError, match="verbose"):
        sinkhorn(a, b, M, 0.1, verbose=-1)


# ----------------------------------------------------------------------------- warnings


def test_one_convergence_warning_per_call(solver):
    _, fn = solver
    a, b, M = _problem(12, 10, seed=211)
    with _Recorder() as rec:
        res = fn(a, b, M, max_iter=1)
    assert len(rec.convergence) == 1 and not res.converged
    assert res.stopped_by == "max_iter"
    assert rec.convergence[0].filename == __file__


def test_knopp_overflow_rolls_back_with_one_warning():
    # K y underflows to a subnormal: the row scaling overflows at the first update; the
    # run rolls back to the initial (finite) scalings with one NonFiniteIterateWarning
    K = np.full((2, 2), 1e-300)
    init = np.full(2, 1e-10)
    with _Recorder() as rec:
        res = sinkhorn_knopp_scaling(K, init=init)
    assert len(rec.all) == 1 and issubclass(rec.all[0].category, NonFiniteIterateWarning)
    assert rec.all[0].filename == __file__
    assert res.stopped_by == "nonfinite" and not res.converged and res.n_iter == 0
    np.testing.assert_array_equal(res.info["row_scaling"], np.ones(2))
    np.testing.assert_array_equal(res.info["col_scaling"], init)
    assert np.all(np.isfinite(res.x))


def test_knopp_engines_and_threads_agree():
    K = np.random.default_rng(212).random((300, 280)) + 0.01
    ref = sinkhorn_knopp_scaling(K, engine="numpy")
    for kw in (dict(engine="numba"), dict(n_jobs=2)):
        res = sinkhorn_knopp_scaling(K, **kw)
        np.testing.assert_allclose(res.x, ref.x, rtol=1e-13)
        assert res.n_iter == ref.n_iter


def test_knopp_init_is_the_column_scaling():
    K = np.random.default_rng(213).random((5, 5)) + 0.1
    first = sinkhorn_knopp_scaling(K)
    again = sinkhorn_knopp_scaling(K, init=first.info["col_scaling"])
    assert again.converged and again.n_iter <= 10
    with pytest.raises(ValueError, match="init must be a positive column scaling"):
        sinkhorn_knopp_scaling(K, init=-np.ones(5))


def test_public_functions_are_the_solver_modules_functions():
    # the modules lost their underscore (family layout); sparsopt.ot re-exports them
    import sparsopt.ot as ot
    from sparsopt.ot import distance, result, sinkhorn_solvers, sns, transport

    assert ot.sinkhorn is sinkhorn_solvers.sinkhorn
    assert ot.sinkhorn_unbalanced is sinkhorn_solvers.sinkhorn_unbalanced
    assert ot.sinkhorn_knopp_scaling is sinkhorn_solvers.sinkhorn_knopp_scaling
    assert ot.sinkhorn_newton_sparse is sns.sinkhorn_newton_sparse
    assert ot.wasserstein_distance is distance.wasserstein_distance
    assert ot.SinkhornTransport is transport.SinkhornTransport
    assert ot.OTResult is result.OTResult
