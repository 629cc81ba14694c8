"""Shared plumbing of the batched sparse-coding solvers.

Layout (scikit-learn's): ``X`` (n_samples, n_features), ``dictionary`` (n_components,
n_features) with atoms as rows, codes (n_samples, n_components), ``X ~ codes @
dictionary``. Every solver works on ``G = D D^T`` and ``B = X D^T`` only; the
per-sample objective is ``1/2 ||x - c D||^2 + pen(c)`` (the per-signal SUM convention).

Array namespaces: the iterative gradient coders (``ista``, ``fista``, ``lca``) accept any
array-API arrays (CuPy, ...): :class:`CodingProblem` then keeps ``X``, ``D``, ``G``, ``B``
in that namespace and on that device, the loops call the penalty's prox there, and the
stopping test and objective bring one host float per check. The other coders run Numba
kernels on NumPy arrays and refuse such arrays with a ``TypeError`` naming FISTA. The
``n_jobs`` row blocks (threads over nogil kernels) are NumPy-only: other namespaces run
the batch as one block.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..._core.loop import all_finite, resolve_verbose
from ..._core.result import SolverResult
from ...backends import (
    _kinds,
    array_namespace,
    device,
    is_numpy_namespace,
    namespace_name,
    non_numpy_namespace,
    to_numpy,
)
from ...backends import host_only_error as _host_only_error
from ...exceptions import ConvergenceWarning
from ...penalties import get_penalty
from ...utils.parallel import effective_n_jobs, map_row_blocks
from ...utils.validation import check_array


def input_namespace(*arrays):
    """The namespace of a public function's inputs.

    :func:`~sparsopt.backends.array_namespace` of the array-API arrays among ``arrays``
    (NumPy, CuPy, ...); other objects (lists, pandas DataFrames, SciPy sparse matrices)
    are host data that the NumPy road converts. ``TypeError`` for mixed libraries.
    """
    return non_numpy_namespace(*arrays) or array_namespace()


#: the coders that run on any array-API namespace
ARRAY_API_SOLVERS = ("fista", "ista", "lca")


def host_only_error(name, xp):
    """The ``TypeError`` of a NumPy-only coder given arrays of namespace ``xp``."""
    return _host_only_error(
        name, xp, reason="Numba kernels",
        alternative=f"use solver='fista' (or 'ista', 'lca'), which runs on "
                    f"{namespace_name(xp)} arrays in their namespace and on their device")


def check_namespace_array(x, name, owner, ndim):
    """A non-NumPy array validated in its namespace (the NumPy road is ``check_array``).

    ``ndim`` dimensions, non-empty, finite; float32/float64 kept, other real dtypes
    become float64. One host ``bool`` for the finiteness test.
    """
    xp = array_namespace(x)
    if x.ndim != ndim:
        raise ValueError(f"{owner}: {name} must have {ndim} dimension(s), got shape "
                         f"{tuple(x.shape)}.")
    if x.dtype not in (xp.float32, xp.float64):
        if xp.isdtype(x.dtype, "complex floating"):
            raise TypeError(f"{owner}: {name} must be real, got complex dtype {x.dtype}.")
        x = xp.astype(x, xp.float64)
    if math.prod(x.shape) == 0:  # (torch's .size is a method)
        raise ValueError(f"{owner}: {name} is empty (shape {tuple(x.shape)}).")
    if not all_finite(x):
        raise ValueError(f"{owner}: {name} contains NaN or infinity; remove or impute them "
                         "first.")
    return x


class CodingProblem:
    """Validated data of a batched sparse-coding call (G, B, squared norms, dtype).

    ``array_api=True`` (the gradient coders) accepts arrays of any array-API namespace
    and keeps everything there; ``False`` (the Numba coders) raises the
    :func:`host_only_error` for them.
    """

    def __init__(self, X, dictionary, name, gram=None, cov=None, array_api=False):
        xp = input_namespace(X, dictionary, gram, cov)
        self.xp = xp
        if not is_numpy_namespace(xp):
            if not array_api:
                raise host_only_error(name, xp)
            self._init_namespace(xp, X, dictionary, name, gram, cov)
            return
        X = check_array(X, "X", name, ndim=2)
        D = check_array(dictionary, "dictionary", name, ndim=2)
        if X.shape[1] != D.shape[1]:
            raise ValueError(
                f"{name}: X has {X.shape[1]} features but dictionary has {D.shape[1]} columns "
                "(atoms are rows: dictionary must be (n_components, n_features))."
            )
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        self.X = X.astype(dtype, copy=False)
        self.D = np.ascontiguousarray(D, dtype=dtype)
        if gram is None:
            gram = self.D @ self.D.T
        else:
            gram = check_array(gram, "gram", name, ndim=2)
            k = D.shape[0]
            if gram.shape != (k, k):
                raise ValueError(f"{name}: gram must have shape {(k, k)}, got {gram.shape}.")
        self.G = np.ascontiguousarray(gram, dtype=dtype)
        self.B = np.ascontiguousarray(self.X @ self.D.T if cov is None else cov, dtype=dtype)
        self.norms_sq = np.einsum("ij,ij->i", self.X, self.X, dtype=np.float64)
        self.dtype = dtype
        self.name = name

    def _init_namespace(self, xp, X, dictionary, name, gram, cov):
        """The same data as arrays of ``xp`` on the input's device (no host copy)."""
        X = check_namespace_array(X, "X", name, 2)
        D = check_namespace_array(dictionary, "dictionary", name, 2)
        if X.shape[1] != D.shape[1]:
            raise ValueError(
                f"{name}: X has {X.shape[1]} features but dictionary has {D.shape[1]} columns "
                "(atoms are rows: dictionary must be (n_components, n_features))."
            )
        dtype = xp.float32 if X.dtype == xp.float32 else xp.float64
        self.X = X
        self.D = xp.astype(D, dtype)
        k = D.shape[0]
        if gram is None:
            gram = self.D @ self.D.T
        else:
            gram = check_namespace_array(gram, "gram", name, 2)
            if tuple(gram.shape) != (k, k):
                raise ValueError(f"{name}: gram must have shape {(k, k)}, got "
                                 f"{tuple(gram.shape)}.")
        self.G = xp.astype(gram, dtype)
        self.B = xp.astype(self.X @ self.D.T if cov is None else cov, dtype)
        X64 = xp.astype(self.X, xp.float64)
        self.norms_sq = xp.sum(X64 * X64, axis=1)
        self.dtype = dtype
        self.name = name

    @property
    def shape(self):
        return self.B.shape

    def lipschitz(self):
        """``||D||_2^2``, the Lipschitz constant of the batched gradient ``C G - B``."""
        if not is_numpy_namespace(self.xp):
            xp = self.xp
            return float(xp.max(xp.linalg.eigvalsh(xp.astype(self.G, xp.float64)))) \
                * (1.0 + 1e-6)
        return float(np.linalg.eigvalsh(self.G.astype(np.float64))[-1]) * (1.0 + 1e-6)

    def init_codes(self, init):
        """Starting codes: a validated copy of ``init`` (zeros when ``None``)."""
        if not is_numpy_namespace(self.xp):
            xp = self.xp
            if init is None:
                return xp.zeros(self.shape, dtype=self.dtype, device=device(self.B))
            array_namespace(init, self.B)  # the one error for mixed libraries
            c = xp.astype(check_namespace_array(init, "init", self.name, 2), self.dtype,
                          copy=True)
            if tuple(c.shape) != tuple(self.shape):
                raise ValueError(f"{self.name}: init must have shape {tuple(self.shape)}, "
                                 f"got {tuple(c.shape)}.")
            return c
        if init is None:
            return np.zeros(self.shape, dtype=self.dtype)
        c = check_array(init, "init", self.name, ndim=2).astype(self.dtype, copy=True)
        if c.shape != self.shape:
            raise ValueError(f"{self.name}: init must have shape {self.shape}, got {c.shape}.")
        return np.ascontiguousarray(c)

    def objectives(self, C, penalty, quad=None, rows=None):
        """Per-sample objectives ``1/2 ||x - c D||^2 + pen(c)`` (float64).

        ``quad``: ``1/2 c G c - c . b`` per row when the kernel already has it (from its
        final ``q = b - c G``); ``rows``: the rows of the problem that ``C`` holds.
        """
        if not isinstance(C, np.ndarray):
            return self._objectives_namespace(C, penalty, quad)
        C64 = C.astype(np.float64, copy=False)
        norms_sq = self.norms_sq if rows is None else self.norms_sq[rows]
        if quad is None:
            B = self.B if rows is None else self.B[rows]
            quad = (0.5 * np.einsum("ij,ij->i", codes_gram(C64, self.G.astype(np.float64)), C64)
                    - np.einsum("ij,ij->i", C64, B.astype(np.float64)))
        fit = np.maximum(0.5 * norms_sq + quad, 0.0)
        return fit + penalty.value(C64, per_row=True, check_finite=False)

    def _objectives_namespace(self, C, penalty, quad):
        xp = array_namespace(C)
        C64 = xp.astype(C, xp.float64)
        if quad is None:
            quad = (0.5 * xp.sum((C64 @ xp.astype(self.G, xp.float64)) * C64, axis=1)
                    - xp.sum(C64 * xp.astype(self.B, xp.float64), axis=1))
        fit = xp.maximum(0.5 * self.norms_sq + quad, 0.0)
        return fit + penalty.value(C64, per_row=True, check_finite=False)


