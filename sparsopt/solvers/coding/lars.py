"""Batched Lasso homotopy (LARS with the lasso modification) on the Gram matrix."""

from __future__ import annotations

import warnings

import numpy as np

from ..._core.loop import warn_nonfinite
from ..._core.result import SolverResult
from ...backends import _kinds, dispatch
from ...backends._numpy.lars import STATUS_NAMES
from ...exceptions import ConvergenceWarning
from ...utils.parallel import map_row_blocks
from ...utils.validation import check_int, check_scalar
from ._common import CodingProblem, make_penalty, spec_or_none


def homotopy_problem(pen, name="lars"):
    """``(weight, ridge, positive)`` of the problem the homotopy solves exactly.

    The one check of what :func:`lars` accepts, read from the penalty's
    :class:`~sparsopt.penalties.PenaltySpec`: the l1 norm (weight ``alpha``) or the
    elastic net (a Lasso on ``G + alpha (1 - l1_ratio) I`` with weight
    ``alpha * l1_ratio``), free or on the non-negative orthant (``+ Positive()``).

    Examples
    --------
    >>> from sparsopt.penalties import L1, Positive
    >>> from sparsopt.solvers.coding.lars import homotopy_problem
    >>> homotopy_problem(L1(0.5) + Positive())
    (0.5, 0.0, True)
    """
    spec = spec_or_none(pen, name)
    orthant = spec is not None and spec.upper == np.inf and spec.lower in (0.0, -np.inf)
    if spec is None or not orthant or spec.kind not in (_kinds.KIND_L1,
                                                        _kinds.KIND_ELASTICNET):
        raise TypeError(
            f"{name} solves l1 and elastic-net problems (optionally + Positive()) only, "
            f"got {pen!r}; use solver='cd' (separable penalties) or 'fista' (any penalty "
            "with a prox)."
        )
    p = spec.params
    if spec.kind == _kinds.KIND_L1:
        weight, ridge = float(p[0]), 0.0
    else:
        weight, ridge = float(p[0]) * float(p[1]), float(p[0]) * (1.0 - float(p[1]))
    return weight, ridge, spec.lower == 0.0


