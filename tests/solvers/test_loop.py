import pickle
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sparsopt.exceptions import NonFiniteIterateWarning
from sparsopt.solvers import SolverResult, run_iterations


def _halving_problem(x0=8.0):
    state = SimpleNamespace(x=np.array([x0]))

    def step(s, it):
        s.x = s.x / 2

    def crit(s, x_prev):
        return float(np.abs(s.x - x_prev).max())

    return state, step, crit


def test_converges_and_records_history():
    state, step, crit = _halving_problem()
    res = run_iterations(step, state, stop_crit=crit, max_iter=100, tol=1e-3,
                         objective=lambda s: float(s.x[0] ** 2))
    # |x_k - x_{k-1}| = 8 / 2^k <= 1e-3  <=> k >= 13
    assert res.converged and res.n_iter == 13
    assert [h["iteration"] for h in res.history] == list(range(1, 14))
    assert res.objective == pytest.approx((8 / 2**13) ** 2)
    assert res.info["stopped_by"] == "tol"


def test_check_every_thins_history_and_caps_iterations():
    state, step, crit = _halving_problem()
    res = run_iterations(step, state, stop_crit=crit, max_iter=100, tol=1e-3, check_every=5)
    assert res.n_iter == 15  # first check at or after iteration 13
    assert [h["iteration"] for h in res.history] == [5, 10, 15]


def test_one_convergence_warning_naming_criterion_tol_and_parameter():
    state, step, crit = _halving_problem()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = run_iterations(step, state, stop_crit=crit, max_iter=5, tol=1e-12,
                             solver="halver", criterion="step length")
    msgs = [str(w.message) for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert len(msgs) == 1
    assert "halver" in msgs[0] and "step length" in msgs[0] and "1.0e-12" in msgs[0]
    assert "max_iter" in msgs[0]
    assert not res.converged and res.n_iter == 5


def test_callback_stops_without_warning():
    state, step, crit = _halving_problem()
    seen = []

    def cb(st):
        seen.append(st.iteration)
        return st.iteration >= 3

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = run_iterations(step, state, stop_crit=crit, max_iter=100, tol=0.0, callback=cb)
    assert seen == [1, 2, 3] and res.n_iter == 3 and not res.converged
    assert res.info["stopped_by"] == "callback"


def test_nonfinite_rolls_back_to_last_finite_iterate():
    state = SimpleNamespace(x=np.array([1.0]))

    def step(s, it):
        s.x = s.x * 10.0 if it < 4 else s.x * np.inf

    with pytest.warns(NonFiniteIterateWarning, match="last finite iterate"):
        res = run_iterations(step, state, stop_crit=lambda s, p: 1.0, max_iter=50, tol=0.0)
    assert np.all(np.isfinite(res.x)) and res.x[0] == 1000.0
    assert res.n_iter == 3 and not res.converged
    assert res.info["stopped_by"] == "nonfinite"


def test_verbose_prints(capsys):
    state, step, crit = _halving_problem()
    with pytest.warns(ConvergenceWarning):
        run_iterations(step, state, stop_crit=crit, max_iter=3, tol=0.0, verbose=1, solver="v",
                       objective=lambda s: 1.0)
    out = capsys.readouterr().out
    assert out.count("\n") == 4 and "stop_crit" in out


@pytest.mark.parametrize("kw", [{"max_iter": 0}, {"check_every": 0}])
def test_bad_loop_parameters(kw):
    state, step, crit = _halving_problem()
    args = dict(max_iter=10, tol=0.0)
    args.update(kw)
    with pytest.raises(ValueError, match=next(iter(kw))):
        run_iterations(step, state, stop_crit=crit, **args)


def test_result_is_frozen_unpackable_and_picklable():
    res = SolverResult(x=np.ones(2), n_iter=1, converged=True, stop_crit=0.0,
                       history=[{"iteration": 1, "objective": 2.0}], info={"a": 1})
    with pytest.raises(AttributeError):
        res.n_iter = 3
    with pytest.raises(TypeError):
        res.info["a"] = 2
    x, full = res
    assert x is res.x and full is res
    assert res.objective == 2.0
    again = pickle.loads(pickle.dumps(res))
    assert again.n_iter == 1 and dict(again.info) == {"a": 1}
    np.testing.assert_array_equal(again.x, res.x)


def test_result_fields_survive_copy():
    import copy

    res = SolverResult(x=np.ones(2), n_iter=1, converged=True, stop_crit=0.0, info={"a": 1})
    assert dict(copy.copy(res).info) == {"a": 1}


def test_verbose_defaults_to_config(capsys):
    import sparsopt

    state, step, crit = _halving_problem()
    with sparsopt.config_context(verbose=1):
        run_iterations(step, state, stop_crit=crit, max_iter=50, tol=1e-3, solver="cfg")
    assert "cfg:" in capsys.readouterr().out
    state, step, crit = _halving_problem()
    run_iterations(step, state, stop_crit=crit, max_iter=50, tol=1e-3, solver="cfg")
    assert capsys.readouterr().out == ""


def test_callback_sees_every_check_and_convergence_wins():
    # the callback runs at every finite check, the converging one included; asking to stop
    # at that check does not turn a converged run into a callback stop
    from sparsopt._core.loop import LoopMonitor

    for answer in (False, True):
        seen = []
        mon = LoopMonitor("halving", max_iter=50, tol=1e-2, x0=np.ones(1),
                          callback=lambda s, a=answer, seen=seen: seen.append(s.iteration) or
                          (a and s.stop_crit <= 1e-2))
        x = np.ones(1)
        for it in range(1, 51):
            x = x / 2
            if mon.check(it, x, stop_crit=float(x[0])):
                break
        res = mon.result(x)
        assert seen == list(range(1, 8)) and res.n_iter == 7
        assert res.converged and res.stopped_by == "tol"


def test_tol_none_runs_to_max_iter_without_warning():
    from sparsopt._core.loop import LoopMonitor

    mon = LoopMonitor("fixed", max_iter=5, tol=None, x0=np.ones(1))
    x = np.ones(1)
    for it in range(1, 6):
        x = x / 2
        assert not mon.check(it, x, stop_crit=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = mon.result(x)
    assert res.n_iter == 5 and not res.converged and res.stopped_by == "max_iter"
