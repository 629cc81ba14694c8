"""One objective convention per kind of problem (docs/dev/architecture.rst, "Objective
conventions"): one problem, solved by every solver that claims the convention, gives the
same minimiser.

* Regression and classification on ``(X, y)``: scikit-learn's mean datafit, with
  ``sample_weight`` entering through its ratios only.
* Per-signal sparse coding: ``1/2 ||x - c D||^2 + pen(c)`` for each row.
"""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import Lasso

import sparsopt.solvers as sol
from sparsopt.datasets import make_sparse_coding_problem, make_sparse_signal
from sparsopt.penalties import L1, MCP

TIGHT = dict(tol=1e-12, max_iter=100_000)


@pytest.fixture(scope="module")
def regression():
    X, y, _ = make_sparse_signal(60, 30, 5, noise=0.1, normalize=False, random_state=0)
    w = np.random.default_rng(1).uniform(0.5, 2.0, size=60)
    return X, y, w


def _regression_solutions(X, y, pen, sample_weight=None):
    """Every solver of the regression convention, same problem (no intercept)."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["proximal_gradient"] = sol.proximal_gradient(
            X, y, penalty=pen, sample_weight=sample_weight, **TIGHT).x
        if sample_weight is None:  # bcd has no sample weights
            out["bcd"] = sol.bcd(X, y, loss="squared", penalty=pen, tol=1e-12,
                                 max_iter=20_000).x
        if hasattr(sol, "working_set_cd"):
            out["working_set_cd"] = sol.working_set_cd(
                X, y, penalty=pen, sample_weight=sample_weight, tol=1e-12).x
    return out


def test_regression_l1_every_solver_is_scikit_learns_lasso(regression):
    X, y, _ = regression
    alpha = 0.05
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=10**6).fit(X, y).coef_
    sols = _regression_solutions(X, y, L1(alpha))
    assert len(sols) >= 2
    for name, w in sols.items():
        np.testing.assert_allclose(w, ref, atol=1e-6, err_msg=name)


def test_regression_sample_weight_is_scikit_learns(regression):
    X, y, w = regression
    alpha = 0.05
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=10**6).fit(
        X, y, sample_weight=w).coef_
    for scale in (1.0, 7.0):  # only the ratios of the weights matter
        for name, coef in _regression_solutions(X, y, L1(alpha), w * scale).items():
            np.testing.assert_allclose(coef, ref, atol=1e-6, err_msg=f"{name} x{scale}")


def test_regression_nonconvex_penalty_same_stationary_point(regression):
    # from zero, with the same penalty object, the mean-convention solvers land on the same
    # MCP stationary point (columns of norm ~sqrt(n): gamma=3 is above every step)
    X, y, _ = regression
    sols = _regression_solutions(X, y, MCP(alpha=0.1, gamma=3.0))
    ref = sols.pop("proximal_gradient")
    for name, w in sols.items():
        np.testing.assert_allclose(w, ref, atol=1e-5, err_msg=name)


def test_classification_logistic_l1_mean_convention(regression):
    X, y, _ = regression
    y = np.where(y > np.median(y), 1.0, -1.0)
    alpha = 0.02
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pg = sol.proximal_gradient(X, y, loss="logistic", penalty=L1(alpha), **TIGHT).x
        bc = sol.bcd(X, y, loss="logistic", penalty=L1(alpha), tol=1e-12, max_iter=20_000).x
        pn = sol.prox_newton(X, y, penalty=L1(alpha), fit_intercept=False, tol=1e-12).x
    np.testing.assert_allclose(bc, pg, atol=1e-6)
    np.testing.assert_allclose(np.ravel(pn), pg, atol=1e-6)


def test_coding_per_signal_sum_every_solver_same_codes():
    X, D, _ = make_sparse_coding_problem(10, 15, 25, 3, noise=0.05, random_state=0)
    alpha = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        codes = {name: sol.encode(X, D, penalty="l1", alpha=alpha, solver=name, tol=1e-12,
                                  max_iter=100_000).x
                 for name in ("lars", "cd", "fista", "ista")}
    # the per-signal sum: each row is a Lasso 1/2 ||x - D^T c||^2 + alpha |c|, i.e.
    # scikit-learn's mean convention with alpha / n_features
    ref = np.array([Lasso(alpha=alpha / X.shape[1], fit_intercept=False, tol=1e-14,
                          max_iter=10**6).fit(D.T, x).coef_ for x in X])
    for name, c in codes.items():
        np.testing.assert_allclose(c, ref, atol=1e-6, err_msg=name)
