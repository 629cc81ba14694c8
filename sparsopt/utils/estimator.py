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

from .validation import FLOAT_DTYPES

# ``penalties`` imports ``utils`` (validation, parameters): the estimator helpers import
# ``penalties`` inside their functions, so the two packages do not import each other.


def penalty_constraint():
    """Parameter constraints accepting a penalty name or a :class:`~sparsopt.penalties.Penalty`.

    Returns
    -------
    constraints : list
        For use in ``_parameter_constraints = {"penalty": penalty_constraint()}``.
    """
    from ..penalties import _CONSTRAINTS, _NAMES, Penalty

    return [StrOptions(set(_NAMES) | set(_CONSTRAINTS)), Penalty]


def array_api_dispatch_enabled():
    """Whether scikit-learn's ``array_api_dispatch`` is on (``sklearn.config_context``)."""
    from sklearn import get_config

    return bool(get_config().get("array_api_dispatch", False))


def check_fitted_namespace(X, estimator, attribute, method):
    """scikit-learn's check that ``X`` is in the namespace and on the device of the fitted
    ``attribute`` (a ``ValueError`` otherwise, under ``array_api_dispatch`` only); a no-op
    with scikit-learn releases without it (< 1.8)."""
    try:
        from sklearn.utils._array_api import check_same_namespace
    except ImportError:  # pragma: no cover - scikit-learn < 1.8
        return
    check_same_namespace(X, estimator, attribute=attribute, method=method)


def _array_api_namespace_of(estimator, *arrays):
    """The inputs' namespace when they are non-NumPy arrays under array API dispatch.

    ``None`` for NumPy inputs, or when scikit-learn's ``array_api_dispatch`` is off (then
    scikit-learn's own validation converts what it can, as for its own estimators).
    Raises ``TypeError`` naming the estimator and the namespace when the estimator does
    not support array API inputs (its ``array_api_support`` tag is False), instead of
    failing later inside NumPy-only code.
    """
    from ..backends import namespace_name, non_numpy_namespace

    if not array_api_dispatch_enabled():
        return None
    # host data (NumPy, DataFrames, lists, SciPy sparse) is not array-API input: ignored
    xp = non_numpy_namespace(*arrays, allow_host=True)
    if xp is None:
        return None
    if not estimator.__sklearn_tags__().array_api_support:
        raise TypeError(
            f"{type(estimator).__name__} does not support {namespace_name(xp)} arrays: it "
            "runs on NumPy arrays only. Pass NumPy arrays (e.g. cupy.asnumpy(X)), or use an "
            "estimator that supports the array API (listed in the user guide, 'GPU and "
            "array API')."
        )
    return xp


class SparsoptEstimatorMixin:
    """Shared estimator plumbing: float-preserving validation, penalties, solver results.

    Put it left of :class:`sklearn.base.BaseEstimator`. It provides

    * ``_validate_input(X, y=...)``: scikit-learn's ``validate_data`` with
      float32/float64 preserved and NaN/inf refused;
    * ``_make_penalty()``: the penalty object built from ``self.penalty`` (a name or a
      :class:`~sparsopt.penalties.Penalty`, cloned, never mutated) and ``self.alpha``;
    * ``_store_result(result)``: ``n_iter_``, ``converged_`` and ``objective_history_``
      from a :class:`~sparsopt.solvers.SolverResult`;
    * tags declaring that NaN is not allowed.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator, RegressorMixin
    >>> from sparsopt.solvers import proximal_gradient
    >>> from sparsopt.utils import SparsoptEstimatorMixin
    >>> class TinyLasso(SparsoptEstimatorMixin, RegressorMixin, BaseEstimator):
    ...     def __init__(self, penalty="l1", alpha=0.1):
    ...         self.penalty, self.alpha = penalty, alpha
    ...     def fit(self, X, y):
    ...         X, y = self._validate_input(X, y)
    ...         res = proximal_gradient(X, y, penalty=self._make_penalty(), tol=1e-8)
    ...         self.coef_ = res.x
    ...         return self._store_result(res)
    ...     def predict(self, X):
    ...         return self._validate_input(X, reset=False) @ self.coef_
    >>> X = np.eye(3, dtype=np.float32)
    >>> est = TinyLasso(alpha=0.1).fit(X, np.array([2.0, 0.2, -1.0], dtype=np.float32))
    >>> est.coef_, est.coef_.dtype
    (array([ 1.7,  0. , -0.7], dtype=float32), dtype('float32'))
    """

    def _validate_input(self, X, y="no_validation", *, reset=True, **kwargs):
        """``validate_data`` with float32/float64 preserved and finiteness checked.

        Returns ``X`` or ``(X, y)`` like scikit-learn's ``validate_data``; pass
        ``y`` (even ``None``) for supervised estimators so a missing target gets
        scikit-learn's standard error.
        """
        xp = _array_api_namespace_of(self, X, None if isinstance(y, str) else y)
        if xp is None:
            kwargs.setdefault("dtype", list(FLOAT_DTYPES))
        else:  # scikit-learn's array API dispatch: the namespace's own float dtypes
            kwargs.setdefault("dtype", [xp.float64, xp.float32])
        kwargs.setdefault("ensure_all_finite", True)
        if isinstance(y, str) and y == "no_validation":
            return validate_data(self, X, reset=reset, **kwargs)
        kwargs.setdefault("y_numeric", True)
        return validate_data(self, X, y, reset=reset, **kwargs)

    def _signals_from_codes(self, X, components):
        """``codes @ components`` for ``inverse_transform``, after checking the codes' width."""
        from sklearn.utils import check_array

        codes = check_array(X, dtype=[np.float64, np.float32])
        k = np.shape(components)[0]
        if codes.shape[1] != k:
            raise ValueError(f"{type(self).__name__}: codes have {codes.shape[1]} columns, "
                             f"expected n_components_={k}.")
        return codes @ np.asarray(components, dtype=codes.dtype)

    def _make_penalty(self, penalty=None, alpha=None, positive=None, **params):
        """Penalty object from ``self.penalty``/``self.alpha`` (never mutating them).

        ``positive`` (default: ``self.positive`` when the estimator has it) adds the
        constraint ``x >= 0``: this is where scikit-learn's ``positive=`` spelling becomes
        a constrained penalty, in one place for every estimator.
        """
        from sklearn.base import clone

        from ..penalties import Penalty, get_penalty

        penalty = self.penalty if penalty is None else penalty
        alpha = getattr(self, "alpha", 1.0) if alpha is None else alpha
        positive = bool(getattr(self, "positive", False)) if positive is None else positive
        if isinstance(penalty, Penalty):
            penalty = clone(penalty)
        return get_penalty(penalty, alpha=alpha, positive=positive, **params)

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


__all__ = [
    "FLOAT_DTYPES",
    "SparsoptEstimatorMixin",
    "array_api_dispatch_enabled",
    "check_is_fitted",
    "penalty_constraint",
]
