"""``bcd`` with a group lasso: blocks equal to the groups (issue 15).

The penalty reaches bcd only through ``Penalty.group_spec``; the blocks are its groups
(features in no group are unpenalised singletons) and the block update is a block
proximal gradient step with the block soft threshold. The reference is a long
``proximal_gradient`` run on the same mean objective.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from sparsopt.exceptions import ConvergenceWarning
from sparsopt.penalties import Box, GroupL21, KSupport, Positive
from sparsopt.solvers import bcd, proximal_gradient

GROUPS = [[0, 1, 2], [3, 4, 5, 6], [7, 8], [9, 10, 11], [12, 13, 14, 15]]  # 16..19: free
SELECTIONS = ("cyclic", "random", "lipschitz", "gs", "gsl", "gsd", "gs-q", "gs-s", "gs-r")


def _problem(loss, seed=0, n=60, p=20):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[[0, 1, 2, 9]] = [1.0, -2.0, 1.5, 2.0]
    z = X @ w + 0.1 * rng.standard_normal(n)
    y = z if loss == "squared" else np.where(z > 0, 1.0, -1.0)
    return X, y


def _objective(loss, X, y, pen, x):
    z = X @ x
    f = 0.5 * np.mean((z - y) ** 2) if loss == "squared" else np.mean(np.logaddexp(0, -y * z))
    return f + pen.value(x)


def _objectives(res):
    return np.array([h["objective"] for h in res.history])


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("loss, alpha", [("squared", 0.3), ("logistic", 0.05)])
def test_same_minimiser_as_proximal_gradient(loss, alpha, positive):
    X, y = _problem(loss)
    pen = GroupL21(alpha, groups=GROUPS)
    if positive:
        pen = pen + Positive()
    ref = proximal_gradient(X, y, loss=loss, penalty=pen, max_iter=50_000, tol=1e-14).x
    F_ref = _objective(loss, X, y, pen, ref)
    zero = [g for g in GROUPS if not np.any(ref[g])]
    assert zero and len(zero) < len(GROUPS)  # a real group-sparse problem
    for selection in SELECTIONS:
        for update in ("lipschitz", "line_search"):
            res = bcd(X, y, loss=loss, penalty=pen, selection=selection, update=update,
                      max_iter=20_000, tol=1e-12, random_state=0)
            what = f"{selection}/{update}"
            assert res.converged, what
            np.testing.assert_allclose(res.x, ref, atol=1e-7, err_msg=what)
            assert _objective(loss, X, y, pen, res.x) == pytest.approx(F_ref, rel=1e-10)
            for g in zero:  # zero groups are exactly zero
                assert np.all(res.x[g] == 0.0), what
            if positive:
                assert res.x.min() >= 0.0
            f = _objectives(res)
            assert np.all(np.diff(f) <= 1e-13 * abs(f[0])), what
            assert f[-1] == pytest.approx(_objective(loss, X, y, pen, res.x), rel=1e-12)
            assert [b.tolist() for b in res.info["blocks"]] == GROUPS + [[j] for j in
                                                                         range(16, 20)]


def test_alpha_above_alpha_max_gives_exact_zero():
    X, y = _problem("squared", seed=3)
    # groups of 4 with the default weights sqrt(4) = 2
    gnorm = np.array([np.linalg.norm(X[:, k:k + 4].T @ y) / len(y) for k in range(0, 20, 4)])
    alpha_max = gnorm.max() / 2.0
    res = bcd(X, y, penalty=GroupL21(1.01 * alpha_max, groups=4), selection="gs-q", tol=1e-12)
    assert res.converged and np.all(res.x == 0.0)
    res = bcd(X, y, penalty=GroupL21(0.9 * alpha_max, groups=4), selection="gs-q", tol=1e-12)
    assert np.count_nonzero(res.x) == 4  # only the group at alpha_max enters


def test_dense_and_csc_agree_and_init_is_projected():
    X, y = _problem("squared", seed=4)
    pen = GroupL21(0.2, groups=GROUPS) + Positive()
    kw = dict(penalty=pen, selection="gsl", max_iter=5000, tol=1e-12)
    a = bcd(X, y, **kw)
    b = bcd(sp.csc_matrix(X), y, **kw)
    np.testing.assert_allclose(a.x, b.x, atol=1e-10)
    c = bcd(X, y, init=-np.ones(20), **kw)
    assert c.info["initial_objective"] == pytest.approx(0.5 * np.mean(y ** 2))
    np.testing.assert_allclose(c.x, a.x, atol=1e-8)
    d = bcd(X.astype(np.float32), y, **kw)
    assert d.x.dtype == np.float32


def test_multinomial_row_groups():
    """``groups=n_classes`` on the flat coefficients ``W.ravel()``: the row-wise group
    lasso, the same minimiser as proximal gradient."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((90, 8))
    y = np.argmax(X[:, :3] + 0.5 * rng.standard_normal((90, 3)), axis=1)
    pen = GroupL21(0.05, groups=3)
    res = bcd(X, y, loss="multinomial", penalty=pen, selection="gs-q", max_iter=20_000,
              tol=1e-12)
    assert res.converged and res.x.shape == (8, 3)
    f = _objectives(res)
    assert np.all(np.diff(f) <= 1e-13 * f[0])
    rows = np.linalg.norm(res.x, axis=1)
    assert np.any(rows == 0.0) and np.any(rows > 0.0)
    assert np.all((res.x == 0.0).all(axis=1) | (res.x != 0.0).all(axis=1))
    ref = proximal_gradient(X, y, loss="multinomial", penalty=pen, max_iter=50_000,
                            tol=1e-14).x
    np.testing.assert_allclose(res.x, ref, atol=1e-6)