def lars(X, dictionary, *, penalty="l1", alpha=1.0, max_iter=1000, tol=1e-6, gram=None,
         n_jobs=None, engine=None):
    r"""Exact Lasso codes of every row of ``X`` by the homotopy (LARS-lasso) path.

    For each signal ``x`` it solves

    .. math::
        \min_c \tfrac12 \|x - c D\|_2^2 + \alpha \|c\|_1

    by following the piecewise-linear solution path from ``alpha_max = max_j |d_j . x|``
    (where ``c = 0``) down to ``alpha``: each step moves the active codes along
    ``G_AA^{-1} sign(c_A)`` until an atom joins, an active code reaches zero (the atom
    leaves) or the path reaches ``alpha`` [1]_ [2]_. The number of steps is about the
    number of non-zeros (plus one per atom that leaves); there is no tolerance. The
    inverse of ``G_AA`` is updated in ``O(|A|^2)`` per event, so a step costs
    ``O(|A| n_components)``, in a compiled kernel per block of rows.

    Every row is then certified: ``q = B_i - c G`` is recomputed from the codes and
    must satisfy the optimality conditions (``|q_j| <= alpha`` off the support, up to
    a relative ``1e-7``; active codes with the path's signs). Rows whose path could not
    finish exactly (a joining atom linearly dependent on the active ones — duplicated
    atoms, or more active atoms than the rank of ``G`` — more than ``max_iter`` steps,
    or a failed certificate) are finished by coordinate descent (:func:`cd`) from the
    point where the path stopped, with ``tol`` and ``max_iter``; ``info`` counts them.

    **Not iterative: no callback.** The homotopy is a finite (direct) algorithm; it
    returns a :class:`SolverResult` like the iterative solvers (``stopped_by`` is
    ``"path"``, or ``"path+cd"`` when some rows were finished by coordinate descent).

    **Objective** (per-signal sum convention): each row ``x_i`` gets
    ``min_c 1/2 ||x_i - c D||_2^2 + alpha ||c||_1`` (the elastic net adds
    ``alpha (1 - l1_ratio) / 2 ||c||_2^2`` and uses ``alpha * l1_ratio`` for the l1 part).

    This is the algorithm of scikit-learn's ``lasso_lars`` (``LassoLars`` on the
    precomputed Gram, one Python call per sample there), batched and compiled. It gives
    the same codes as a fully converged ``lasso_cd``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Signals. float32 stays float32 (the path is computed in float64).
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows.
    penalty : {"l1", "elasticnet"} or L1 or ElasticNet, default="l1"
        ``ElasticNet(alpha, l1_ratio)`` is solved exactly as a Lasso on the Gram
        matrix ``G + alpha (1 - l1_ratio) I`` with weight ``alpha * l1_ratio``.
        ``L1(alpha) + Positive()`` gives non-negative codes (the path of the
        non-negative Lasso). Other penalties raise ``TypeError``.
    alpha : float, default=1.0
        Strength when ``penalty`` is a name (sparsopt's scaling, no ``1/n_features``).
    max_iter : int, default=1000
        Maximum number of path steps per sample, and of epochs of the coordinate
        descent that finishes the rows the path could not.
    tol : float, default=1e-6
        Tolerance of that coordinate descent (unused when every path finishes).
    gram : ndarray of shape (n_components, n_components), default=None
        Precomputed ``dictionary @ dictionary.T``.
    n_jobs : int or None, default=None
        Threads over blocks of samples (``-1``: all cores).
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend (the NumPy reference is slow; use it for testing).

    Returns
    -------
    result : SolverResult
        ``x`` the codes; ``n_iter`` the largest number of steps (plus epochs) used;
        ``info["n_iter_per_sample"]``, ``info["objective_per_sample"]``,
        ``info["status_per_sample"]`` (0: exact path) and ``info["n_finished_by_cd"]``.

    Warns
    -----
    NonFiniteIterateWarning
        When the codes of some rows are NaN or infinite: those rows are returned as
        zeros (the path's finite starting point).

    See Also
    --------
    cd : coordinate descent, for every separable penalty and warm starts.

    References
    ----------
    .. [1] M. R. Osborne, B. Presnell and B. A. Turlach, "A new approach to variable
       selection in least squares problems", IMA J. Numer. Anal. 20(3), 2000.
    .. [2] B. Efron, T. Hastie, I. Johnstone and R. Tibshirani, "Least angle
       regression", Ann. Statist. 32(2), 2004.

    Examples
    --------
    >>> from sparsopt.datasets import make_sparse_coding_problem
    >>> from sparsopt.solvers import lars
    >>> X, D, _ = make_sparse_coding_problem(50, 16, 32, 3)
    >>> res = lars(X, D, alpha=0.1)
    >>> res.x.shape, res.info["n_finished_by_cd"]
    ((50, 32), 0)
    """
    name = "lars"
    prob = CodingProblem(X, dictionary, name, gram=gram)
    pen = make_penalty(penalty, alpha, name)
    weight, ridge, positive = homotopy_problem(pen, name)
    max_iter = check_int(max_iter, "max_iter", name, lower=1)
    tol = check_scalar(tol, "tol", name, lower=0.0)
    G = prob.G
    if ridge > 0.0:
        G = G + prob.dtype(ridge) * np.eye(G.shape[0], dtype=prob.dtype)
    C = prob.init_codes(None)
    n = C.shape[0]
    n_iter = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int64)
    quad = np.empty(n, dtype=np.float64)  # 1/2 c G c - c . b of the certified rows

    def block(start, stop):
        dispatch("lars_gram", G, prob.B[start:stop], C[start:stop], weight, bool(positive),
                 max_iter, n_iter[start:stop], status[start:stop], quad[start:stop],
                 engine=engine)

    map_row_blocks(block, n, n_jobs)
    rows = np.flatnonzero(status != 0)
    n_bad = 0
    if rows.size:  # finish these rows by coordinate descent from where the path stopped
        Cr = np.ascontiguousarray(C[rows])
        Br = np.ascontiguousarray(prob.B[rows])
        epochs = np.zeros(rows.size, dtype=np.int64)
        dispatch("cd_gram_l1", G, Br, Cr, weight, bool(positive), max_iter, tol, epochs,
                 engine=engine)
        C[rows] = Cr
        n_iter[rows] += epochs
        n_bad = int(np.sum(epochs >= max_iter))
        if n_bad:
            warnings.warn(
                f"{name}: coordinate descent did not converge for {n_bad} of the "
                f"{rows.size} samples whose path could not finish exactly (largest "
                f"coordinate change above tol = {tol:.1e} x max|c| after max_iter = "
                f"{max_iter} epochs). Increase max_iter or tol.",
                ConvergenceWarning, stacklevel=2,
            )
    bad_rows = ~np.isfinite(C).all(axis=1)
    if bad_rows.any():  # roll back to the finite starting point of the path
        C[bad_rows] = 0
        quad[bad_rows] = 0.0
        warn_nonfinite(name, int(n_iter.max(initial=0)), 0, stacklevel=2)
    if ridge > 0.0:  # quad used G + ridge I: its ridge part belongs to the penalty
        quad -= 0.5 * ridge * np.einsum("ij,ij->i", C, C, dtype=np.float64)
    obj = prob.objectives(C, pen, quad=quad)
    if rows.size:
        obj[rows] = prob.objectives(C[rows], pen, rows=rows)
    counts = np.bincount(status, minlength=len(STATUS_NAMES))
    iters = int(n_iter.max(initial=0))
    return SolverResult(
        x=C, n_iter=iters, converged=n_bad == 0, stop_crit=float(n_bad),
        history=({"iteration": iters, "stop_crit": float(n_bad),
                  "objective": float(obj.sum()), "time": None},),
        info={"n_iter_per_sample": n_iter, "objective_per_sample": obj,
              "status_per_sample": status, "n_finished_by_cd": int(rows.size),
              "status_counts": {STATUS_NAMES[s]: int(c) for s, c in enumerate(counts)},
              "criterion": "exact homotopy path (certified); cd tol for the other rows",
              "tol": tol, "n_nonfinite": int(bad_rows.sum()),
              "stopped_by": "path" if rows.size == 0 else "path+cd"},
    )
