"""Batch dictionary learning: ``dict_learning`` and the ``DictionaryLearning`` estimator.

Also the pieces shared with the online learner (:mod:`._dict_online`): the coding
set-up (``_CodingSpec``), the objective, the initialisation and the base estimator with
``transform``/``inverse_transform``/``score``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core.result import SolverResult
from ..exceptions import ConvergenceWarning
from ..penalties import CEL0, L0, L1, ElasticNet, Penalty, get_penalty
from ..utils.estimator import SparsoptEstimatorMixin, penalty_constraint
from ..utils.validation import check_array
from ._dict_update import (
    DEAD_TOL,
    _bcd_update,
    resample_dead_atoms,
    update_dict_ksvd,
    update_dict_mod,
)
from ._encode import SOLVERS, _resolve_solver, sparse_encode

FIT_ALGORITHMS = ("bcd", "mod", "ksvd")
_WARM_SOLVERS = ("cd", "fista", "ista", "lca", "iht")


# ----------------------------------------------------------------------------- coding set-up
@dataclass(frozen=True)
class _CodingSpec:
    """How the codes are computed (validated once per fit)."""

    penalty: object  # name or Penalty, as given (``"cel0"`` gets the atom norms per call)
    alpha: float
    solver: str  # resolved: never "auto"
    n_nonzero_coefs: object
    positive: bool
    max_iter: int
    tol: float
    n_jobs: object
    constrained: bool  # sparsity constraint (omp, iht with k): objective = data term only
    scale_invariant: bool  # l0 / constraint: atoms are kept at unit norm

    @property
    def warm(self):
        return self.solver in _WARM_SOLVERS


def _coding_spec(penalty, alpha, solver, n_nonzero_coefs, positive, max_iter, tol, n_jobs,
                 owner, names=("penalty", "coding_solver", "positive_code", "n_nonzero_coefs")):
    """Validate a coder configuration; errors name the parameters of ``owner``."""
    p_name, s_name, pos_name, k_name = names
    if not isinstance(penalty, (str, Penalty)):
        raise TypeError(f"{owner}: {p_name} must be a penalty name or a Penalty, got "
                        f"{penalty!r}.")
    try:
        pen = get_penalty(penalty, alpha=alpha)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: invalid {p_name}={penalty!r} (alpha={alpha!r}): "
                         f"{exc}") from exc
    if solver not in SOLVERS:
        raise ValueError(f"{owner}: {s_name} must be one of {SOLVERS}, got {solver!r}.")
    if n_nonzero_coefs is not None and (isinstance(n_nonzero_coefs, bool)
                                        or not isinstance(n_nonzero_coefs, Integral)
                                        or n_nonzero_coefs < 1):
        raise ValueError(f"{owner}: {k_name} must be a positive integer or None, got "
                         f"{n_nonzero_coefs!r}.")
    resolved = _resolve_solver(solver, pen, n_nonzero_coefs, None)
    if resolved == "omp" and positive:
        raise ValueError(f"{owner}: {pos_name}=True is not supported by the OMP coder "
                         f"({s_name}='omp', or {k_name} set with {s_name}='auto'); use "
                         f"penalty='l0' with {s_name}='cd' for non-negative sparse codes, "
                         f"or {pos_name}=False.")
    if resolved == "iht" and positive:
        raise ValueError(f"{owner}: {pos_name}=True is not supported by {s_name}='iht'; "
                         f"use {s_name}='cd' or 'fista'.")
    if resolved == "iht" and n_nonzero_coefs is None and not isinstance(pen, L0):
        raise ValueError(f"{owner}: {s_name}='iht' needs {k_name} or {p_name}='l0'.")
    if resolved == "lars" and type(pen) not in (L1, ElasticNet):
        raise ValueError(f"{owner}: {s_name}='lars' solves l1 and elastic-net problems only, "
                         f"got {p_name}={penalty!r}; use {s_name}='cd' or 'fista'.")
    constrained = resolved == "omp" or (resolved == "iht" and n_nonzero_coefs is not None)
    return _CodingSpec(
        penalty=penalty, alpha=float(alpha), solver=resolved, n_nonzero_coefs=n_nonzero_coefs,
        positive=bool(positive), max_iter=int(max_iter), tol=float(tol), n_jobs=n_jobs,
        constrained=constrained, scale_invariant=constrained or type(pen) is L0,
    )


def _penalty_for(spec, D):
    """The penalty object of ``spec`` for dictionary ``D`` (CEL0 gets the atom norms)."""
    if isinstance(spec.penalty, str) and spec.penalty.strip().lower() == "cel0":
        norms = np.linalg.norm(np.asarray(D, dtype=np.float64), axis=1)
        return CEL0(alpha=spec.alpha, a=np.maximum(norms, np.finfo(np.float64).tiny))
    return get_penalty(spec.penalty, alpha=spec.alpha)


def _objective_per_sample(X, C, D, spec):
    """``1/2 ||x - c D||^2 + pen(c)`` per row (the data term only for a constraint)."""
    C64 = np.asarray(C, dtype=np.float64)
    R = np.asarray(X, dtype=np.float64) - C64 @ np.asarray(D, dtype=np.float64)
    obj = 0.5 * np.einsum("ij,ij->i", R, R)
    if not spec.constrained:
        obj += _penalty_for(spec, D).value(C64, per_row=True, check_finite=False)
    return obj


def _encode(X, D, spec, gram=None, init=None, with_objective=False):
    """Codes of ``X`` (and their summed objective); coder ConvergenceWarnings are counted.

    Returns ``(codes, objective_sum_or_None, n_convergence_warnings)``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        codes, res = sparse_encode(
            X, D, penalty=spec.penalty, alpha=spec.alpha, solver=spec.solver,
            max_iter=spec.max_iter, tol=spec.tol, positive=spec.positive,
            n_nonzero_coefs=spec.n_nonzero_coefs,
            init=init if spec.warm else None, gram=gram, n_jobs=spec.n_jobs,
            return_result=True,
        )
    n_warn = 0
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            n_warn += 1
        else:  # pragma: no cover - nothing else is expected from the coders
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    obj = None
    if with_objective:
        per = None if spec.constrained else res.info.get("objective_per_sample")
        if per is None:
            obj = float(np.sum(_objective_per_sample(X, codes, D, spec)))
        else:
            obj = float(np.sum(per))
    return codes, obj, n_warn