def codes_gram(C, G, density=0.1):
    """``C @ G`` using the sparsity of the codes when fewer than ``density`` are non-zero.

    Sparse-coding iterates are typically a few percent dense: a CSR product then costs
    ``nnz(C) * n_components`` instead of ``n_samples * n_components^2``.
    """
    if not isinstance(C, np.ndarray):  # array-API namespaces: the dense product
        return C @ G
    nnz = np.count_nonzero(C)
    if nnz >= density * C.size:
        return C @ G
    import scipy.sparse as sp

    return np.asarray(sp.csr_matrix(C) @ G)


def make_penalty(penalty, alpha, name):
    """Penalty object from a name or instance (``None`` means ``"l1"``)."""
    return get_penalty("l1" if penalty is None else penalty, alpha=alpha)


def coding_spec(pen, name):
    """The :class:`~sparsopt.penalties.PenaltySpec` of a separable penalty, or the one
    error (naming the penalty, the solver and the alternative) for the others."""
    try:
        return pen.spec(solver=name)
    except TypeError:
        raise TypeError(
            f"{name} needs a separable penalty with a coordinate-wise kernel (l1, l0, lq, "
            f"cel0, mcp, scad, log, elasticnet, optionally + Positive() or Box()), got "
            f"{pen!r}; use solver='fista' (any penalty with a prox) instead."
        ) from None