@pytest.mark.parametrize("kw, words", [
    (dict(update="matrix"), "update='matrix'"),
    (dict(update="exact"), "update='exact'"),
    (dict(update="newton"), "update='newton'"),
    (dict(update="projected_newton"), "update='projected_newton'"),
    (dict(update="tmp"), "update='tmp'"),
    (dict(partition="variable"), "partition='variable'"),
    (dict(block_size=2), "block_size=2"),
    (dict(block_size=5), "block_size=5"),
    (dict(selection="gsq", update="matrix"), "selection='gsq'"),
])
def test_options_that_do_not_apply_one_clear_error(kw, words):
    X, y = _problem("squared")
    with pytest.raises(ValueError) as exc:
        bcd(X, y, penalty=GroupL21(0.1, groups=GROUPS), **kw)
    msg = str(exc.value)
    assert msg.startswith("bcd: with the group penalty GroupL21(")
    assert words in msg and "update in ['lipschitz', 'line_search']" in msg


def test_block_size_of_the_largest_group_is_accepted():
    X, y = _problem("squared")
    a = bcd(X, y, penalty=GroupL21(0.1, groups=4), tol=1e-10)
    b = bcd(X, y, penalty=GroupL21(0.1, groups=4), block_size=4, tol=1e-10)
    np.testing.assert_array_equal(a.x, b.x)


@pytest.mark.parametrize("pen", [KSupport(1.0, k=2), GroupL21(1.0, groups=2) + Box(-np.inf, 0)])
def test_no_group_spec_one_type_error(pen):
    X, y = _problem("squared")
    with pytest.raises(TypeError, match="^bcd: .*proximal_gradient"):
        bcd(X, y, penalty=pen)


def test_callback_true_first_call_stops_after_one_check():
    X, y = _problem("squared")
    calls = []

    def cb(state):
        calls.append(state.iteration)
        return True

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning when the callback stops
        res = bcd(X, y, penalty=GroupL21(0.1, groups=GROUPS), max_iter=100, callback=cb)
    assert calls == [1] and res.n_iter == 1 and not res.converged
    assert res.info["stopped_by"] == "callback"
    assert res.info["block_counts"].sum() == 1


def test_one_convergence_warning():
    X, y = _problem("squared")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = bcd(X, y, penalty=GroupL21(0.1, groups=GROUPS), selection="cyclic", max_iter=3)
    assert not res.converged
    assert sum(issubclass(w.category, ConvergenceWarning) for w in rec) == 1


def test_quadratic_loss_same_minimiser_as_squared():
    """``1/2 x'Ax - b'x`` with ``A = X'X / n``, ``b = X'y / n`` is the squared loss up to a
    constant: the same group-lasso minimiser."""
    X, y = _problem("squared", seed=6)
    n = X.shape[0]
    pen = GroupL21(0.2, groups=GROUPS)
    sq = bcd(X, y, penalty=pen, selection="gs-r", tol=1e-12, max_iter=5000)
    qd = bcd(X.T @ X / n, X.T @ y / n, loss="quadratic", penalty=pen, selection="gs-r",
             tol=1e-12, max_iter=5000)
    assert sq.converged and qd.converged
    np.testing.assert_allclose(qd.x, sq.x, atol=1e-8)