# ----------------------------------------------------------------------------- validation
def _check_X(X, owner):
    X = check_array(X, "X", owner, ndim=2)
    return np.ascontiguousarray(X)


def _check_n_components(n_components, n_features, owner):
    if n_components is None:
        return n_features
    if isinstance(n_components, bool) or not isinstance(n_components, Integral) \
            or n_components < 1:
        raise ValueError(f"{owner}: n_components must be a positive integer or None, got "
                         f"{n_components!r}.")
    return int(n_components)


def _check_dict_init(dict_init, k, f, dtype, owner):
    D = check_array(dict_init, "dict_init", owner, ndim=2)
    if D.shape != (k, f):
        raise ValueError(f"{owner}: dict_init must have shape (n_components, n_features) = "
                         f"{(k, f)}, got {D.shape}.")
    return np.array(D, dtype=dtype, order="C", copy=True)


def _check_int(value, name, owner, lower):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < lower:
        raise ValueError(f"{owner}: {name} must be an integer >= {lower}, got {value!r}.")
    return int(value)


def _check_real(value, name, owner, lower=0.0):
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) \
            or value < lower:
        raise ValueError(f"{owner}: {name} must be a finite real >= {lower}, got {value!r}.")
    return float(value)


def _fix_atoms(D, X, rng, spec, positive_dict):
    """Replace zero (padding) atoms, and normalise for scale-invariant coders."""
    norms = np.linalg.norm(D, axis=1)
    zero = np.flatnonzero(~(norms > 1e-10 * max(float(norms.max(initial=0.0)), 1e-300)))
    if zero.size:
        resample_dead_atoms(D, X, zero, random_state=rng, positive=positive_dict)
        norms = np.linalg.norm(D, axis=1)
    if spec.scale_invariant:
        D /= norms[:, None].astype(D.dtype)
        return norms
    return None


