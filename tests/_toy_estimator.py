"""A minimal estimator built only from sparsopt.utils helpers and proximal_gradient.

It exists to test the estimator conventions layer (validation, penalties,
solver results) through scikit-learn's estimator checks before the families'
real estimators land.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval

from sparsopt.solvers import proximal_gradient
from sparsopt.utils import SparsoptEstimatorMixin, check_is_fitted, penalty_constraint


class ToyProxRegressor(SparsoptEstimatorMixin, RegressorMixin, BaseEstimator):
    _parameter_constraints = {
        "penalty": penalty_constraint(),
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, penalty="l1", alpha=0.1, max_iter=500, tol=1e-6):
        self.penalty = penalty
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        X, y = self._validate_input(X, y)
        pen = self._make_penalty()
        self.intercept_ = y.mean().astype(X.dtype)
        Xc = X - X.mean(axis=0)
        res = proximal_gradient(Xc, (y - self.intercept_).astype(X.dtype), penalty=pen,
                                max_iter=self.max_iter, tol=self.tol) if np.any(Xc) else None
        self.coef_ = res.x if res is not None else np.zeros(X.shape[1], dtype=X.dtype)
        self.intercept_ = (self.intercept_ - X.mean(axis=0) @ self.coef_).astype(X.dtype)
        if res is not None:
            self._store_result(res)
        else:
            self.n_iter_, self.converged_ = 0, True
        return self

    def predict(self, X):
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return X @ self.coef_ + self.intercept_
