"""Batched orthogonal matching pursuit (Batch-OMP on the Gram matrix)."""

from __future__ import annotations

import time

import numpy as np

from ..._core.loop import warn_nonfinite
from ..._core.result import SolverResult
from ...backends import get_kernel, resolve_backend
from ...backends._numpy.omp import STOP_DEPENDENT, STOP_NAMES
from ...utils.parallel import effective_n_jobs, map_row_blocks
from ...utils.validation import check_int, check_scalar
from ._common import CodingProblem


def omp(X, dictionary, *, n_nonzero_coefs=None, tol=None, gram=None, n_jobs=None,
        engine=None):
    r"""Orthogonal matching pursuit of every row of ``X`` on one dictionary.

    For each signal ``x``, OMP greedily builds a support ``S``: it adds the atom most
    correlated with the current residual, then refits ``c_S`` by least squares on all
    selected atoms, so that the residual stays orthogonal to them. It approximates

    .. math::
        \min_c \|x - c D\|_2^2 \ \text{s.t.}\ \|c\|_0 \le k
        \qquad\text{or}\qquad
        \min_c \|c\|_0 \ \text{s.t.}\ \|x - c D\|_2^2 \le \mathrm{tol}.

    The implementation is Batch-OMP (Rubinstein, Zibulevsky and Elad): it only uses
    ``G = D D^T``, ``B = X D^T`` and ``||x||^2``, and updates a Cholesky factor of
    ``G_SS``, the correlations and the residual energy incrementally, in a compiled
    kernel per block of samples. The codes equal scikit-learn's ``orthogonal_mp`` (and
    ``sparse_encode(algorithm="omp")``). As there, the atom is selected on the raw
    correlation ``|d_j . r|``, so the atoms should have unit norm.

    **Not iterative: no callback.** OMP is a finite (direct) procedure of at most
    ``n_nonzero_coefs`` steps; it returns a :class:`SolverResult` like the iterative
    solvers (``converged`` is always True, ``stopped_by`` is ``"finite"``).

    **Objective** (per-signal sum convention): the recorded objective is the sum over
    the rows of ``1/2 ||x_i - c_i D||_2^2`` under the sparsity constraint.

    A sample stops when it has ``n_nonzero_coefs`` atoms, when its residual energy is
    at most ``tol`` (tol mode; checked before the first atom too, so a signal with
    ``||x||^2 <= tol`` gets a zero code), when its largest correlation with the
    residual is negligible (below ``1e-12`` times the largest initial correlation,
    ``1e-5`` in float32) or when the best atom is linearly dependent on the selected
    ones (relative Cholesky pivot below ``16 eps``): it is then not added. How every
    sample stopped is in ``info``; scikit-learn warns in that last case, sparsopt
    counts the samples in ``info["n_dependent"]``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Signals. float32 stays float32 (the dictionary is cast to the dtype of ``X``).
    dictionary : ndarray of shape (n_components, n_features)
        Atoms as rows, preferably of unit norm.
    n_nonzero_coefs : int, default=None
        Maximum number of non-zero coefficients per sample, at most
        ``min(n_features, n_components)``. If it and ``tol`` are both ``None``,
        ``max(int(0.1 * n_features), 1)`` (capped at ``n_components``), the default of
        scikit-learn's ``sparse_encode``; note that ``orthogonal_mp``, whose design
        matrix is ``dictionary.T``, takes 10% of ``n_components`` instead. Ignored when
        ``tol`` is given (but it must still be a positive integer).
    tol : float, default=None
        Maximum squared residual norm ``||x - c D||^2`` per sample. If given, it
        overrides ``n_nonzero_coefs`` (up to ``min(n_features, n_components)`` atoms).
    gram : ndarray of shape (n_components, n_components), default=None
        Precomputed symmetric ``dictionary @ dictionary.T`` (saves one product when
        coding many batches against one dictionary).
    n_jobs : int or None, default=None
        Threads over blocks of samples (``-1``: all cores); the kernel releases the GIL.
        Results do not depend on it.
    engine : {"auto", "numpy", "numba"}, default=None
        Kernel backend; ``None`` uses :func:`sparsopt.get_config`. The NumPy reference
        loops over samples in Python (slow, for testing).

    Returns
    -------
    result : SolverResult
        ``x``: codes of shape (n_samples, n_components), dtype of ``X``.
        ``n_iter``: largest number of atoms selected for a sample.
        ``converged``: always True (OMP is a finite procedure).
        ``stop_crit``: largest relative residual energy
        ``||x - c D||^2 / ||x||^2`` over the samples (0 for zero signals).
        ``info``: ``n_active`` (atoms per sample, int64), ``residual_sq`` (final
        ``||x - c D||^2`` per sample, float64, from the Gram identity
        ``||x||^2 - c_S . B_S``), ``n_dependent`` (samples stopped by linear
        dependence), ``stop_reason`` (per-sample code, an index into
        ``info["stop_reasons"]`` = ``("n_nonzero", "tol", "zero_correlation",
        "linear_dependence")``), ``n_nonzero_coefs`` (the cap used), ``tol``,
        ``engine`` (the backend that ran), ``n_nonfinite``.

    Warns
    -----
    NonFiniteIterateWarning
        When the codes of some rows are NaN or infinite: those rows are returned as
        zeros (the finite starting point) with their residual ``||x||^2``.

    See Also
    --------
    sklearn.linear_model.orthogonal_mp : The same codes, one sample at a time.
    sklearn.decomposition.sparse_encode : With ``algorithm="omp"``.

    References
    ----------
    .. [1] Y. C. Pati, R. Rezaiifar and P. S. Krishnaprasad, "Orthogonal matching
       pursuit: recursive function approximation with applications to wavelet
       decomposition", Proc. 27th Asilomar Conference on Signals, Systems and
       Computers, 1993.
    .. [2] R. Rubinstein, M. Zibulevsky and M. Elad, "Efficient implementation of
       the K-SVD algorithm using batch orthogonal matching pursuit", Technical
       Report CS-2008-08, Technion, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsopt.solvers import omp
    >>> rng = np.random.default_rng(0)
    >>> D = rng.standard_normal((64, 32))
    >>> D /= np.linalg.norm(D, axis=1, keepdims=True)
    >>> codes = np.zeros((5, 64))
    >>> codes[:, [3, 17, 40]] = [1.0, -2.0, 0.5]
    >>> res = omp(codes @ D, D, n_nonzero_coefs=3)
    >>> np.flatnonzero(res.x[0]).tolist(), bool(np.allclose(res.x, codes))
    ([3, 17, 40], True)
    >>> res.n_iter, res.info["n_active"].tolist()
    (3, [3, 3, 3, 3, 3])
    """
    name = "omp"
    t0 = time.perf_counter()
    effective_n_jobs(n_jobs)  # validate early
    prob = CodingProblem(X, dictionary, name, gram=gram)
    n_samples, n_components = prob.shape
    n_features = prob.X.shape[1]
    max_atoms = min(n_features, n_components)
    if gram is not None:
        G = prob.G
        scale = float(np.max(np.abs(G)))
        atol = float(np.sqrt(np.finfo(prob.dtype).eps)) * scale
        if float(np.max(np.abs(G - G.T))) > atol or np.any(np.diag(G) < 0):
            raise ValueError(
                f"{name}: gram must be the symmetric positive semi-definite matrix "
                "dictionary @ dictionary.T of shape (n_components, n_components)."
            )
    if n_nonzero_coefs is not None:
        n_nonzero_coefs = check_int(n_nonzero_coefs, "n_nonzero_coefs", name, lower=1)
        if tol is None and n_nonzero_coefs > max_atoms:
            raise ValueError(
                f"{name}: n_nonzero_coefs={n_nonzero_coefs} exceeds min(n_features, "
                f"n_components) = {max_atoms}; OMP cannot select more atoms than that."
            )
    if tol is not None:
        tol = check_scalar(tol, "tol", name, lower=0.0)
        cap, kernel_tol = max_atoms, tol
    else:
        cap = n_nonzero_coefs
        if cap is None:
            cap = min(max(int(0.1 * n_features), 1), n_components)
        kernel_tol = -1.0
    backend = resolve_backend("omp_gram", prob.G, prob.B, engine=engine)
    kernel = get_kernel("omp_gram", backend)

    codes = np.empty(prob.shape, dtype=prob.dtype)
    n_active = np.empty(n_samples, dtype=np.int64)
    stop_reason = np.empty(n_samples, dtype=np.int64)
    residual_sq = np.empty(n_samples, dtype=np.float64)

    def block(start, stop):
        na, sr, rs = kernel(prob.G, prob.B[start:stop], prob.norms_sq[start:stop], cap,
                            kernel_tol, codes[start:stop])
        n_active[start:stop] = na
        stop_reason[start:stop] = sr
        residual_sq[start:stop] = rs

    map_row_blocks(block, n_samples, n_jobs)
    np.maximum(residual_sq, 0.0, out=residual_sq)  # rounding below 0 after an exact fit
    bad_rows = ~(np.isfinite(codes).all(axis=1) & np.isfinite(residual_sq))
    if bad_rows.any():  # roll back those rows to the finite starting point, zero codes
        codes[bad_rows] = 0
        n_active[bad_rows] = 0
        residual_sq[bad_rows] = prob.norms_sq[bad_rows]
        warn_nonfinite(name, int(n_active.max(initial=0)), 0, stacklevel=2)
    tiny = np.finfo(np.float64).tiny
    rel = residual_sq / np.maximum(np.asarray(prob.norms_sq, dtype=np.float64), tiny)
    stop_crit = float(rel.max(initial=0.0))
    n_iter = int(n_active.max(initial=0))
    return SolverResult(
        x=codes, n_iter=n_iter, converged=True, stop_crit=stop_crit,
        history=({"iteration": n_iter, "stop_crit": stop_crit,
                  "objective": 0.5 * float(residual_sq.sum()),
                  "time": time.perf_counter() - t0},),
        info={"n_active": n_active, "residual_sq": residual_sq,
              "n_dependent": int(np.sum(stop_reason == STOP_DEPENDENT)),
              "stop_reason": stop_reason, "stop_reasons": STOP_NAMES,
              "n_nonzero_coefs": cap, "tol": tol, "engine": backend,
              "n_nonfinite": int(bad_rows.sum()), "stopped_by": "finite",
              "criterion": "max relative residual energy ||x - c D||^2 / ||x||^2"},
    )