# ----------------------------------------------------------------------------- dict_learning
def dict_learning(X, n_components=None, *, penalty="l1", alpha=1.0, fit_algorithm="bcd",
                  coding_solver="auto", n_nonzero_coefs=None, max_iter=100, tol=1e-8,
                  dict_init=None, code_init=None, positive_code=False, positive_dict=False,
                  coding_max_iter=1000, coding_tol=1e-6, callback=None, random_state=None,
                  n_jobs=None, return_result=False):
    r"""Batch dictionary learning by alternating sparse coding and atom updates.

    Solves (scikit-learn's model and scaling, so the objectives are comparable)

    .. math::
        \min_{U, V} \tfrac12 \|X - U V\|_F^2 + \alpha\, \mathrm{pen}(U)
        \quad \text{s.t.} \quad \|V_k\|_2 \le 1,

    with codes ``U`` of shape (n_samples, n_components) and atoms ``V`` (the dictionary)
    of shape (n_components, n_features). Each iteration codes every sample with
    :func:`~sparsopt.decomposition.sparse_encode` (any penalty and solver it supports:
    the exact homotopy for l1, coordinate descent for l0, MCP, SCAD, l1/2..., FISTA for
    CEL0, OMP or IHT for a fixed number of non-zeros: the "beyond l1" dictionary loop),
    then updates the atoms with ``fit_algorithm``.

    With l1 codes from the exact coder and ``fit_algorithm="bcd"`` both steps are exact
    block minimisations, so the objective never increases.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data. float32 stays float32.
    n_components : int, default=None
        Number of atoms; ``None``: ``n_features``.
    penalty : str or Penalty, default="l1"
        Penalty of the codes (see :func:`~sparsopt.decomposition.sparse_encode`);
        ``"cel0"`` gets the current atom norms at every coding step.
    alpha : float, default=1.0
        Strength of the penalty (scikit-learn's ``alpha``).
    fit_algorithm : {"bcd", "mod", "ksvd"}, default="bcd"
        Atom update: block coordinate descent on ``A = U^T U``, ``B = X^T U`` (one sweep
        per iteration, as scikit-learn; unused atoms are resampled), the method of optimal
        directions (least squares, then unit atoms; rescales the codes) or approximate
        K-SVD (one rank-1 power step per atom; also updates the non-zero codes).
    coding_solver : {"auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp"}, default="auto"
        Sparse coder (``"auto"``: OMP if ``n_nonzero_coefs`` is set, the exact homotopy
        ``"lars"`` for l1, coordinate descent for other separable penalties, FISTA for
        CEL0 and group penalties). Iterative coders are warm-started from the previous
        codes.
    n_nonzero_coefs : int, default=None
        Number of non-zeros per code for ``"omp"``/``"iht"``. The objective is then
        the data term only, and, as for ``penalty="l0"``, atoms are kept at unit norm
        (the penalty is scale invariant).
    max_iter : int, default=100
        Maximum number of iterations (coding + update).
    tol : float, default=1e-8
        Stop when ``|E_{t-1} - E_t| < tol * E_t`` for the objective ``E``; ``0`` runs
        exactly ``max_iter`` iterations (and does not warn).
    dict_init : array-like of shape (n_components, n_features), default=None
        Initial dictionary; default: scikit-learn's SVD initialisation ``V = S V^T`` of
        ``X = U S V^T`` (first ``n_components`` rows; missing ones drawn from the data).
    code_init : array-like of shape (n_samples, n_components), default=None
        Warm start of the first coding step (iterative coders); default: ``U`` of the
        SVD when the dictionary comes from the SVD.
    positive_code : bool, default=False
        Non-negative codes (not with OMP or IHT).
    positive_dict : bool, default=False
        Non-negative atoms (``fit_algorithm="bcd"`` only).
    coding_max_iter : int, default=1000
        ``max_iter`` of the coder.
    coding_tol : float, default=1e-6
        ``tol`` of the coder.
    callback : callable, default=None
        Called after every iteration with a dict ``state`` (``iteration``,
        ``dictionary``, ``code``, ``objective``, ``objective_history``, ``elapsed``);
        returning True stops the loop. Do not modify the arrays.
    random_state : int, RandomState instance or None, default=None
        Seed of the resampling of unused atoms.
    n_jobs : int or None, default=None
        Threads of the coder (over blocks of samples).
    return_result : bool, default=False
        Also return a :class:`~sparsopt.solvers.SolverResult` (``x``: the dictionary;
        ``history``: one record per iteration with its ``objective``; ``info``:
        ``objective_history``, ``n_resampled`` (resampling events: an atom that stays unused
        is counted at every step), ``stopped_by``, ``coder_warnings``).

    Returns
    -------
    code : ndarray of shape (n_samples, n_components)
        Codes of the last iteration (before its atom update, as scikit-learn).
    dictionary : ndarray of shape (n_components, n_features)
        The learned atoms (rows), dtype of ``X``.
    result : SolverResult
        Only if ``return_result``.

    Warns
    -----
    ConvergenceWarning
        Once, if ``max_iter`` iterations did not reach ``tol > 0`` (or the coder did not
        converge at some iteration).

    See Also
    --------
    DictionaryLearning : the estimator.
    dict_learning_online : the online (mini-batch) algorithm, for large data.

    References
    ----------
    .. [1] J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for matrix
       factorization and sparse coding", JMLR 11, 2010.
    .. [2] K. Engan, S. O. Aase and J. H. Husoy, "Method of optimal directions for frame
       design", ICASSP 1999.
    .. [3] R. Rubinstein, M. Zibulevsky and M. Elad, "Efficient implementation of the
       K-SVD algorithm using batch orthogonal matching pursuit", Technion CS-2008-08.
    .. [4] C. Rentzeperis, L. Calatroni, L. U. Perrinet and D. Prandi, "Beyond l1 sparse
       coding in V1", PLoS Comput. Biol. 19(9), 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import dict_learning
    >>> X, D_true, _ = make_sparse_coding_problem(200, 16, 8, 2, noise=0.01)
    >>> code, D, res = dict_learning(X, 8, alpha=0.1, max_iter=100, tol=1e-3,
    ...                              random_state=0, return_result=True)
    >>> code.shape, D.shape, res.converged
    ((200, 8), (8, 16), True)
    >>> bool(np.all(np.diff(res.info["objective_history"]) <= 0))  # exact l1 codes + BCD
    True
    """
    owner = "dict_learning"
    X = _check_X(X, owner)
    n, f = X.shape
    k = _check_n_components(n_components, f, owner)
    if fit_algorithm not in FIT_ALGORITHMS:
        raise ValueError(f"{owner}: fit_algorithm must be one of {FIT_ALGORITHMS}, got "
                         f"{fit_algorithm!r}.")
    if positive_dict and fit_algorithm != "bcd":
        raise ValueError(f"{owner}: positive_dict=True is supported by fit_algorithm='bcd' "
                         f"only, got fit_algorithm={fit_algorithm!r}.")
    max_iter = _check_int(max_iter, "max_iter", owner, 0)
    tol = _check_real(tol, "tol", owner)
    alpha = _check_real(alpha, "alpha", owner)
    spec = _coding_spec(penalty, alpha, coding_solver, n_nonzero_coefs, positive_code,
                        _check_int(coding_max_iter, "coding_max_iter", owner, 1),
                        _check_real(coding_tol, "coding_tol", owner), n_jobs, owner)
    if callback is not None and not callable(callback):
        raise TypeError(f"{owner}: callback must be callable or None, got {callback!r}.")
    rng = check_random_state(random_state)
    dtype = X.dtype

    code = None
    if dict_init is not None:
        D = _check_dict_init(dict_init, k, f, dtype, owner)
    else:
        D, code = _svd_init(X, k)
    if code_init is not None:
        code = check_array(code_init, "code_init", owner, ndim=2)
        if code.shape != (n, k):
            raise ValueError(f"{owner}: code_init must have shape (n_samples, n_components) "
                             f"= {(n, k)}, got {code.shape}.")
    code = None if code is None else np.array(code, dtype=dtype, order="C", copy=True)
    norms = _fix_atoms(D, X, rng, spec, positive_dict)
    if norms is not None and code is not None:
        code *= norms.astype(dtype)  # keep code @ D

    history, records = [], []
    n_resampled = coder_warnings = 0
    converged, stopped_by, rel = False, "max_iter", float("inf")
    t0 = time.perf_counter()
    D_prev = D.copy()
    it = 0
    for it in range(1, max_iter + 1):
        G = D @ D.T
        code, _, n_warn = _encode(X, D, spec, gram=G, init=code)
        coder_warnings += n_warn
        D_prev[...] = D
        if fit_algorithm == "bcd":
            A = code.T @ code
            Bt = code.T @ X
            dead = _bcd_update(D, A, Bt, X, positive_dict, spec.scale_invariant, rng,
                               DEAD_TOL, None)
            code[:, dead] = 0
        elif fit_algorithm == "mod":
            D, dead = update_dict_mod(X, code, random_state=rng)
        else:
            dead = update_dict_ksvd(X, D, code, random_state=rng)
        n_resampled += int(dead.size)
        cost = float(np.sum(_objective_per_sample(X, code, D, spec)))
        if not np.isfinite(cost):  # pragma: no cover - finite data give finite costs
            D = D_prev
            stopped_by = "non-finite"
            warnings.warn(f"{owner}: non-finite objective at iteration {it}; returned the "
                          "dictionary of the previous iteration. Check the scaling of X "
                          "and alpha.", RuntimeWarning, stacklevel=2)
            break
        history.append(cost)
        elapsed = time.perf_counter() - t0
        if len(history) > 1:
            rel = abs(history[-2] - cost) / max(abs(cost), np.finfo(np.float64).tiny)
        records.append({"iteration": it, "stop_crit": rel, "objective": cost,
                        "time": elapsed})
        if callback is not None and callback({
                "iteration": it, "dictionary": D, "code": code, "objective": cost,
                "objective_history": history, "elapsed": elapsed}):
            stopped_by = "callback"
            break
        if rel < tol:
            converged, stopped_by = True, "tol"
            break
    if not np.all(np.isfinite(code)):  # pragma: no cover
        raise FloatingPointError(f"{owner}: non-finite codes; check the scaling of X.")
    msg = []
    if stopped_by == "max_iter" and max_iter > 0 and tol > 0:
        msg.append(f"the relative decrease of the objective |E_prev - E| / E = {rel:.2e} "
                   f"is still above tol = {tol:.1e} after max_iter = {max_iter} iterations; "
                   "increase max_iter (or tol)")
    if coder_warnings:
        msg.append(f"the sparse coder ({spec.solver}) did not converge in {coder_warnings} "
                   f"of {it} coding steps; increase coding_max_iter (or coding_tol)")
    if msg:
        warnings.warn(f"{owner}: " + "; ".join(msg) + ".", ConvergenceWarning, stacklevel=2)
    if code is None:  # max_iter == 0
        code = np.zeros((n, k), dtype=dtype)
    result = SolverResult(
        x=D, n_iter=len(history), converged=converged, stop_crit=rel, history=records,
        info={"objective_history": np.asarray(history), "n_resampled": n_resampled,
              "stopped_by": stopped_by, "coder_warnings": coder_warnings,
              "coding_solver": spec.solver, "fit_algorithm": fit_algorithm,
              "criterion": "relative decrease of the objective", "tol": tol},
    )
    if return_result:
        return code, D, result
    return code, D