def atom_parameter(pen):
    """Per-atom parameter ``a`` of the penalties whose prox depends on the atom's norm
    (CEL0's ``a``), as a float64 array; ``ones(1)`` for the others.

    Read through the ``a`` attribute of the (inner, for a constrained penalty) penalty:
    only ask it when the spec's kind says the kernel uses it.
    """
    inner = getattr(pen, "penalty", pen)  # Constrained keeps the penalty it constrains
    a = getattr(inner, "a", None)
    if a is None:
        return np.ones(1)
    return np.ascontiguousarray(np.atleast_1d(np.asarray(a, dtype=np.float64)))


def is_cel0_name(penalty):
    """Whether ``penalty`` is the name ``"cel0"``: the coders give it the atoms' norms
    (:func:`atom_norms`) as its ``a``, the CEL0 of the problem ``1/2 ||x - c D||^2``."""
    return isinstance(penalty, str) and penalty.strip().lower() == "cel0"


def atom_norms(dictionary):
    """The Euclidean norms of the atoms (rows) of a 2-D ``dictionary``, a float64 NumPy
    array: CEL0's per-atom parameter ``a``. For arrays of another namespace, computed
    there and brought to the host once (``n_components`` floats, a penalty parameter)."""
    xp = input_namespace(dictionary)
    if is_numpy_namespace(xp):
        return np.linalg.norm(np.asarray(dictionary, dtype=np.float64), axis=1)
    return to_numpy(xp.linalg.vector_norm(xp.astype(dictionary, xp.float64), axis=1))


def uses_atom_parameter(spec):
    """Whether the scalar prox of this spec reads the per-atom ``a`` (CEL0 only)."""
    return spec.kind == _kinds.KIND_CEL0


def spec_or_none(pen, name="encode"):
    """The penalty's kernel spec, or ``None`` when it has none (group penalties...)."""
    try:
        return pen.spec(solver=name)
    except TypeError:
        return None


def has_bounds(pen):
    """Whether the penalty carries a box constraint (``pen + Positive()``...)."""
    spec = spec_or_none(pen)
    return spec is not None and bool(np.isfinite(spec.lower) or np.isfinite(spec.upper))


