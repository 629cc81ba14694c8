"""Helpers that keep sparsopt estimators short and consistent with scikit-learn.

An estimator combines :class:`SparsoptEstimatorMixin` (left of ``BaseEstimator``)
with scikit-learn's ``_parameter_constraints`` and ``_fit_context``::

    class MyEstimator(SparsoptEstimatorMixin, RegressorMixin, BaseEstimator):
        _parameter_constraints = {"penalty": [penalty_constraint()], ...}

        @_fit_context(prefer_skip_nested_validation=True)
        def fit(self, X, y):
            X, y = self._validate_input(X, y)
            pen = self._make_penalty()
            res = proximal_gradient(X, y, penalty=pen)
            self._store_result(res)
            ...
"""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..penalties import _CONSTRAINTS as _CONSTRAINT_NAMES
from ..penalties import _NAMES as _PENALTY_NAMES
from ..penalties import Penalty, get_penalty
from .validation import FLOAT_DTYPES


def penalty_constraint():
    """Parameter constraints accepting a penalty name or a :class:`Penalty` instance.

    Returns
    -------
    constraints : list
        For use in ``_parameter_constraints = {"penalty": penalty_constraint()}``.
    """
    return [StrOptions(set(_PENALTY_NAMES) | set(_CONSTRAINT_NAMES)), Penalty]


class SparsoptEstimatorMixin:
    """Shared estimator plumbing: float-preserving validation, penalties, solver results."""

    def _validate_input(self, X, y="no_validation", *, reset=True, **kwargs):
        """``validate_data`` with float32/float64 preserved and finiteness checked.

        Returns ``X`` or ``(X, y)`` like scikit-learn's ``validate_data``; pass
        ``y`` (even ``None``) for supervised estimators so a missing target gets
        scikit-learn's standard error.
        """
        kwargs.setdefault("dtype", list(FLOAT_DTYPES))
        kwargs.setdefault("ensure_all_finite", True)
        if isinstance(y, str) and y == "no_validation":
            return validate_data(self, X, reset=reset, **kwargs)
        kwargs.setdefault("y_numeric", True)
        return validate_data(self, X, y, reset=reset, **kwargs)

    def _make_penalty(self, penalty=None, alpha=None, **params):
        """Penalty object from ``self.penalty``/``self.alpha`` (never mutating them)."""
        penalty = self.penalty if penalty is None else penalty
        alpha = getattr(self, "alpha", 1.0) if alpha is None else alpha
        if isinstance(penalty, Penalty):
            from sklearn.base import clone

            return clone(penalty)
        return get_penalty(penalty, alpha=alpha, **params)

    def _store_result(self, result, objective=True):
        """Copy ``n_iter_``, ``converged_`` and ``objective_history_`` from a SolverResult."""
        self.n_iter_ = int(result.n_iter)
        self.converged_ = bool(result.converged)
        if objective:
            self.objective_history_ = np.array(
                [r["objective"] for r in result.history if r.get("objective") is not None]
            )
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


__all__ = ["FLOAT_DTYPES", "SparsoptEstimatorMixin", "check_is_fitted", "penalty_constraint"]