def _svd_init(X, k):
    """scikit-learn's initialisation: ``D = S V^T`` (padded with zeros), ``code = U``."""
    from scipy import linalg
    from sklearn.utils.extmath import svd_flip

    U, S, Vt = linalg.svd(X, full_matrices=False)
    U, Vt = svd_flip(U, Vt)
    D = S[:, None] * Vt
    r = D.shape[0]
    if k <= r:
        U, D = U[:, :k], D[:k]
    else:
        U = np.hstack([U, np.zeros((U.shape[0], k - r), dtype=U.dtype)])
        D = np.vstack([D, np.zeros((k - r, D.shape[1]), dtype=D.dtype)])
    return (np.ascontiguousarray(D, dtype=X.dtype), np.ascontiguousarray(U, dtype=X.dtype))


# ----------------------------------------------------------------------------- estimators
_COMMON_CONSTRAINTS = {
    "n_components": [Interval(Integral, 1, None, closed="left"), None],
    "penalty": penalty_constraint(),
    "alpha": [Interval(Real, 0, None, closed="left")],
    "coding_solver": [StrOptions(set(SOLVERS))],
    "n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
    "transform_penalty": penalty_constraint() + [None],
    "transform_alpha": [Interval(Real, 0, None, closed="left"), None],
    "transform_solver": [StrOptions(set(SOLVERS)), None],
    "transform_n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
    "transform_max_iter": [Interval(Integral, 1, None, closed="left")],
    "positive_code": ["boolean"],
    "positive_dict": ["boolean"],
    "dict_init": ["array-like", None],
    "callback": [callable, None],
    "n_jobs": [Integral, None],
    "random_state": ["random_state"],
}