def solve_row_blocks(solve, X, init, n_jobs, callback, verbose, name):
    """Solve row blocks of ``X`` in ``n_jobs`` threads (rows are independent) and merge.

    ``solve(X_block, init_block) -> SolverResult``. Returns ``None`` when one block is
    run instead: one thread, fewer than two rows, or a callback / verbose output (they
    see the whole batch, so the loop is not split). The blocks' ConvergenceWarnings are
    merged into one.
    """
    if not isinstance(X, np.ndarray):  # threads over nogil kernels: NumPy only
        return None
    n = X.shape[0]
    if (effective_n_jobs(n_jobs) == 1 or n < 2 or callback is not None
            or resolve_verbose(verbose)):
        return None
    # the worker threads warn while this (main) thread waits inside the block: record
    # them here and re-emit one ConvergenceWarning for the whole batch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parts = map_row_blocks(
            lambda a, b: solve(X[a:b], None if init is None else init[a:b]), n, n_jobs)
    conv = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    others = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    for w in others:
        warnings.warn(w.message, w.category, stacklevel=3)
    if conv:
        warnings.warn(f"{conv[0].message} ({len(conv)} of {len(parts)} row blocks did not "
                      "converge.)", ConvergenceWarning, stacklevel=3)
    return concat_results(parts)


def concat_results(parts):
    """Merge the results of row blocks into one SolverResult."""
    info = dict(parts[0].info)
    info["blocks"] = len(parts)
    for key, val in parts[0].info.items():
        if isinstance(val, np.ndarray) and val.ndim >= 1 and all(
                isinstance(p.info.get(key), np.ndarray) for p in parts):
            info[key] = np.concatenate([p.info[key] for p in parts], axis=0)
    for key in ("restarts", "backtracks"):
        if all(key in p.info for p in parts):
            info[key] = sum(p.info[key] for p in parts)
    converged = all(p.converged for p in parts)
    info["stopped_by"] = "tol" if converged else next(
        p.stopped_by for p in parts if not p.converged)
    return SolverResult(
        x=np.concatenate([p.x for p in parts], axis=0),
        n_iter=max(p.n_iter for p in parts),
        converged=converged,
        stop_crit=max(p.stop_crit for p in parts),
        history=(),
        info=info,
    )


def rel_change(C_new, C_old):
    """Max over rows of ``||c_new - c_old||_inf / max(||c_new||_inf, tiny)``."""
    if not isinstance(C_new, np.ndarray):  # in the namespace: one host float
        xp = array_namespace(C_new, C_old)
        if C_new.shape[0] == 0:
            return 0.0
        num = xp.astype(xp.max(xp.abs(C_new - C_old), axis=1), xp.float64)
        den = xp.astype(xp.max(xp.abs(C_new), axis=1), xp.float64)
        den = xp.maximum(den, float(np.finfo(np.float64).tiny))  # in float64, as on NumPy
        return float(xp.max(num / den))
    # in float64: with NumPy 1.x's value-based casting, ``tiny`` would round to 0 in a
    # float32 maximum and an all-zero row of codes would give 0/0 (a false non-finite stop)
    num = np.max(np.abs(C_new - C_old), axis=1).astype(np.float64)
    den = np.maximum(np.max(np.abs(C_new), axis=1).astype(np.float64),
                     np.finfo(np.float64).tiny)
    return float(np.max(num / den)) if num.size else 0.0


def loop_options(prob, pen, name, max_iter, tol, check_every, callback, verbose):
    """The :func:`~sparsopt._core.loop.run_iterations` options of the batched iterative
    coders (ista, fista, lca, iht): :func:`rel_change` of the codes as the criterion, the
    summed per-signal objective. (They call ``run_iterations`` themselves, so that its
    warnings still point at their caller.)"""
    return dict(stop_crit=lambda s, p: rel_change(s.x, p), max_iter=max_iter, tol=tol,
                check_every=check_every,
                objective=lambda s: total(prob.objectives(s.x, pen)),
                callback=callback, verbose=verbose, solver=name)


def total(values):
    """``float(sum(values))`` for an array of any namespace (one host float)."""
    if isinstance(values, np.ndarray):
        return float(values.sum())
    return float(array_namespace(values).sum(values))


def empty_like(a):
    """``empty_like`` in ``a``'s namespace."""
    if isinstance(a, np.ndarray):
        return np.empty_like(a)
    return array_namespace(a).empty_like(a)


def with_objectives(res, prob, pen, **extra):
    """``res`` with ``info["objective_per_sample"]`` (and ``extra``) added."""
    return res.with_info(objective_per_sample=prob.objectives(res.x, pen), **extra)
