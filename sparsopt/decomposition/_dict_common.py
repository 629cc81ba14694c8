"""What the dictionary learners share: the coding set-up, the objective, the validation,
the initialisation and the estimator base class.

Public inside the package (no leading underscore): :mod:`._dict_learning` (batch) and
:mod:`._dict_online` (mini-batch) import these names; nothing here is exported by
:mod:`sparsopt.decomposition`.

The codes reach the coders through one channel: a penalty object (built by
:func:`penalty_for` with :func:`~sparsopt.penalties.get_penalty`, so scikit-learn's
``positive_code=True`` becomes ``penalty + Positive()``) handed to
:func:`sparsopt.solvers.encode`. Solver choices read the penalty's kernel spec
(:func:`penalty_kind`), never its class.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._core.loop import all_finite
from ..backends import (
    _kinds,
    array_namespace,
    asarray_on,
    device,
    host_only_error,
    is_numpy_namespace,
    namespace_name,
)
from ..exceptions import ConvergenceWarning
from ..penalties import Penalty, get_penalty
from ..solvers.coding._common import ARRAY_API_SOLVERS, atom_norms, is_cel0_name
from ..utils.estimator import (
    SparsoptEstimatorMixin,
    check_fitted_namespace,
    penalty_constraint,
)
from ..utils.validation import check_array
from ._dict_update import resample_dead_atoms
from ._encode import SOLVERS, sparse_encode
from ._sklearn_compat import (
    FIT_ALGORITHM_TO_SOLVER,
    SK_ALGORITHMS,
    SK_FIT_ALGORITHMS,
    check_one_spelling,
    sk_encode,
    split_codes,
    unsplit_codes,
)

UPDATES = ("bcd", "mod", "ksvd")
#: the coders the learners run on non-NumPy arrays (the others raise TypeError): the
#: namespace-generic coders of :mod:`sparsopt.solvers.coding` (FISTA, ISTA, LCA)
LEARNER_ARRAY_API_SOLVERS = ARRAY_API_SOLVERS
#: sparsopt's extension of scikit-learn's ``fit_algorithm``/``transform_algorithm``: the
#: l1 codes by batched FISTA, which also runs on array-API (e.g. CuPy) arrays
FISTA_ALGORITHM = "fista"
_WARM_SOLVERS = ("cd", "fista", "ista", "lca", "iht")


# ----------------------------------------------------------------------------- coding set-up
def penalty_kind(pen):
    """The ``KIND_*`` code of a separable penalty with a coordinate kernel, else None.

    The one place where the dictionary learners look at what a penalty is: through its
    kernel spec (:meth:`~sparsopt.penalties.Penalty.spec`), never through its class.
    """
    try:
        return pen.spec(solver="dictionary learning").kind
    except TypeError:  # group penalties: no coordinate kernel
        return None


def _lower_bound(pen):
    try:
        return float(pen.spec(solver="dictionary learning").lower)
    except TypeError:
        return -np.inf


def resolve_coding_solver(solver, pen, n_nonzero_coefs):
    """``coding_solver="auto"`` made concrete (the kernel-selection helper of the family).

    OMP when a number of non-zeros is given; FISTA for CEL0 (exact coordinate steps act
    like l0 on it and lose the relaxation); the exact l1 homotopy (``"lars"``, the
    specialised fast kernel: certified codes, and faster than coordinate descent at equal
    objective) for l1, also under ``+ Positive()``; coordinate descent for the other
    separable penalties; FISTA for group penalties.
    """
    if solver != "auto":
        return solver
    if n_nonzero_coefs is not None:
        return "omp"
    kind = penalty_kind(pen)
    if kind == _kinds.KIND_CEL0:
        return "fista"
    if kind == _kinds.KIND_L1:
        return "lars"
    return "cd" if kind is not None else "fista"


@dataclass(frozen=True)
class CodingSpec:
    """How the codes are computed (validated once per fit)."""

    penalty: object  # name or Penalty, as given (``"cel0"`` gets the atom norms per call)
    alpha: float
    positive: bool  # add ``Positive()`` to the penalty (scikit-learn's ``positive_code``)
    solver: str  # resolved: never "auto"
    n_nonzero_coefs: object
    max_iter: int
    tol: float
    n_jobs: object
    constrained: bool  # sparsity constraint (omp, iht with k): objective = data term only
    scale_invariant: bool  # l0 / constraint: atoms are kept at unit norm
    nonneg: bool  # the codes are non-negative

    @property
    def warm(self):
        return self.solver in _WARM_SOLVERS


def coding_spec(penalty, alpha, solver, n_nonzero_coefs, max_iter, tol, n_jobs, owner, *,
                positive=False,
                names=("penalty", "coding_solver", "positive_code", "n_nonzero_coefs")):
    """Validate a coder configuration; errors name the parameters of ``owner``.

    ``positive`` adds ``Positive()`` to the penalty (the mirrors' and estimators'
    ``positive_code``); the native functions pass a constrained penalty instead.
    """
    p_name, s_name, pos_name, k_name = names
    if not isinstance(penalty, (str, Penalty)):
        raise TypeError(f"{owner}: {p_name} must be a penalty name or a Penalty, got "
                        f"{penalty!r}.")
    try:
        pen = get_penalty(penalty, alpha=alpha, positive=bool(positive))
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
    resolved = resolve_coding_solver(solver, pen, n_nonzero_coefs)
    kind = penalty_kind(pen)
    nonneg = _lower_bound(pen) >= 0.0
    pos_spelling = f"{pos_name}=True" if positive else f"{p_name} + Positive()"
    if resolved == "omp" and nonneg:
        raise ValueError(f"{owner}: {pos_spelling} is not supported by the OMP coder "
                         f"({s_name}='omp', or {k_name} set with {s_name}='auto'); use "
                         f"penalty='l0' with {s_name}='cd' for non-negative sparse codes.")
    if resolved == "iht" and nonneg:
        raise ValueError(f"{owner}: {pos_spelling} is not supported by {s_name}='iht'; "
                         f"use {s_name}='cd' or 'fista'.")
    if resolved == "iht" and n_nonzero_coefs is None and kind != _kinds.KIND_L0:
        raise ValueError(f"{owner}: {s_name}='iht' needs {k_name} or {p_name}='l0'.")
    if resolved == "lars" and kind not in (_kinds.KIND_L1, _kinds.KIND_ELASTICNET):
        raise ValueError(f"{owner}: {s_name}='lars' solves l1 and elastic-net problems only, "
                         f"got {p_name}={penalty!r}; use {s_name}='cd' or 'fista'.")
    constrained = resolved == "omp" or (resolved == "iht" and n_nonzero_coefs is not None)
    return CodingSpec(
        penalty=penalty, alpha=float(alpha), positive=bool(positive), solver=resolved,
        n_nonzero_coefs=n_nonzero_coefs, max_iter=int(max_iter), tol=float(tol),
        n_jobs=n_jobs, constrained=constrained,
        scale_invariant=constrained or kind == _kinds.KIND_L0, nonneg=nonneg,
    )


def penalty_for(spec, D):
    """The penalty object of ``spec`` for dictionary ``D`` (a ``"cel0"`` name gets the atom
    norms as its ``a``; ``spec.positive`` adds ``Positive()``)."""
    if is_cel0_name(spec.penalty):
        if not is_numpy_namespace(array_namespace(D)):
            raise TypeError(
                "penalty='cel0' (by name, with the atom norms as its a) runs on NumPy arrays "
                f"only in dictionary learning, got {namespace_name(array_namespace(D))} "
                "arrays; use penalty='l1' (or a CEL0 penalty object) with the 'fista' coder.")
        pen = get_penalty("cel0", alpha=spec.alpha,
                          a=np.maximum(atom_norms(D), np.finfo(np.float64).tiny))
    else:
        pen = get_penalty(spec.penalty, alpha=spec.alpha)
    return get_penalty(pen, positive=spec.positive)


def objective_per_sample(X, C, D, spec):
    """``1/2 ||x - c D||^2 + pen(c)`` per row (the data term only for a constraint).

    In float64, in the namespace of the arrays (an array of ``xp`` for non-NumPy inputs).
    """
    xp = array_namespace(X, C, D)
    if not is_numpy_namespace(xp):
        C64 = xp.astype(C, xp.float64)
        R = xp.astype(X, xp.float64) - C64 @ xp.astype(D, xp.float64)
        obj = 0.5 * xp.sum(R * R, axis=1)
        if not spec.constrained:
            obj = obj + penalty_for(spec, D).value(C64, per_row=True, check_finite=False)
        return obj
    C64 = np.asarray(C, dtype=np.float64)
    R = np.asarray(X, dtype=np.float64) - C64 @ np.asarray(D, dtype=np.float64)
    obj = 0.5 * np.einsum("ij,ij->i", R, R)
    if not spec.constrained:
        obj += penalty_for(spec, D).value(C64, per_row=True, check_finite=False)
    return obj


def encode_codes(X, D, spec, gram=None, init=None, with_objective=False):
    """Codes of ``X`` (and their summed objective); coder ConvergenceWarnings are counted.

    Calls :func:`sparsopt.solvers.encode` with the penalty of :func:`penalty_for`.
    Returns ``(codes, objective_sum_or_None, n_convergence_warnings)``.
    """
    from ..solvers import encode

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        res = encode(
            X, D, penalty=penalty_for(spec, D), alpha=spec.alpha, solver=spec.solver,
            max_iter=spec.max_iter, tol=spec.tol, n_nonzero_coefs=spec.n_nonzero_coefs,
            init=init if spec.warm else None, gram=gram, n_jobs=spec.n_jobs, verbose=0,
        )
    codes = res.x
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
            per = objective_per_sample(X, codes, D, spec)
        if isinstance(per, np.ndarray):
            obj = float(np.sum(per))
        else:  # one synchronisation, no transfer
            obj = float(array_namespace(per).sum(per))
    return codes, obj, n_warn


def coder_note(spec, n_warn, n_calls, what="coding steps"):
    """The part of the ConvergenceWarning about the coder ("" when it always converged)."""
    if not n_warn:
        return ""
    return (f"the sparse coder ({spec.solver}) did not converge in {n_warn} of {n_calls} "
            f"{what}; increase coding_max_iter (or coding_tol)")


# ----------------------------------------------------------------------------- validation
def check_X(X, owner):
    """``X`` as a C-contiguous float array; arrays of other array-API namespaces stay
    there (2-D, float32 kept, other dtypes to float64, finite)."""
    xp = array_namespace(X)
    if not is_numpy_namespace(xp):
        if X.ndim != 2:
            raise ValueError(f"{owner}: X must be 2-D, got shape {tuple(X.shape)}.")
        if X.dtype not in (xp.float32, xp.float64):
            X = xp.astype(X, xp.float64)
        if not all_finite(X):
            raise ValueError(f"{owner}: X contains NaN or infinity.")
        return X
    X = check_array(X, "X", owner, ndim=2)
    return np.ascontiguousarray(X)


def check_array_api_coder(spec, X, owner, name, alternative):
    """Raise ``TypeError`` for a host-only coder on non-NumPy arrays (no-op for NumPy).

    ``name`` is the parameter (and its value) that chose the coder, ``alternative`` the
    spelling of an array-API coder for the same owner.
    """
    xp = array_namespace(X)
    if is_numpy_namespace(xp) or spec.solver in LEARNER_ARRAY_API_SOLVERS:
        return
    raise host_only_error(f"{owner}: {name} (the {spec.solver!r} coder)", xp,
                          alternative=f"use {alternative} (batched FISTA, which runs in the "
                                      "arrays' namespace)")


def check_n_components(n_components, n_features, owner):
    if n_components is None:
        return n_features
    if isinstance(n_components, bool) or not isinstance(n_components, Integral) \
            or n_components < 1:
        raise ValueError(f"{owner}: n_components must be a positive integer or None, got "
                         f"{n_components!r}.")
    return int(n_components)


def check_dict_init(dict_init, k, f, dtype, owner, like=None):
    """``dict_init`` checked and copied, C-contiguous with ``dtype``; next to ``like``
    (same namespace and device) when ``like`` is a non-NumPy array."""
    if like is not None and not is_numpy_namespace(array_namespace(like)):
        xp = array_namespace(like)
        if isinstance(dict_init, np.ndarray) or not hasattr(dict_init, "shape"):
            D = asarray_on(check_array(dict_init, "dict_init", owner, ndim=2), like,
                           dtype=dtype)
        else:
            D = xp.asarray(dict_init, dtype=dtype, copy=True)
            if D.ndim != 2 or not all_finite(D):
                raise ValueError(f"{owner}: dict_init must be a finite 2-D array.")
        if tuple(D.shape) != (k, f):
            raise ValueError(f"{owner}: dict_init must have shape (n_components, n_features) "
                             f"= {(k, f)}, got {tuple(D.shape)}.")
        return D
    D = check_array(dict_init, "dict_init", owner, ndim=2)
    if D.shape != (k, f):
        raise ValueError(f"{owner}: dict_init must have shape (n_components, n_features) = "
                         f"{(k, f)}, got {D.shape}.")
    return np.array(D, dtype=dtype, order="C", copy=True)


def check_int_param(value, name, owner, lower):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < lower:
        raise ValueError(f"{owner}: {name} must be an integer >= {lower}, got {value!r}.")
    return int(value)


def check_real_param(value, name, owner, lower=0.0):
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) \
            or value < lower:
        raise ValueError(f"{owner}: {name} must be a finite real >= {lower}, got {value!r}.")
    return float(value)


def check_callback(callback, owner):
    if callback is not None and not callable(callback):
        raise TypeError(f"{owner}: callback must be callable or None, got {callback!r}.")


def function_coding_spec(penalty, alpha, coding_solver, n_nonzero_coefs, coding_max_iter,
                         coding_tol, n_jobs, owner, *, positive_code=None):
    """The coder of a learning function, with its ``coding_max_iter`` and ``coding_tol``
    checked (in that order, before the coder itself).

    ``positive_code=None``: a native function (``learn_dictionary*``), whose non-negative
    codes come as ``penalty + Positive()`` (the errors spell them so); a bool: the
    ``positive_code`` of a scikit-learn mirror (``dict_learning*``).
    """
    max_iter = check_int_param(coding_max_iter, "coding_max_iter", owner, 1)
    tol = check_real_param(coding_tol, "coding_tol", owner)
    if positive_code is None:
        return coding_spec(penalty, alpha, coding_solver, n_nonzero_coefs, max_iter, tol,
                           n_jobs, owner,
                           names=("penalty", "coding_solver", "penalty", "n_nonzero_coefs"))
    return coding_spec(penalty, alpha, coding_solver, n_nonzero_coefs, max_iter, tol, n_jobs,
                       owner, positive=positive_code)


def function_coder_names(owner, method, method_max_iter, penalty, coding_solver,
                         n_nonzero_coefs, coding_max_iter):
    """The coder of a scikit-learn mirror (``dict_learning*``) from either spelling.

    scikit-learn's ``method`` (``"lars"``/``"cd"``: the l1 codes) and ``method_max_iter``
    or sparsopt's ``penalty``/``coding_solver``/``n_nonzero_coefs`` and
    ``coding_max_iter``; mixing them raises ``ValueError``. Returns
    ``(penalty, coding_solver, coding_max_iter)``.
    """
    from ._sklearn_compat import check_one_spelling

    check_one_spelling(owner, {"coding_max_iter": coding_max_iter is not None},
                       {"method_max_iter": method_max_iter is not None})
    spelling = check_one_spelling(
        owner, {"penalty": penalty is not None, "coding_solver": coding_solver is not None,
                "n_nonzero_coefs": n_nonzero_coefs is not None},
        {"method": method is not None})
    max_iter = coding_max_iter if coding_max_iter is not None else method_max_iter
    max_iter = 1000 if max_iter is None else max_iter
    if spelling == "native":
        return "l1" if penalty is None else penalty, coding_solver or "auto", max_iter
    if method is None:
        method = "lars"
    if method not in FIT_ALGORITHM_TO_SOLVER:
        raise ValueError(f"{owner}: method must be one of {SK_FIT_ALGORITHMS}, got "
                         f"{method!r}.")
    return "l1", FIT_ALGORITHM_TO_SOLVER[method], max_iter


def mirror_coding_spec(owner, method, method_max_iter, penalty, alpha, coding_solver,
                       n_nonzero_coefs, coding_max_iter, coding_tol, n_jobs, positive_code):
    """The coder of a scikit-learn mirror (``dict_learning*``): :func:`function_coder_names`
    (either spelling), then :func:`function_coding_spec`."""
    penalty, coding_solver, coding_max_iter = function_coder_names(
        owner, method, method_max_iter, penalty, coding_solver, n_nonzero_coefs,
        coding_max_iter)
    return function_coding_spec(penalty, alpha, coding_solver, n_nonzero_coefs,
                                coding_max_iter, coding_tol, n_jobs, owner,
                                positive_code=positive_code)


def fix_atoms(D, X, rng, spec, positive_dict):
    """Replace zero (padding) atoms, and normalise for scale-invariant coders."""
    xp = array_namespace(D, X)
    if not is_numpy_namespace(xp):
        norms = xp.linalg.vector_norm(D, axis=1)
        zero = ~(norms > 1e-10 * xp.clip(xp.max(norms), min=1e-300))
        resample_dead_atoms(D, X, zero, random_state=rng, positive=positive_dict)
        norms = xp.linalg.vector_norm(D, axis=1)
        if spec.scale_invariant:
            D[...] = D / norms[:, None]
            return norms
        return None
    norms = np.linalg.norm(D, axis=1)
    zero = np.flatnonzero(~(norms > 1e-10 * max(float(norms.max(initial=0.0)), 1e-300)))
    if zero.size:
        resample_dead_atoms(D, X, zero, random_state=rng, positive=positive_dict)
        norms = np.linalg.norm(D, axis=1)
    if spec.scale_invariant:
        D /= norms[:, None].astype(D.dtype)
        return norms
    return None


def svd_init(X, k):
    """scikit-learn's initialisation: ``D = S V^T`` (padded with zeros), ``code = U``.

    Arrays of other array-API namespaces: the standard's ``linalg.svd``, in their
    namespace, with the signs of ``svd_flip`` (the largest entry of each column of ``U``
    positive).
    """
    xp = array_namespace(X)
    if not is_numpy_namespace(xp):
        return _svd_init_array_api(xp, X, k)
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


def lead_signs(M, axis):
    """``svd_flip``'s signs: +-1 per column (``axis=0``) or row (``axis=1``) of the 2-D
    ``M``, the sign of its entry of largest magnitude (+1 for a zero one), so that
    ``M * signs`` has that entry positive. In ``M``'s namespace (a mask, no integer
    indexing)."""
    xp = array_namespace(M)
    lead = xp.argmax(xp.abs(M), axis=axis)
    idx = xp.arange(M.shape[axis], dtype=lead.dtype, device=device(M))
    hit = idx[:, None] == lead[None, :] if axis == 0 else lead[:, None] == idx[None, :]
    signs = xp.sign(xp.sum(xp.where(hit, M, xp.zeros_like(M)), axis=axis))
    return xp.where(signs == 0, xp.ones_like(signs), signs)


def _svd_init_array_api(xp, X, k):
    U, S, Vt = xp.linalg.svd(X, full_matrices=False)
    signs = lead_signs(U, 0)
    U = U * signs[None, :]
    D = S[:, None] * (Vt * signs[:, None])
    r = D.shape[0]
    if k <= r:
        U, D = U[:, :k], D[:k, :]
    else:
        U = xp.concat([U, xp.zeros((U.shape[0], k - r), dtype=U.dtype, device=device(X))],
                      axis=1)
        D = xp.concat([D, xp.zeros((k - r, D.shape[1]), dtype=D.dtype, device=device(X))])
    return xp.astype(D, X.dtype, copy=True), xp.astype(U, X.dtype, copy=True)


# ----------------------------------------------------------------------------- estimators
COMMON_CONSTRAINTS = {
    "n_components": [Interval(Integral, 1, None, closed="left"), None],
    "penalty": penalty_constraint() + [None],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "update": [StrOptions(set(UPDATES))],
    "coding_solver": [StrOptions(set(SOLVERS)), None],
    "fit_algorithm": [StrOptions(set(SK_FIT_ALGORITHMS) | {FISTA_ALGORITHM}), None],
    "transform_algorithm": [StrOptions(set(SK_ALGORITHMS) | {FISTA_ALGORITHM}), None],
    "split_sign": ["boolean"],
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
    "verbose": ["verbose", None],
    "n_jobs": [Integral, None],
    "random_state": ["random_state"],
}


class BaseDictionaryLearning(SparsoptEstimatorMixin, ClassNamePrefixFeaturesOutMixin,
                             TransformerMixin, BaseEstimator):
    """transform / inverse_transform / score shared by the dictionary learners."""

    def _fit_coder(self):
        """``(penalty, solver, n_nonzero_coefs)`` of the fit, from either spelling.

        sparsopt's ``penalty``/``coding_solver``/``n_nonzero_coefs`` or scikit-learn's
        ``fit_algorithm`` (``"lars"``: the l1 codes by the exact homotopy, ``"cd"``: by
        coordinate descent, and sparsopt's ``"fista"``: by batched FISTA); both set raise
        ``ValueError``; none: ``fit_algorithm="lars"``.
        """
        owner = type(self).__name__
        spelling = check_one_spelling(
            owner, {"penalty": self.penalty is not None,
                    "coding_solver": self.coding_solver is not None,
                    "n_nonzero_coefs": self.n_nonzero_coefs is not None},
            {"fit_algorithm": self.fit_algorithm is not None})
        if spelling == "native":
            return ("l1" if self.penalty is None else self.penalty,
                    self.coding_solver or "auto", self.n_nonzero_coefs)
        algorithm = self.fit_algorithm or "lars"
        return "l1", FIT_ALGORITHM_TO_SOLVER.get(algorithm, algorithm), None

    def _native_fit_coder(self):
        return (self.penalty is not None or self.coding_solver is not None
                or self.n_nonzero_coefs is not None)

    def _fit_spec(self):
        penalty, solver, k = self._fit_coder()
        return coding_spec(penalty, self.alpha, solver, k, self.transform_max_iter, 1e-6,
                           self.n_jobs, type(self).__name__, positive=self.positive_code,
                           names=("penalty", "coding_solver", "positive_code",
                                  "n_nonzero_coefs"))

    def _code_penalty(self):
        """The fit's penalty for the native functions: ``positive_code`` adds
        ``Positive()`` (a name stays a name otherwise, so ``"cel0"`` keeps its atom norms)."""
        penalty = self._fit_coder()[0]
        if self.positive_code:
            return get_penalty(penalty, alpha=self.alpha, positive=True)
        return penalty

    def _transform_spec(self, at_fit=False):
        """The coder of :meth:`transform`: a CodingSpec (sparsopt's spelling) or the
        dict of arguments of scikit-learn's ``transform_algorithm``.

        ``transform_penalty``/``transform_solver`` (each ``None`` takes its fit
        counterpart) or ``transform_algorithm`` (both set raise ``ValueError``). With
        neither, a fit coder spelled the sparsopt way is reused; otherwise scikit-learn's
        default applies, ``transform_algorithm="omp"``.
        """
        owner = type(self).__name__
        spelling = check_one_spelling(
            owner, {"transform_penalty": self.transform_penalty is not None,
                    "transform_solver": self.transform_solver is not None},
            {"transform_algorithm": self.transform_algorithm is not None})
        alpha = self.alpha if self.transform_alpha is None else self.transform_alpha
        if self.transform_algorithm == FISTA_ALGORITHM:  # sparsopt's extension: l1 by FISTA
            return coding_spec("l1", alpha, "fista", None, self.transform_max_iter, 1e-6,
                               self.n_jobs, owner, positive=self.positive_code,
                               names=("transform_penalty", "transform_algorithm",
                                      "positive_code", "transform_n_nonzero_coefs"))
        if spelling == "sklearn" and (self.transform_algorithm is not None
                                      or not self._native_fit_coder()):
            algorithm = self.transform_algorithm or "omp"
            from ._sklearn_compat import check_sk_algorithm

            # scikit-learn's default coder refuses positive_code at transform, not at fit
            check_sk_algorithm(algorithm, self.positive_code and not (
                at_fit and self.transform_algorithm is None), owner, "transform_algorithm")
            return {"algorithm": algorithm, "alpha": alpha,
                    "n_nonzero_coefs": self.transform_n_nonzero_coefs,
                    "max_iter": self.transform_max_iter, "positive": self.positive_code}
        fit_pen, fit_solver, fit_k = self._fit_coder()
        pen = fit_pen if self.transform_penalty is None else self.transform_penalty
        # an explicit transform_penalty gets the solver chosen for it ("auto"), not the
        # fit's (which may not solve it: "lars" is l1 / elastic net only)
        solver = (self.transform_solver if self.transform_solver is not None
                  else fit_solver if self.transform_penalty is None else "auto")
        k = fit_k if self.transform_n_nonzero_coefs is None else self.transform_n_nonzero_coefs
        return coding_spec(pen, alpha, solver, k, self.transform_max_iter, 1e-6, self.n_jobs,
                           owner, positive=self.positive_code,
                           names=("transform_penalty", "transform_solver", "positive_code",
                                  "transform_n_nonzero_coefs"))

    def transform(self, X):
        """Sparse codes of ``X`` against the learned dictionary.

        The coder is ``transform_algorithm`` (scikit-learn's names, default ``"omp"``)
        or, spelled the sparsopt way, ``transform_penalty``/``transform_solver``...
        (each defaulting to its fit counterpart); see the class docstring.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Signals.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            dtype of ``X`` (float32 stays float32); ``2 n_components`` columns with
            ``split_sign``.
        """
        check_is_fitted(self, "components_")
        X = self._validate_input(X, reset=False)
        check_fitted_namespace(X, self, "components_", "transform")
        spec = self._transform_spec()
        xp = array_namespace(X)
        if not is_numpy_namespace(xp):
            return self._transform_array_api(X, spec, xp)
        D = self.components_.astype(X.dtype, copy=False)
        if isinstance(spec, dict):
            codes = sk_encode(X, D, spec["algorithm"], alpha=spec["alpha"],
                              n_nonzero_coefs=spec["n_nonzero_coefs"],
                              max_iter=spec["max_iter"], positive=spec["positive"],
                              n_jobs=self.n_jobs, owner=type(self).__name__,
                              name="transform_algorithm")
        else:
            codes = sparse_encode(X, D, penalty=spec.penalty, alpha=spec.alpha,
                                  solver=spec.solver, max_iter=spec.max_iter, tol=spec.tol,
                                  positive=spec.positive,
                                  n_nonzero_coefs=spec.n_nonzero_coefs, n_jobs=spec.n_jobs)
        return split_codes(codes) if self.split_sign else codes

    def _transform_array_api(self, X, spec, xp):
        """:meth:`transform` of non-NumPy arrays: the coders that run in their namespace
        (FISTA/ISTA/LCA, and scikit-learn's ``"threshold"``); the others raise ``TypeError``."""
        owner = type(self).__name__
        if isinstance(spec, dict):
            codes = sk_encode(X, xp.astype(self.components_, X.dtype), spec["algorithm"],
                              alpha=spec["alpha"], n_nonzero_coefs=spec["n_nonzero_coefs"],
                              max_iter=spec["max_iter"], positive=spec["positive"],
                              owner=f"{owner}.transform", name="transform_algorithm")
            return self._split_array_api(codes, xp)
        check_array_api_coder(spec, X, f"{owner}.transform",
                              f"transform_solver={spec.solver!r}",
                              "transform_algorithm='fista' or transform_solver='fista'")
        D = xp.astype(self.components_, X.dtype)
        codes = sparse_encode(X, D, penalty=spec.penalty, alpha=spec.alpha,
                              solver=spec.solver, max_iter=spec.max_iter, tol=spec.tol,
                              positive=spec.positive, n_nonzero_coefs=spec.n_nonzero_coefs,
                              n_jobs=spec.n_jobs)
        return self._split_array_api(codes, xp)

    def _split_array_api(self, codes, xp):
        if self.split_sign:
            codes = xp.concat([xp.clip(codes, min=0.0), -xp.clip(codes, max=0.0)], axis=1)
        return codes

    def inverse_transform(self, X):
        """Signals from codes: ``codes @ components_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes (``2 n_components`` columns with ``split_sign``).

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self, "components_")
        xp = array_namespace(X, self.components_)
        if not is_numpy_namespace(xp):
            if X.ndim != 2:
                raise ValueError(f"{type(self).__name__}: codes must be 2-D, got shape "
                                 f"{tuple(X.shape)}.")
            k = self.components_.shape[0] * (2 if self.split_sign else 1)
            if X.shape[1] != k:
                raise ValueError(f"{type(self).__name__}: codes have {X.shape[1]} columns, "
                                 f"expected {k}.")
            if X.dtype not in (xp.float32, xp.float64):
                X = xp.astype(X, xp.float64)
            if self.split_sign:
                X = X[:, :k // 2] - X[:, k // 2:]
            return X @ xp.astype(self.components_, X.dtype)
        if self.split_sign:
            from sklearn.utils import check_array

            X = check_array(X, dtype=[np.float64, np.float32])
            k = self.components_.shape[0]
            if X.shape[1] != 2 * k:
                raise ValueError(f"{type(self).__name__}: codes have {X.shape[1]} columns, "
                                 f"expected 2 * n_components={2 * k} (split_sign=True).")
            X = unsplit_codes(X)
        return self._signals_from_codes(X, self.components_)

    def score(self, X, y=None):
        """Negative mean per-sample objective ``-(1/2 ||x - u V||^2 + alpha pen(u))``.

        ``u`` are the codes of the fit's coder (``penalty``, ``alpha``,
        ``coding_solver``, or ``fit_algorithm``), so that a larger score is a better model (what
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
        check_fitted_namespace(X, self, "components_", "score")
        spec = self._fit_spec()
        xp = array_namespace(X)
        if is_numpy_namespace(xp):
            D = self.components_.astype(X.dtype, copy=False)
        else:
            check_array_api_coder(spec, X, f"{type(self).__name__}.score",
                                  self._fit_coder_name(), self._fit_coder_alternative())
            D = xp.astype(self.components_, X.dtype)
        codes, obj, _ = encode_codes(X, D, spec, with_objective=True)
        return -obj / X.shape[0]

    def _fit_coder_name(self):
        """How the fit's coder was chosen, for messages (``fit_algorithm='lars'``...)."""
        if self._native_fit_coder():
            return (f"coding_solver={self.coding_solver!r}" if self.coding_solver is not None
                    else "penalty/n_nonzero_coefs with coding_solver=None ('auto')")
        return f"fit_algorithm={self.fit_algorithm or 'lars'!r}"

    def _fit_coder_alternative(self):
        return ("coding_solver='fista'" if self._native_fit_coder()
                else "fit_algorithm='fista'")

    @property
    def _n_features_out(self):
        return self.components_.shape[0] * (2 if self.split_sign else 1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