class _BaseDictionaryLearning(SparsoptEstimatorMixin, ClassNamePrefixFeaturesOutMixin,
                              TransformerMixin, BaseEstimator):
    """transform / inverse_transform / score shared by the dictionary learners."""

    def _fit_spec(self):
        return _coding_spec(self.penalty, self.alpha, self.coding_solver,
                            self.n_nonzero_coefs, self.positive_code, self.transform_max_iter,
                            1e-6, self.n_jobs, type(self).__name__)

    def _transform_spec(self):
        pen = self.penalty if self.transform_penalty is None else self.transform_penalty
        alpha = self.alpha if self.transform_alpha is None else self.transform_alpha
        solver = self.coding_solver if self.transform_solver is None else self.transform_solver
        k = (self.n_nonzero_coefs if self.transform_n_nonzero_coefs is None
             else self.transform_n_nonzero_coefs)
        return _coding_spec(pen, alpha, solver, k, self.positive_code, self.transform_max_iter,
                            1e-6, self.n_jobs, type(self).__name__,
                            names=("transform_penalty", "transform_solver", "positive_code",
                                   "transform_n_nonzero_coefs"))

    def transform(self, X):
        """Sparse codes of ``X`` against the learned dictionary.

        Uses the ``transform_*`` parameters (each defaults to its fit counterpart).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Signals.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            dtype of ``X`` (float32 stays float32).
        """
        check_is_fitted(self, "components_")
        X = self._validate_input(X, reset=False)
        spec = self._transform_spec()
        D = self.components_.astype(X.dtype, copy=False)
        return sparse_encode(X, D, penalty=spec.penalty, alpha=spec.alpha, solver=spec.solver,
                             max_iter=spec.max_iter, tol=spec.tol, positive=spec.positive,
                             n_nonzero_coefs=spec.n_nonzero_coefs, n_jobs=spec.n_jobs)

    def inverse_transform(self, X):
        """Signals from codes: ``codes @ components_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self, "components_")
        return self._signals_from_codes(X, self.components_)

    def score(self, X, y=None):
        """Negative mean per-sample objective ``-(1/2 ||x - u V||^2 + alpha pen(u))``.

        ``u`` are the codes of the fit's coder (``penalty``, ``alpha``,
        ``coding_solver``), so that a larger score is a better model (what
        ``GridSearchCV`` and dask-ml's ``Incremental`` maximise).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Signals.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        score : float
        """
        check_is_fitted(self, "components_")
        X = self._validate_input(X, reset=False)
        spec = self._fit_spec()
        D = self.components_.astype(X.dtype, copy=False)
        codes, obj, _ = _encode(X, D, spec, with_objective=True)
        return -obj / X.shape[0]

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class DictionaryLearning(_BaseDictionaryLearning):
    """Dictionary learning: sparse codes with any penalty, BCD, MOD or K-SVD atom updates.

    Finds atoms ``V`` (``components_``) and sparse codes ``U`` minimising
    ``1/2 ||X - U V||_F^2 + alpha * pen(U)`` with ``||V_k||_2 <= 1`` (scikit-learn's
    model and scaling) by alternating :func:`~sparsopt.decomposition.sparse_encode` and
    an atom update; see :func:`dict_learning`. A drop-in for
    :class:`sklearn.decomposition.DictionaryLearning` with the exact homotopy coder, the
    nonconvex penalties (l0, CEL0, MCP, SCAD, l1/2...), OMP/IHT at fixed sparsity, MOD and
    K-SVD updates. For large data use :class:`MiniBatchDictionaryLearning`.

    Parameters
    ----------
    n_components : int, default=None
        Number of atoms; ``None``: ``n_features``.
    penalty : str or Penalty, default="l1"
        Penalty of the codes during the fit.
    alpha : float, default=1.0
        Strength of the penalty.
    fit_algorithm : {"bcd", "mod", "ksvd"}, default="bcd"
        Atom update (see :func:`dict_learning`).
    coding_solver : {"auto", "lars", "cd", "fista", "ista", "lca", "iht", "omp"}, default="auto"
        Sparse coder during the fit.
    n_nonzero_coefs : int, default=None
        Non-zeros per code for OMP/IHT during the fit.
    transform_penalty : str or Penalty, default=None
        Penalty of :meth:`transform`; ``None``: ``penalty``.
    transform_alpha : float, default=None
        ``None``: ``alpha`` (as scikit-learn).
    transform_solver : str, default=None
        ``None``: ``coding_solver``.
    transform_n_nonzero_coefs : int, default=None
        ``None``: ``n_nonzero_coefs``.
    transform_max_iter : int, default=1000
        ``max_iter`` of the iterative coders (fit and transform, as scikit-learn).
    max_iter : int, default=1000
        Maximum number of iterations.
    tol : float, default=1e-8
        Tolerance on the relative decrease of the objective.
    positive_code : bool, default=False
        Non-negative codes.
    positive_dict : bool, default=False
        Non-negative atoms (``fit_algorithm="bcd"``).
    dict_init : array-like of shape (n_components, n_features), default=None
        Initial dictionary (default: SVD of ``X``).
    code_init : array-like of shape (n_samples, n_components), default=None
        Warm start of the first coding step.
    callback : callable, default=None
        ``callback(state)`` after each iteration (see :func:`dict_learning`); True stops.
    n_jobs : int or None, default=None
        Threads of the coder.
    random_state : int, RandomState instance or None, default=None
        Seed of the resampling of unused atoms.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The atoms, dtype of the training data.
    n_iter_ : int
        Iterations run.
    converged_ : bool
        Whether the tolerance was reached.
    objective_history_ : ndarray of shape (`n_iter_`,)
        Objective after each iteration.
    error_ : ndarray of shape (`n_iter_`,)
        Same as ``objective_history_`` (scikit-learn's name).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when ``X`` has string column names.

    See Also
    --------
    MiniBatchDictionaryLearning : the online algorithm.
    sparsopt.decomposition.SparseCoder : coding with a fixed dictionary.

    References
    ----------
    .. [1] J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for matrix
       factorization and sparse coding", JMLR 11, 2010.
    .. [2] C. Rentzeperis, L. Calatroni, L. U. Perrinet and D. Prandi, "Beyond l1 sparse
       coding in V1", PLoS Comput. Biol. 19(9), 2023.

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.decomposition import DictionaryLearning
    >>> X, _, _ = make_sparse_coding_problem(100, 16, 8, 2, noise=0.01)
    >>> dl = DictionaryLearning(8, alpha=0.1, max_iter=100, tol=1e-3, random_state=0)
    >>> codes = dl.fit_transform(X)
    >>> codes.shape, dl.components_.shape
    ((100, 8), (8, 16))
    """

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "fit_algorithm": [StrOptions(set(FIT_ALGORITHMS))],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "code_init": ["array-like", None],
    }

    def __init__(self, n_components=None, *, penalty="l1", alpha=1.0, fit_algorithm="bcd",
                 coding_solver="auto", n_nonzero_coefs=None, transform_penalty=None,
                 transform_alpha=None, transform_solver=None, transform_n_nonzero_coefs=None,
                 transform_max_iter=1000, max_iter=1000, tol=1e-8, positive_code=False,
                 positive_dict=False, dict_init=None, code_init=None, callback=None,
                 n_jobs=None, random_state=None):
        self.n_components = n_components
        self.penalty = penalty
        self.alpha = alpha
        self.fit_algorithm = fit_algorithm
        self.coding_solver = coding_solver
        self.n_nonzero_coefs = n_nonzero_coefs
        self.transform_penalty = transform_penalty
        self.transform_alpha = transform_alpha
        self.transform_solver = transform_solver
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_max_iter = transform_max_iter
        self.max_iter = max_iter
        self.tol = tol
        self.positive_code = positive_code
        self.positive_dict = positive_dict
        self.dict_init = dict_init
        self.code_init = code_init
        self.callback = callback
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y=None):
        """Learn the dictionary from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : DictionaryLearning
        """
        self._validate_params()
        X = self._validate_input(X)
        self._transform_spec()  # bad transform_* parameters fail before the fit
        _, D, res = dict_learning(
            X, self.n_components, penalty=self.penalty, alpha=self.alpha,
            fit_algorithm=self.fit_algorithm, coding_solver=self.coding_solver,
            n_nonzero_coefs=self.n_nonzero_coefs, max_iter=self.max_iter, tol=self.tol,
            dict_init=self.dict_init, code_init=self.code_init,
            positive_code=self.positive_code, positive_dict=self.positive_dict,
            coding_max_iter=self.transform_max_iter, callback=self.callback,
            random_state=self.random_state, n_jobs=self.n_jobs, return_result=True,
        )
        self.components_ = D
        self.n_iter_ = int(res.n_iter)
        self.converged_ = bool(res.converged)
        self.objective_history_ = np.asarray(res.info["objective_history"])
        self.error_ = self.objective_history_
        return self

    # n_features of the data used by scikit-learn's checks are small: keep fits tiny
    @classmethod
    def _test_params(cls, check_name):
        """Constructor parameters for scikit-learn's estimator checks (tests only)."""
        return {"n_components": 3, "alpha": 0.1, "max_iter": 5, "tol": 1e-3,
                "random_state": 0}
