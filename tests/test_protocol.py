"""The loop and result protocol, walked over every public iterative solver function.

Every public function of ``sparsopt.solvers``, ``sparsopt.ot``, ``sparsopt.decomposition`` and
``sparsopt.completion``
that iterates (it has ``max_iter``) is either in ``CASES`` (a small problem on which it does
not converge at its first check) or in ``EXEMPT`` with the reason. For each case:

* ``callback`` returning True on its first call stops the solver after that one check, with
  ``converged=False``, ``stopped_by == "callback"`` and a :class:`SolverResult`;
* the callback receives a :class:`SolverState`;
* ``verbose`` left at its default follows :func:`sparsopt.config_context`: silent with
  ``verbose=0``, one line per check with ``verbose=1``.
"""

import inspect
import warnings

import numpy as np
import pytest

import sparsopt
import sparsopt.completion as comp
import sparsopt.decomposition as dec
import sparsopt.ot as ot
import sparsopt.solvers as sol
import sparsopt.transforms as tr
import sparsopt.unfolding as unf
from sparsopt.datasets import make_sparse_coding_problem, make_sparse_signal
from sparsopt.penalties import L1
from sparsopt.solvers import SolverResult, SolverState


def _regression():
    X, y, _ = make_sparse_signal(40, 60, 5, noise=0.05, normalize=False, random_state=0)
    return X, y


def _classification():
    X, y = _regression()
    return X, np.where(y > np.median(y), 1.0, -1.0)


def _coding():
    X, D, _ = make_sparse_coding_problem(8, 12, 20, 3, noise=0.05, random_state=0)
    return X, D


def _ot():
    rng = np.random.default_rng(0)
    xs, xt = rng.random((15, 2)), rng.random((12, 2))
    M = ((xs[:, None, :] - xt[None, :, :]) ** 2).sum(-1)
    return np.full(15, 1 / 15), np.full(12, 1 / 12), M


def _kron():
    rng = np.random.default_rng(0)
    f1, f2 = rng.standard_normal((6, 8)), rng.standard_normal((5, 7))
    x = np.zeros(56)
    x[[3, 20, 41]] = [1.0, -2.0, 1.5]
    return [f1, f2], np.kron(f1, f2) @ x + 0.01 * rng.standard_normal(30)


def _quadratic_form():
    rng = np.random.default_rng(0)
    B = rng.standard_normal((30, 30))
    return B @ B.T / 30 + np.eye(30), rng.standard_normal(30)


def _graph():
    from sparsopt.datasets import make_lattice_label_problem

    A, b, _ = make_lattice_label_problem(12, 12, n_labeled=20, random_state=0)
    return A, b


# name -> (function, builder of (args, kwargs)); tolerances are tight so that the first
# check does not converge and the callback is reached
CASES = {
    "proximal_gradient": (sol.proximal_gradient,
                          lambda: (_regression(), dict(alpha=0.1, tol=1e-14, check_every=1))),
    "ista": (sol.ista, lambda: (_coding(), dict(alpha=0.1, tol=1e-14, check_every=1))),
    "fista": (sol.fista, lambda: (_coding(), dict(alpha=0.1, tol=1e-14, check_every=1))),
    "lca": (sol.lca, lambda: (_coding(), dict(alpha=0.1, tol=1e-14, check_every=1))),
    "iht": (sol.iht, lambda: (_coding(), dict(n_nonzero_coefs=3, tol=1e-14, check_every=1))),
    "cd": (sol.cd, lambda: (_coding(), dict(alpha=0.1, tol=1e-14, check_every=1))),
    "encode": (sol.encode, lambda: (_coding(), dict(solver="fista", alpha=0.1, tol=1e-14))),
    "sbl": (sol.sbl, lambda: (_regression(), dict(tol=1e-14))),
    "kronecker_sbl": (sol.kronecker_sbl, lambda: (_kron(), dict(tol=1e-14))),
    "bcd": (sol.bcd, lambda: (_regression(), dict(penalty="l1", alpha=0.1, tol=1e-14))),
    "label_propagation_bcd": (sol.label_propagation_bcd, lambda: (_graph(), dict(tol=1e-14))),
    "sinkhorn": (ot.sinkhorn, lambda: (_ot(), dict(reg=0.05, tol=1e-14, check_every=1))),
    "sinkhorn_unbalanced": (ot.sinkhorn_unbalanced,
                            lambda: (_ot(), dict(reg=0.05, reg_m=1.0, tol=1e-14,
                                                 check_every=1))),
    "sinkhorn_newton_sparse": (ot.sinkhorn_newton_sparse,
                               lambda: (_ot(), dict(reg=0.01, tol=1e-15))),
    "sinkhorn_knopp_scaling": (ot.sinkhorn_knopp_scaling,
                               lambda: ((np.random.default_rng(0).random((6, 6)) + 0.1,),
                                        dict(tol=1e-15))),
}
_GLM = {
    "working_set_cd": lambda: (_regression(), dict(alpha=0.1, tol=1e-14)),
    "prox_newton": lambda: (_classification(), dict(alpha=0.01, tol=1e-14)),
}
for _name, _make in _GLM.items():
    if hasattr(sol, _name):
        CASES[_name] = (getattr(sol, _name), _make)



# dictionary learning (the natives; dict_learning / dict_learning_online are the mirrors)
def _signals():
    return _coding()[0]


def _orthogonal():
    from sparsopt.datasets import make_orthogonal_dictionary_problem

    return make_orthogonal_dictionary_problem(200, 4, theta=0.3, random_state=0)[0]


CASES.update({
    "learn_dictionary": (dec.learn_dictionary,
                         lambda: ((_signals(), 5), dict(alpha=0.1, tol=1e-14, random_state=0))),
    "learn_dictionary_online": (dec.learn_dictionary_online,
                                lambda: ((_signals(), 5),
                                         dict(alpha=0.1, batch_size=4, tol=1e-14,
                                              max_no_improvement=None, random_state=0))),
    "orthogonal_dictionary_learning": (dec.orthogonal_dictionary_learning,
                                       lambda: ((_orthogonal(),),
                                                dict(tol=1e-14, random_state=0))),
    "supervised_dictionary_learning": (dec.supervised_dictionary_learning,
                                       lambda: (_classification(),
                                                dict(n_components=2, tol=1e-14))),
})


def _walsh():  # K / B = 1.5: peeling needs several rounds
    from sparsopt.datasets import make_sparse_walsh

    return make_sparse_walsh(10, 24, random_state=0)[0], 10, 24


CASES["spright"] = (tr.spright, lambda: (_walsh(), dict(n_hash_bits=4, random_state=0)))


# matrix completion
def _completion():
    from sparsopt.datasets import make_low_rank_completion

    return make_low_rank_completion(40, 30, 2, density=0.5, random_state=0)[0]


CASES.update({
    "altmin_complete": (comp.altmin_complete,
                        lambda: ((_completion(), 2), dict(tol=1e-15, random_state=0))),
    "soft_impute": (comp.soft_impute,
                    lambda: ((_completion(), 3), dict(tol=1e-15, random_state=0))),
})
def _unfolding():
    X, D, codes = make_sparse_coding_problem(8, 12, 20, 3, noise=0.05, random_state=0)
    return (unf.DUISTA(0.1), lambda: (D.T, X, codes)), dict(n_layers=2, check_every=1)


CASES["train_unfolded"] = (unf.train_unfolded, _unfolding)


def _bars(model):
    from sparsopt.datasets import make_bars
    return lambda: ((make_bars(60, 3, model=model, random_state=0)[0], 6),
                    dict(n_preselect=4, max_active=2, max_iter=3, random_state=0))


CASES.update({"bsc_em": (dec.bsc_em, _bars("binary")),
              "gsc_em": (dec.gsc_em, _bars("spike_and_slab"))})

#: iterating public functions that are not on the protocol, and why
EXEMPT = {
    "lars": "finite (direct) algorithm: the exact homotopy takes a bounded number of steps",
    "omp": "finite (direct) algorithm: one atom per step, n_nonzero_coefs steps",
    "run_iterations": "the protocol itself",
    "sparse_encode": "mirror of scikit-learn's function (its native sibling is encode)",
    "dict_learning": "mirror of scikit-learn's function and return shape (native sibling: "
                     "learn_dictionary)",
    "dict_learning_online": "mirror of scikit-learn's function and return shape (native "
                            "sibling: learn_dictionary_online)",
    "working_set_cd_path": "a path: one working-set solve per alpha (the solve is on the "
                           "protocol)",
}


def _public_iterative_functions():
    found = {}
    for mod in (sol, ot, dec, tr, comp, unf):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) and "max_iter" in inspect.signature(obj).parameters:
                found[name] = obj
    return found


def test_every_public_iterative_solver_is_walked():
    missing = sorted(set(_public_iterative_functions()) - set(CASES) - set(EXEMPT))
    assert not missing, f"add these solvers to tests/test_protocol.py CASES: {missing}"


def _call(name, **extra):
    fn, make = CASES[name]
    args, kwargs = make()
    kwargs.update(extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_callback_true_stops_after_one_check(name):
    states = []

    def stop(state):
        states.append(state)
        return True

    res = _call(name, callback=stop)
    assert isinstance(res, SolverResult)
    assert len(states) == 1 and isinstance(states[0], SolverState)
    assert res.converged is False or not np.any(res.converged)
    assert res.stopped_by == "callback"
    assert res.n_iter == states[0].iteration


@pytest.mark.parametrize("name", sorted(CASES))
def test_callback_none_runs_to_the_end(name):
    res = _call(name, max_iter=5)
    assert isinstance(res, SolverResult)
    assert res.stopped_by != "callback"


@pytest.mark.parametrize("name", sorted(CASES))
def test_verbose_follows_config_context(name, capsys):
    with sparsopt.config_context(verbose=0):
        _call(name, max_iter=3)
    assert capsys.readouterr().out == ""
    with sparsopt.config_context(verbose=1):
        _call(name, max_iter=3)
    assert capsys.readouterr().out.strip() != ""


@pytest.mark.parametrize("name", sorted(CASES))
def test_signature_speaks_the_glossary(name):
    params = inspect.signature(CASES[name][0]).parameters
    # ``A, b`` name a linear system (label_propagation_bcd's quadratic form), not data
    data_matrix = () if name == "label_propagation_bcd" else ("A",)
    for old in ("x0", "codes0", "w0", "gamma_init", "warm_start", "method", "positive",
                "return_result", *data_matrix):
        assert old not in params, f"{name} still takes {old!r}"
    assert params["verbose"].default is None
    assert params["callback"].default is None


def test_penalty_objects_are_one_channel():
    # every solver taking a penalty takes a name + alpha or an object, and the same
    # constrained object
    from sparsopt.penalties import Positive

    X, D = _coding()
    a = sol.ista(X, D, penalty="l1", alpha=0.1, tol=1e-10, max_iter=2000)
    b = sol.ista(X, D, penalty=L1(0.1), tol=1e-10, max_iter=2000)
    np.testing.assert_array_equal(a.x, b.x)
    c = sol.cd(X, D, penalty=L1(0.1) + Positive(), tol=1e-10)
    assert np.all(c.x >= 0)
